"""A RoboVox service process: one worker per robot profile, in one event loop,
until SIGINT / SIGTERM."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import uvloop
from redis.asyncio import Redis

from robovox.shared.errors import RoboVoxError
from robovox.shared.logs import configure_logging, robot_context
from robovox.shared.loop_lag import LoopLagMonitor
from robovox.shared.metrics import STREAMS_BY_SERVICE, MetricsListener, MetricsListenError, StreamFigures
from robovox.shared.metrics.series import forget_robot
from robovox.shared.profile import ProfileError, RobotProfile, load_profiles
from robovox.shared.profile.watch import ProfileWatch
from robovox.shared.redis_client import connect_redis, resize_pool
from robovox.shared.replica import NameInUseError, ReplicaLease
from robovox.shared.settings import EventLoop, ServiceSettings
from robovox.shared.startup import StartupError, settings_from_environment, unknown_variables

log = logging.getLogger(__name__)


class RobotWorker(Protocol):
    """What a service runs per robot."""

    @property
    def ready(self) -> asyncio.Event: ...

    async def run(self, stopping: asyncio.Event) -> None: ...


SettingsT = TypeVar("SettingsT", bound=ServiceSettings)
WorkerT = TypeVar("WorkerT", bound=RobotWorker)


@dataclass
class _Served(Generic[WorkerT]):
    """One robot's worker, the event that stops it alone, and its task."""

    profile: RobotProfile
    worker: WorkerT
    stopping: asyncio.Event
    task: asyncio.Task[None]


