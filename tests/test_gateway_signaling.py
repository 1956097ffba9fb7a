"""How the gateway starts calls: one step with the API key, two steps with an
ephemeral key, Azure OpenAI's GA paths; and the API key never leaves it."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx2
import pytest
from redis.asyncio import Redis

from robovox.gateway.service import SessionGateway
from robovox.shared.session import SessionState
from robovox.sim.realtime import RealtimeEmulator
from tests.conftest import API_KEY, API_TOKEN, ROBOT, _serve, gateway_settings
from tests.test_gateway import is_output, live_session, say


async def run_gateway(redis_url: str, profiles_dir: Path, base_url: str, **overrides: Any) -> Any:
    service, task = await _serve(SessionGateway(gateway_settings(redis_url, profiles_dir, base_url, **overrides)))
    return service, task


async def stop(service: SessionGateway, task: Any) -> None:
    service.stop()
    await task


async def test_the_one_step_call_posts_the_offer_and_session_together(
    gateway: SessionGateway, emulator: RealtimeEmulator
) -> None:
    session = await live_session(gateway, emulator)
    assert emulator.secrets_issued == 0 and emulator.calls_created == 1
    assert session.config["instructions"].startswith("You are a friendly cleaning robot. Communicate in English")
    assert session.config["audio"]["output"]["voice"] == "ash"
    assert [t["name"] for t in session.config["tools"]][:2] == ["start_cleaning", "move_to_corner"]


@pytest.mark.parametrize(
    ("overrides", "azure"),
    [({"realtime_signaling": "client_secret"}, False), ({"realtime_provider": "azure"}, True)],
    ids=["client-secret", "azure"],
)
async def test_the_two_step_call_uses_an_ephemeral_key(
    redis_url: str, profiles_dir: Path, emulator: RealtimeEmulator, overrides: dict[str, Any], azure: bool
) -> None:
    base_url = emulator.azure_base_url if azure else emulator.base_url
    service, task = await run_gateway(redis_url, profiles_dir, base_url, **overrides)
    try:
        session = await live_session(service, emulator)
        assert emulator.secrets_issued == 1
        assert session.config["tools"][0]["name"] == "start_cleaning"
    finally:
        await stop(service, task)
    assert session.closed, "the gateway hung up its call on stopping"
    prefix = "/openai/v1" if azure else "/v1"
    with_key = ["authorization"] if not azure else ["api-key"]  # Azure's Bearer means an Entra ID token
    assert [(path, sorted(names)) for path, names in emulator.credentials_seen] == [
        (f"{prefix}/realtime/client_secrets", with_key),
        (f"{prefix}/realtime/calls", ["authorization"]),  # the ephemeral key
        (f"{prefix}/realtime/calls/{session.call_id}/hangup", with_key),
    ]


async def test_a_refused_key_is_reported_without_the_key_and_retried(
    redis_url: str, profiles_dir: Path, emulator: RealtimeEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "sk-wrong-key-0123456789"
    service, task = await run_gateway(redis_url, profiles_dir, emulator.base_url, openai_api_key=wrong)
    try:
        robot = service.robots[ROBOT]
        assert robot.state is SessionState.RECONNECTING
        assert robot.last_error is not None and "401" in robot.last_error
        assert wrong not in robot.last_error and wrong not in caplog.text
    finally:
        await stop(service, task)


async def test_the_api_key_appears_in_no_log_stream_hash_or_api_response(
    robot_online: str, gateway: SessionGateway, emulator: RealtimeEmulator, api: httpx2.AsyncClient,
    redis: Redis, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    session = await live_session(gateway, emulator)
    await say(api, "start cleaning, turn right")
    await session.wait_for_client_event("conversation.item.create", is_output())
    replies = [await api.get(path) for path in ("/health", "/v1/robots", f"/v1/robots/{ROBOT}")]
    stored: list[str] = []
    for key in await redis.keys("*"):
        kind = await redis.type(key)
        if kind == "stream":
            stored += [str(fields) for _id, fields in await redis.xrange(key)]
        elif kind == "hash":
            stored.append(str(await redis.hgetall(key)))
        elif kind == "string":
            stored.append(str(await redis.get(key)))
    assert any("start_cleaning" in text for text in stored)
    for text in [caplog.text, *stored, *(r.text for r in replies), str(gateway.settings)]:
        assert API_KEY not in text
    assert API_TOKEN not in str(gateway.settings)
