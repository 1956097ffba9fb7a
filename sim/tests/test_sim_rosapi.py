"""rosapi introspection through roslibpy's Ros helpers (blocking calls in threads)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import roslibpy
from roslibpy.core import ServiceException

from robovox.sim.robot import RobotSimulator

ROBOT_TOPICS = {
    "/battery/voltage": "std_msgs/msg/Float32",
    "/vacuum_pads/state": "std_msgs/msg/String",
    "/digital_io/state": "cleaning_robot_interfaces/msg/DigitalIO",
    "/robot_navigator/status": "std_msgs/msg/String",
    "/emergency_stop": "std_msgs/msg/Bool",
}
ROBOT_SERVICES = {
    "/robot_navigator/start_cleaning": "cleaning_robot_interfaces/srv/StartCleaning",
    "/robot_navigator/stop": "std_srvs/srv/Trigger",
    "/vacuum_pads/lower": "std_srvs/srv/Trigger",
    "/vacuum_pads/release": "std_srvs/srv/Trigger",
    "/emergency_stop/reset": "std_srvs/srv/Trigger",
}


async def test_get_topics_lists_robot_topics_with_types(
    sim: RobotSimulator, ros: roslibpy.Ros, call_service: Any
) -> None:
    topics = await asyncio.to_thread(ros.get_topics)
    assert set(ROBOT_TOPICS) <= set(topics)
    ok, values = await call_service(ros, "/rosapi/topics", "rosapi_msgs/srv/Topics")
    assert ok
    assert dict(zip(values["topics"], values["types"], strict=True)) == ROBOT_TOPICS
    for topic, type_ in ROBOT_TOPICS.items():
        assert await asyncio.to_thread(ros.get_topic_type, topic) == type_
    assert await asyncio.to_thread(ros.get_topic_type, "/nope") == ""


async def test_topics_for_type_accepts_both_name_forms(sim: RobotSimulator, ros: roslibpy.Ros) -> None:
    expected = ["/robot_navigator/status", "/vacuum_pads/state"]
    assert await asyncio.to_thread(ros.get_topics_for_type, "std_msgs/msg/String") == expected
    assert await asyncio.to_thread(ros.get_topics_for_type, "std_msgs/String") == expected


async def test_get_services_and_types(sim: RobotSimulator, ros: roslibpy.Ros) -> None:
    services = await asyncio.to_thread(ros.get_services)
    assert set(ROBOT_SERVICES) <= set(services)
    assert "/rosapi/topics" in services
    for name, type_ in ROBOT_SERVICES.items():
        assert await asyncio.to_thread(ros.get_service_type, name) == type_
    triggers = await asyncio.to_thread(ros.get_services_for_type, "std_srvs/Trigger")
    assert sorted(triggers) == sorted(n for n, t in ROBOT_SERVICES.items() if t.endswith("Trigger"))


@pytest.mark.parametrize(
    "type_name",
    ["cleaning_robot_interfaces/msg/DigitalIO", "cleaning_robot_interfaces/DigitalIO"],
)
async def test_message_details_describe_digital_io(sim: RobotSimulator, ros: roslibpy.Ros, type_name: str) -> None:
    details = await asyncio.to_thread(ros.get_message_details, type_name)
    [typedef] = details["typedefs"]
    assert typedef["type"] == "cleaning_robot_interfaces/msg/DigitalIO"
    assert typedef["fieldnames"] == ["camera_led", "beacon", "brush_motor", "vacuum_pump"]
    assert typedef["fieldtypes"] == ["bool"] * 4
    assert typedef["fieldarraylen"] == [-1] * 4
    assert set(typedef) == {
        "type",
        "fieldnames",
        "fieldtypes",
        "fieldarraylen",
        "examples",
        "constnames",
        "constvalues",
    }


@pytest.mark.parametrize(
    ("type_name", "fields"),
    [
        ("std_msgs/msg/Float32", ["data"]),
        ("std_msgs/String", ["data"]),
        ("std_msgs/msg/Bool", ["data"]),
    ],
)
async def test_message_details_of_std_msgs(
    sim: RobotSimulator, ros: roslibpy.Ros, type_name: str, fields: list[str]
) -> None:
    details = await asyncio.to_thread(ros.get_message_details, type_name)
    assert details["typedefs"][0]["fieldnames"] == fields
    assert details["typedefs"][0]["type"].startswith("std_msgs/msg/")


async def test_service_and_action_details(sim: RobotSimulator, ros: roslibpy.Ros, call_service: Any) -> None:
    request = await asyncio.to_thread(ros.get_service_request_details, "cleaning_robot_interfaces/srv/StartCleaning")
    [typedef] = request["typedefs"]
    assert typedef["fieldnames"] == ["option"]
    assert typedef["constvalues"] == ["TurnLeft", "TurnRight"]
    response = await asyncio.to_thread(ros.get_service_response_details, "std_srvs/Trigger")
    assert response["typedefs"][0]["fieldnames"] == ["success", "message"]
    ok, values = await call_service(
        ros,
        "/rosapi/action_feedback_details",
        "rosapi_msgs/srv/ActionFeedbackDetails",
        {"type": "cleaning_robot_interfaces/action/MoveToCorner"},
    )
    assert ok and values["typedefs"][0]["fieldnames"] == ["distance_remaining"]
    ok, values = await call_service(ros, "/rosapi/action_servers", "rosapi_msgs/srv/GetActionServers")
    assert ok and values["action_servers"] == ["/robot_navigator/move_to_corner"]


async def test_unknown_message_type_fails(sim: RobotSimulator, ros: roslibpy.Ros) -> None:
    with pytest.raises(ServiceException, match="Unknown message type"):
        await asyncio.to_thread(ros.get_message_details, "geometry_msgs/msg/Twist")
