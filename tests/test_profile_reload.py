"""Profiles added, changed or removed while the services run are served without a restart."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from robovox.executor.service import ToolExecutor
from robovox.executor.settings import ExecutorSettings
from robovox.ros_adapter.service import RosAdapter
from robovox.ros_adapter.settings import AdapterSettings
from robovox.shared.lifecycle import RobotService
from robovox.shared.messages import Outcome
from robovox.shared.streams import RobotKeys
from robovox.shared.testing.streams import LOOK_MS, add_tool_call, wait_for_output
from robovox.sim.robot import RobotSimulator
from tests.conftest import FAST, ROBOT, SHIPPED_PROFILE, serving, started_simulator

SECOND = "cleaner-2"
START = "/robot_navigator/start_cleaning"
WATCH_S = 0.2


@pytest.fixture
async def sim2() -> AsyncIterator[RobotSimulator]:
    async with started_simulator() as simulator:
        yield simulator


def profile_text(robot_id: str, sim: RobotSimulator) -> str:
    text = SHIPPED_PROFILE.read_text().replace("ws://127.0.0.1:9090", sim.url)
    return text.replace(f"robot_id: {ROBOT}", f"robot_id: {robot_id}")


def link_series(robot_id: str) -> int:
    """How many ``robovox_link_state`` series this process exports for ``robot_id``."""
    return sum(
        1
        for metric in REGISTRY.collect()
        if metric.name == "robovox_link_state"
        for sample in metric.samples
        if sample.labels.get("robot") == robot_id
    )


async def until(service: RobotService[Any, Any], check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    await asyncio.wait_for(service.wait_until(check), timeout_s)


@pytest.fixture
async def services(redis_url: str, profiles_dir: Path) -> AsyncIterator[tuple[RosAdapter, ToolExecutor]]:
    # A changed robot's calls in flight get the shutdown grace to finish, as at a shutdown: 3 s here.
    common = {**FAST, "redis_url": redis_url, "profiles_dir": profiles_dir, "profiles_watch_s": WATCH_S}
    common["shutdown_grace_ms"] = 3000
    adapter_settings = AdapterSettings(
        **common, reconnect_initial_s=0.1, reconnect_max_s=0.5, link_heartbeat_s=0.2, link_recheck_s=0.2
    )
    executor_settings = ExecutorSettings(**common, result_grace_s=1.0)
    async with serving(RosAdapter(adapter_settings)) as adapter, serving(ToolExecutor(executor_settings)) as executor:
        yield adapter, executor


class Heard(logging.Handler):
    """Sets ``heard`` when a record containing ``text`` is logged."""

    def __init__(self, text: str) -> None:
        super().__init__(logging.ERROR)
        self.text = text
        self.heard = asyncio.Event()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        if self.text in self.messages[-1]:
            self.heard.set()


async def online(redis: Redis, adapter: RosAdapter, robot_id: str, timeout_s: float) -> None:
    """The robot's link up and its pads reported, as a person would wait to see it in the console."""
    await until(adapter, lambda: robot_id in adapter.robots, timeout_s)
    await asyncio.wait_for(adapter.robots[robot_id].link_up_published.wait(), timeout_s)
    keys = RobotKeys.of(robot_id)
    async with asyncio.timeout(timeout_s):
        last = "0-0"
        while await redis.hget(keys.telemetry_latest, "/vacuum_pads/state") is None:
            reply: Any = await redis.xread({keys.telemetry: last}, block=LOOK_MS, count=100)
            last = reply[0][1][-1][0] if reply else last


async def start_cleaning(redis: Redis, robot_id: str, timeout_s: float = 10.0) -> Outcome | None:
    call = await add_tool_call(redis, robot_id, "start_cleaning", '{"option":"TurnRight"}', deadline_in_s=timeout_s)
    return (await wait_for_output(redis, robot_id, call.call_id, timeout_s=timeout_s)).outcome


