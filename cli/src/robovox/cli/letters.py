"""``robovox dead-letters``: what the consumers gave up on, why, and ``--replay``, which puts a
dead letter's original entry back on its stream at most once (``REPLAY_SCRIPT`` in
``robovox.shared.dead_letters``: one Lua script that checks and writes the robot's
``dead_letter_replays`` hash with the new entry)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from robovox.cli.errors import NotFoundError, ReplayRefusedError
from robovox.cli.source import Source, id_at
from robovox.shared.dead_letters import REPLAY_SCRIPT, DeadLetterView, letter_view, read_replays
from robovox.shared.messages import DeadLetter
from robovox.shared.stream_info import STREAM_MODELS, parse_entry
from robovox.shared.streams import MaxLen, RobotKeys


class Replay(BaseModel):
    robot_id: str
    dead_letter_id: str
    stream: str
    entry_id: str
    """The replayed entry's id on ``stream``."""
    now: bool
    """True: replayed by this command; false: it had been replayed before (nothing written)."""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def dead_letters(source: Source, robot_id: str, since: datetime | None = None) -> list[DeadLetterView]:
    replays = await read_replays(source.redis, RobotKeys.of(robot_id))
    return [
        letter_view(robot_id, entry.entry_id, entry.model, replays)
        for entry in await source.scan_stream(robot_id, "dead_letters", id_at(since) if since else "-")
        if isinstance(entry.model, DeadLetter)
    ]


async def find_letter(source: Source, robot_id: str | None, dead_letter_id: str) -> tuple[str, DeadLetter]:
    for robot in await source.robots_or(robot_id):
        key = RobotKeys.of(robot).dead_letters
        raw: Any = await source.redis.xrange(key, dead_letter_id, dead_letter_id)
        if raw:
            fields = {_text(k): _text(v) for k, v in raw[0][1].items()}
            entry = parse_entry(robot, "dead_letters", dead_letter_id, fields)
            if not isinstance(entry.model, DeadLetter):
                raise ReplayRefusedError(f"dead letter {dead_letter_id} of {robot} cannot be read: {entry.problem}")
            return robot, entry.model
    where = f"robot {robot_id}" if robot_id else "any robot"
    raise NotFoundError(f"no dead letter {dead_letter_id} on {where}")


def stream_of(robot_id: str, letter: DeadLetter) -> str:
    """The short name of the robot's stream the letter came from; refused for any other key."""
    keys = RobotKeys.of(robot_id)
    for stream in STREAM_MODELS:
        if getattr(keys, stream) == letter.stream and stream != "dead_letters":
            return stream
    raise ReplayRefusedError(f"dead letter from {letter.stream!r}, which is not one of {robot_id}'s streams")


def original_fields(letter: DeadLetter) -> dict[str, str]:
    try:
        original = json.loads(letter.original)
    except json.JSONDecodeError:
        raise ReplayRefusedError(
            f"the original of {letter.stream} {letter.entry_id} was cut when it was dead-lettered; it cannot be "
            "replayed as it was"
        ) from None
    if not isinstance(original, dict) or not original or not all(isinstance(v, str) for v in original.values()):
        raise ReplayRefusedError(f"the original of {letter.stream} {letter.entry_id} is not an entry's fields")
    return original


async def replay(source: Source, robot_id: str | None, dead_letter_id: str) -> Replay:
    robot, letter = await find_letter(source, robot_id, dead_letter_id)
    stream = stream_of(robot, letter)
    fields = original_fields(letter)
    items = [part for pair in fields.items() for part in pair]
    maxlen: int = getattr(MaxLen, stream.upper())
    keys = RobotKeys.of(robot)
    reply: Any = await source.redis.eval(
        REPLAY_SCRIPT, 2, keys.dead_letter_replays, letter.stream, dead_letter_id, maxlen, *items
    )
    return Replay(robot_id=robot, dead_letter_id=dead_letter_id, stream=stream, entry_id=_text(reply[1]),
                  now=bool(reply[0]))  # fmt: skip
