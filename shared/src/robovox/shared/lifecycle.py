"""A RoboVox service process: one worker per robot profile, in one event loop,
until SIGINT / SIGTERM."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

import uvloop
from redis.asyncio import Redis

from robovox.shared.errors import RoboVoxError
from robovox.shared.logs import configure_logging
from robovox.shared.loop_lag import LoopLagMonitor
from robovox.shared.metrics import STREAMS_BY_SERVICE, MetricsListener, MetricsListenError, StreamFigures
from robovox.shared.profile import ProfileError, RobotProfile, load_profiles
from robovox.shared.redis_client import connect_redis
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


class RobotService(ABC, Generic[SettingsT, WorkerT]):
    name: str

    def __init__(self, settings: SettingsT, profiles: dict[str, RobotProfile] | None = None) -> None:
        self.settings = settings
        self.profiles = profiles if profiles is not None else load_profiles(settings.profiles_dir)
        self.stopping = asyncio.Event()
        self.ready = asyncio.Event()
        """Set once every robot's worker is ready."""
        self.robots: dict[str, WorkerT] = {}
        self.loop_lag = LoopLagMonitor()
        self.metrics: MetricsListener | None = None
        """The ``/metrics`` listener, while the service runs with a metrics port set."""

    @abstractmethod
    def make_worker(self, redis: Redis, profile: RobotProfile) -> WorkerT: ...

    async def prepare(self) -> None:
        """Process-wide set-up before the workers start."""

    def stop(self) -> None:
        self.stopping.set()

    def stream_figures(self, redis: Redis) -> StreamFigures:
        """The figures of the streams this service reports at each scrape (``STREAMS_BY_SERVICE``)."""
        return StreamFigures(redis, self.profiles, STREAMS_BY_SERVICE.get(self.name, ()))

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
            # In place: what was handed this dict before (the gateway's API) sees the workers.
            self.robots.update({rid: self.make_worker(redis, p) for rid, p in self.profiles.items()})
            log.info("%s serving %s as %s", self.name, ", ".join(sorted(self.robots)), lease.name)
            tasks = [asyncio.create_task(robot.run(self.stopping)) for robot in self.robots.values()]
            tasks.append(asyncio.create_task(lease.keep(self.stopping), name=f"{lease.name} lease"))
            all_ready: asyncio.Future[Any] = asyncio.ensure_future(
                asyncio.gather(*(robot.ready.wait() for robot in self.robots.values()))
            )
            watched: list[asyncio.Future[Any]] = [all_ready, *tasks]
            done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
            if all_ready in done:
                settle_garbage_collector()  # what start-up built (connections, sessions) lives on
                self.ready.set()
            else:
                all_ready.cancel()
            try:
                await asyncio.gather(*tasks)
            except Exception as exc:
                # One robot's worker failed in a way it does not handle: stop them all and exit
                # non-zero with the reason, so a supervisor restarts the process.
                log.critical("%s: %s; stopping", self.name, exc)
                self.stop()
                await asyncio.wait(tasks, timeout=self.settings.shutdown_grace_ms / 1000 + 2)
                raise ServiceFailedError(f"{self.name} stopped: {exc}") from exc
        finally:
            self.stopping.set()  # the loop-lag sampler ends with the service, however it ends
            await lag
            if self.metrics is not None:
                await self.metrics.close()
            await redis.aclose()


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
        await service.run()

    configure_logging(settings.log_level, name)
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
