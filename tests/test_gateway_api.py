"""The gateway's HTTP API and session control: authentication, clear errors,
state and rate limits, stop / start / restart, idle close and reopen, and a
session that fails and is reopened."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from robovox.gateway.service import SessionGateway
from robovox.shared.session import SessionState
from robovox.sim.realtime import RealtimeEmulator
from tests.conftest import ROBOT
from tests.test_gateway import is_user_text, live_session, say


async def test_every_route_but_health_needs_the_bearer_token(gateway: SessionGateway) -> None:
    async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{gateway.api_port}") as anonymous:
        health = await anonymous.get("/health")
        assert health.status_code == 200 and health.json()["robots"] == 1
        for headers in ({}, {"Authorization": "Bearer wrong-token"}):
            refused = await anonymous.get("/v1/robots", headers=headers)
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"] == "Bearer"
            assert refused.json() == {
                    "error": {"message": "a valid bearer token is required", "type": "invalid_request_error",
                              "param": None, "code": "unauthorized"}
                }  # fmt: skip


async def test_bad_requests_get_clear_json_errors(api: httpx2.AsyncClient, gateway: SessionGateway) -> None:
    unknown = await api.get("/v1/robots/forklift-9")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_robot"
    empty = await api.post(f"/v1/robots/{ROBOT}/messages", json={"text": ""})
    assert empty.status_code == 422
    assert empty.json()["error"]["message"].startswith("text: String should have at least 1 character")
    not_json = await api.post(f"/v1/robots/{ROBOT}/messages", content=b"start", headers={"content-type": "text/plain"})
    assert not_json.status_code == 422
    assert (await api.get("/v1/nothing")).status_code == 404


async def test_robots_list_their_session_and_its_rate_limits(
    api: httpx2.AsyncClient, gateway: SessionGateway, emulator: RealtimeEmulator
) -> None:
    session = await live_session(gateway, emulator)
    await say(api, "hello robot")
    await session.wait_for_server_event("rate_limits.updated")
    await session.wait_for_server_event("response.done")
    (robot,) = (await api.get("/v1/robots")).json()
    assert robot["robot_id"] == ROBOT and robot["state"] == "live"
    assert robot["session_id"] == session.session_id and robot["provider_call_id"] == session.call_id
    limits = {limit["name"]: limit for limit in robot["rate_limits"]}
    assert set(limits) == {"requests", "tokens"} and limits["requests"]["remaining"] < limits["requests"]["limit"]


async def test_stop_ends_the_session_and_start_opens_a_fresh_conversation(
    api: httpx2.AsyncClient, gateway: SessionGateway, emulator: RealtimeEmulator
) -> None:
    first = await live_session(gateway, emulator)
    robot = gateway.robots[ROBOT]
    conversation = robot.conversation_id
    await say(api, "remember the red door")
    await first.wait_for_server_event("response.done")
    assert (await api.post(f"/v1/robots/{ROBOT}/session/stop")).status_code == 202
    await first.closed_event.wait()
    refused = await api.post(f"/v1/robots/{ROBOT}/messages", json={"text": "hello"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "session_stopped"
    assert (await api.post(f"/v1/robots/{ROBOT}/session/start")).status_code == 202
    second = await emulator.wait_for_session(1)
    await robot.wait_live()
    assert robot.conversation_id != conversation
    assert not [e for e in second.received if e["type"] == "conversation.item.create"], "nothing replayed"
    assert (await api.get(f"/v1/robots/{ROBOT}")).json()["state"] == SessionState.LIVE


async def test_restart_continues_the_conversation_in_a_new_session(
    api: httpx2.AsyncClient, gateway: SessionGateway, emulator: RealtimeEmulator
) -> None:
    first = await live_session(gateway, emulator)
    await say(api, "remember the red door")
    await first.wait_for_server_event("response.done")
    assert (await api.post(f"/v1/robots/{ROBOT}/session/restart", json={})).status_code == 202
    second = await emulator.wait_for_session(1)
    await second.wait_for_client_event("conversation.item.create", is_user_text("remember the red door"))
    assert first.closed


async def test_a_session_the_provider_drops_is_reopened_with_the_conversation(
    api: httpx2.AsyncClient, gateway: SessionGateway, emulator: RealtimeEmulator
) -> None:
    first = await live_session(gateway, emulator)
    await say(api, "the spill is in aisle four")
    await first.wait_for_client_event("conversation.item.create", is_user_text("the spill is in aisle four"))
    await first.close()
    second = await emulator.wait_for_session(1, timeout=15)
    await second.wait_for_client_event("conversation.item.create", is_user_text("the spill is in aisle four"))
    assert gateway.robots[ROBOT].sessions_opened == 2


class TestIdleSessions:
    @pytest.fixture
    def gateway_overrides(self) -> dict[str, Any]:
        return {"idle_close_s": 0.5}

    async def test_an_idle_session_is_closed_and_reopened_by_the_next_message(
        self, api: httpx2.AsyncClient, gateway: SessionGateway, emulator: RealtimeEmulator
    ) -> None:
        first = await live_session(gateway, emulator)
        await first.closed_event.wait()
        robot = gateway.robots[ROBOT]
        assert robot.state is SessionState.IDLE
        await say(api, "are you awake")
        second = await emulator.wait_for_session(1)
        await second.wait_for_client_event("conversation.item.create", is_user_text("are you awake"))
        await second.wait_for_client_event("response.create")
