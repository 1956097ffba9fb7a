"""``/health`` answers 503 ``starting`` until the gateway's ready event is set, then 200 ``ok``; the console
is handed the STUN and TURN servers (``/v1/ice_servers``)."""

from __future__ import annotations

import asyncio
from typing import cast

import httpx2
from redis.asyncio import Redis

from robovox.gateway.clients.registry import ClientCalls
from robovox.gateway.clients.secrets import ClientSecretStore
from robovox.gateway.http.app import create_app
from robovox.gateway.settings import GatewaySettings
from robovox.shared.loop_lag import LoopLagMonitor, RecentSamples


async def test_health_follows_the_ready_event() -> None:
    ready = asyncio.Event()
    app = create_app(
        {},
        GatewaySettings(redis_url="redis://unused", openai_api_key="sk-unit", api_token="unit-token"),
        secrets=ClientSecretStore(cast(Redis, None)),
        client_calls=ClientCalls(1.0),
        loop_lag=LoopLagMonitor(),
        dispatch_ms=RecentSamples(),
        events_dropped=lambda: 0,
        ready=ready,
    )
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://gateway") as api:
        starting = await api.get("/health")
        assert starting.status_code == 503 and starting.json() == {"status": "starting", "robots": 0, "live": 0}
        ready.set()
        ok = await api.get("/health")
        assert ok.status_code == 200 and ok.json() == {"status": "ok", "robots": 0, "live": 0}


async def test_the_console_is_given_the_stun_and_turn_servers() -> None:
    settings = GatewaySettings(
        redis_url="redis://unused", openai_api_key="sk-unit", api_token="unit-token",
        stun_urls="stun:stun.floor.example:3478",
        turn_urls="turn:turn.floor.example:3478,turns:turn.floor.example:5349",
        turn_username="floor", turn_credential="turn-pass",
    )  # fmt: skip
    app = create_app(
        {},
        settings,
        secrets=ClientSecretStore(cast(Redis, None)),
        client_calls=ClientCalls(1.0),
        loop_lag=LoopLagMonitor(),
        dispatch_ms=RecentSamples(),
        events_dropped=lambda: 0,
        ready=asyncio.Event(),
    )
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://gateway") as api:
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
