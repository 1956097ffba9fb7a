"""Flat, human-readable stream entries.

Every stream entry is a pydantic model whose fields map one to one onto the
entry's Redis fields. Values are written as people read them: ISO 8601 UTC
times with milliseconds, ``true``/``false``, plain numbers and text. Only
free-form payloads (tool arguments, ROS messages) are JSON strings, and only
where the model declares them as such (``JsonText``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from robovox.shared.errors import RoboVoxError

log = logging.getLogger(__name__)


class EntryError(RoboVoxError, ValueError):
    """A stream entry that does not match its model: never worth retrying."""


def utc_now() -> datetime:
    """Now, to the millisecond: the precision every entry is written with, so that a time made
    here reads back from Redis equal to itself."""
    return _to_ms(datetime.now(UTC))


def utc_from_timestamp(seconds: float) -> datetime:
    """A ``time.time()`` value as a time, to the millisecond, as ``utc_now``."""
    return _to_ms(datetime.fromtimestamp(seconds, UTC))


def _to_ms(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def format_time(value: datetime) -> str:
    """``2026-11-20T22:58:01.123Z``: sortable, readable, exact to the millisecond (to the microsecond
    for a time that has them, so that every time survives a round trip through Redis)."""
    timespec = "milliseconds" if value.microsecond % 1000 == 0 else "microseconds"
    return value.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, float):
        return repr(round(value, 6))
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def _decode(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class StreamEntry(BaseModel):
    """Base of every stream entry model."""

    # Readers ignore fields they do not know, so a newer producer can add a field
    # without older consumers dead-lettering its entries.
    model_config = ConfigDict(extra="ignore", frozen=True)

    def to_fields(self) -> dict[str, str]:
        """The entry as Redis fields; ``None`` values are left out."""
        return {name: _text(value) for name, value in self.model_dump(mode="python").items() if value is not None}

    @classmethod
    def from_hash(cls, fields: Mapping[bytes, bytes] | Mapping[str, str]) -> Self | None:
        """A hash read with HGETALL: None when it does not exist (an empty reply), EntryError when it
        does not match the model."""
        return cls.from_fields(fields) if fields else None

    @classmethod
    def from_hash_or_none(cls, fields: Mapping[bytes, bytes] | Mapping[str, str], owner: str) -> Self | None:
        """``from_hash``, with a hash that cannot be read logged (under ``owner``) and taken as absent:
        for a reader whose safe course without the hash is the same as with an unreadable one."""
        try:
            return cls.from_hash(fields)
        except EntryError as exc:
            log.warning("%s: its %s hash cannot be read, taken as absent: %s", owner, cls.__name__, exc)
            return None

    @classmethod
    def from_fields(cls, fields: Mapping[bytes, bytes] | Mapping[str, str]) -> Self:
        """Parse and validate an entry read from Redis; raise EntryError with every problem named."""
        data = {_decode(k): _decode(v) for k, v in fields.items()}
        try:
            return cls.model_validate(data)
        except RecursionError:
            raise EntryError(f"not a valid {cls.__name__} entry: a JSON field is nested too deeply") from None
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(entry)'}: {err['msg']}" for err in exc.errors()
            )
            raise EntryError(f"not a valid {cls.__name__} entry: {problems}") from None
