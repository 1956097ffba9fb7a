"""Stream figures read from Redis at scrape time: each stream's length, and each
consumer group's lag (entries not yet delivered to it), pending (delivered,
not acked) and consumers, from ``XINFO STREAM`` and ``XINFO GROUPS``.

Each service reports the streams it reads or alone writes (``STREAMS_BY_SERVICE``),
so every robot stream is reported by exactly one service and a fleet of
processes never exports the same series twice. ``XINFO GROUPS`` lists every
group of a stream, so the ros-adapter's group on ``emergency`` is reported with
the executor's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from robovox.shared.metrics.series import REDIS_ERRORS
from robovox.shared.streams import MaxLen, RobotKeys

log = logging.getLogger(__name__)

STREAMS_BY_SERVICE: Final[Mapping[str, tuple[str, ...]]] = {
    "session-gateway": ("inbox", "events", "conversation"),
    "tool-executor": ("tool_calls", "command_results", "emergency", "dead_letters"),
    "ros-adapter": ("commands", "telemetry"),
    "alert-monitor": ("alerts",),
}
"""The stream names (``RobotKeys`` properties) whose figures each service exports."""

SCRAPE_TIMEOUT_S: Final = 2.0
LAG_COUNT_CAP: Final = 1000
"""Where Redis does not report a group's lag (6.2, or 7 after deletions), it is counted, up to this."""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _field(info: Mapping[Any, Any], name: str) -> Any:
    return info.get(name, info.get(name.encode()))


class StreamFigures:
    """Reads the figures of ``streams`` (names such as ``tool_calls``) of each robot, on demand;
    ``robots()`` names the robots served at the time (profiles can change while a service runs)."""

    def __init__(self, redis: Redis, robots: Callable[[], Iterable[str]], streams: Sequence[str]) -> None:
        self._redis = redis
        self._robots = robots
        self._streams = tuple(streams)
        for name in self._streams:
            if not isinstance(getattr(RobotKeys, name, None), property) or not hasattr(MaxLen, name.upper()):
                raise ValueError(f"{name!r} is not a robot stream")  # every stream has its MAXLEN

    async def families(self) -> list[Metric]:
        """The figures as metric families; a stream that does not exist yet is left out."""
        length = GaugeMetricFamily("robovox_stream_length", "Entries in the stream (XLEN).", labels=["robot", "stream"])
        lag = GaugeMetricFamily(
            "robovox_group_lag",
            "Entries of the stream not yet delivered to the group.",
            labels=["robot", "stream", "group"],
        )
        pending = GaugeMetricFamily(
            "robovox_group_pending",
            "Entries delivered to the group and not acked.",
            labels=["robot", "stream", "group"],
        )
        consumers = GaugeMetricFamily(
            "robovox_group_consumers", "Consumers in the group.", labels=["robot", "stream", "group"]
        )
        try:
            async with asyncio.timeout(SCRAPE_TIMEOUT_S):
                for robot in sorted(self._robots()):
                    keys = RobotKeys.of(robot)
                    for name in self._streams:
                        await self._stream(getattr(keys, name), robot, name, (length, lag, pending, consumers))
        except (RedisError, OSError, TimeoutError) as exc:
            REDIS_ERRORS.labels(where="metrics").inc()
            log.warning("stream figures not read: %s", exc or type(exc).__name__)
        return [length, lag, pending, consumers]

    async def _stream(self, key: str, robot: str, name: str, families: tuple[GaugeMetricFamily, ...]) -> None:
        length, lag, pending, consumers = families
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.execute_command("XINFO", "STREAM", key)
            pipe.execute_command("XINFO", "GROUPS", key)
            try:
                stream_info, groups = await pipe.execute()
            except ResponseError:  # no such key yet
                return
        info = _pairs(stream_info)
        length.add_metric([robot, name], float(_field(info, "length") or 0))
        for group in groups or []:
            fields = _pairs(group)
            labels = [robot, name, _text(_field(fields, "name"))]
            behind = _field(fields, "lag")
            if behind is None:  # Redis 6.2 has no lag; 7 says nil when it cannot tell
                behind = await self._count_after(key, info, _text(_field(fields, "last-delivered-id")))
            lag.add_metric(labels, float(behind))
            pending.add_metric(labels, float(_field(fields, "pending") or 0))
            consumers.add_metric(labels, float(_field(fields, "consumers") or 0))

    async def _count_after(self, key: str, info: Mapping[Any, Any], delivered: str) -> int:
        """Entries after ``delivered``, counted up to ``LAG_COUNT_CAP``."""
        if delivered == _text(_field(info, "last-generated-id")):
            return 0
        after: Any = await self._redis.xrange(key, f"({delivered}", "+", count=LAG_COUNT_CAP)
        return len(after)


def _pairs(reply: Any) -> Mapping[Any, Any]:
    """XINFO's reply as a mapping, whether the client parsed it (dict) or not (flat list)."""
    if isinstance(reply, Mapping):
        return {_text(k): v for k, v in reply.items()}
    items = list(reply or [])
    return {_text(items[i]): items[i + 1] for i in range(0, len(items) - 1, 2)}


class Snapshot(Collector):
    """Families read beforehand, handed to a registry for one exposition."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)
