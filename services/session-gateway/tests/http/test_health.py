"""``/health`` answers 503 ``starting`` until the gateway's ready event is set, then 200 ``ok``; the console
is handed the STUN and TURN servers (``/v1/ice_servers``)."""

from __future__ import annotations

import asyncio
from typing import Any

from robovox.gateway.settings import GatewaySettings

UNIT: dict[str, Any] = {"redis_url": "redis://unused", "openai_api_key": "sk-unit", "api_token": "unit-token"}


async def test_health_follows_the_ready_event(open_api: Any) -> None:
    ready = asyncio.Event()
    async with open_api(GatewaySettings(**UNIT), ready) as api:
        starting = await api.get("/health")
        assert starting.status_code == 503 and starting.json() == {"status": "starting", "robots": 0, "live": 0}
        ready.set()
        ok = await api.get("/health")
        assert ok.status_code == 200 and ok.json() == {"status": "ok", "robots": 0, "live": 0}


async def test_the_console_is_given_the_stun_and_turn_servers(open_api: Any) -> None:
    settings = GatewaySettings(
        **UNIT,
        stun_urls="stun:stun.floor.example:3478",
        turn_urls="turn:turn.floor.example:3478,turns:turn.floor.example:5349",
        turn_username="floor",
        turn_credential="turn-pass",
    )
    async with open_api(settings) as api:
        assert (await api.get("/v1/ice_servers")).status_code == 401
        reply = await api.get("/v1/ice_servers", headers={"Authorization": "Bearer unit-token"})
    assert reply.json() == {
        "ice_servers": [
            {"urls": ["stun:stun.floor.example:3478"]},
            {
                "urls": ["turn:turn.floor.example:3478", "turns:turn.floor.example:5349"],
                "username": "floor",
                "credential": "turn-pass",
            },
        ]
    }
