"""The monitor on a real Redis: transactions, restarts, derived telemetry."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from robovox.alert_monitor.robot import RobotMonitor
from robovox.alert_monitor.settings import MonitorSettings
from robovox.shared.messages import AlertStatus, AlertTransition, InboxEntry, TelemetrySample
from robovox.shared.profile import RobotProfile, load_profile
from robovox.shared.redis_client import connect_redis
from robovox.shared.streams import RobotKeys
from robovox.shared.testing.streams import wait_for_entries

PROFILE = Path(__file__).resolve().parents[3] / "deploy" / "profiles" / "cleaner-1.yaml"
KEYS = RobotKeys.of("cleaner-1")


@pytest.fixture
def profile() -> RobotProfile:
    return load_profile(PROFILE)


@pytest.fixture
def settings(redis_url: str) -> MonitorSettings:
    return MonitorSettings(redis_url=redis_url, profiles_dir=PROFILE.parent, tick_s=0.05, block_ms=100)


class Running:
    """A monitor task that can be stopped and started again, as a process would be."""

    def __init__(self, settings: MonitorSettings, profile: RobotProfile) -> None:
        self._settings, self._profile = settings, profile
        self.client: Redis | None = None
        self.task: asyncio.Task[None] | None = None
        self.stopping = asyncio.Event()

    async def start(self) -> RobotMonitor:
        self.client = connect_redis(self._settings)
        self.stopping = asyncio.Event()
        monitor = RobotMonitor(self.client, self._profile, self._settings)
        self.task = asyncio.create_task(monitor.run(self.stopping))
        await asyncio.wait_for(monitor.ready.wait(), 5)
        return monitor

    async def stop(self) -> None:
        self.stopping.set()
        assert self.task is not None and self.client is not None
        await asyncio.wait_for(self.task, 5)
        await self.client.aclose()


@pytest.fixture
async def running(settings: MonitorSettings, profile: RobotProfile) -> AsyncIterator[Running]:
    runner = Running(settings, profile)
    yield runner
    if runner.task is not None and not runner.task.done():
        await runner.stop()


async def add_battery(redis: Redis, volts: float) -> str:
    sample = TelemetrySample(
        robot_id="cleaner-1", topic="/battery/voltage", ros_type="std_msgs/msg/Float32",
        msg=json.dumps({"data": volts}), received_at=datetime.now(UTC),
    )  # fmt: skip
    fields: Any = sample.to_fields()
    entry_id: str = await redis.xadd(KEYS.telemetry, fields)
    return entry_id


async def wait_for_alerts(redis: Redis, count: int) -> list[AlertTransition]:
    return [AlertTransition.from_fields(f) for _id, f in await wait_for_entries(redis, KEYS.alerts, count)]


async def test_a_restarted_monitor_neither_repeats_nor_forgets_a_firing_alert(redis: Redis, running: Running) -> None:
    await running.start()
    for _ in range(3):
        await add_battery(redis, 21.0)
    first = await wait_for_alerts(redis, 1)  # battery_critical holds for 1 s, battery_low for 2 s
    assert [(a.rule, a.status) for a in first] == [("battery_critical", AlertStatus.FIRING)]
    await running.stop()

    monitor = await running.start()
    assert monitor.evaluation.rules["battery_critical"].active
    for _ in range(5):
        await add_battery(redis, 21.0)  # still low: evaluated before the next one, which clears it
    await add_battery(redis, 23.5)
    alerts = await wait_for_alerts(redis, 2)
    critical = [a.status for a in alerts if a.rule == "battery_critical"]
    assert critical[:2] == [AlertStatus.FIRING, AlertStatus.RESOLVED]
    inbox: Any = await redis.xrange(KEYS.inbox)
    texts = [InboxEntry.from_fields(f).text for _id, f in inbox]
    assert sum(t.startswith("CRITICAL WARNING (battery_critical)") for t in texts) == 1


async def test_the_battery_forecast_is_published_as_telemetry(redis: Redis, running: Running) -> None:
    await running.start()
    now = datetime.now(UTC).timestamp()
    for i in range(30):  # 3 s of samples at 10 Hz, falling 6 V per minute
        at = now + i * 0.1
        sample = TelemetrySample(
            robot_id="cleaner-1", topic="/battery/voltage", ros_type="std_msgs/msg/Float32",
            msg=json.dumps({"data": 24.0 - 0.01 * i}), received_at=datetime.fromtimestamp(at, UTC),
        )  # fmt: skip
        fields: Any = sample.to_fields()
        await redis.xadd(KEYS.telemetry, fields)
    async with asyncio.timeout(10):
        while (latest := await redis.hget(KEYS.telemetry_latest, "/robovox/battery_forecast")) is None:
            await redis.xread({KEYS.telemetry: "$"}, block=200)
    forecast = json.loads(latest)["msg"]
    assert forecast["trend_v_per_min"] == pytest.approx(-6.0, rel=0.01)
    assert forecast["minutes_to_threshold"] == pytest.approx((forecast["voltage"] - 22.0) / 6.0, rel=0.01)
    assert forecast["confidence"] == 1.0  # a straight line
    raw: Any = await redis.xrange(KEYS.telemetry)
    derived = [f for _id, f in raw if f["topic"] == "/robovox/battery_forecast"]
    assert derived and derived[0]["ros_type"] == "robovox/msg/BatteryForecast" and "msg.summary" in derived[0]
