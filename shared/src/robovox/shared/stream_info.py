"""A robot's streams as people inspect them (``robovox streams``, the console's Inspect view):
every stream of a robot with the model of its entries, each entry read as it was written (its
fields, and its model or why the fields do not fit it), and each stream's length, newest entry and
consumer groups (consumers, pending, lag, the oldest pending entry with its age and idle time)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, get_args

from pydantic import BaseModel
from redis.asyncio import Redis

from robovox.shared.entry import EntryError, StreamEntry, utc_now
from robovox.shared.messages import (
    AlertTransition,
    CommandResult,
    DeadLetter,
    EmergencyRequest,
    InboxEntry,
    RosCommand,
    TelemetrySample,
    ToolCall,
)
from robovox.shared.session import ConversationItem, RealtimeEventEntry
from robovox.shared.streams import RobotKeys

StreamName = Literal[
    "tool_calls", "commands", "command_results", "inbox", "emergency", "alerts", "dead_letters", "conversation",
    "events", "telemetry",
]  # fmt: skip
"""Every stream of a robot: its ``RobotKeys`` property, as ``docs/streams.md`` lists them."""

STREAM_MODELS: Final[dict[str, type[StreamEntry]]] = {
    "tool_calls": ToolCall,
    "commands": RosCommand,
    "command_results": CommandResult,
    "inbox": InboxEntry,
    "emergency": EmergencyRequest,
    "alerts": AlertTransition,
    "dead_letters": DeadLetter,
    "conversation": ConversationItem,
    "events": RealtimeEventEntry,
    "telemetry": TelemetrySample,
}
"""Every stream of a robot (``StreamName``, in its order) and the model of its entries."""
STREAM_NAMES: Final[tuple[str, ...]] = get_args(StreamName)

LAG_COUNT_CAP: Final = 100_001
"""Where Redis does not tell a group's lag, the entries after its last delivered one are counted up to this."""


def stream_key(keys: RobotKeys, stream: str) -> str:
    """The key of ``keys``' robot's stream named ``stream``; ValueError for a name that is not one."""
    if stream not in STREAM_MODELS:
        raise ValueError(f"no stream {stream!r}; the streams are {', '.join(STREAM_MODELS)}")
    key: str = getattr(keys, stream)
    return key


def entry_time(entry_id: str) -> datetime:
    """When Redis appended the entry: the milliseconds of its id."""
    return datetime.fromtimestamp(int(entry_id.split("-", 1)[0]) / 1000, UTC)


@dataclass(frozen=True, slots=True)
class Entry:
    """A stream entry as read: its fields, and its model or why the fields do not fit it."""

    robot_id: str
    stream: str
    entry_id: str
    fields: dict[str, str]
    model: StreamEntry | None
    problem: str | None

    @property
    def at(self) -> datetime:
        return entry_time(self.entry_id)


def parse_entry(robot_id: str, stream: str, entry_id: str, fields: dict[str, str]) -> Entry:
    """``fields`` (decoded, see ``consumer.raw.decode_lossy``) read through the stream's model."""
    try:
        return Entry(robot_id, stream, entry_id, fields, STREAM_MODELS[stream].from_fields(fields), None)
    except EntryError as exc:
        return Entry(robot_id, stream, entry_id, fields, None, str(exc))


class GroupView(BaseModel):
    name: str
    consumers: int
    pending: int
    lag: int | None
    """Entries not yet delivered to the group (Redis 7's ``lag``, else counted up to a cap)."""
    last_delivered: str
    oldest_pending: str | None = None
    oldest_pending_age_s: float | None = None
    """Since the oldest pending entry was appended."""
    oldest_pending_idle_s: float | None = None
    """Since it was last delivered to its consumer."""


class StreamView(BaseModel):
    robot_id: str
    stream: str
    key: str
    length: int
    last_entry_at: datetime | None
    groups: list[GroupView]


def _field(info: Mapping[Any, Any], name: str) -> Any:
    value = info.get(name, info.get(name.encode()))
    return value.decode() if isinstance(value, bytes) else value


async def stream_view(redis: Redis, robot_id: str, stream: str, lag_count_cap: int = LAG_COUNT_CAP) -> StreamView:
    key = stream_key(RobotKeys.of(robot_id), stream)
    length = int(await redis.xlen(key))
    newest: Any = await redis.xrevrange(key, count=1) if length else []
    groups: Any = await redis.xinfo_groups(key) if length or await redis.exists(key) else []
    return StreamView(
        robot_id=robot_id,
        stream=stream,
        key=key,
        length=length,
        last_entry_at=entry_time(_field({"id": newest[0][0]}, "id")) if newest else None,
        groups=[await group_view(redis, key, info, lag_count_cap) for info in groups],
    )


async def group_view(redis: Redis, key: str, info: Mapping[Any, Any], lag_count_cap: int = LAG_COUNT_CAP) -> GroupView:
    name, last = str(_field(info, "name")), str(_field(info, "last-delivered-id"))
    lag = _field(info, "lag")
    if lag is None:  # Redis before 7, or a lag Redis cannot tell after a deletion: count what is left
        rest: Any = await redis.xrange(key, f"({last}", "+", count=lag_count_cap)
        lag = len(rest)
    view = GroupView(
        name=name, consumers=int(_field(info, "consumers")), pending=int(_field(info, "pending")),
        lag=int(lag), last_delivered=last,
    )  # fmt: skip
    if view.pending:
        oldest: Any = await redis.xpending_range(key, name, "-", "+", 1)
        if oldest:
            entry_id = str(_field(oldest[0], "message_id"))
            view.oldest_pending = entry_id
            view.oldest_pending_age_s = (utc_now() - entry_time(entry_id)).total_seconds()
            view.oldest_pending_idle_s = int(_field(oldest[0], "time_since_delivered")) / 1000
    return view


async def streams_of(redis: Redis, robot_id: str, lag_count_cap: int = LAG_COUNT_CAP) -> list[StreamView]:
    """Every stream of the robot, in ``STREAM_MODELS``' order."""
    return [await stream_view(redis, robot_id, stream, lag_count_cap) for stream in STREAM_MODELS]
