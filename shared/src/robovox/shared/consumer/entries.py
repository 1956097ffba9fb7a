"""Reading a robot's stream entry in a handler: its model, and that it is this robot's."""

from __future__ import annotations

from typing import TypeVar

from robovox.shared.consumer.config import PermanentError
from robovox.shared.entry import EntryError, StreamEntry

EntryT = TypeVar("EntryT", bound=StreamEntry)


def read_robot_entry(
    model: type[EntryT], fields: dict[str, str], robot_id: str, what: str, where: str = "stream"
) -> EntryT:
    """``fields`` as ``model``, or ``PermanentError`` (dead-lettered at once) when they do not fit it
    or name another robot: ``call for robot 'cleaner-2' on 'cleaner-1''s stream``."""
    try:
        entry = model.from_fields(fields)
    except EntryError as exc:
        raise PermanentError(str(exc)) from None
    named: str = getattr(entry, "robot_id")  # noqa: B009 (every robot stream's model has one)
    if named != robot_id:
        raise PermanentError(f"{what} for robot {named!r} on {robot_id!r}'s {where}")
    return entry
