"""Reading the fields of an incoming rosbridge op."""

from __future__ import annotations

from typing import Any

from robovox.sim.errors import SimError


class ProtocolError(SimError, ValueError):
    """A malformed op; logged (and reported to the client if its dialect and level say so)."""


def require_str(message: dict[str, Any], key: str) -> str:
    value = message.get(key)
    if not isinstance(value, str) or not value:
        raise ProtocolError(f"Expected a non-empty string field {key!r}")
    return value


def int_field(message: dict[str, Any], key: str) -> int:
    value = message.get(key, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProtocolError(f"Expected a number for field {key!r}, got {value!r}")
    return int(value)
