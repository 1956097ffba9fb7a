"""A gateway killed without hanging up leaves its provider calls open (and billed) until ICE
consent fails. The gateway that serves the robot next hangs them up as it starts, from the
robot's session hash."""

from __future__ import annotations

import json
from pathlib import Path

import httpx2
from redis.asyncio import Redis

from robovox.sim.realtime import RealtimeEmulator
from robovox.sim.realtime.client import EmulatorClient
from tests.conftest import API_KEY, KEYS, ROBOT
from tests.test_gateway import live_session
from tests.test_gateway_signaling import run_gateway, stop


async def open_orphan_call(emulator: RealtimeEmulator) -> tuple[EmulatorClient, str]:
    """A call as a gateway opened it, whose process then vanished without a word."""
    client = EmulatorClient()
    async with httpx2.AsyncClient() as http:
        reply = await http.post(
            f"{emulator.base_url}/realtime/calls",
            content=await client.offer(),
            headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/sdp"},
        )
    assert reply.status_code == 201, reply.text
    await client.answer(reply.text)
    return client, reply.headers["location"].rsplit("/", 1)[-1]


async def test_calls_named_in_the_session_hash_are_hung_up_when_the_next_gateway_starts(
    redis_url: str, profiles_dir: Path, emulator: RealtimeEmulator, redis: Redis
) -> None:
    live_orphan, live_call = await open_orphan_call(emulator)
    opening_orphan, opening_call = await open_orphan_call(emulator)  # a recycle's new session, say
    await redis.hset(
        KEYS.session,
        mapping={
            "robot_id": ROBOT,
            "state": "recycling",
            "since": "2026-12-01T10:00:00.000Z",
            "gateway": "session-gateway@edge-1:4242",
            "provider_call_id": live_call,
            "provider_calls": json.dumps(sorted([live_call, opening_call, "rtc_already_gone"])),
        },
    )
    assert sorted(emulator.open_calls) == sorted([live_call, opening_call])

    service, task = await run_gateway(redis_url, profiles_dir, emulator.base_url)
    try:
        session = await live_session(service, emulator, 2)
        # Promptly: by hang-up, not after ICE consent fails (about 30 s).
        assert await emulator.wait_open_calls(lambda calls: calls == [session.call_id], timeout=5) == [session.call_id]
        info = await redis.hgetall(KEYS.session)
        assert info["provider_call_id"] == session.call_id
        assert json.loads(info["provider_calls"]) == [session.call_id]
        assert session.call_id in service.robots[ROBOT].provider_calls
    finally:
        await stop(service, task)
        await live_orphan.close()
        await opening_orphan.close()
    assert emulator.open_calls == [], "a gateway that stops hangs up its own call"
    assert json.loads((await redis.hgetall(KEYS.session))["provider_calls"]) == []
