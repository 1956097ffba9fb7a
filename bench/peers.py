"""The edge box's peers in processes of their own: the simulated robots and the Realtime emulator.

A bench that times something at one robot keeps that robot's simulator in its own process, where
it reads the clock, and starts the others here: the fleet's robots in one child process, the
emulator in another. Without this, the bench's own event loop answers 20 robots' rosbridge traffic
and decodes the gateway's 20 audio streams, and its figures are its own loop lag, not RoboVox's.
A real robot is its own machine and the model is on the far side of the internet; neither shares
the box's CPU with the bench's clock or with RoboVox, so both children run at ``PEER_NICE``: they
take what the edge box's own processes leave (on 2 cores the emulator alone, encoding and decoding
20 calls' audio, takes two thirds of one).

The model's calls under load are a third child (``remote_load``): it publishes them with the
gateway's script at a steady rate, at the priority the bench gives it, so the bench's clock does
not wait behind a hundred publishes a second either.

    python bench/peers.py robots N    # N simulators, then one line: a JSON list of their URLs
    python bench/peers.py load REDIS_URL RATE TOOL ROBOT...   # RATE calls/s of TOOL on each ROBOT
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PEER_NICE = 10
BATTERY_RATE_HZ = 20.0
STATE_RATE_HZ = 10.0
"""The fault suite's telemetry rates (``tests/faults/gateway_harness.simulators``)."""


@dataclass(frozen=True)
class RemoteRobot:
    """A simulated robot in another process: all a profile needs of it."""

    url: str


@dataclass(frozen=True)
class RemoteEmulator:
    """The Realtime emulator in another process: all the gateway needs of it."""

    base_url: str


def _nice() -> None:
    os.nice(PEER_NICE)


def add_box_options(parser: argparse.ArgumentParser) -> None:
    """``--nice`` and ``--redis``: how a bench runs the edge box's own processes."""
    parser.add_argument("--nice", type=int, default=-10, help="priority of Redis and the services (0: unchanged)")
    parser.add_argument("--redis", choices=("unix", "tcp"), default="unix", help="how everything reaches Redis")


def box_nice(nice: int) -> int:
    """``nice`` if this process may start others at it (tried on a child that exits at once), else 0,
    said on stdout."""
    from tests.faults.processes import prioritise  # the rig's, as for the edge box's processes

    if nice == 0:
        return 0
    probe = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        if prioritise(probe.pid, nice):
            return nice
    finally:
        probe.wait()
    print(f"not allowed to run the edge box at nice {nice}; measuring at the default priority", flush=True)
    return 0


async def _first_line(proc: asyncio.subprocess.Process, what: str, timeout_s: float = 60.0) -> str:
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), timeout_s)
    if not line:
        raise RuntimeError(f"{what} exited before it was up (rc {await proc.wait()})")
    return line.decode().strip()


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


@contextlib.asynccontextmanager
async def remote_robots(count: int) -> AsyncIterator[list[RemoteRobot]]:
    """``count`` simulated robots in one child process."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__)),
        "robots",
        str(count),
        stdout=subprocess.PIPE,
        env=os.environ.copy(),
        preexec_fn=_nice,
    )
    try:
        urls = json.loads(await _first_line(proc, "the robots' process"))
        yield [RemoteRobot(url) for url in urls]
    finally:
        await _stop(proc)


@contextlib.asynccontextmanager
async def remote_emulator(api_key: str, port: int, *, answers_speech: bool = True) -> AsyncIterator[RemoteEmulator]:
    """The Realtime emulator (``python -m robovox.sim.realtime``) in a child process on ``port``."""
    args = ["--port", str(port), "--api-key", api_key, "--ice-host", "127.0.0.1", "--log-level", "WARNING"]
    if not answers_speech:
        args.append("--withhold-responses")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "robovox.sim.realtime",
        *args,
        stdout=subprocess.PIPE,
        env=os.environ.copy(),
        preexec_fn=_nice,
    )
    try:
        banner = await _first_line(proc, "the Realtime emulator")
        yield RemoteEmulator(banner.rsplit(" ", 1)[-1])
    finally:
        await _stop(proc)


@contextlib.asynccontextmanager
async def remote_load(
    redis_url: str, rate_per_robot: float, tool: str, robots: list[str], *, nice: int = 0
) -> AsyncIterator[Callable[[], Awaitable[int]]]:
    """``tool`` at ``rate_per_robot`` calls a second on each of ``robots``, from a child process at
    ``nice`` (RoboVox's own priority: the load stands for the gateway publishing the model's calls).
    Yields ``stop()``, which ends the load and returns how many calls were made (no child for a rate of 0)."""
    if rate_per_robot <= 0:

        async def nothing() -> int:
            return 0

        yield nothing
        return
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(Path(__file__)), "load", redis_url, str(rate_per_robot), tool, *robots,
        stdout=subprocess.PIPE, env=os.environ.copy(),
    )  # fmt: skip
    from tests.faults.processes import prioritise  # the rig's, as for the edge box's processes

    prioritise(proc.pid, nice)
    made: list[int] = []

    async def stop() -> int:
        if not made:
            await _stop(proc)
            assert proc.stdout is not None
            last = (await proc.stdout.read()).decode().split()
            made.append(int(last[-1]) if last and last[-1].isdigit() else 0)
        return made[0]

    try:
        await _first_line(proc, "the load's process")
        yield stop
    finally:
        await stop()


async def _publish_load(redis_url: str, rate: float, tool: str, robots: list[str]) -> None:
    from robovox.shared.redis_client import open_redis
    from robovox.shared.testing.streams import add_tool_call

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    redis = open_redis(redis_url)
    made = 0

    async def robot(robot_id: str) -> None:
        nonlocal made
        await asyncio.sleep(random.uniform(0, 1 / rate))
        next_at = loop.time()
        while not stop.is_set():
            await add_tool_call(redis, robot_id, tool)
            made += 1
            next_at += 1 / rate
            await asyncio.sleep(max(0.0, next_at - loop.time()))

    print("publishing", flush=True)
    try:
        await asyncio.gather(*(robot(r) for r in robots))
    finally:
        await redis.aclose()
        print(f"made {made}", flush=True)


async def _serve_robots(count: int) -> None:
    from robovox.sim.robot import RobotSimulator

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    sims = [RobotSimulator(port=0, battery_rate_hz=BATTERY_RATE_HZ, state_rate_hz=STATE_RATE_HZ) for _ in range(count)]
    try:
        for simulator in sims:
            await simulator.start()
        print(json.dumps([s.url for s in sims]), flush=True)
        await stop.wait()
    finally:
        for simulator in sims:
            await simulator.stop()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "robots":
        asyncio.run(_serve_robots(int(sys.argv[2])))
    elif len(sys.argv) >= 6 and sys.argv[1] == "load":
        asyncio.run(_publish_load(sys.argv[2], float(sys.argv[3]), sys.argv[4], sys.argv[5:]))
    else:
        sys.exit(__doc__)
