"""Entries as Redis hands them over: bytes, checked before anything trusts them.

Every consumer reads on a connection that does not decode, so one byte that is
not UTF-8 can never raise inside a read and stop the loop; each entry is
decoded here, and one that cannot be is dead-lettered with its bytes escaped.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, Final

from redis.asyncio import Redis

from robovox.shared.consumer.config import REDIS_DOWN, Fields
from robovox.shared.errors import RoboVoxError
from robovox.shared.limits import cut_text
from robovox.shared.messages import DeadLetter
from robovox.shared.metrics.series import DEAD_LETTERS
from robovox.shared.streams import MaxLen, split_robot_key

log = logging.getLogger(__name__)

REASON_CHARS: Final = 1000


class UnreadableEntryError(RoboVoxError, ValueError):
    """An entry that cannot be read as text: over the size limit, or not UTF-8."""


def text(value: bytes | str) -> str:
    """Bytes as readable text whatever they hold: what is not UTF-8 becomes ``\\xNN``."""
    return value.decode("utf-8", errors="backslashreplace") if isinstance(value, bytes) else value


def readable_fields(raw: Mapping[bytes, bytes] | Mapping[str, str], max_bytes: int) -> Fields:
    """The entry as text, or UnreadableEntryError saying why not: over ``max_bytes``, or not UTF-8."""
    if (size := sum(len(k) + len(v) for k, v in raw.items())) > max_bytes:
        raise UnreadableEntryError(f"entry of {size} bytes is over the limit of {max_bytes} bytes")
    return decode_fields(raw)


def decode_fields(raw: Mapping[bytes, bytes] | Mapping[str, str]) -> Fields:
    """The entry as text, or UnreadableEntryError naming the first field that is not UTF-8."""
    fields: Fields = {}
    for key, value in raw.items():
        try:
            name = key.decode("utf-8") if isinstance(key, bytes) else key
        except UnicodeDecodeError as exc:
            raise UnreadableEntryError(f"a field name is not UTF-8 text (byte {key[exc.start]:#04x})") from None
        try:
            fields[name] = value.decode("utf-8") if isinstance(value, bytes) else value
        except UnicodeDecodeError as exc:
            raise UnreadableEntryError(
                f"field {text(key)!r} is not UTF-8 text (byte {value[exc.start]:#04x} at {exc.start})"
            ) from None
    return fields


def decode_lossy(raw: Mapping[bytes, bytes] | Mapping[str, str]) -> Fields:
    """The entry as readable text whatever it holds: bytes that are not UTF-8 become ``\\xNN``."""
    return {text(k): text(v) for k, v in raw.items()}


def dead_letter(
    stream: str,
    entry_id: str,
    raw: Mapping[bytes, bytes] | Mapping[str, str],
    reason: str,
    *,
    group: str,
    consumer: str,
    original_chars: int,
    deliveries: int = 1,
) -> DeadLetter:
    """The dead letter for an entry given up on: its bytes kept readable and both texts cut
    (and counted: every dead letter is built here)."""
    robot, name = split_robot_key(stream)
    DEAD_LETTERS.labels(robot=robot, stream=name, group=group).inc()
    return DeadLetter(
        stream=stream,
        entry_id=entry_id,
        group=group,
        consumer=consumer,
        deliveries=deliveries,
        reason=cut_text(reason, REASON_CHARS),
        original=cut_text(json.dumps(decode_lossy(raw), ensure_ascii=False), original_chars),
    )


async def add_dead_letter(redis: Redis, key: str, letter: DeadLetter) -> None:
    """Append ``letter`` to the dead-letter stream ``key``, for readers without a group to ack in
    the same step; a Redis outage is logged, the letter dropped (the entry stays in its stream)."""
    log.error("%s: %s %s dead-lettered: %s", letter.group, letter.stream, letter.entry_id, letter.reason)
    fields: Any = letter.to_fields()
    try:
        await redis.xadd(key, fields, maxlen=MaxLen.DEAD_LETTERS, approximate=True)
    except REDIS_DOWN as exc:
        log.warning("%s: could not dead-letter %s %s: %s", letter.group, letter.stream, letter.entry_id, exc)
