"""How fast a stalled bridge is found, and what the per-command liveness proof costs.

For each dialect of the simulator: the rosbridge link (as the ROS adapter holds
it) is proved ``--probes`` times (``ready()``, the ping every command waits for),
timing each; then ``--freezes`` times the bridge is frozen (SIGSTOP-like: socket
open, nothing read) at a random point of the ping cycle and the time until the
link is dropped is taken. A service call is made after each reconnect, so every
round also shows the link coming back usable. Both dialects in one run, side by
side. Prints a table, then one line of key=value figures.

    python bench/stall_window.py [--freezes 20] [--probes 500]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time

from robovox.ros_adapter.link import RosbridgeLink, configure_reconnect
from robovox.shared.link import LinkState
from robovox.sim.robot import Dialect, RobotSimulator


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


async def measure(dialect: Dialect, freezes: int, probes: int) -> dict[str, list[float]]:
    configure_reconnect(0.1, 0.2)
    sim = RobotSimulator(port=0, dialect=dialect)
    await sim.start()
    link = RosbridgeLink("bench", sim.url)
    link.start()
    found: list[float] = []
    proofs: list[float] = []
    try:
        await link.wait_state(LinkState.UP, 10)
        for _ in range(probes):
            started = time.perf_counter()
            await link.ready()
            proofs.append((time.perf_counter() - started) * 1000)
        for _ in range(freezes):
            await asyncio.sleep(random.uniform(0.0, 0.3))  # anywhere in the 0.25 s ping cycle
            sim.freeze()
            frozen = time.perf_counter()
            await link.wait_state(LinkState.DOWN, 5)
            found.append((time.perf_counter() - frozen) * 1000)
            sim.thaw()
            await link.wait_state(LinkState.UP, 10)
            await link.ready()
            await link.call_service("/robot_navigator/stop", None, {}, deadline=time.time() + 5, timeout_s=5)
    finally:
        await link.close()
        await sim.stop()
    return {"found": found, "proof": proofs}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--freezes", type=int, default=20)
    parser.add_argument("--probes", type=int, default=500)
    args = parser.parse_args()
    results = {d: await measure(d, args.freezes, args.probes) for d in (Dialect.ROS1, Dialect.ROS2)}
    print(f"{'dialect':8} {'stall found p50':>16} {'p99':>8} {'max':>8} {'proof p50':>10} {'p99':>8} {'max':>8}  (ms)")
    for dialect, r in results.items():
        f, p = r["found"], r["proof"]
        print(
            f"{dialect.value:8} {statistics.median(f):16.0f} {percentile(f, 99):8.0f} {max(f):8.0f} "
            f"{statistics.median(p):10.2f} {percentile(p, 99):8.2f} {max(p):8.2f}"
        )
    found = [v for r in results.values() for v in r["found"]]
    proof = [v for r in results.values() for v in r["proof"]]
    print(
        f"stall_found_p50_ms={statistics.median(found):.0f} stall_found_max_ms={max(found):.0f} "
        f"proof_p50_ms={statistics.median(proof):.2f} proof_p99_ms={percentile(proof, 99):.2f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
