"""What a session gateway costs per robot, and how fast it dispatches calls.

For N = 1, 10 and 50 robots: a gateway process (as on an edge box) holds one
Realtime session per robot over WebRTC with the emulator (in this process,
loopback only, the model's voice streaming as with the real API). The
emulator's model completes function calls round-robin across the sessions at
a steady rate (``--rate``, calls per second across all robots; 20/s is a busy
floor: fifty robots each told to do something every 2.5 s).

Dispatch is the gateway's own figure (``/v1/stats``): from the moment the data
channel hands it the completed call (``response.output_item.done``) to the
moment Redis has the ToolCall entry. End to end is timed from outside: from
the emulator handing the event to its side of the channel (before SCTP
queueing, DTLS and UDP on loopback) to this process reading the entry from
the robot's tool-call stream (XREAD BLOCK, in a process also running fifty
emulated voices).

Over the same window: the gateway's CPU (percent of one core), its RSS per
session (above the same gateway with no session open), and its event-loop lag
p99 (the gateway's own monitor, ``/v1/stats``).

On a machine with two or more cores the edge box and the provider are kept
apart as they are in production: the gateway and Redis share the first core,
this process (the emulated provider and the timing reader) gets the others.
Without that split fifty emulated voices starve the gateway of CPU, and the
figures measure the emulator.

The edge box also runs at a raised priority (``--nice``, -10 by default, when
the bench may set it: root or CAP_SYS_NICE), as a gateway should on any box it
shares. A test machine runs other services: here RabbitMQ's Erlang schedulers
and the kernel's DAMON thread take the core for 2 to 5 ms at a time, and
``perf sched`` put every dispatch over 2 ms in a run at the default priority
down to them, not to the gateway or Redis. ``--nice 0`` measures without.

    python bench/gateway_sessions.py [--sizes 1,10,50] [--calls 1000] [--nice -10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2
import yaml
from redis.asyncio import Redis
from redis.typing import KeyT, StreamIdT

from robovox.shared.embedded_redis import EmbeddedRedis, free_port
from robovox.shared.redis_client import open_redis
from robovox.shared.streams import RobotKeys
from robovox.sim.realtime import EmulatedSession, RealtimeEmulator

REPO = Path(__file__).resolve().parents[1]
API_KEY = "sk-bench-" + secrets.token_hex(8)
TOKEN = secrets.token_hex(8)
PAGE_KB = os.sysconf("SC_PAGE_SIZE") / 1024
CORES = sorted(os.sched_getaffinity(0))
EDGE_CORES = set(CORES[:1]) if len(CORES) > 1 else set(CORES)
PROVIDER_CORES = set(CORES[1:]) if len(CORES) > 1 else set(CORES)


def pin(pid: int | None, cores: set[int]) -> None:
    if pid is not None:
        os.sched_setaffinity(pid, cores)


def prioritise(pid: int | None, nice: int) -> bool:
    """Run ``pid`` (and the threads it starts from now on) at ``nice``; False if not allowed."""
    if pid is None or nice == 0:
        return nice == 0
    try:
        os.setpriority(os.PRIO_PROCESS, pid, nice)
    except PermissionError:
        return False
    return True


TICKS = os.sysconf("SC_CLK_TCK")
LOST_AFTER_S = 30.0
"""A call not in its stream this long after the emulator completed it is counted as lost."""


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


def write_profiles(folder: Path, count: int) -> list[str]:
    profile = yaml.safe_load((REPO / "deploy" / "profiles" / "cleaner-1.yaml").read_text())
    robots = [f"robot-{n:03d}" for n in range(count)]
    for robot_id in robots:
        (folder / f"{robot_id}.yaml").write_text(
            yaml.safe_dump({**profile, "robot_id": robot_id, "rosbridge_url": "ws://127.0.0.1:9"})
        )
    return robots


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * PAGE_KB / 1024


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class Gateway:
    """The gateway as its own process, serving the profiles in ``folder``."""

    def __init__(self, redis_url: str, folder: Path, base_url: str, autostart: bool, nice: int = 0) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "ROBOVOX_REDIS_URL": redis_url,
            "ROBOVOX_PROFILES_DIR": str(folder),
            "ROBOVOX_OPENAI_API_KEY": API_KEY,
            "ROBOVOX_REALTIME_BASE_URL": base_url,
            "ROBOVOX_ICE_HOST_ADDRESSES": "127.0.0.1",
            "ROBOVOX_API_TOKEN": TOKEN,
            "ROBOVOX_API_PORT": str(self.port),
            "ROBOVOX_AUTOSTART": "true" if autostart else "false",
            "ROBOVOX_LOG_LEVEL": "WARNING",
        }
        self.proc = subprocess.Popen([sys.executable, "-m", "robovox.gateway"], env=env)
        pin(self.proc.pid, EDGE_CORES)
        prioritise(self.proc.pid, nice)
        self.http = httpx2.AsyncClient(
            base_url=f"http://127.0.0.1:{self.port}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        )

    async def stats(self, reset: bool = False) -> dict[str, Any]:
        reply = await self.http.get("/v1/stats", params={"reset": str(reset).lower()})
        reply.raise_for_status()
        stats: dict[str, Any] = reply.json()
        return stats

    async def wait_live(self, count: int, timeout_s: float = 120.0) -> None:
        async with asyncio.timeout(timeout_s):
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the gateway exited with {self.proc.returncode}")
                try:
                    if (await self.stats())["live"] == count:
                        return
                except httpx2.HTTPError:
                    pass  # not listening yet
                await asyncio.sleep(0.2)  # polling another process; there is nothing to await

    async def stop(self) -> None:
        await self.http.aclose()
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def base_rss(redis_url: str, base_url: str) -> float:
    """RSS of a gateway serving one robot with no session open."""
    with tempfile.TemporaryDirectory() as tmp:
        write_profiles(Path(tmp), 1)
        gateway = Gateway(redis_url, Path(tmp), base_url, autostart=False)
        try:
            await gateway.wait_live(0)
            await asyncio.sleep(2.0)  # let start-up allocations settle before reading RSS
            return rss_mb(gateway.proc.pid)
        finally:
            await gateway.stop()


def _calls(response_done: dict[str, Any], call_id: str) -> bool:
    return any(item.get("call_id") == call_id for item in response_done["response"]["output"])


class ToolCallReader:
    """One XREAD over every robot's tool-call stream, noting when each call_id is first seen: one
    connection however many calls are in flight (one blocked read per call ran the pool out when a
    busy machine let calls pile up)."""

    def __init__(self, redis: Redis, robots: list[str]) -> None:
        self._redis = redis
        self._after: dict[KeyT, StreamIdT] = {RobotKeys.of(r).tool_calls: "0-0" for r in robots}
        self._seen: dict[str, asyncio.Future[float]] = {}
        """When each call_id was first read; the streams are read from the start of a flushed db."""

    def expect(self, call_id: str) -> asyncio.Future[float]:
        return self._seen.setdefault(call_id, asyncio.get_running_loop().create_future())

    async def run(self) -> None:
        while True:
            reply: Any = await self._redis.xread(self._after, block=1000)
            seen = time.time()
            for stream, entries in reply or []:
                for entry_id, fields in entries:
                    self._after[stream.decode()] = entry_id
                    future = self.expect(fields.get(b"call_id", b"").decode())
                    if not future.done():
                        future.set_result(seen)


async def live_session(emulator: RealtimeEmulator, gateway: Gateway, robot_id: str) -> EmulatedSession:
    """The robot's session as the gateway holds it now: a busy machine can fail a link (ICE
    consent unanswered in time), and the gateway then opens a new session."""
    async with asyncio.timeout(LOST_AFTER_S):
        while True:
            robot = (await gateway.http.get(f"/v1/robots/{robot_id}")).json()
            session = next((s for s in emulator.sessions if s.session_id == robot["session_id"]), None)
            if session is not None and not session.closed and robot["state"] == "live":
                return session
            await asyncio.sleep(0.2)  # the gateway is another process: nothing to await


async def dispatch_once(
    emulator: RealtimeEmulator,
    reader: ToolCallReader,
    gateway: Gateway,
    robot_id: str,
    sessions: dict[str, EmulatedSession],
    replaced: list[str],
) -> float | None:
    """End to end ms of one call, or None if it never reached its stream (counted as lost)."""
    while True:
        session = sessions.get(robot_id)
        if session is None or session.closed:  # asked of the gateway only then: its API is off the timed path
            if session is not None:
                replaced.append(session.session_id)
            session = sessions[robot_id] = await live_session(emulator, gateway, robot_id)
        try:
            call_id = session.call_tool("stop_cleaning", {})  # queued behind a response still active
            break
        except RuntimeError:  # closing as we asked: the call goes to the robot's next session
            await session.closed_event.wait()
    try:
        seen = await asyncio.wait_for(reader.expect(call_id), LOST_AFTER_S)
        await session.wait_for_server_event("response.done", lambda e: _calls(e, call_id), timeout=LOST_AFTER_S)
    except TimeoutError:
        return None
    return (seen - session.function_call_done_at[call_id]) * 1000


async def measure(size: int, calls: int, rate: float, redis_url: str, rss_base: float, nice: int) -> dict[str, float]:
    emulator = RealtimeEmulator(api_key=API_KEY, ice_host_addresses=("127.0.0.1",), seconds_per_word=0.0)
    await emulator.start()
    redis = open_redis(redis_url, decode_responses=False)
    await redis.flushdb()
    with tempfile.TemporaryDirectory() as tmp:
        robots = write_profiles(Path(tmp), size)
        gateway = Gateway(redis_url, Path(tmp), emulator.base_url, autostart=True, nice=nice)
        reader = ToolCallReader(redis, robots)
        reading = asyncio.create_task(reader.run())
        try:
            await gateway.wait_live(size)
            replaced: list[str] = []
            sessions: dict[str, EmulatedSession] = {}
            for robot_id in robots[: min(size, 10)]:  # warm-up
                await dispatch_once(emulator, reader, gateway, robot_id, sessions, replaced)
            await gateway.stats(reset=True)
            cpu0, wall0 = cpu_seconds(gateway.proc.pid), time.monotonic()
            timed = []
            for n in range(calls):
                await asyncio.sleep(max(0.0, wall0 + n / rate - time.monotonic()))  # the schedule, not a wait
                robot_id = robots[n % size]
                once = dispatch_once(emulator, reader, gateway, robot_id, sessions, replaced)
                timed.append(asyncio.create_task(once))
            outcomes = await asyncio.gather(*timed)
            latencies = [ms for ms in outcomes if ms is not None]
            cpu = (cpu_seconds(gateway.proc.pid) - cpu0) / (time.monotonic() - wall0) * 100
            stats = await gateway.stats()
            rss = rss_mb(gateway.proc.pid)
        finally:
            reading.cancel()
            await gateway.stop()
            await redis.aclose()
            await emulator.stop()
    return {
        "sessions": size,
        "lost": len(outcomes) - len(latencies),
        "sessions_replaced": len(set(replaced)),
        "dispatch_p50_ms": stats["dispatch_p50_ms"],
        "dispatch_p99_ms": stats["dispatch_p99_ms"],
        "end_to_end_p50_ms": percentile(latencies, 50),
        "end_to_end_p99_ms": percentile(latencies, 99),
        "rss_mb": rss,
        "rss_mb_per_session": (rss - rss_base) / size,
        "loop_lag_p99_ms": stats["loop_lag_p99_ms"],
        "cpu_pct": cpu,
    }


async def run(sizes: list[int], calls: int, rate: float, nice: int) -> tuple[list[dict[str, float]], int]:
    """The rows, and the nice value the edge box ran at."""
    pin(0, PROVIDER_CORES)
    with EmbeddedRedis() as server:
        pin(server.pid, EDGE_CORES)
        if not prioritise(server.pid, nice):
            print(f"not allowed to run the edge box at nice {nice}; measuring at the default priority")
            nice = 0
        emulator = RealtimeEmulator(api_key=API_KEY, ice_host_addresses=("127.0.0.1",))
        await emulator.start()
        try:
            rss_base = await base_rss(server.url, emulator.base_url)
        finally:
            await emulator.stop()
        return [await measure(size, calls, rate, server.url, rss_base, nice) for size in sizes], nice


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,10,50", help="comma-separated session counts")
    parser.add_argument("--calls", type=int, default=1000, help="function calls timed per size")
    parser.add_argument("--rate", type=float, default=20.0, help="function calls per second, across all robots")
    parser.add_argument("--nice", type=int, default=-10, help="priority of the gateway and Redis (0: unchanged)")
    args = parser.parse_args()
    rows, nice = asyncio.run(run([int(s) for s in args.sizes.split(",")], args.calls, args.rate, args.nice))
    print(
        f"\nsession gateway, {args.calls} function calls per size at {args.rate:g}/s; "
        f"gateway and Redis on core(s) {sorted(EDGE_CORES)} at nice {nice}, "
        f"emulated provider on {sorted(PROVIDER_CORES)}\n"
    )
    columns = {
        "sessions": "sessions",
        "lost": "lost",
        "dispatch_p50_ms": "dispatch p50",
        "dispatch_p99_ms": "dispatch p99",
        "end_to_end_p50_ms": "e2e p50",
        "end_to_end_p99_ms": "e2e p99",
        "rss_mb": "RSS MB",
        "rss_mb_per_session": "MB/session",
        "loop_lag_p99_ms": "lag p99",
        "cpu_pct": "CPU %",
    }
    print("".join(f"{title:>13}" for title in columns.values()) + "   (times in ms)")
    for row in rows:
        print("".join(f"{row[key]:>13.0f}" if key in ("sessions", "lost") else f"{row[key]:>13.2f}" for key in columns))
    print()
    last = rows[-1]
    keys = ("dispatch_p50_ms", "dispatch_p99_ms", "rss_mb_per_session", "loop_lag_p99_ms", "cpu_pct")
    lost = sum(int(row["lost"]) for row in rows)
    replaced = sum(int(row["sessions_replaced"]) for row in rows)
    figures = " ".join(f"{key}={last[key]:.3f}" for key in keys)
    print(f"sessions={int(last['sessions'])} lost={lost} sessions_replaced={replaced} {figures}")


if __name__ == "__main__":
    main()
