"""Dead letters as people read them (``robovox dead-letters``, the console's Inspect view): each
letter with its robot, its own entry id on ``dead_letters`` and whether it was replayed.

A replay (``robovox dead-letters --replay``) puts the letter's original fields back on their stream
at most once: ``REPLAY_SCRIPT`` checks and writes the robot's ``dead_letter_replays`` hash (dead
letter's entry id -> the id of the entry put back) in one step; ``read_replays`` reads that hash."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Final

from redis.asyncio import Redis

from robovox.shared.messages import DeadLetter
from robovox.shared.streams import ENTRY_ID, RobotKeys

log = logging.getLogger(__name__)

# KEYS: replays hash, stream. ARGV: dead letter id, maxlen, then the entry's field/value items.
REPLAY_SCRIPT: Final = """
local before = redis.call('HGET', KEYS[1], ARGV[1])
if before then return {0, before} end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
redis.call('HSET', KEYS[1], ARGV[1], id)
return {1, id}
"""
"""Replies ``{1, new entry id}`` when it wrote the entry, ``{0, the earlier replay's id}`` when not."""


class DeadLetterView(DeadLetter):
    """A dead letter as read: its robot, its own entry id, and whether it was replayed."""

    robot_id: str
    dead_letter_id: str
    replayed_as: str | None = None
    """The entry id a replay put back on the stream, when it was replayed."""


def _text(value: Any) -> str:
    return value.decode("utf-8", errors="backslashreplace") if isinstance(value, bytes) else str(value)


async def read_replays(redis: Redis, keys: RobotKeys, letter_ids: Sequence[str] | None = None) -> dict[str, str]:
    """Dead letter id -> the entry its replay wrote, for ``letter_ids`` (all replays when None).
    A field or value that is not an entry id is logged and left out."""
    if letter_ids is None:
        raw: Any = await redis.hgetall(keys.dead_letter_replays)
        pairs = [(_text(k), _text(v)) for k, v in raw.items()]
    elif letter_ids:
        values: Any = await redis.hmget(keys.dead_letter_replays, list(letter_ids))
        pairs = [(i, _text(v)) for i, v in zip(letter_ids, values, strict=True) if v is not None]
    else:
        return {}
    replays = {}
    for letter_id, entry_id in pairs:
        if ENTRY_ID.match(letter_id) and ENTRY_ID.match(entry_id):
            replays[letter_id] = entry_id
        else:
            log.warning("%s: %r -> %r is not a replay, left out", keys.dead_letter_replays, letter_id, entry_id)
    return replays


def letter_view(robot_id: str, dead_letter_id: str, letter: DeadLetter, replays: dict[str, str]) -> DeadLetterView:
    return DeadLetterView(
        **letter.model_dump(), robot_id=robot_id, dead_letter_id=dead_letter_id, replayed_as=replays.get(dead_letter_id)
    )