async def test_a_profile_dropped_in_is_served_within_10_s_without_a_restart(
    redis: Redis,
    sim: RobotSimulator,
    sim2: RobotSimulator,
    profiles_dir: Path,
    services: tuple[RosAdapter, ToolExecutor],
) -> None:
    adapter, executor = services
    first_workers = (adapter.robots[ROBOT], executor.robots[ROBOT])
    dropped = time.monotonic()
    (profiles_dir / f"{SECOND}.yaml").write_text(profile_text(SECOND, sim2))

    await online(redis, adapter, SECOND, timeout_s=10.0)
    assert await start_cleaning(redis, SECOND, timeout_s=10.0) is Outcome.SUCCEEDED
    took_s = time.monotonic() - dropped
    assert took_s < 10.0
    assert len(sim2.ops("call_service", START)) == 1
    # The robot already served was left alone: the same workers, still answering.
    assert (adapter.robots[ROBOT], executor.robots[ROBOT]) == first_workers
    assert await start_cleaning(redis, ROBOT) is Outcome.SUCCEEDED
    logging.getLogger(__name__).info("served %s %.1f s after its profile was dropped in", SECOND, took_s)


async def test_a_call_in_flight_finishes_under_the_old_profile_and_the_new_one_serves_after(
    redis: Redis,
    sim: RobotSimulator,
    profiles_dir: Path,
    services: tuple[RosAdapter, ToolExecutor],
    caplog: pytest.LogCaptureFixture,
) -> None:
    adapter, executor = services
    await online(redis, adapter, ROBOT, timeout_s=10.0)  # a call before that is refused, never sent
    sim.failures.slow_service[START] = 1.0  # in flight while the profile changes
    call = await add_tool_call(redis, ROBOT, "start_cleaning", '{"option":"TurnRight"}', deadline_in_s=20)
    await sim.wait_for_op("call_service", START, timeout=10)
    path = profiles_dir / f"{ROBOT}.yaml"
    path.write_text(path.read_text().replace("description: ", "description: (edited) ", 1))

    answer = await wait_for_output(redis, ROBOT, call.call_id, timeout_s=15)
    assert answer.outcome is Outcome.SUCCEEDED, answer.text
    await until(executor, lambda: executor.profiles_applied == 1)
    await until(adapter, lambda: adapter.profiles_applied == 1)
    assert "(edited)" in executor.robots[ROBOT].profile.model_dump_json()
    assert "left pending" not in caplog.text and "unacked" not in caplog.text, "the call was finished, not cut"
    sim.failures.slow_service.clear()
    await online(redis, adapter, ROBOT, timeout_s=10.0)
    stop = await add_tool_call(redis, ROBOT, "stop_cleaning")
    assert (await wait_for_output(redis, ROBOT, stop.call_id)).outcome is Outcome.SUCCEEDED
    assert len(sim.ops("call_service", START)) == 1, "the call in flight ran once, not again after the restart"


async def test_a_removed_profile_is_no_longer_served_and_a_broken_one_keeps_the_running_ones(
    redis: Redis,
    sim: RobotSimulator,
    sim2: RobotSimulator,
    profiles_dir: Path,
    services: tuple[RosAdapter, ToolExecutor],
) -> None:
    adapter, executor = services
    second = profiles_dir / f"{SECOND}.yaml"
    second.write_text(profile_text(SECOND, sim2))
    await until(executor, lambda: SECOND in executor.robots)
    await until(adapter, lambda: SECOND in adapter.robots)
    await until(adapter, lambda: link_series(SECOND) > 0)

    second.unlink()
    await until(executor, lambda: SECOND not in executor.robots)
    await until(adapter, lambda: SECOND not in adapter.robots)
    assert link_series(SECOND) == 0, "a removed robot's link gauge is not left in the scrape"

    heard = Heard("profiles not reloaded; the running ones are kept")
    watch_log = logging.getLogger("robovox.shared.profile.watch")
    watch_log.addHandler(heard)
    try:
        (profiles_dir / "broken.yaml").write_text("robot_id: [unclosed\n")
        await asyncio.wait_for(heard.heard.wait(), 10)
    finally:
        watch_log.removeHandler(heard)
    assert ROBOT in executor.robots and ROBOT in adapter.robots
    assert any("broken.yaml" in message for message in heard.messages)
    await online(redis, adapter, ROBOT, timeout_s=10.0)
    assert await start_cleaning(redis, ROBOT) is Outcome.SUCCEEDED
