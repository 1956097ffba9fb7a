"""``/health`` answers 503 ``starting`` until the gateway's ready event is set, then 200 ``ok``."""

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
