"""What the backbone adds to a robot command's latency.

Pipeline: a start_cleaning tool call XADDed to the robot's tool-call stream,
through the tool executor and the ROS adapter (each its own process, as on an
edge box), until the simulator receives the call_service op.
Direct: the same call_service sent with roslibpy straight to the same
simulator, until the simulator receives it.

Both are timed against the simulator's own receive timestamp (it runs in this
process, so the clocks are the same), interleaved in one run so both see the
same machine. Prints a table, then one line of key=value figures.

    python bench/pipeline_latency.py [--samples 500]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import roslibpy
from redis.asyncio import Redis

from robovox.shared.embedded_redis import EmbeddedRedis
from robovox.shared.redis_client import open_redis
from robovox.shared.streams import RobotKeys
from robovox.shared.testing.streams import add_tool_call, last_entry_id, wait_for_output
from robovox.sim.robot import RobotSimulator

REPO = Path(__file__).resolve().parents[1]
ROBOT = "cleaner-1"
SERVICE = "/robot_navigator/start_cleaning"
SERVICE_TYPE = "cleaning_robot_interfaces/srv/StartCleaning"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def start_services(redis_url: str, profiles: Path) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "ROBOVOX_REDIS_URL": redis_url,
        "ROBOVOX_PROFILES_DIR": str(profiles),
        "ROBOVOX_MOTION_REPEAT_WINDOW_S": "0",  # the bench repeats one motion command on purpose
        "ROBOVOX_LOG_LEVEL": "WARNING",
    }
    return [
        subprocess.Popen([sys.executable, "-m", module], env=env)
        for module in ("robovox.executor", "robovox.ros_adapter")
    ]


async def wait_online(redis: Redis, timeout_s: float = 30.0) -> None:
    """Until the pads' state has arrived through the adapter and its link state says up."""
    keys = RobotKeys.of(ROBOT)
    last = "0-0"
    pads_seen = False
    async with asyncio.timeout(timeout_s):
        while not (pads_seen and await redis.hget(keys.link_state, "state") == "up"):
            reply: Any = await redis.xread({keys.telemetry: last}, block=1000)
            for _stream, entries in reply or []:
                last = entries[-1][0]
                pads_seen = pads_seen or any(f.get("topic") == "/vacuum_pads/state" for _id, f in entries)


async def pipeline_sample(redis: Redis, sim: RobotSimulator) -> tuple[float, float]:
    """(XADD -> robot, XADD -> inbox output) in ms."""
    before = len(sim.ops("call_service", SERVICE))
    inbox_position = await last_entry_id(redis, RobotKeys.of(ROBOT).inbox)
    sent = time.perf_counter()
    call = await add_tool_call(redis, ROBOT, "start_cleaning", '{"option":"TurnRight"}')
    ops = await sim.wait_for_op("call_service", SERVICE, count=before + 1)
    await wait_for_output(redis, ROBOT, call.call_id, after=inbox_position)
    answered = time.perf_counter()
    return (ops[before].mono_time - sent) * 1000, (answered - sent) * 1000


async def direct_sample(ros: Any, sim: RobotSimulator) -> float:
    before = len(sim.ops("call_service", SERVICE))
    loop = asyncio.get_running_loop()
    replied: asyncio.Future[None] = loop.create_future()

    def settle() -> None:
        if not replied.done():
            replied.set_result(None)

    def done(*_: Any) -> None:
        loop.call_soon_threadsafe(settle)

    service = roslibpy.Service(ros, SERVICE, SERVICE_TYPE)
    sent = time.perf_counter()
    service.call(roslibpy.ServiceRequest({"option": "TurnRight"}), done, done)
    ops = await sim.wait_for_op("call_service", SERVICE, count=before + 1)
    await replied
    return (ops[before].mono_time - sent) * 1000


async def run(samples: int, warmup: int) -> dict[str, float]:
    sim = RobotSimulator(port=0)
    await sim.start()
    with EmbeddedRedis() as server, tempfile.TemporaryDirectory() as tmp:
        profiles = Path(tmp)
        text = (REPO / "deploy" / "profiles" / "cleaner-1.yaml").read_text()
        (profiles / "cleaner-1.yaml").write_text(text.replace("ws://127.0.0.1:9090", sim.url))
        procs = start_services(server.url, profiles)
        redis = open_redis(server.url)
        ros = roslibpy.Ros("127.0.0.1", sim.port, transport="asyncio")
        try:
            await wait_online(redis)
            await asyncio.to_thread(ros.run, 10)
            pipeline: list[float] = []
            answered: list[float] = []
            direct: list[float] = []
            for i in range(warmup + samples):
                to_robot, to_inbox = await pipeline_sample(redis, sim)
                straight = await direct_sample(ros, sim)
                if i >= warmup:
                    pipeline.append(to_robot)
                    answered.append(to_inbox)
                    direct.append(straight)
        finally:
            ros.close()
            await redis.aclose()
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(10)
            await sim.stop()
    return {
        "direct_p50_ms": percentile(direct, 50),
        "direct_p99_ms": percentile(direct, 99),
        "pipeline_p50_ms": percentile(pipeline, 50),
        "pipeline_p99_ms": percentile(pipeline, 99),
        "added_p99_ms": percentile(pipeline, 99) - percentile(direct, 99),
        "added_p50_ms": percentile(pipeline, 50) - percentile(direct, 50),
        "roundtrip_p50_ms": percentile(answered, 50),
        "roundtrip_p99_ms": percentile(answered, 99),
        "pipeline_mean_ms": statistics.fmean(pipeline),
        "samples": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()
    figures = asyncio.run(run(args.samples, args.warmup))
    print(f"\nstart_cleaning, {args.samples} samples each, interleaved, on {os.cpu_count()} cores\n")
    print(f"{'path':<44}{'p50 ms':>10}{'p99 ms':>10}")
    print(f"{'direct roslibpy -> simulator':<44}{figures['direct_p50_ms']:>10.3f}{figures['direct_p99_ms']:>10.3f}")
    print(
        f"{'tool-call XADD -> executor -> adapter -> sim':<44}"
        f"{figures['pipeline_p50_ms']:>10.3f}{figures['pipeline_p99_ms']:>10.3f}"
    )
    print(f"{'added by the pipeline':<44}{figures['added_p50_ms']:>10.3f}{figures['added_p99_ms']:>10.3f}")
    print(
        f"{'tool-call XADD -> output in the inbox':<44}"
        f"{figures['roundtrip_p50_ms']:>10.3f}{figures['roundtrip_p99_ms']:>10.3f}"
    )
    print()
    keys = ["direct_p50_ms", "direct_p99_ms", "pipeline_p50_ms", "pipeline_p99_ms", "added_p99_ms"]
    print(" ".join(f"{key}={figures[key]:.3f}" for key in keys))


if __name__ == "__main__":
    main()
