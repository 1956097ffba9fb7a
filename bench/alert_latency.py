"""How fast a critical alert reaches the model, how much telemetry the monitor
evaluates, and how good the battery forecast is.

Alert latency: the robot simulator (in this process) publishes a battery sample
below a critical threshold on its rosbridge websocket; the ROS adapter (with
throttle 0), the alert monitor and the session gateway run as their own
processes, as on an edge box; the Realtime emulator (in this process) is the
provider. Timed from the simulator's publish to the urgent ``response.create``
arriving at the emulator over the WebRTC data channel, for each of ``--alerts``
alerts; each alert is resolved (a sample back above the clear band) before the
next. On two or more cores, Redis and the three services share the first core,
this process gets the others.

Evaluation throughput: the cleaning robot's rules, context and forecast on
synthetic battery samples (every rule reads the battery, the worst case), in
this process on one core: parse the entry's fields, judge every rule, update
the forecast window and fit once a second of sample time.

Forecast error: the simulator's battery model (linear drain, gaussian sensor
noise) sampled at 10 Hz for one simulated minute, fitted, and compared with
the model's true time to the threshold; the worst of ``--forecast-runs``
noise seeds.

    python bench/alert_latency.py [--alerts 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from redis.asyncio import Redis

from robovox.alert_monitor.evaluation import RobotEvaluation
from robovox.alert_monitor.forecast import BatteryForecaster
from robovox.alert_monitor.notices import CRITICAL_INSTRUCTIONS
from robovox.shared.embedded_redis import EmbeddedRedis
from robovox.shared.entry import format_time
from robovox.shared.messages import AlertStatus, AlertTransition
from robovox.shared.profile import load_profile
from robovox.shared.profile.alerts import BatteryForecast
from robovox.shared.redis_client import open_redis
from robovox.shared.streams import RobotKeys
from robovox.shared.testing.streams import follow
from robovox.sim.realtime import RealtimeEmulator
from robovox.sim.robot import RobotSimulator
from robovox.sim.robot.battery import Battery

REPO = Path(__file__).resolve().parents[1]
PROFILE = REPO / "deploy" / "profiles" / "cleaner-1.yaml"
ROBOT = "cleaner-1"
KEYS = RobotKeys.of(ROBOT)
BATTERY = "/battery/voltage"
CORES = sorted(os.sched_getaffinity(0))
EDGE_CORES = set(CORES[:1]) if len(CORES) > 1 else set(CORES)
BENCH_CORES = set(CORES[1:]) if len(CORES) > 1 else set(CORES)
API_KEY = "sk-bench-alerts"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


# Alert latency


def bench_profile(rosbridge_url: str) -> dict[str, Any]:
    """The cleaning robot with the battery unthrottled and one critical rule that fires at once."""
    profile: dict[str, Any] = yaml.safe_load(PROFILE.read_text())
    profile["rosbridge_url"] = rosbridge_url
    for topic in profile["telemetry"]:
        topic["throttle_ms"] = 0
    profile["alerts"] = {
        "battery_forecast": profile["alerts"]["battery_forecast"],
        "rules": [
            {
                "name": "bench_critical", "topic": BATTERY, "below": 20.0, "clear_above": 24.0,
                "severity": "critical", "cooldown_s": 0, "label": "battery voltage", "unit": "V",
                "message": "Battery critically low at {value:.1f} volts.",
            }
        ]
    }  # fmt: skip
    return profile


def start_services(redis_url: str, profiles: Path, base_url: str) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "ROBOVOX_REDIS_URL": redis_url,
        "ROBOVOX_PROFILES_DIR": str(profiles),
        "ROBOVOX_OPENAI_API_KEY": API_KEY,
        "ROBOVOX_REALTIME_BASE_URL": base_url,
        "ROBOVOX_ICE_HOST_ADDRESSES": "127.0.0.1",
        "ROBOVOX_API_ENABLED": "false",
        "ROBOVOX_LOG_LEVEL": "WARNING",
    }
    procs = [
        subprocess.Popen([sys.executable, "-m", module], env=env)
        for module in ("robovox.ros_adapter", "robovox.alert_monitor", "robovox.gateway")
    ]
    for proc in procs:
        os.sched_setaffinity(proc.pid, EDGE_CORES)
    return procs


async def next_transition(redis: Redis, after: str, status: AlertStatus) -> str:
    """Block until the alerts stream has a ``status`` transition after ``after``; its id."""
    async with asyncio.timeout(10):
        async for entry_id, fields in follow(redis, KEYS.alerts, after):
            if AlertTransition.from_fields(fields).status is status:
                return entry_id
    raise AssertionError("unreachable")


async def first_session(emulator: RealtimeEmulator, procs: list[subprocess.Popen[bytes]]) -> Any:
    """The gateway's session, or an error as soon as a service exits."""
    for _ in range(60):
        exited = [proc.args for proc in procs if proc.poll() is not None]
        if exited:
            raise RuntimeError(f"a service exited during start-up: {exited}")
        try:
            return await emulator.wait_for_session(0, timeout=1)
        except TimeoutError:
            continue
    raise TimeoutError("the gateway opened no session within 60 s")


def is_urgent(event: dict[str, Any]) -> bool:
    return str(event["response"].get("instructions", "")).endswith(CRITICAL_INSTRUCTIONS)


