"""What the console's Inspect view shows of a robot, read from Redis at each request: its streams'
figures (``robovox.shared.stream_info``, as ``robovox streams``), a stream's latest entries as
they were written, its dead letters with their reasons (as ``robovox dead-letters``) and its
numeric telemetry as time series, for a plot.

Every read is bounded: a page of entries or letters, a number of telemetry entries, a number of
series, and every value shown cut to ``VALUE_CHARS``."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Final

from pydantic import BaseModel
from redis.asyncio import Redis

from robovox.gateway.floor.paging import newest_first
from robovox.shared.consumer.raw import decode_lossy
from robovox.shared.dead_letters import DeadLetterView, letter_view, read_replays
from robovox.shared.limits import cut_text
from robovox.shared.messages import DeadLetter, TelemetrySample
from robovox.shared.redis_client import read_raw
from robovox.shared.stream_info import parse_entry, stream_key
from robovox.shared.streams import RobotKeys

VALUE_CHARS: Final = 500
"""A field's value is shown up to this many characters, then cut with a note."""
MAX_SERIES: Final = 40
"""Time series one answer holds at the most (topics times their numeric fields)."""
MSG_PREFIX: Final = "msg."


class EntryOut(BaseModel):
    entry_id: str
    at: datetime
    """When Redis appended it (its id's milliseconds)."""
    fields: dict[str, str]
    """Its fields as written, in their order, each value cut to ``VALUE_CHARS`` with a note."""
    problem: str | None
    """Why the fields do not fit the stream's model; none when they do."""


class EntryPage(BaseModel):
    robot_id: str
    stream: str
    items: list[EntryOut]
    """Newest first."""
    next_before: str | None


class DeadLetterPage(BaseModel):
    items: list[DeadLetterView]
    """Newest first; ``original`` cut to ``VALUE_CHARS``."""
    next_before: str | None
    skipped: int
    """Entries of ``dead_letters`` in the page's range that are not ``DeadLetter`` entries."""


class SeriesOut(BaseModel):
    topic: str
    field: str
    """The flattened message field (``msg.data``, ``msg.voltage``)."""
    times_ms: list[int]
    """Each sample's ``received_at``, in milliseconds since the epoch, oldest first."""
    values: list[float]


class TelemetrySeries(BaseModel):
    robot_id: str
    entries: int
    """Telemetry entries read (the newest ``limit``)."""
    unreadable: int
    """Of those, entries that are not ``TelemetrySample`` entries, left out."""
    series: list[SeriesOut]
    """Every numeric field of every topic among the entries read, by topic and field."""
    truncated: bool
    """More than ``MAX_SERIES`` series were found; the first ones by topic and field are here."""


async def entry_page(redis: Redis, robot_id: str, stream: str, limit: int, before: str | None) -> EntryPage:
    """The newest ``limit`` entries of the robot's ``stream`` older than ``before``, as written."""
    key = stream_key(RobotKeys.of(robot_id), stream)
    raw: Any = await read_raw(redis, "XREVRANGE", key, f"({before}" if before else "+", "-", "COUNT", limit + 1)
    items = []
    for raw_id, pairs in raw[:limit]:
        entry = parse_entry(robot_id, stream, raw_id.decode(), decode_lossy(_mapping(pairs)))
        shown = {name: cut_text(value, VALUE_CHARS) for name, value in entry.fields.items()}
        items.append(EntryOut(entry_id=entry.entry_id, at=entry.at, fields=shown, problem=entry.problem))
    next_before = items[-1].entry_id if len(raw) > limit else None
    return EntryPage(robot_id=robot_id, stream=stream, items=items, next_before=next_before)


async def dead_letter_page(redis: Redis, robot_id: str, limit: int, before: str | None) -> DeadLetterPage:
    keys = RobotKeys.of(robot_id)
    page = await newest_first(redis, keys.dead_letters, DeadLetter, limit, before)
    replays = await read_replays(redis, keys, [entry_id for entry_id, _letter in page.entries])
    items = []
    for entry_id, letter in page.entries:
        shown = letter.model_copy(update={"original": cut_text(letter.original, VALUE_CHARS)})
        items.append(letter_view(robot_id, entry_id, shown, replays))
    return DeadLetterPage(items=items, next_before=page.next_before, skipped=page.skipped)


async def telemetry_series(redis: Redis, robot_id: str, limit: int, topic: str | None) -> TelemetrySeries:
    """The numeric fields of the newest ``limit`` telemetry entries (of ``topic`` only, when named),
    a series per topic and field, oldest first."""
    keys = RobotKeys.of(robot_id)
    raw: Any = await read_raw(redis, "XREVRANGE", keys.telemetry, "+", "-", "COUNT", limit)
    found: dict[tuple[str, str], SeriesOut] = {}
    unreadable = 0
    for raw_id, pairs in reversed(raw):
        entry = parse_entry(robot_id, "telemetry", raw_id.decode(), decode_lossy(_mapping(pairs)))
        sample = entry.model
        if not isinstance(sample, TelemetrySample):
            unreadable += 1
            continue
        if topic is not None and sample.topic != topic:
            continue
        at_ms = int(sample.received_at.timestamp() * 1000)
        for name, text in entry.fields.items():
            value = _number(text) if name.startswith(MSG_PREFIX) else None
            if value is None:
                continue
            series = found.get((sample.topic, name))
            if series is None:
                series = found[(sample.topic, name)] = SeriesOut(topic=sample.topic, field=name, times_ms=[], values=[])
            series.times_ms.append(at_ms)
            series.values.append(value)
    ordered = [found[k] for k in sorted(found)]
    return TelemetrySeries(
        robot_id=robot_id, entries=len(raw), unreadable=unreadable, series=ordered[:MAX_SERIES],
        truncated=len(ordered) > MAX_SERIES,
    )  # fmt: skip


def _number(text: str) -> float | None:
    """A finite number written as one (``24.1``, ``3``); not ``true``, ``nan`` or a JSON list."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _mapping(pairs: Any) -> dict[bytes, bytes]:
    """An entry's fields from a raw reply: a flat list (RESP2 unparsed) or a mapping."""
    if isinstance(pairs, list):
        return dict(zip(pairs[::2], pairs[1::2], strict=True))
    return dict(pairs)
