"""``robovox tail``: the robots' streams live (XREAD BLOCK on all of them at once), each entry
read through its model and said in one line, with ``--filter`` to keep what matters."""

from __future__ import annotations

import fnmatch
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from robovox.cli.errors import BadInputError, NotFoundError
from robovox.cli.source import Source, id_at, stream_key
from robovox.shared.consumer.raw import decode_lossy
from robovox.shared.stream_info import STREAM_MODELS, Entry, parse_entry

QUIET_BY_DEFAULT: Final = ("telemetry", "events")
"""Left out unless named: several entries a second each."""
BLOCK_MS: Final = 1000


@dataclass(frozen=True, slots=True)
class Filter:
    """``field=pattern`` (a glob on that field's value) or bare text (in any field's value)."""

    field: str | None
    pattern: str

    @classmethod
    def parse(cls, text: str) -> Filter:
        if not text:
            raise BadInputError("an empty --filter matches everything; give field=pattern or some text")
        name, sep, pattern = text.partition("=")
        if sep and not name:
            raise BadInputError(f"--filter {text!r} has no field name before '='")
        return cls(name, pattern) if sep else cls(None, text)

    def matches(self, entry: Entry) -> bool:
        if self.field is None:
            return any(self.pattern in value for value in entry.fields.values())
        if self.field == "stream":
            return fnmatch.fnmatchcase(entry.stream, self.pattern)
        value = entry.fields.get(self.field)
        return value is not None and fnmatch.fnmatchcase(value, self.pattern)


def streams_to_follow(named: Sequence[str]) -> list[str]:
    for stream in named:
        stream_key("robot", stream)  # names the streams when one is unknown
    return list(named) or [s for s in STREAM_MODELS if s not in QUIET_BY_DEFAULT]


async def start_ids(source: Source, keys: dict[str, tuple[str, str]], since: Any) -> dict[str, str]:
    """Where each stream is read from: after its newest entry now (so what follows is what
    arrives), or from ``since``."""
    if since is not None:
        start = id_at(since)
        return {key: f"{int(start) - 1}-18446744073709551615" if int(start) > 0 else "0-0" for key in keys}
    ids = {}
    for key in keys:
        newest: Any = await source.redis.xrevrange(key, count=1)
        ids[key] = _text(newest[0][0]) if newest else "0-0"
    return ids


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def follow(
    source: Source,
    robots: list[str],
    streams: list[str],
    filters: list[Filter],
    since: Any = None,
    on_ready: Any = None,
) -> AsyncIterator[Entry]:
    """Every new entry of ``streams`` of ``robots`` that passes every filter, as it arrives."""
    if not robots:
        raise NotFoundError("no robots in this Redis yet; name one to wait for it")
    keys = {stream_key(robot, stream): (robot, stream) for robot in robots for stream in streams}
    last = await start_ids(source, keys, since)
    if on_ready is not None:
        on_ready(len(keys))
    reader = source.redis
    while True:
        reply: Any = await reader.xread(last, block=BLOCK_MS, count=100)  # type: ignore[arg-type]
        found: list[Entry] = []
        for raw_key, entries in reply or []:
            key = _text(raw_key)
            robot, stream = keys[key]
            for raw_id, fields in entries:
                last[key] = _text(raw_id)
                found.append(parse_entry(robot, stream, last[key], decode_lossy(fields)))
        found.sort(key=lambda e: (int(e.entry_id.split("-")[0]), e.stream))
        for entry in found:
            if all(f.matches(entry) for f in filters):
                yield entry