class RobotService(ABC, Generic[SettingsT, WorkerT]):
    name: str

    def __init__(self, settings: SettingsT, profiles: dict[str, RobotProfile] | None = None) -> None:
        self.settings = settings
        self._watch_folder = profiles is None  # profiles handed in (tests) are not replaced from a folder
        self.profiles = profiles if profiles is not None else load_profiles(settings.profiles_dir)
        self.stopping = asyncio.Event()
        self.ready = asyncio.Event()
        """Set once every robot's worker is ready."""
        self.robots: dict[str, WorkerT] = {}
        """The workers being served, by robot id (kept in place: the gateway's API holds this dict)."""
        self.loop_lag = LoopLagMonitor()
        self.metrics: MetricsListener | None = None
        """The ``/metrics`` listener, while the service runs with a metrics port set."""
        self._served: dict[str, _Served[WorkerT]] = {}
        self._failure: BaseException | None = None
        self.profile_watch = ProfileWatch(settings.profiles_dir, settings.profiles_watch_s)
        self.profiles_applied = 0
        """How many changes of the profiles folder this service has taken up."""
        self._served_changed = asyncio.Condition()

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        """Until ``predicate()`` holds, looked at each time the robots served or their profiles change."""
        async with self._served_changed:
            await self._served_changed.wait_for(predicate)

    @abstractmethod
    def make_worker(self, redis: Redis, profile: RobotProfile) -> WorkerT: ...

    async def prepare(self) -> None:
        """Process-wide set-up before the workers start."""

    def stop(self) -> None:
        self.stopping.set()

    def stream_figures(self, redis: Redis) -> StreamFigures:
        """The figures of the streams this service reports at each scrape (``STREAMS_BY_SERVICE``)."""
        return StreamFigures(redis, lambda: self.profiles, STREAMS_BY_SERVICE.get(self.name, ()))

    async def _listen_for_metrics(self, redis: Redis) -> None:
        if not self.settings.metrics_port:
            return
        self.metrics = MetricsListener(
            self.settings.metrics_host, self.settings.metrics_port, self.stream_figures(redis)
        )
        try:
            await self.metrics.start()
        except MetricsListenError as exc:
            raise StartupError(f"{self.name}: {exc}") from None

    async def run(self) -> None:
        await self.prepare()
        redis = connect_redis(self.settings, robots=len(self.profiles), name=self.name)
        lag = asyncio.create_task(self.loop_lag.run(self.stopping), name=f"{self.name} loop lag")
        try:
            await self._listen_for_metrics(redis)
            lease = ReplicaLease(redis, self.settings.consumer(self.name))
            try:
                await lease.acquire()
            except NameInUseError as exc:
                raise ServiceFailedError(f"{self.name} cannot start: {exc}") from exc
            for profile in self.profiles.values():
                self._start(redis, profile)
            log.info("%s serving %s as %s", self.name, ", ".join(sorted(self.robots)), lease.name)
            keeping = asyncio.create_task(lease.keep(self.stopping), name=f"{lease.name} lease")
            watching = asyncio.create_task(self._follow_profiles(redis), name=f"{self.name} profiles")
            all_ready: asyncio.Future[Any] = asyncio.gather(*(w.ready.wait() for w in self.robots.values()))
            stopped: asyncio.Future[Any] = asyncio.ensure_future(self.stopping.wait())
            await asyncio.wait([all_ready, stopped], return_when=asyncio.FIRST_COMPLETED)
            if all_ready.done() and not self.stopping.is_set():
                settle_garbage_collector()  # what start-up built (connections, sessions) lives on
                self.ready.set()
            all_ready.cancel()
            await stopped
            await asyncio.gather(*(self._stop_robot(rid) for rid in list(self._served)))
            await asyncio.gather(keeping, watching)
            if self._failure is not None:
                raise ServiceFailedError(f"{self.name} stopped: {self._failure}") from self._failure
        finally:
            self.stopping.set()  # the loop-lag sampler ends with the service, however it ends
            await lag
            if self.metrics is not None:
                await self.metrics.close()
            await redis.aclose()

    def _start(self, redis: Redis, profile: RobotProfile) -> None:
        worker = self.make_worker(redis, profile)
        stopping = asyncio.Event()
        # In a context naming its robot: what the worker and its tasks log says which robot.
        task = asyncio.create_task(
            worker.run(stopping), name=f"{profile.robot_id} {self.name}", context=robot_context(profile.robot_id)
        )
        served = _Served(profile, worker, stopping, task)
        self._served[profile.robot_id] = served
        self.robots[profile.robot_id] = worker
        task.add_done_callback(lambda done: self._ended(profile.robot_id, done))

    def _ended(self, robot_id: str, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        # One robot's worker failed in a way it does not handle: stop them all and exit non-zero
        # with the reason, so a supervisor restarts the process.
        if self._failure is None:
            self._failure = task.exception()
            log.critical("%s: robot %s: %s; stopping", self.name, robot_id, self._failure)
        self.stop()

    async def _stop_robot(self, robot_id: str) -> None:
        served = self._served.pop(robot_id, None)
        if served is None:
            return
        served.stopping.set()
        await asyncio.wait([served.task], timeout=self.settings.shutdown_grace_ms / 1000 + 2)
        if not served.task.done():
            log.warning("%s: robot %s did not stop in time; cancelling it", self.name, robot_id)
            served.task.cancel()
            await asyncio.wait([served.task], timeout=2)
        if self.robots.get(robot_id) is served.worker:
            del self.robots[robot_id]

    async def _follow_profiles(self, redis: Redis) -> None:
        if not self._watch_folder:
            return
        async for profiles in self.profile_watch.changes(self.stopping):
            await self._apply(redis, profiles)

    async def _apply(self, redis: Redis, profiles: dict[str, RobotProfile]) -> None:
        """Serve what the folder now says: a removed robot's worker stops; a changed one's stops (its
        calls in flight finish under the old profile) and starts again; an added one starts."""
        running = {rid: served.profile for rid, served in self._served.items()}
        removed = [rid for rid in running if rid not in profiles]
        changed = [rid for rid, p in profiles.items() if rid in running and running[rid] != p]
        added = [rid for rid in profiles if rid not in running]
        for rid in removed:
            log.warning("%s: robot %s: its profile was removed; no longer serving it", self.name, rid)
        for rid in changed:
            log.warning("%s: robot %s: its profile changed; restarting its worker", self.name, rid)
        await asyncio.gather(*(self._stop_robot(rid) for rid in [*removed, *changed]))
        for rid in removed:
            forget_robot(rid)
        if self.stopping.is_set():
            return
        self.profiles = profiles
        resize_pool(redis, self.settings, len(profiles))
        for rid in [*changed, *added]:
            self._start(redis, profiles[rid])
        for rid in added:
            log.warning("%s: robot %s: new profile; serving it", self.name, rid)
        self.profiles_applied += 1
        async with self._served_changed:
            self._served_changed.notify_all()


class ServiceFailedError(RoboVoxError, RuntimeError):
    """A service stopped because one of its workers failed."""


def settle_garbage_collector() -> None:
    """Move everything loaded so far (modules, pydantic schemas, profiles) out of
    the collector's reach. A full collection otherwise walks those objects every
    time: tens of milliseconds with the event loop stopped, late for every robot."""
    gc.collect()
    gc.freeze()


def loop_factory(kind: EventLoop) -> Callable[[], asyncio.AbstractEventLoop]:
    """The service's event loop, of ``kind`` (one loop: roslibpy runs on it too, not on a thread)."""
    return uvloop.new_event_loop if kind is EventLoop.UVLOOP else asyncio.new_event_loop


def run_service(make: Callable[[SettingsT], RobotService[SettingsT, WorkerT]], settings_class: type[SettingsT]) -> None:
    """The body of every service's ``__main__``: settings from the environment, profiles, then the
    service until SIGINT / SIGTERM. A start-up problem exits non-zero with one line per problem."""
    name = getattr(make, "name", "robovox")
    try:
        settings = settings_from_environment(settings_class)
    except StartupError as exc:
        raise SystemExit(f"{name} cannot start: bad settings:\n{exc}") from None

    async def serve() -> None:
        service = make(settings)
        settle_garbage_collector()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, service.stop)
        loop.add_signal_handler(signal.SIGHUP, service.profile_watch.poke)  # reload the profiles now
        await service.run()

    configure_logging(settings.log_level, name, settings.log_format)
    for warning in unknown_variables():
        log.warning("%s", warning)
    try:
        with asyncio.Runner(loop_factory=loop_factory(settings.event_loop)) as runner:
            runner.run(serve())
    except ProfileError as exc:
        raise SystemExit(f"{name} cannot start: bad robot profiles:\n{exc}") from None
    except StartupError as exc:
        raise SystemExit(f"{name} cannot start: {exc}") from None
    except ServiceFailedError as exc:
        raise SystemExit(f"{exc}") from exc
