"""An answer for every call whose result the gateway gives up on.

The inbox consumer dead-letters an entry it cannot handle: over
``ROBOVOX_MAX_ENTRY_BYTES``, not UTF-8, invalid, or undeliverable after
``ROBOVOX_MAX_DELIVERIES``. When that entry is a function call's output, the
model would otherwise wait for that call forever; so before the entry goes to
the dead-letter stream the gateway gives the model, in its place, the entry
itself with its text cut (it may only have been too large), or failing that a
short output saying the result could not be given.
"""

from __future__ import annotations

import contextlib
from typing import Final

from pydantic import ValidationError

from robovox.shared.consumer import Fields
from robovox.shared.entry import EntryError
from robovox.shared.limits import cut_text
from robovox.shared.messages import InboxEntry, InboxKind

NOT_GIVEN: Final = (
    "The result of {tool} could not be given to you ({reason}). Its outcome is unknown: tell the user "
    "so, and ask them to check the robot before trying again."
)
REASON_CHARS: Final = 200


def outputs_in_place_of(fields: Fields, reason: str, robot_id: str) -> list[InboxEntry]:
    """What to try to give the model instead of a dead-lettered inbox entry, in order: none
    unless it is a function call's output with a usable call_id."""
    if fields.get("kind") != InboxKind.FUNCTION_CALL_OUTPUT.value or not fields.get("call_id"):
        return []
    if fields.get("robot_id") != robot_id:
        return []  # another robot's output: the model of this one must not hear it
    tries: list[InboxEntry] = []
    with contextlib.suppress(EntryError):
        tries.append(InboxEntry.from_fields(fields))
    tool = cut_text(fields.get("tool") or "the call", 80)
    try:
        notice = InboxEntry(
            kind=InboxKind.FUNCTION_CALL_OUTPUT,
            robot_id=robot_id,
            text=NOT_GIVEN.format(tool=tool, reason=cut_text(reason, REASON_CHARS)),
            speak=True,
            source="session-gateway",
            call_id=fields["call_id"],
            tool=tool,
            reason="not_delivered",
        )
    except ValidationError:  # a call_id that is not one: no call to answer
        return tries
    return [*tries, notice]
