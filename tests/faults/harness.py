"""A whole edge box for fault runs: Redis with AOF, 20 simulated robots, the tool
executor(s), the ROS adapter and the alert monitor as processes, the gateway's load
and an inbox reader; and what it takes to count a run from ground truth.

    async with Rig(tmp_path) as rig:
        load = rig.load(rate_per_robot=5, prefix="nofault")
        await load.run(4.0)
        report = await rig.report("none", load)
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from redis.asyncio import BlockingConnectionPool, Redis

from robovox.shared.call_life import CallLife
from robovox.shared.link import LinkInfo
from robovox.shared.redis_client import cancellable
from robovox.shared.streams import Group, RobotKeys

from .fleet import Fleet, robot_ids
from .ledger import Report, count
from .load import InboxWatcher, LoadGenerator
from .processes import RedisServer, ServiceProcess, service_env

LOG_PATTERNS: Final = (
    "Too many connections",
    "Traceback",
    "UnicodeDecodeError",
    "it will be redelivered",
    "dead-lettering",
    "from an idle consumer",
)
READY_TIMEOUT_S: Final = 90.0
STUCK_LINK_TIMEOUT_S: Final = 30.0
SETTLE_TIMEOUT_S: Final = 60.0
GATEWAY_POOL_SIZE: Final = 64
GATEWAY_POOL_TIMEOUT_S: Final = 5.0


@dataclass(frozen=True)
class RigConfig:
    robots: int = 20
    executors: int = 1
    log_level: str = "INFO"
    battery_rate_hz: float = 2.0
    block_ms: int = 500
    claim_idle_ms: int = 2000
    """Short, so the work of a killed consumer is claimed by a live one within seconds."""
    nice: int = 0
    """Priority of Redis and the services (the soak bench raises it, as an edge box should)."""
    unix_socket: bool = False
    """Everything talks to Redis over its Unix socket instead of loopback TCP."""


class Rig:
    def __init__(self, root: Path, config: RigConfig | None = None) -> None:
        self.root = root
        self.config = config or RigConfig()
        self.robots = robot_ids(self.config.robots)
        self.logs = root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.redis_server = RedisServer(root / "redis", self.logs / "redis-server.log")
        self.fleet: Fleet | None = None
        self.executors: list[ServiceProcess] = []
        self.adapter: ServiceProcess | None = None
        self.monitor: ServiceProcess | None = None
        self._redis: Redis | None = None
        self._watcher: InboxWatcher | None = None
        self._watching: asyncio.Task[None] | None = None
        self._runs = 0
        self._env: dict[str, str] = {}

    # ---------------------------------------------------------------- parts
    @property
    def redis(self) -> Redis:
        assert self._redis is not None, "rig not started"
        return self._redis

    @property
    def watcher(self) -> InboxWatcher:
        assert self._watcher is not None, "rig not started"
        return self._watcher

    @property
    def sims(self) -> Fleet:
        assert self.fleet is not None, "rig not started"
        return self.fleet

    @property
    def services(self) -> list[ServiceProcess]:
        return [*self.executors, *(p for p in (self.adapter, self.monitor) if p is not None)]

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        self.redis_server.nice = self.config.nice
        self.redis_server.unix_socket = self.config.unix_socket
        await self.redis_server.start()
        self.fleet = await Fleet.start(self.config.robots, self.root / "profiles", self.config.battery_rate_hz)
        cfg = self.config
        env = service_env(
            self.redis_server.url, self.fleet.profiles_dir, cfg.log_level, cfg.block_ms, cfg.claim_idle_ms
        )
        self._env = env
        self.executors = [self._executor(i) for i in range(self.config.executors)]
        self.adapter = ServiceProcess("robovox.ros_adapter", "ros-adapter-a", env, self.logs)
        self.monitor = ServiceProcess("robovox.alert_monitor", "alert-monitor-a", env, self.logs)
        for service in self.services:
            service.nice = cfg.nice
            service.start()
        # Short socket timeouts: the gateway's side must notice a killed Redis at once. A blocking
        # pool, as the gateway's own (connect_redis): under load a call waits for a connection.
        pool = BlockingConnectionPool.from_url(
            self.redis_server.url,
            decode_responses=True,
            socket_timeout=5.0,
            socket_connect_timeout=1.0,
            max_connections=GATEWAY_POOL_SIZE,
            timeout=GATEWAY_POOL_TIMEOUT_S,
        )
        pool.connection_class = cancellable(pool.connection_class)
        self._redis = Redis(connection_pool=pool)
        self._watcher = InboxWatcher(self._redis, self.robots)
        self._watching = asyncio.create_task(self._watcher.run())
        missing = await self.probe_all("warmup", STUCK_LINK_TIMEOUT_S)
        if missing and await self._links_stuck(missing):
            # Seen in about one rig start in ten, before and after issue 12's changes: a roslibpy link
            # stays "connecting" for good although the simulator accepted its websocket (left for the
            # real-bridge work, issue 14). A new adapter process connects; say so, do not hide it.
            print(f"\nrig: links of {missing} stuck connecting; restarting the ROS adapter", flush=True)
            assert self.adapter is not None
            self.adapter.kill()
            self.adapter.start()
            missing = await self.probe_all("warmup-again", READY_TIMEOUT_S)
        if missing:
            links = {r: await self.redis.hgetall(RobotKeys.of(r).link_state) for r in missing}
            clients = {r: len(self.sims.sims[r].clients) for r in missing}
            raise RuntimeError(
                f"robots not answering after {READY_TIMEOUT_S} s: link states {links}, "
                f"websocket clients on their simulators {clients}; logs in {self.logs}"
            )
        await self._monitor_positions()

    async def _links_stuck(self, robots: list[str]) -> bool:
        """Links that never came up (no connect counted) while their simulators hold a websocket."""
        for robot in robots:
            fields: Any = await self.redis.hgetall(RobotKeys.of(robot).link_state)
            link = LinkInfo.from_hash(fields)
            if (link is None or link.connects == 0) and self.sims.sims[robot].clients:
                return True
        return False

    def _executor(self, index: int) -> ServiceProcess:
        executor = ServiceProcess("robovox.executor", f"tool-executor-{chr(ord('a') + index)}", self._env, self.logs)
        executor.nice = self.config.nice
        return executor

    async def add_executor(self) -> ServiceProcess:
        """Start one more executor; return once it reads every robot's calls (it is a consumer in
        each robot's group, and its first read is behind it)."""
        executor = self._executor(len(self.executors))
        self.executors.append(executor)
        executor.start()
        async with asyncio.timeout(READY_TIMEOUT_S):
            for robot in self.robots:
                key = RobotKeys.of(robot).tool_calls
                while not await self._is_consumer(key, Group.TOOL_EXECUTOR, executor.name):
                    self.check_alive()
                    await asyncio.sleep(0.05)
        return executor

    async def _is_consumer(self, stream: str, group: str, name: str) -> bool:
        consumers: Any = await self.redis.xinfo_consumers(stream, group)
        return any(c["name"] == name for c in consumers)

    async def _monitor_positions(self) -> None:
        """The alert monitor is reading: every robot's alert state holds its telemetry position."""
        async with asyncio.timeout(READY_TIMEOUT_S):
            for robot in self.robots:
                key = RobotKeys.of(robot).alert_state
                while not await self.redis.hexists(key, "_position"):  # noqa: ASYNC110 - nothing to be notified by
                    await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
        if self._watching is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._watching, 5.0)
        await asyncio.gather(*(asyncio.to_thread(s.stop) for s in self.services))
        if self._redis is not None:
            await self._redis.aclose()
        if self.fleet is not None:
            await self.fleet.stop()
        self.redis_server.stop()

    async def __aenter__(self) -> Rig:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ load
    def load(self, rate_per_robot: float, prefix: str, robots: list[str] | None = None) -> LoadGenerator:
        self._runs += 1
        return LoadGenerator(self.redis, robots or self.robots, rate_per_robot, f"{prefix}{self._runs}")

    async def probe_all(self, prefix: str, timeout_s: float = 30.0) -> list[str]:
        """One probe per robot, again for a robot whose probe was refused (its link not up yet)
        until each has answered one with success: the robots that did not within ``timeout_s``."""
        end = time.monotonic() + timeout_s
        pending = list(self.robots)
        while pending and time.monotonic() < end:
            self.check_alive()
            load = self.load(1.0, prefix, robots=pending)
            await load.run(1.0)
            ids = load.call_ids()
            await self.watcher.wait(lambda ids=ids: self.watcher.answered(ids), end - time.monotonic())
            answered = {c.robot_id: self.watcher.outputs.get(c.call_id, []) for c in load.calls}
            pending = [r for r, out in answered.items() if not out or out[0][1].get("outcome") != "succeeded"]
            if pending:
                await asyncio.sleep(0.2)  # a robot whose link is not up yet: ask again shortly
        return pending

    async def settle(self, load: LoadGenerator, timeout_s: float = SETTLE_TIMEOUT_S) -> bool:
        """Every published call answered and nothing left pending in the executor's and the
        adapter's groups (or ``timeout_s`` passed): what is counted after that is final."""
        end = time.monotonic() + timeout_s
        ids = load.call_ids()
        published = set(await self._published(load))
        answered = await self.watcher.wait(
            lambda: all(c in self.watcher.outputs for c in ids if c in published), timeout_s
        )
        while time.monotonic() < end:
            with contextlib.suppress(Exception):
                if await self._nothing_pending():
                    return answered
            await asyncio.sleep(0.1)
        return False

    async def _nothing_pending(self) -> bool:
        async with self.redis.pipeline(transaction=False) as pipe:
            for robot in self.robots:
                keys = RobotKeys.of(robot)
                pipe.xpending(keys.tool_calls, Group.TOOL_EXECUTOR)
                pipe.xpending(keys.commands, Group.ROS_ADAPTER)
            replies: list[Any] = await pipe.execute()
        return all(int(r["pending"]) == 0 for r in replies)

    async def _published(self, load: LoadGenerator) -> dict[str, str]:
        """call_id -> its tool_calls entry id, for this load's calls that Redis holds."""
        wanted = set(load.call_ids())
        out: dict[str, str] = {}
        for robot in {c.robot_id for c in load.calls}:
            raw: Any = await self.redis.xrange(RobotKeys.of(robot).tool_calls)
            out.update({f["call_id"]: i for i, f in raw if f.get("call_id") in wanted})
        return out

    # ---------------------------------------------------------------- report
    async def report(self, fault: str, load: LoadGenerator, *, settle: bool = True) -> Report:
        settled = await self.settle(load) if settle else True
        await self.watcher.catch_up()
        published = await self._published(load)
        ops = self.sims.tagged_ops()
        report = Report(fault=fault, duration_s=load.elapsed_s)
        count(report, load.calls, published, self.watcher.outputs, ops)
        calls = CallLife(self.redis)
        for call_id in report.unknown_records:
            record = await calls.read(RobotKeys.of(call_id.split("_")[1]), call_id)
            report.unknown_records[call_id] = record
            if record.result is None or not record.result.sent_to_robot:
                report.unknown_never_handed += 1
        report.log_lines = self.log_lines()
        if not settled:
            report.notes.append(f"did not settle within {SETTLE_TIMEOUT_S:.0f} s (answers missing or entries pending)")
        return report

    def check_alive(self) -> None:
        """Raise if a service process ended by itself (a crash at start, a bad setting)."""
        for service in self.services:
            if (code := service.exited()) is not None:
                tail = "\n".join(service.log_text().splitlines()[-15:])
                raise RuntimeError(f"{service.name} exited with code {code}:\n{tail}")

    def log_lines(self) -> Counter[str]:
        found: Counter[str] = Counter()
        for service in self.services:
            text = service.log_text()
            for pattern in LOG_PATTERNS:
                if n := text.count(pattern):
                    found[pattern] += n
        return found

    def log_excerpt(self, pattern: str, limit: int = 5) -> list[str]:
        lines: list[str] = []
        for service in self.services:
            lines += [line for line in service.log_text().splitlines() if pattern in line]
        return lines[:limit]
