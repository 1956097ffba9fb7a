"""Connections, compression, robustness and the connection failure modes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import roslibpy
from websockets.asyncio.client import connect

from robovox.sim.robot import RobotSimulator

STATUS = "/robot_navigator/status"


async def test_roslibpy_connects_uncompressed_as_to_rosbridge_by_default(
    sim: RobotSimulator, ros: roslibpy.Ros
) -> None:
    assert ros.is_connected
    assert sim.url == f"ws://127.0.0.1:{sim.port}"
    [client] = sim.clients
    assert client.compression is None  # roslibpy offers deflate; rosbridge's use_compression is off
    assert client.remote_address[0] == "127.0.0.1"


async def test_a_client_gets_deflate_from_a_bridge_with_use_compression() -> None:
    async with RobotSimulator(use_compression=True) as sim, connect(sim.url, compression="deflate") as ws:
        await ws.send(json.dumps({"op": "call_service", "service": "/rosapi/nodes", "id": "n1"}))
        assert json.loads(await ws.recv())["id"] == "n1"
        [client] = sim.clients
        assert client.compression == "permessage-deflate"


async def test_each_connection_gets_a_new_number(
    sim: RobotSimulator, ros: roslibpy.Ros, call_service: Any, ros_factory: Any
) -> None:
    other = await ros_factory()
    await call_service(ros, "/rosapi/nodes", "rosapi_msgs/srv/Nodes")
    await call_service(other, "/rosapi/nodes", "rosapi_msgs/srv/Nodes")
    conns = [r.conn for r in await sim.wait_for_op("call_service", "/rosapi/nodes", count=2)]
    assert sorted(conns) == sorted(c.conn for c in sim.clients)
    assert len(set(conns)) == 2


async def test_bad_ops_are_ignored_and_the_connection_survives(sim: RobotSimulator) -> None:
    async with connect(sim.url) as ws:
        for frame in [
            "not json",
            "[1, 2]",
            json.dumps({"op": "no_such_op", "id": "x"}),
            json.dumps({"no": "op"}),
            json.dumps({"op": "subscribe"}),
            json.dumps({"op": "subscribe", "topic": "/unknown/topic"}),
            json.dumps({"op": "subscribe", "topic": STATUS, "type": "std_msgs/Bool"}),
            json.dumps({"op": "publish", "topic": "/unknown/topic", "msg": {}}),
            json.dumps({"op": "publish", "topic": "/emergency_stop", "msg": {"data": "yes"}}),
            json.dumps({"op": "call_service"}),
            json.dumps({"op": "cancel_action_goal", "action": "/x", "id": "nope"}),
            json.dumps(
                {
                    "op": "send_action_goal",
                    "action": "/robot_navigator/move_to_corner",
                    "action_type": "wrong_pkg/action/Nope",
                    "args": {},
                    "id": "g",
                }
            ),
        ]:
            await ws.send(frame)
        await ws.send(json.dumps({"op": "call_service", "service": "/rosapi/nodes", "id": "ok"}))
        replies = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(2)]

    [goal_error] = [r for r in replies if r["op"] == "action_result"]
    assert goal_error["result"] is False and goal_error["status"] == 6
    [nodes] = [r for r in replies if r["op"] == "service_response"]
    assert nodes["id"] == "ok" and "/rosbridge_websocket" in nodes["values"]["nodes"]
    assert sim.robot.emergency_stop is False, "an invalid Bool must not trigger the e-stop"
    assert len(sim.ops()) == 11, "every JSON object (not the 2 non-objects) is logged"


async def test_status_messages_only_after_set_level(sim: RobotSimulator) -> None:
    async with connect(sim.url) as ws:
        await ws.send(json.dumps({"op": "set_level", "level": "error"}))
        await ws.send(json.dumps({"op": "subscribe", "topic": "/unknown/topic", "id": "s1"}))
        status = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert status["op"] == "status" and status["level"] == "error" and status["id"] == "s1"
    assert "Cannot infer topic type" in status["msg"]


async def _wait_connected(ready: Any) -> None:
    await ready.get(timeout_s=10)


async def test_pause_and_resume_bridge_on_the_same_port(
    sim: RobotSimulator, ros: roslibpy.Ros, new_inbox: Any, call_service: Any
) -> None:
    port = sim.port
    statuses, closed, ready = new_inbox(), new_inbox(), new_inbox()
    ros.on("close", closed)
    ros.on("ready", ready)
    roslibpy.Topic(ros, STATUS, "std_msgs/msg/String").subscribe(statuses)
    await statuses.get()

    await sim.pause_bridge()
    assert sim.is_paused and sim.clients == []
    await closed.get()
    assert not ros.is_connected
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)

    sim.clear_ops()
    statuses.drain()
    await sim.resume_bridge()
    assert sim.port == port and not sim.is_paused

    await _wait_connected(ready)
    # roslibpy re-sends its subscribe op ~1 s after the close, then data flows again.
    [resub] = await sim.wait_for_op("subscribe", STATUS, timeout=10)
    assert resub.conn == sim.clients[0].conn
    assert (await statuses.get())["data"] == "idle"
    ok, values = await call_service(ros, "/robot_navigator/stop", "std_srvs/srv/Trigger")
    assert ok and values["success"] is True


async def test_drop_connections_makes_roslibpy_reconnect(
    sim: RobotSimulator, ros: roslibpy.Ros, new_inbox: Any, call_service: Any
) -> None:
    closed, ready = new_inbox(), new_inbox()
    ros.on("close", closed)
    ros.on("ready", ready)
    first_conn = sim.clients[0].conn

    await sim.drop_connections()
    await closed.get()
    await _wait_connected(ready)
    [client] = sim.clients
    assert client.conn > first_conn
    ok, _ = await call_service(ros, "/rosapi/topics", "rosapi_msgs/srv/Topics")
    assert ok


async def test_messages_published_while_disconnected_are_queued_by_roslibpy(
    sim: RobotSimulator, ros: roslibpy.Ros, new_inbox: Any
) -> None:
    closed, ready = new_inbox(), new_inbox()
    ros.on("close", closed)
    ros.on("ready", ready)
    await sim.pause_bridge()
    await closed.get()

    estop = roslibpy.Topic(ros, "/emergency_stop", "std_msgs/msg/Bool")
    estop.publish(roslibpy.Message({"data": True}))  # queued until the next connection
    await sim.resume_bridge()
    await _wait_connected(ready)
    records: list[Any] = await sim.wait_for_op("publish", "/emergency_stop")
    assert records[0].message["msg"] == {"data": True}
    assert sim.robot.status == "emergency_stop"


async def test_call_in_flight_during_a_drop_runs_but_roslibpy_never_gets_the_reply(
    sim: RobotSimulator, ros: roslibpy.Ros
) -> None:
    pads_changed = asyncio.Event()
    sim.robot.add_listener(lambda topic: pads_changed.set() if topic == "/vacuum_pads/state" else None)
    sim.failures.slow_service["/vacuum_pads/lower"] = 0.3
    service = roslibpy.Service(ros, "/vacuum_pads/lower", "std_srvs/srv/Trigger")
    call = asyncio.ensure_future(asyncio.to_thread(service.call, roslibpy.ServiceRequest(), timeout=1.5))
    await sim.wait_for_op("call_service", "/vacuum_pads/lower")

    await sim.drop_connections()

    await asyncio.wait_for(pads_changed.wait(), 5)
    assert sim.robot.vacuum_pads == "down", "the service still executed, as in ROS"
    with pytest.raises(roslibpy.core.RosTimeoutError):
        await call  # roslibpy neither retries nor fails pending calls on disconnect
    assert len(sim.ops("call_service", "/vacuum_pads/lower")) == 1
