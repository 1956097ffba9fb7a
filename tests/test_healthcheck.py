"""The consuming services' container health check (``robovox.shared.healthcheck``) against the
services themselves: healthy while they run and read, each robot's link state named; unhealthy,
with the reason, for a consumer that does not run."""

from __future__ import annotations

from pathlib import Path

from redis.asyncio import Redis

from robovox.ros_adapter.service import RosAdapter
from robovox.shared.healthcheck import check
from robovox.shared.settings import ServiceSettings
from tests.conftest import FAST, ROBOT


async def test_running_services_are_healthy_and_the_link_state_is_named(
    robot_online: str, adapter: RosAdapter, redis: Redis, redis_url: str, profiles_dir: Path
) -> None:
    settings = ServiceSettings(redis_url=redis_url, profiles_dir=profiles_dir, **FAST)
    executor = await check("tool-executor", settings, [ROBOT], redis)
    assert executor.problems == [] and executor.verdict() == "healthy"
    assert executor.lines[0].startswith(f"{ROBOT}: tool_calls read ")
    adapter_report = await check("ros-adapter", settings, [ROBOT], redis)
    assert adapter_report.problems == []
    assert f"link up to {adapter.profiles[ROBOT].rosbridge_url}" in adapter_report.lines[0]


async def test_a_consumer_that_does_not_run_is_unhealthy_with_the_reasons(
    robot_online: str, redis: Redis, redis_url: str, profiles_dir: Path
) -> None:
    settings = ServiceSettings(redis_url=redis_url, profiles_dir=profiles_dir, consumer_name="tool-executor-9", **FAST)
    report = await check("tool-executor", settings, [ROBOT], redis)
    assert report.problems == [
        "tool-executor-9 holds no lease from this host (the service is not running here)",
        f"{ROBOT}: tool-executor-9 is not reading tool_calls",
    ]
    assert report.verdict().startswith("unhealthy: tool-executor-9 holds no lease")
