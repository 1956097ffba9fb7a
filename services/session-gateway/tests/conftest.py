"""Gateway test helpers: the cleaning robot's profile, and its Realtime sessions on the test's Redis."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import cast

import httpx2
import pytest
from redis.asyncio import Redis

from robovox.gateway.calls.publisher import CallPublisher
from robovox.gateway.clients.registry import ClientCalls
from robovox.gateway.clients.roster import ClientRoster
from robovox.gateway.clients.secrets import ClientSecretStore
from robovox.gateway.http.app import create_app
from robovox.gateway.realtime.conversation import ConversationLog
from robovox.gateway.realtime.event_log import EventLog
from robovox.gateway.realtime.provider_calls import ProviderCalls
from robovox.gateway.realtime.session import RealtimeSession
from robovox.gateway.realtime.signaling import RealtimeSignaling
from robovox.gateway.robot.opener import NewSession
from robovox.gateway.settings import GatewaySettings
from robovox.shared.loop_lag import LoopLagMonitor, RecentSamples
from robovox.shared.profile import RobotProfile, load_profiles

PROFILES = Path(__file__).resolve().parents[3] / "deploy" / "profiles"


OpenApi = Callable[..., contextlib.AbstractAsyncContextManager[httpx2.AsyncClient]]


@pytest.fixture
def open_api() -> OpenApi:
    """``async with open_api(settings, ready) as api``: the gateway's app with no robots, on an
    in-process transport (no Redis is reached); ``ready`` unset unless given."""

    @contextlib.asynccontextmanager
    async def opened(
        settings: GatewaySettings, ready: asyncio.Event | None = None
    ) -> AsyncIterator[httpx2.AsyncClient]:
        app = create_app(
            {},
            settings,
            secrets=ClientSecretStore(cast(Redis, None)),
            client_calls=ClientCalls(1.0),
            loop_lag=LoopLagMonitor(),
            dispatch_ms=RecentSamples(),
            events_dropped=lambda: 0,
            ready=ready if ready is not None else asyncio.Event(),
        )
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://gateway") as client:
            yield client

    return opened


@pytest.fixture
def profile() -> RobotProfile:
    return load_profiles(PROFILES)["cleaner-1"]


@pytest.fixture
async def new_session(redis: Redis, profile: RobotProfile) -> AsyncIterator[NewSession]:
    """Makes the robot's Realtime sessions (unopened), all with the same publisher, logs and clients."""
    settings = GatewaySettings(
        redis_url="redis://unused", openai_api_key="sk-unit", realtime_base_url="http://127.0.0.1:9/v1",
        api_enabled=False,
    )  # fmt: skip
    signaling = RealtimeSignaling(settings)
    events = EventLog(redis)
    events.start()
    yield functools.partial(
        RealtimeSession,
        profile=profile,
        settings=settings,
        signaling=signaling,
        publisher=CallPublisher(redis, profile.robot_id, profile.tool_call_timeout_s),
        conversation=ConversationLog(redis, profile.robot_id),
        event_log=events,
        clients=ClientRoster(profile.robot_id, settings.clients_per_robot),
        provider_calls=ProviderCalls(),
    )
    await events.stop()
    await signaling.aclose()
