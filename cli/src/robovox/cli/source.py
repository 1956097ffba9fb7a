"""Reading a RoboVox Redis: which robots it holds, and each stream entry and hash through its
model in ``robovox.shared``. Replies are taken as bytes and decoded here, so an entry that is not
UTF-8 (poison a consumer dead-lettered) is shown escaped instead of stopping the command."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

from robovox.cli.errors import BadInputError, RedisUnavailableError
from robovox.shared.call_life import CallRecord
from robovox.shared.consumer.raw import decode_lossy
from robovox.shared.emergency import EmergencyState
from robovox.shared.link import LinkInfo
from robovox.shared.redis_client import open_redis
from robovox.shared.session import SessionInfo
from robovox.shared.stream_info import STREAM_MODELS, Entry, parse_entry
from robovox.shared.stream_info import stream_key as shared_stream_key
from robovox.shared.streams import PREFIX, RobotKeys, check_robot_id

Fields = dict[str, str]

ROBOT_KEY: Final = re.compile(rf"^{PREFIX}:\{{([^}}]+)\}}:([a-z_]+)$")
"""``robovox:{cleaner-1}:link`` -> (robot, suffix); call records and motion guards have a second part."""
ROBOT_SUFFIXES: Final = frozenset({*STREAM_MODELS, "link", "session", "telemetry_latest", "emergency_state"})


def stream_key(robot_id: str, stream: str) -> str:
    try:
        return shared_stream_key(RobotKeys.of(robot_id), stream)
    except ValueError as exc:
        raise BadInputError(str(exc)) from None


def robot_arg(robot_id: str) -> str:
    try:
        return check_robot_id(robot_id)
    except ValueError as exc:
        raise BadInputError(str(exc)) from None


def id_at(when: datetime) -> str:
    """The smallest entry id at or after ``when``, for XRANGE by time."""
    return str(int(when.timestamp() * 1000))


def _text(value: Any) -> str:
    return value.decode("utf-8", errors="backslashreplace") if isinstance(value, bytes) else str(value)


class Source:
    """One Redis, read for people. Use as ``async with Source(url) as source``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.redis: Redis = open_redis(url, decode_responses=False)

    async def __aenter__(self) -> Source:
        try:
            await self.redis.ping()
        except (RedisError, OSError) as exc:
            await self.redis.aclose()
            raise RedisUnavailableError(f"Redis at {self.url} does not answer: {exc}") from None
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.redis.aclose()

    async def robots(self) -> list[str]:
        """Every robot with a stream or a state hash, by its keys' hash tag."""
        found: set[str] = set()
        async for raw in self.redis.scan_iter(match=f"{PREFIX}:{{*}}:*", count=1000):
            match = ROBOT_KEY.match(_text(raw))
            if match and match.group(2) in ROBOT_SUFFIXES:
                found.add(match.group(1))
        return sorted(found)

    async def robots_or(self, robot_id: str | None) -> list[str]:
        return [robot_arg(robot_id)] if robot_id else await self.robots()

    async def hash(self, key: str) -> Fields:
        raw: Mapping[Any, Any] = await self.redis.hgetall(key)
        return decode_lossy(raw)

    async def link(self, robot_id: str) -> LinkInfo | None:
        return LinkInfo.from_hash_or_none(await self.hash(RobotKeys.of(robot_id).link_state), "robovox")

    async def session(self, robot_id: str) -> SessionInfo | None:
        return SessionInfo.from_hash_or_none(await self.hash(RobotKeys.of(robot_id).session), "robovox")

    async def emergency(self, robot_id: str) -> EmergencyState | None:
        return EmergencyState.from_hash_or_none(await self.hash(RobotKeys.of(robot_id).emergency_state), "robovox")

    async def call_record(self, robot_id: str, call_id: str) -> CallRecord | None:
        fields = await self.hash(RobotKeys.of(robot_id).call_record(call_id))
        return CallRecord.from_record(fields) if fields else None

    async def find_call(self, call_id: str) -> list[str]:
        """The robots holding a record of ``call_id``."""
        robots = set()
        async for raw in self.redis.scan_iter(match=f"{PREFIX}:{{*}}:call:{call_id}", count=1000):
            robots.add(_text(raw).split("{", 1)[1].split("}", 1)[0])
        return sorted(robots)

    async def entries(
        self, robot_id: str, stream: str, start: str = "-", end: str = "+", count: int | None = None
    ) -> list[Entry]:
        """Entries of a robot's stream from ``start`` to ``end``, oldest first."""
        raw: Any = await self.redis.xrange(stream_key(robot_id, stream), start, end, count=count)
        return [parse_entry(robot_id, stream, _text(i), decode_lossy(f)) for i, f in raw]

    async def latest(self, robot_id: str, stream: str, count: int) -> list[Entry]:
        """The newest ``count`` entries of a robot's stream, oldest first."""
        raw: Any = await self.redis.xrevrange(stream_key(robot_id, stream), count=count)
        return [parse_entry(robot_id, stream, _text(i), decode_lossy(f)) for i, f in reversed(raw)]

    async def scan_stream(self, robot_id: str, stream: str, start: str = "-", end: str = "+") -> list[Entry]:
        """Every entry from ``start`` to ``end``, read in pages (a stream holds up to 100,000)."""
        found: list[Entry] = []
        while True:
            page = await self.entries(robot_id, stream, start, end, count=1000)
            found.extend(page)
            if len(page) < 1000:
                return found
            start = f"({page[-1].entry_id}"
