"""A robot's stream read newest first, a page at a time, each entry through its model.

A page is the newest ``limit`` entries older than a cursor (``before``, an entry id, exclusive);
its ``next_before`` is the cursor of the page after it, or None at the stream's start. Entries are
read as bytes and decoded one by one, so an entry that is not UTF-8 or not its model is skipped
(and counted) rather than failing the page; a filter may leave entries out, and the reader goes on
until the page is full or it has looked at ``scan_limit`` entries."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Generic, TypeVar

from redis.asyncio import Redis

from robovox.gateway.errors import ApiError, ApiErrorCode
from robovox.shared.consumer.raw import UnreadableEntryError, decode_fields
from robovox.shared.entry import EntryError, StreamEntry
from robovox.shared.redis_client import read_raw
from robovox.shared.streams import ENTRY_ID

log = logging.getLogger(__name__)

EntryT = TypeVar("EntryT", bound=StreamEntry)

SCAN_LIMIT: Final = 2000
"""Entries one page may look at (filtered or unreadable ones included)."""
_CHUNK: Final = 100


def check_cursor(before: str | None) -> str | None:
    """A ``before`` parameter as given, or 400 naming it when it is not an entry id."""
    if before is not None and not ENTRY_ID.match(before):
        raise ApiError(ApiErrorCode.INVALID_REQUEST, "before: an entry id such as 1764686400000-0", "before")
    return before


@dataclass(slots=True)
class StreamPage(Generic[EntryT]):
    entries: list[tuple[str, EntryT]] = field(default_factory=list)
    """(entry id, entry), newest first."""
    next_before: str | None = None
    skipped: int = 0
    """Entries that could not be read as their model."""


async def newest_first(
    redis: Redis,
    key: str,
    model: type[EntryT],
    limit: int,
    before: str | None = None,
    keep: Callable[[EntryT], bool] = lambda _entry: True,
    scan_limit: int = SCAN_LIMIT,
) -> StreamPage[EntryT]:
    page: StreamPage[EntryT] = StreamPage()
    last, scanned = before, 0
    while len(page.entries) < limit and scanned < scan_limit:
        raw: Any = await _older(redis, key, last, _CHUNK)
        for raw_id, fields in raw:
            last, scanned = raw_id.decode(), scanned + 1
            entry = _read(model, key, last, fields)
            if entry is None:
                page.skipped += 1
            elif keep(entry):
                page.entries.append((last, entry))
            if len(page.entries) >= limit or scanned >= scan_limit:
                break
        if not raw or (len(raw) < _CHUNK and last == raw[-1][0].decode()):
            return page  # the stream's start: no page after this one
    page.next_before = last if last and await _older(redis, key, last, 1) else None
    return page


async def _older(redis: Redis, key: str, before: str | None, count: int) -> Any:
    return await read_raw(redis, "XREVRANGE", key, f"({before}" if before else "+", "-", "COUNT", count)


def _read(model: type[EntryT], key: str, entry_id: str, raw: Any) -> EntryT | None:
    pairs = dict(zip(raw[::2], raw[1::2], strict=True)) if isinstance(raw, list) else raw
    try:
        return model.from_fields(decode_fields(pairs))
    except (UnreadableEntryError, EntryError) as exc:
        log.info("%s %s left out of a page: %s", key, entry_id, exc)
        return None
