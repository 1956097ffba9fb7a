"""Bridges that stall without closing anything: a stopped process (freeze/thaw) and topics that
go silent after a ROS master restart (silence_topics/restore_topics), in both dialects."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from robovox.sim.robot import Dialect, RobotSimulator

DIALECTS = [{"dialect": Dialect.ROS1}, {"dialect": Dialect.ROS2}]
BATTERY = "/battery/voltage"
# Long enough for several 10 Hz battery messages: their absence over it is meaningful.
QUIET_S = 0.6


def battery_type(sim: RobotSimulator) -> str:
    return "std_msgs/Float32" if sim.dialect is Dialect.ROS1 else "std_msgs/msg/Float32"


async def send(ws: ClientConnection, *ops: dict[str, Any]) -> None:
    for op in ops:
        await ws.send(json.dumps(op))


async def recv(ws: ClientConnection, timeout_s: float = 5.0) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout_s))
    return message


async def recv_reply(ws: ClientConnection, op_id: str) -> dict[str, Any]:
    """Skip telemetry until the service reply ``op_id``."""
    async with asyncio.timeout(5):
        while True:
            message = await recv(ws)
            if message["op"] == "service_response" and message["id"] == op_id:
                return message


async def assert_quiet(ws: ClientConnection) -> None:
    """Nothing at all arrives on ``ws`` for ``QUIET_S``."""
    with pytest.raises(TimeoutError):
        message = await recv(ws, QUIET_S)
        pytest.fail(f"received {message}")


@pytest.fixture
async def ws(sim: RobotSimulator) -> AsyncIterator[ClientConnection]:
    async with connect(sim.url, ping_interval=None) as client:
        await send(client, {"op": "subscribe", "topic": BATTERY, "type": battery_type(sim)})
        assert (await recv(client))["topic"] == BATTERY
        yield client


def reset(ws: ClientConnection) -> None:
    """Abort with a TCP RST (SO_LINGER 0), not a FIN."""
    sock = ws.transport.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    ws.transport.abort()


async def wait_until(condition: Any, timeout_s: float = 5.0) -> None:
    """Poll ``condition()`` (for state the simulator has no event for)."""
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110 - no event to await for it
            await asyncio.sleep(0.02)


# ------------------------------------------------------------------ freeze
@pytest.mark.parametrize("sim_options", DIALECTS)
async def test_frozen_bridge_answers_no_ping_and_runs_buffered_ops_after_thaw(
    sim: RobotSimulator, ws: ClientConnection
) -> None:
    sim.freeze()
    assert sim.frozen
    frozen_at = time.time()
    pong = await ws.ping()
    await send(ws, {"op": "call_service", "service": "/vacuum_pads/lower", "id": "late"})
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(asyncio.shield(pong), QUIET_S)
    await assert_quiet(ws)  # no telemetry either
    assert sim.ops("call_service") == [], "the op waits in the socket, unread"
    assert sim.robot.vacuum_pads == "up"
    assert len(sim.clients) == 1, "the socket stays open"

    thawed_at = time.time()
    sim.thaw()
    assert not sim.frozen
    await asyncio.wait_for(pong, 5)
    reply = await recv_reply(ws, "late")
    assert reply["values"]["success"] is True
    [record] = sim.ops("call_service", "/vacuum_pads/lower")
    assert record.wall_time >= thawed_at > frozen_at + QUIET_S, "logged when it ran, after the thaw"
    assert sim.robot.vacuum_pads == "down"
    assert (await recv(ws))["topic"] == BATTERY, "telemetry flows again"


async def test_a_connection_opened_while_frozen_hangs_until_thaw(sim: RobotSimulator) -> None:
    sim.freeze()
    with pytest.raises(TimeoutError):
        await connect(sim.url, open_timeout=QUIET_S)
    assert sim.clients == []

    late = asyncio.ensure_future(connect(sim.url, open_timeout=5))
    await asyncio.sleep(0.1)  # let its handshake reach the frozen bridge: it must wait, not fail
    assert not late.done()
    sim.thaw()
    async with await late as client:
        await send(client, {"op": "call_service", "service": "/rosapi/nodes", "id": "n"})
        assert (await recv_reply(client, "n"))["result"] is True


async def test_a_client_reset_while_frozen_gets_what_its_socket_yields(sim: RobotSimulator) -> None:
    async with connect(sim.url) as bystander, connect(sim.url) as doomed:
        await send(bystander, {"op": "call_service", "service": "/rosapi/nodes", "id": "warm"})
        await recv_reply(bystander, "warm")
        sim.freeze()
        await send(doomed, {"op": "call_service", "service": "/vacuum_pads/lower", "id": "late"})
        reset(doomed)
        thawed_at = time.time()
        sim.thaw()
        await wait_until(lambda: len(sim.clients) == 1)
        await send(bystander, {"op": "call_service", "service": "/rosapi/nodes", "id": "after"})
        assert (await recv_reply(bystander, "after"))["result"] is True
    # Whether the bytes sent before the reset are still read is the kernel's business (Linux keeps
    # them); if the op was handled, it was handled after the thaw and its reply went nowhere.
    for record in sim.ops("call_service", "/vacuum_pads/lower"):
        assert record.wall_time >= thawed_at
    assert (sim.robot.vacuum_pads == "down") == bool(sim.ops("call_service", "/vacuum_pads/lower"))


async def test_stopping_a_frozen_bridge_does_not_run_its_buffered_ops(
    sim: RobotSimulator, ws: ClientConnection
) -> None:
    sim.freeze()
    await send(ws, {"op": "call_service", "service": "/vacuum_pads/lower", "id": "never"})
    await assert_quiet(ws)
    started = time.monotonic()
    await sim.pause_bridge()
    assert time.monotonic() - started < 1.0, "no close handshake is waited for"
    assert sim.clients == [] and not sim.frozen
    assert sim.ops("call_service") == [] and sim.robot.vacuum_pads == "up"
    await sim.resume_bridge()
    async with connect(sim.url) as client:
        await send(client, {"op": "call_service", "service": "/rosapi/nodes", "id": "n"})
        assert (await recv_reply(client, "n"))["result"] is True


async def test_freeze_connections_still_leaves_the_bridge_running(sim: RobotSimulator, ws: ClientConnection) -> None:
    sim.freeze_connections()
    assert not sim.frozen
    assert (await recv(ws))["topic"] == BATTERY, "a half-open link: the bridge still sends"
    async with connect(sim.url) as other:
        await send(other, {"op": "call_service", "service": "/rosapi/nodes", "id": "n"})
        assert (await recv_reply(other, "n"))["result"] is True
    reset(ws)  # the bridge never reads a close frame: do not wait out the close timeouts


# ---------------------------------------------------------- silent topics
@pytest.mark.parametrize("sim_options", DIALECTS)
async def test_silent_topics_carry_nothing_while_services_still_answer(
    sim: RobotSimulator, ws: ClientConnection
) -> None:
    bool_type = "std_msgs/Bool" if sim.dialect is Dialect.ROS1 else "std_msgs/msg/Bool"
    sim.silence_topics()
    assert sim.topics_silent
    await send(
        ws,
        {"op": "advertise", "topic": "/emergency_stop", "type": bool_type},
        {"op": "publish", "topic": "/emergency_stop", "msg": {"data": True}},
        {"op": "call_service", "service": "/vacuum_pads/lower", "id": "svc"},
    )
    assert (await recv_reply(ws, "svc"))["values"]["success"] is True  # telemetry queued before may come first
    await send(ws, {"op": "call_service", "service": "/rosapi/get_ros_version", "id": "ver"})
    assert (await recv(ws))["id"] == "ver", "only replies now"
    await assert_quiet(ws)
    assert sim.robot.emergency_stop is False, "the robot never heard the publish"
    assert sim.robot.vacuum_pads == "down"
    pong = await ws.ping()
    await asyncio.wait_for(pong, 5)

    sim.restore_topics()
    assert not sim.topics_silent
    assert (await recv(ws))["topic"] == BATTERY
    await send(ws, {"op": "publish", "topic": "/emergency_stop", "msg": {"data": True}})
    await sim.wait_for_op("publish", "/emergency_stop", count=2)
    assert sim.robot.emergency_stop is True
