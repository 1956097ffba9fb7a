"""An in-process tool executor on the real Redis, serving the cleaning robot's profile."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from robovox.executor.service import ToolExecutor
from robovox.executor.settings import ExecutorSettings
from robovox.shared.profile import RobotProfile, load_profiles

PROFILES = Path(__file__).resolve().parents[3] / "deploy" / "profiles"


@pytest.fixture
def profile() -> RobotProfile:
    return load_profiles(PROFILES)["cleaner-1"]


@pytest.fixture
async def executor(redis_url: str, profile: RobotProfile) -> AsyncIterator[ToolExecutor]:
    settings = ExecutorSettings(
        redis_url=redis_url,
        block_ms=100,
        claim_idle_ms=2000,
        motion_repeat_window_s=5.0,
        result_grace_s=0.5,
        shutdown_grace_ms=200,
    )
    service = ToolExecutor(settings, {profile.robot_id: profile})
    task = asyncio.create_task(service.run())
    await asyncio.wait_for(service.ready.wait(), 10)
    yield service
    service.stop()
    await asyncio.wait_for(task, 5)


@pytest.fixture
async def robot(redis: Redis, executor: ToolExecutor) -> str:
    """The cleaning robot, online, pads up."""
    from robovox.shared.testing.streams import set_link, set_telemetry

    await set_link(redis, "cleaner-1")
    await set_telemetry(redis, "cleaner-1", "/vacuum_pads/state", {"data": "up"}, "std_msgs/msg/String")
    return "cleaner-1"
