"""Client events that fit the peer's largest data-channel message.

aiortc refuses to send a message larger than the remote side's
``a=max-message-size`` (262,144 bytes from OpenAI and the emulator). Text is
cut to ``limits.output_chars`` before items are built, so this is the last
guard: an event still too large (a long replayed item, many merged
instructions, a limit set high) has its longest text cut, with a note, until
it fits, rather than failing on every delivery.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Final

from robovox.gateway.errors import GatewayError
from robovox.shared.limits import cut_text

CUTTABLE: Final = frozenset({"output", "arguments", "text", "instructions", "transcript"})
"""Keys whose string values are text for the model; ids, types and names are never cut."""
NOTE_ROOM: Final = 80
"""Characters kept free for the cut note."""
MAX_ROUNDS: Final = 8


class MessageTooLargeError(GatewayError):
    """A client event larger than the peer accepts, with no text left to cut."""

    def __init__(self, event_type: str, size: int, limit: int) -> None:
        super().__init__(f"{event_type} of {size} bytes is over the data channel's {limit}-byte message limit")
        self.size = size
        self.limit = limit


def encoded(event: dict[str, Any]) -> str:
    """The event's text on the data channel."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def _longest(value: Any) -> tuple[dict[str, Any], str] | None:
    """The dict and key holding the longest cuttable string in ``value``."""
    best: tuple[dict[str, Any], str] | None = None
    best_len = 0
    stack: list[Any] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, child in node.items():
                if key in CUTTABLE and isinstance(child, str) and len(child) > best_len:
                    best, best_len = (node, key), len(child)
                elif isinstance(child, dict | list):
                    stack.append(child)
        elif isinstance(node, list):
            stack.extend(node)
    return best


def fit_event(event: dict[str, Any], max_bytes: int) -> tuple[dict[str, Any], str]:
    """A copy of ``event`` whose longest texts are cut until its JSON is at most ``max_bytes``
    bytes, and that JSON. Raises MessageTooLargeError when there is nothing left to cut."""
    fitted = copy.deepcopy(event)
    for _ in range(MAX_ROUNDS):
        text = encoded(fitted)
        size = len(text.encode())
        if size <= max_bytes:
            return fitted, text
        place = _longest(fitted)
        if place is None:
            break
        holder, key = place
        value: str = holder[key]
        if len(value) <= NOTE_ROOM:
            break  # the longest text left is already cut down to its note
        # Keep the share of the text that fits (in bytes, as it is multi-byte or escaped), less the note.
        value_bytes = len(encoded({key: value}).encode())
        room = max_bytes - (size - value_bytes) - NOTE_ROOM
        holder[key] = cut_text(value, max(NOTE_ROOM, len(value) * room // value_bytes))
    raise MessageTooLargeError(str(event.get("type")), len(encoded(fitted).encode()), max_bytes)
