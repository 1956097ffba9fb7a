"""Limits at the door: how big anything that crosses a service boundary may be.

One set of numbers for every service (each a setting, see ``ServiceSettings``):
what a call's arguments may hold, how much text goes to the model in one item,
and how large a stream entry a consumer accepts or a dead letter keeps. Every
breach is refused with a sentence; nothing over a limit is echoed back whole.
"""

from __future__ import annotations

import json
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

CUT_NOTE: Final = " [... cut: {} more characters]"


class Limits(BaseModel):
    model_config = ConfigDict(frozen=True)

    arguments_bytes: int = Field(default=16_384, ge=64)
    """Largest arguments text of one function call (UTF-8 bytes)."""
    arguments_depth: int = Field(default=16, ge=1, le=200)
    """Deepest nesting of objects and lists in a call's arguments."""
    argument_chars: int = Field(default=2_000, ge=8)
    """Longest string value anywhere in a call's arguments."""
    output_chars: int = Field(default=4_000, ge=200)
    """Most characters of text sent to the model in one item (a function output, a notice)."""
    entry_bytes: int = Field(default=262_144, ge=1024)
    """Largest stream entry a consumer handles; larger ones are dead-lettered unread."""
    dead_letter_chars: int = Field(default=16_384, ge=256)
    """Most characters of the original entry a dead letter keeps."""


def cut_text(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else its start with a note saying how much was cut.

    The result never exceeds ``limit`` characters (for limits too short for the note, the text is cut bare)."""
    if len(text) <= limit:
        return text
    keep = limit - len(CUT_NOTE.format(len(text) - limit))
    # Cutting more can lengthen the note by a digit, so step back until text and note fit exactly:
    # each step shortens the result by one character or by none, so ``limit`` itself is reached.
    while keep > 0 and keep + len(CUT_NOTE.format(len(text) - keep)) > limit:
        keep -= 1
    if keep <= 0:
        return text[:limit]
    return text[:keep] + CUT_NOTE.format(len(text) - keep)


def preview(value: Any, limit: int = 60) -> str:
    """A value as JSON, cut to ``limit`` characters: safe to put in a sentence whatever its size."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        text = repr(type(value))
    return cut_text(text, limit)


def json_nesting_depth(text: str, stop_at: int) -> int:
    """How deeply ``[`` and ``{`` nest in JSON ``text`` (brackets inside strings do not count).

    Stops counting once ``stop_at`` is exceeded, so a hostile text costs one pass and no recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_at:
                    return deepest
        elif char in "]}":
            depth -= 1
    return deepest
