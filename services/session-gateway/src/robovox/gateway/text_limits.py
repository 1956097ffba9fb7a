"""Stand-in for ``robovox.shared.limits`` (``cut_text`` and ``settings.limits.output_chars``)
until it lands in shared; then this module only re-exports it."""

from __future__ import annotations

from typing import Final

from robovox.shared.settings import ServiceSettings

OUTPUT_CHARS: Final = 4000
"""Most characters of text sent to the model in one item."""


def cut_text(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending with a note of how much was cut."""
    if len(text) <= limit:
        return text
    note = f" [... {len(text)} characters in all; the rest was cut]"
    keep = max(0, limit - len(note))
    return (text[:keep] + note)[:limit]


def output_chars(settings: ServiceSettings) -> int:
    limits = getattr(settings, "limits", None)
    return int(getattr(limits, "output_chars", OUTPUT_CHARS))
