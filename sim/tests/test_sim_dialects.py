"""The ROS 1 dialect (rosbridge_suite 0.11 on Noetic) beside the ROS 2 default: type names,
service calls, unknown ops and rosapi, seen from raw websockets and from roslibpy."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import roslibpy
from websockets.asyncio.client import ClientConnection, connect

from robovox.sim.robot import Dialect, RobotSimulator
from robovox.sim.robot.__main__ import build_parser

ROS1 = {"dialect": Dialect.ROS1}
ROS2 = {"dialect": Dialect.ROS2}
STATUS = "/robot_navigator/status"
GOAL_TOPIC = "/robot_navigator/move_to_corner/goal"


async def send(ws: ClientConnection, *ops: dict[str, Any]) -> None:
    for op in ops:
        await ws.send(json.dumps(op))


async def recv(ws: ClientConnection, timeout_s: float = 5.0) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout_s))
    return message


async def call(ws: ClientConnection, service: str, args: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """Call a service and return its reply; anything else received before it fails the test."""
    await send(ws, {"op": "call_service", "service": service, "args": args or {}, "id": f"call:{service}", **extra})
    reply = await recv(ws)
    assert reply["op"] == "service_response" and reply["id"] == f"call:{service}", reply
    return reply


@pytest.fixture
async def ws(sim: RobotSimulator) -> AsyncIterator[ClientConnection]:
    async with connect(sim.url) as client:
        yield client


def test_cli_takes_a_dialect() -> None:
    assert build_parser().parse_args(["--dialect", "ros1"]).dialect is Dialect.ROS1
    assert build_parser().parse_args([]).dialect is Dialect.ROS2


@pytest.mark.parametrize("sim_options", [ROS1, ROS2, {}])
async def test_the_dialect_is_reported(sim: RobotSimulator, sim_options: dict[str, Any]) -> None:
    assert sim.dialect is sim_options.get("dialect", Dialect.ROS2)


# ----------------------------------------------------------------- topics
@pytest.mark.parametrize("sim_options", [ROS1])
async def test_ros1_drops_ros2_type_names_and_type_clashes_silently(sim: RobotSimulator, ws: ClientConnection) -> None:
    await send(
        ws,
        {"op": "set_level", "level": "info"},  # a ROS 1 bridge sends no status ops even so
        {"op": "subscribe", "topic": "/battery/voltage", "type": "std_msgs/msg/Float32", "id": "bad-form"},
        {"op": "subscribe", "topic": "/vacuum_pads/state", "type": "std_msgs/Float32", "id": "clash"},
        {"op": "advertise", "topic": "/emergency_stop", "type": "std_msgs/msg/Bool"},
        {"op": "publish", "topic": "/emergency_stop", "msg": {"data": True}},
        {"op": "subscribe", "topic": STATUS, "type": "std_msgs/String", "id": "good"},
    )
    # The valid subscription on the same connection delivers (2 Hz); the others never do.
    received = [await recv(ws) for _ in range(3)]
    assert {(m["op"], m.get("topic")) for m in received} == {("publish", STATUS)}, received
    assert received[0]["msg"] == {"data": "idle"}
    assert sim.robot.emergency_stop is False, "the publish on the refused advertise was dropped"
    assert len(sim.ops("subscribe")) == 3 and len(sim.ops("publish", "/emergency_stop")) == 1
    topics = sim.topics()
    assert topics["/battery/voltage"] == "std_msgs/Float32"
    assert topics["/emergency_stop"] == "std_msgs/Bool"
    assert not any("/msg/" in t for t in topics.values())


@pytest.mark.parametrize("sim_options", [ROS1])
async def test_ros1_names_work_through_roslibpy(sim: RobotSimulator, ros: roslibpy.Ros, new_inbox: Any) -> None:
    inbox = new_inbox()
    roslibpy.Topic(ros, "/battery/voltage", "std_msgs/Float32").subscribe(inbox)
    assert isinstance((await inbox.get())["data"], float)

    roslibpy.Topic(ros, "/emergency_stop", "std_msgs/Bool").publish(roslibpy.Message({"data": True}))
    await sim.wait_for_op("publish", "/emergency_stop")
    assert sim.robot.emergency_stop is True


@pytest.mark.parametrize("sim_options", [ROS1])
async def test_ros1_publish_after_a_valid_advertise_reaches_the_robot(
    sim: RobotSimulator, ws: ClientConnection
) -> None:
    await send(
        ws,
        {"op": "advertise", "topic": "/emergency_stop", "type": "std_msgs/msg/Bool"},
        {"op": "advertise", "topic": "/emergency_stop", "type": "std_msgs/Bool"},
        {"op": "publish", "topic": "/emergency_stop", "msg": {"data": True}},
    )
    await sim.wait_for_op("publish", "/emergency_stop")
    assert sim.robot.emergency_stop is True


# --------------------------------------------------------------- services
@pytest.mark.parametrize("sim_options", [ROS1])
async def test_ros1_call_service_ignores_the_type_field(sim: RobotSimulator, ws: ClientConnection) -> None:
    for type_ in ("std_srvs/srv/Trigger", "wrong_pkg/Nope", 42):
        reply = await call(ws, "/vacuum_pads/lower", type=type_)
        assert reply["result"] is True and reply["values"]["success"] is True
    reply = await call(ws, "/no/such/service", type="std_srvs/Trigger")
    assert reply == {
        "op": "service_response",
        "service": "/no/such/service",
        "values": "Service /no/such/service does not exist.",
        "result": False,
        "id": "call:/no/such/service",
    }


@pytest.mark.parametrize("sim_options", [ROS2])
async def test_ros2_call_service_checks_the_type_field(sim: RobotSimulator, ws: ClientConnection) -> None:
    reply = await call(ws, "/vacuum_pads/lower", type="wrong_pkg/Nope")
    assert reply["result"] is False and "does not match" in reply["values"]
    assert sim.robot.vacuum_pads == "up"
    reply = await call(ws, "/no/such/service")
    assert reply["result"] is False and reply["values"] == "Service /no/such/service does not exist"


# ------------------------------------------------------------ unknown ops
@pytest.mark.parametrize("sim_options", [ROS1])
async def test_ros1_ignores_ros2_action_ops_and_reads_past_them(sim: RobotSimulator, ws: ClientConnection) -> None:
    await send(
        ws,
        {"op": "set_level", "level": "info"},
        {
            "op": "send_action_goal",
            "action": "/robot_navigator/move_to_corner",
            "action_type": "cleaning_robot_interfaces/action/MoveToCorner",
            "args": {"corner": "front_left"},
            "feedback": True,
            "id": "goal-1",
        },
        {"op": "cancel_action_goal", "action": "/robot_navigator/move_to_corner", "id": "goal-1"},
        {"op": "subscribe", "topic": "/no/such/topic", "id": "unknown"},
    )
    reply = await call(ws, "/rosapi/get_ros_version")  # the first thing this socket receives
    assert reply["values"] == {"version": 1, "distro": "noetic"}
    assert sim.robot.status == "idle" and sim.robot.active_goal is None
    assert [r.op for r in sim.ops()] == [
        "set_level",
        "send_action_goal",
        "cancel_action_goal",
        "subscribe",
        "call_service",
    ]


@pytest.mark.parametrize("sim_options", [ROS2])
async def test_ros2_still_answers_action_goals_and_status(sim: RobotSimulator, ws: ClientConnection) -> None:
    await send(
        ws,
        {"op": "set_level", "level": "error"},
        {"op": "send_action_goal", "action": "/no/such/action", "args": {}, "id": "g"},
        {"op": "subscribe", "topic": "/no/such/topic", "id": "s"},
    )
    result, status = await recv(ws), await recv(ws)
    assert result["op"] == "action_result" and result["result"] is False and result["id"] == "g"
    assert status["op"] == "status" and status["id"] == "s"


# ------------------------------------------------------------------ rosapi
@pytest.mark.parametrize("sim_options", [ROS1])
async def test_ros1_rosapi_answers_ros1_names(sim: RobotSimulator, ws: ClientConnection) -> None:
    topics = (await call(ws, "/rosapi/topics"))["values"]
    table = dict(zip(topics["topics"], topics["types"], strict=True))
    assert table["/battery/voltage"] == "std_msgs/Float32"
    assert table["/digital_io/state"] == "cleaning_robot_interfaces/DigitalIO"
    assert table[GOAL_TOPIC] == "cleaning_robot_interfaces/MoveToCornerActionGoal"
    assert table["/robot_navigator/move_to_corner/cancel"] == "actionlib_msgs/GoalID"
    assert table["/robot_navigator/move_to_corner/status"] == "actionlib_msgs/GoalStatusArray"
    assert table["/robot_navigator/move_to_corner/feedback"] == "cleaning_robot_interfaces/MoveToCornerActionFeedback"
    assert table["/robot_navigator/move_to_corner/result"] == "cleaning_robot_interfaces/MoveToCornerActionResult"

    async def value(name: str, key: str, **args: Any) -> Any:
        reply = await call(ws, name, args)
        assert reply["result"] is True, reply
        return reply["values"][key]

    assert await value("/rosapi/topic_type", "type", topic=GOAL_TOPIC) == table[GOAL_TOPIC]
    assert await value("/rosapi/topic_type", "type", topic="/nope") == ""
    assert await value("/rosapi/service_type", "type", service="/robot_navigator/stop") == "std_srvs/Trigger"
    start_type = await value("/rosapi/service_type", "type", service="/robot_navigator/start_cleaning")
    assert start_type == "cleaning_robot_interfaces/StartCleaning"
    assert await value("/rosapi/service_type", "type", service="/rosapi/topics") == "rosapi/Topics"
    assert await value("/rosapi/service_type", "type", service="/nope") == ""
    assert await value("/rosapi/topics_for_type", "topics", type="std_msgs/String") == [
        STATUS,
        "/vacuum_pads/state",
    ]
    assert await value("/rosapi/topics_for_type", "topics", type="std_msgs/msg/String") == []
    assert await value("/rosapi/action_servers", "action_servers") == ["/robot_navigator/move_to_corner"]
    assert set(await value("/rosapi/get_time", "time")) == {"secs", "nsecs"}
    services = await value("/rosapi/services", "services")
    assert "/rosapi/get_ros_version" in services and "/rosapi/action_goal_details" not in services


@pytest.mark.parametrize("sim_options", [ROS1])
async def test_ros1_message_details_describe_ros1_messages(sim: RobotSimulator, ws: ClientConnection) -> None:
    reply = await call(ws, "/rosapi/message_details", {"type": "cleaning_robot_interfaces/MoveToCornerActionGoal"})
    typedefs = {t["type"]: t for t in reply["values"]["typedefs"]}
    root = typedefs["cleaning_robot_interfaces/MoveToCornerActionGoal"]
    assert root["fieldnames"] == ["header", "goal_id", "goal"]
    assert root["fieldtypes"] == [
        "std_msgs/Header",
        "actionlib_msgs/GoalID",
        "cleaning_robot_interfaces/MoveToCornerGoal",
    ]
    assert typedefs["std_msgs/Header"]["fieldnames"] == ["seq", "stamp", "frame_id"]
    assert typedefs["std_msgs/Header"]["fieldtypes"] == ["uint32", "time", "string"]
    assert typedefs["time"]["fieldnames"] == ["secs", "nsecs"]
    assert typedefs["cleaning_robot_interfaces/MoveToCornerGoal"]["fieldnames"] == ["corner"]

    reply = await call(ws, "/rosapi/service_request_details", {"type": "cleaning_robot_interfaces/StartCleaning"})
    [request] = reply["values"]["typedefs"]
    assert request["type"] == "cleaning_robot_interfaces/StartCleaningRequest"
    assert request["constvalues"] == ["TurnLeft", "TurnRight"]
    reply = await call(ws, "/rosapi/message_details", {"type": "std_msgs/msg/Float32"})
    assert reply["result"] is False and "not a valid type string" in reply["values"]


@pytest.mark.parametrize("sim_options", [ROS2])
async def test_ros2_rosapi_keeps_ros2_names_and_reports_its_version(sim: RobotSimulator, ws: ClientConnection) -> None:
    reply = await call(ws, "/rosapi/get_ros_version")
    assert reply["values"] == {"version": 2, "distro": "humble"}
    reply = await call(ws, "/rosapi/service_type", {"service": "/rosapi/get_ros_version"})
    assert reply["values"]["type"] == "rosapi_msgs/srv/GetROSVersion"
    for service, args in [("/rosapi/service_type", {"service": "/nope"}), ("/rosapi/topic_type", {"topic": "/nope"})]:
        assert (await call(ws, service, args))["values"] == {"type": ""}
    reply = await call(ws, "/rosapi/topic_type", {"topic": "/battery/voltage"})
    assert reply["values"]["type"] == "std_msgs/msg/Float32"
    assert "/robot_navigator/move_to_corner/goal" not in sim.topics(), "no actionlib topics on ROS 2"
