"""Soak: 20 robots' tool calls through the backbone without faults, quiet, then with a
competing process, then at rising rates until the answer p99 passes 100 ms.

The edge box of the fault suite (``tests/faults``): Redis with AOF, 20 simulated robots,
the tool executor, the ROS adapter and the alert monitor each its own process at their
default block and reclaim times, and this process as the session gateway publishing
calls with the gateway's own script. The tools are a service call and a publish the
simulator completes at once (no long actions). Answer latency is from the call's entry
in ``tool_calls`` to its answer in the inbox, both from Redis entry ids.

Phases: ``quiet`` and ``busy`` (one core kept busy by a spinning process pinned to it)
at 20 robots x 5 calls/s, then ``rate`` phases at 100, 200, 300 ... calls/s until one's
p99 passes 100 ms. Prints a table, then one line: every count summed over all phases,
p50 / p99 over the quiet and busy phases together, and ``max_calls_per_s``, the highest
rate whose p99 stayed under 100 ms.

Redis and the services run at a raised priority (``--nice``, -10 by default, when this
process may set it), as the gateway bench runs the gateway and as an edge box that shares
its cores should run RoboVox; ``--nice 0`` measures without. The competing process runs
at the default priority either way. Everything reaches Redis over its Unix socket, as on a box
whose Redis runs on the box (``--redis tcp``: loopback TCP, which costs each round trip more CPU).

    python bench/soak.py [--seconds 30] [--rate-seconds 15] [--max-rate 1000] [--nice -10] [--redis unix]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the fault suite's rig lives with the tests

from bench.peers import add_box_options, box_nice  # noqa: E402
from tests.faults.harness import Rig, RigConfig  # noqa: E402
from tests.faults.ledger import Report, percentile  # noqa: E402

TARGET_P99_MS = 100.0
ROBOTS = 20
BASE_RATE_PER_ROBOT = 5.0


@dataclass
class Phase:
    name: str
    nominal_rate: float
    """Calls a second asked for (the achieved rate is the report's)."""
    report: Report
    pool_errors: int


@contextmanager
def competing_process() -> Iterator[None]:
    """A busy loop pinned to the last core, for as long as the block runs."""
    core = max(os.sched_getaffinity(0))
    spin = subprocess.Popen(
        [sys.executable, "-c", "while True: pass"], preexec_fn=lambda: os.sched_setaffinity(0, {core})
    )
    try:
        yield
    finally:
        spin.kill()
        spin.wait()


async def run_phase(rig: Rig, name: str, rate_per_robot: float, seconds: float) -> Phase:
    before = rig.log_lines()["Too many connections"]
    load = rig.load(rate_per_robot, name)
    await load.run(seconds)
    report = await rig.report(name, load)
    return Phase(name, rate_per_robot * len(rig.robots), report, rig.log_lines()["Too many connections"] - before)


def table(phases: list[Phase]) -> str:
    head = (
        "phase", "calls/s", "calls", "answered once", "lost", "duplicated", "executed twice", "late",
        "p50 ms", "p99 ms", "pool errors",
    )  # fmt: skip
    rows = [head]
    for phase in phases:
        r = phase.report
        rows.append((
            phase.name, f"{r.rate:.0f}", str(r.calls), str(r.answered_once), str(r.lost), str(r.duplicated),
            str(r.executed_twice), str(r.late), f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}", str(phase.pool_errors),
        ))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def summary(phases: list[Phase]) -> str:
    reports = [p.report for p in phases]
    base = [ms for p in phases if p.name in ("quiet", "busy") for ms in p.report.latencies_ms]
    passing = [p.nominal_rate for p in phases if p.name != "busy" and p.report.p99_ms < TARGET_P99_MS]
    return (
        f"calls={sum(r.calls for r in reports)} answered_once={sum(r.answered_once for r in reports)} "
        f"lost={sum(r.lost for r in reports)} duplicated={sum(r.duplicated for r in reports)} "
        f"executed_twice={sum(r.executed_twice for r in reports)} late={sum(r.late for r in reports)} "
        f"answer_p50_ms={percentile(base, 50):.2f} answer_p99_ms={percentile(base, 99):.2f} "
        f"max_calls_per_s={max(passing, default=0):.0f}"
    )


async def soak(seconds: float, rate_seconds: float, max_rate: int, step: int, nice: int, unix: bool) -> list[Phase]:
    root = Path(tempfile.mkdtemp(prefix="robovox-soak-"))
    # The services' own block and reclaim times, as on an edge box; warnings and worse logged.
    nice = box_nice(nice)
    config = RigConfig(
        robots=ROBOTS, log_level="WARNING", block_ms=1000, claim_idle_ms=15_000, nice=nice, unix_socket=unix
    )
    phases: list[Phase] = []
    async with Rig(root, config) as rig:
        print(f"soak: {ROBOTS} robots, Redis and services at nice {nice}, logs in {rig.logs}", flush=True)
        phases.append(await run_phase(rig, "quiet", BASE_RATE_PER_ROBOT, seconds))
        print(table(phases[-1:]), flush=True)
        with competing_process():
            phases.append(await run_phase(rig, "busy", BASE_RATE_PER_ROBOT, seconds))
        print(table(phases[-1:]), flush=True)
        for rate in range(step, max_rate + 1, step):
            phases.append(await run_phase(rig, f"rate{rate}", rate / ROBOTS, rate_seconds))
            print(table(phases[-1:]), flush=True)
            if phases[-1].report.p99_ms >= TARGET_P99_MS:
                break
    return phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the quiet and busy phases")
    parser.add_argument("--rate-seconds", type=float, default=15.0, help="length of each rising-rate phase")
    parser.add_argument("--max-rate", type=int, default=1000, help="highest rate tried, calls/s")
    parser.add_argument("--step", type=int, default=100, help="rate step, calls/s")
    add_box_options(parser)
    args = parser.parse_args()
    phases = asyncio.run(
        soak(args.seconds, args.rate_seconds, args.max_rate, args.step, args.nice, args.redis == "unix")
    )
    print()
    print(table(phases))
    print(summary(phases))


if __name__ == "__main__":
    main()
