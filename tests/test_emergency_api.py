"""The gateway's emergency stop API: operator token, the stop at the robot, the latch, the reset."""

from __future__ import annotations

import httpx2
from redis.asyncio import Redis

from robovox.gateway.service import SessionGateway
from robovox.shared.messages import AlertTransition
from robovox.sim.robot import RobotSimulator

from .conftest import KEYS, ROBOT


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
