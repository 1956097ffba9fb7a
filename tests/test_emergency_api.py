"""The gateway's emergency stop API: operator token, the stop at the robot, the latch, the reset."""

from __future__ import annotations

import time

import httpx2
from redis.asyncio import Redis

from robovox.gateway.service import SessionGateway
from robovox.shared.messages import AlertTransition
from robovox.shared.testing.streams import add_tool_call, inbox_entries
from robovox.sim.realtime import RealtimeEmulator
from robovox.sim.robot import RobotSimulator

from .conftest import KEYS, ROBOT
from .test_gateway import is_output, live_session


async def test_the_api_stops_and_a_person_resets_with_the_operator_token(
    redis: Redis, sim: RobotSimulator, robot_online: str, gateway: SessionGateway, api: httpx2.AsyncClient
) -> None:
    async with httpx2.AsyncClient(base_url=str(api.base_url)) as anonymous:
        refused = await anonymous.post(f"/v1/robots/{ROBOT}/emergency_stop")
        assert refused.status_code == 401
    assert sim.ops("publish", "/emergency_stop") == []
    assert (await api.post("/v1/robots/nobody/emergency_stop")).status_code == 404

    answer = await api.post(f"/v1/robots/{ROBOT}/emergency_stop", json={"client_id": "console-1"})
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["action"] == "stop" and body["triggered_by"] == "operator client:console-1"
    [op] = await sim.wait_for_op("publish", "/emergency_stop")
    assert op.message["msg"] == {"data": True}
    state = (await api.get(f"/v1/robots/{ROBOT}/emergency_stop")).json()
    assert state["stopped"] is True and state["state"]["stop_id"] == body["stop_id"]

    reset = await api.post(f"/v1/robots/{ROBOT}/emergency_stop/reset")
    assert reset.status_code == 202 and reset.json()["triggered_by"] == "operator"
    await sim.wait_for_op("call_service", "/emergency_stop/reset")
    assert (await api.get(f"/v1/robots/{ROBOT}/emergency_stop")).json()["stopped"] is False
    records = [AlertTransition.from_fields(f) for _id, f in await redis.xrange(KEYS.alerts)]
    assert [(r.rule, r.status.value, r.triggered_by) for r in records] == [
        ("emergency_stop", "firing", "operator client:console-1"),
        ("emergency_reset", "resolved", "operator"),
    ]


async def test_the_models_stop_call_does_not_wait_for_the_executors_busy_slots(
    redis: Redis, sim: RobotSimulator, robot_online: str, gateway: SessionGateway, emulator: RealtimeEmulator
) -> None:
    session = await live_session(gateway, emulator)
    sim.failures.slow_service["/vacuum_pads/release"] = 3.0
    slow = [await add_tool_call(redis, ROBOT, "release_vacuum") for _ in range(16)]
    await sim.wait_for_op("call_service", "/vacuum_pads/release", count=16)  # every executor slot is taken
    began = time.perf_counter()
    call_id = session.call_tool("emergency_stop", {})
    [op] = await sim.wait_for_op("publish", "/emergency_stop", timeout=2)
    assert (op.mono_time - began) < 0.5, "the model's stop waited behind the slow calls"
    for call in slow:
        assert await inbox_entries(redis, ROBOT, call.call_id) == [], "a slow call ended before the stop"
    output = await session.wait_for_client_event("conversation.item.create", is_output(call_id), timeout=10)
    assert output["item"]["output"].startswith("emergency_stop succeeded"), output["item"]["output"]
    assert len(sim.ops("publish", "/emergency_stop")) == 1, "put on the path once, by the gateway"
