"""The battery forecast against the simulator's own truth, with sim time running
20 times faster than real time (one simulated minute in three seconds)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from robovox.alert_monitor.service import AlertMonitor
from robovox.shared.messages import parse_time
from robovox.sim.robot import RobotConfig, RobotSimulator
from tests.conftest import KEYS

TIME_SCALE = 20.0
THRESHOLD_V = 22.0


@pytest.fixture
async def sim() -> AsyncIterator[RobotSimulator]:
    config = RobotConfig(initial_voltage=25.2, idle_drain_v_per_min=0.4, voltage_noise_std=0.01, seed=11)
    simulator = RobotSimulator(port=0, time_scale=TIME_SCALE, battery_rate_hz=2, state_rate_hz=0.5, robot_config=config)
    await simulator.start()
    yield simulator
    await simulator.stop()


async def test_the_forecast_is_within_ten_percent_after_one_simulated_minute(
    robot_online: str, monitor: AlertMonitor, sim: RobotSimulator, redis: Redis
) -> None:
    started = time.time()
    last = "$"
    forecast: dict[str, Any] = {}
    async with asyncio.timeout(20):
        while (time.time() - started) * TIME_SCALE < 60 or "minutes_to_threshold" not in forecast:
            reply: Any = await redis.xread({KEYS.telemetry: last}, block=1000)
            for _stream, entries in reply or []:
                for entry_id, fields in entries:
                    last = entry_id
                    if fields["topic"] == "/robovox/battery_forecast":
                        forecast = json.loads(fields["msg"]) | {"received_at": fields["received_at"]}
    forecast_at = parse_time(forecast["received_at"]).timestamp()
    true_real_s = sim.wall_seconds_until_voltage(THRESHOLD_V) + (time.time() - forecast_at)
    predicted_real_s = forecast["minutes_to_threshold"] * 60
    error = abs(predicted_real_s - true_real_s) / true_real_s
    assert error < 0.10, f"forecast {predicted_real_s:.1f} s, truth {true_real_s:.1f} s"
    assert forecast["confidence"] > 0.5