async def alert_latency(alerts: int, warmup: int) -> list[float]:
    sim = RobotSimulator(port=0, battery_rate_hz=1, state_rate_hz=2)
    sim.robot.battery.drain = 0.0
    sim.robot.battery_voltage = 25.0
    emulator = RealtimeEmulator(api_key=API_KEY, ice_host_addresses=["127.0.0.1"], seconds_per_word=0.02)
    await sim.start()
    await emulator.start()
    procs: list[subprocess.Popen[bytes]] = []
    with EmbeddedRedis() as server, tempfile.TemporaryDirectory() as tmp:
        if server.pid is not None:
            os.sched_setaffinity(server.pid, EDGE_CORES)
        folder = Path(tmp)
        (folder / f"{ROBOT}.yaml").write_text(yaml.safe_dump(bench_profile(sim.url)))
        redis = open_redis(server.url)
        try:
            procs = start_services(server.url, folder, emulator.base_url)
            session = await first_session(emulator, procs)
            position = "0-0"
            latencies: list[float] = []
            for i in range(warmup + alerts):
                mark = len(session.received)
                published = time.perf_counter()
                sim.publish(BATTERY, {"data": 19.0})
                await session.wait_for_client_event("response.create", is_urgent, timeout=10, after=mark)
                arrived = time.perf_counter()
                if i >= warmup:
                    latencies.append((arrived - published) * 1000)
                position = await next_transition(redis, position, AlertStatus.FIRING)
                sim.publish(BATTERY, {"data": 25.0})
                position = await next_transition(redis, position, AlertStatus.RESOLVED)
            assert emulator.validation_errors == [], emulator.validation_errors
            return latencies
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
            await redis.aclose()
            await emulator.stop()
            await sim.stop()


# Evaluation throughput


def synthetic_battery(count: int, start: float) -> list[dict[str, str]]:
    rng = random.Random(5)
    fields = []
    for i in range(count):
        at = start + i * 0.01  # 100 Hz
        volts = 25.0 - 4.0 * i / count + rng.gauss(0, 0.02)  # through both battery thresholds
        fields.append(
            {
                "robot_id": ROBOT, "topic": BATTERY, "ros_type": "std_msgs/msg/Float32",
                "msg": json.dumps({"data": volts}), "msg.data": str(volts),
                "received_at": format_time(datetime.fromtimestamp(at, UTC)),
            }
        )  # fmt: skip
    return fields


def evaluation_throughput(count: int) -> tuple[float, int]:
    """Samples per CPU second, and the alert transitions raised on the way."""
    start = time.time()
    samples = synthetic_battery(count, start)
    evaluation = RobotEvaluation(load_profile(PROFILE), start)
    raised = 0
    began = time.process_time()
    for fields in samples:
        evaluation.evaluate(fields)
    elapsed = time.process_time() - began
    raised += len(evaluation.take().alerts)
    return count / elapsed, raised


# Forecast error


class SteppedClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def forecast_errors(runs: int) -> list[float]:
    """Percent error of minutes-to-threshold after one simulated minute, one per noise seed."""
    errors = []
    for seed in range(runs):
        clock = SteppedClock()
        battery = Battery(clock, voltage=25.2, drain=0.4 / 60, noise_std=0.01, seed=seed)
        forecaster = BatteryForecaster(BatteryForecast(threshold_v=22.0, window_s=120))
        for i in range(601):  # 10 Hz for 60 s
            clock.now = i * 0.1
            forecaster.add(clock.now, battery.measured())
        forecast = forecaster.forecast()
        assert forecast is not None and forecast.minutes_to_threshold is not None
        truth_min = battery.seconds_until(22.0) / 60
        errors.append(abs(forecast.minutes_to_threshold - truth_min) / truth_min * 100)
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--samples", type=int, default=200_000)
    parser.add_argument("--forecast-runs", type=int, default=100)
    args = parser.parse_args()
    os.sched_setaffinity(0, BENCH_CORES)

    latencies = asyncio.run(alert_latency(args.alerts, args.warmup))
    throughput, raised = evaluation_throughput(args.samples)
    errors = forecast_errors(args.forecast_runs)

    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    print(f"\nalert monitor, on {len(CORES)} cores (edge services on core {min(EDGE_CORES)})\n")
    rows = [
        ("critical alert: sim publish -> urgent response.create, p50", f"{p50:.2f} ms"),
        (f"  p99 ({len(latencies)} alerts, throttle 0)", f"{p99:.2f} ms"),
        ("  max", f"{max(latencies):.2f} ms"),
        ("evaluation: samples per CPU second (4 rules, context, forecast)", f"{throughput:,.0f}"),
        ("  alert transitions raised on the way", str(raised)),
        (f"forecast error after 1 simulated minute, worst of {len(errors)} seeds", f"{max(errors):.2f} %"),
        ("  mean", f"{statistics.fmean(errors):.2f} %"),
    ]
    print(f"{'figure':<66}{'value':>12}")
    print("-" * 78)
    for label, value in rows:
        print(f"{label:<66}{value:>12}")
    print()
    print(
        f"alert_p50_ms={p50:.3f} alert_p99_ms={p99:.3f} eval_samples_per_s={throughput:.0f} "
        f"forecast_error_pct={max(errors):.2f}"
    )


if __name__ == "__main__":
    main()
