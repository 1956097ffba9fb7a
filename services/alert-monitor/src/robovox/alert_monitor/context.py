"""Telemetry context: the latest values of chosen fields, offered to the model as
silent system messages when they change meaningfully, so "what's my battery
voltage?" needs no tool round trip."""

from __future__ import annotations

import math
from typing import Any

from robovox.shared.profile.alerts import TelemetryContext
from robovox.shared.profile.mapping import MISSING, as_number
from robovox.shared.telemetry import spoken_value


class ContextField:
    __slots__ = ("latest", "offered", "offered_at", "spec")

    def __init__(self, spec: TelemetryContext) -> None:
        self.spec = spec
        self.latest: Any = MISSING
        self.offered: Any = MISSING
        self.offered_at = -math.inf

    def observe(self, value: Any) -> None:
        if value is not MISSING:
            self.latest = value

    def due(self, now: float) -> bool:
        """Whether the latest value is worth a message now."""
        latest, offered = self.latest, self.offered
        if latest is MISSING or now - self.offered_at < self.spec.min_interval_s:
            return False
        if offered is MISSING:
            return True
        latest_number, offered_number = as_number(latest), as_number(offered)
        if latest_number is not None and offered_number is not None:
            moved = abs(latest_number - offered_number)
            return moved >= self.spec.min_delta if self.spec.min_delta > 0 else moved > 0
        return bool(latest != offered)

    def offer(self, now: float) -> str:
        """Mark the latest value as told, and return the sentence that tells it."""
        self.offered, self.offered_at = self.latest, now
        spec = self.spec
        unit = f" {spec.unit}" if spec.unit else ""
        return f"{spec.label or spec.field} is {spoken_value(self.latest, spec.decimals)}{unit}"

    def forget(self) -> None:
        """The conversation changed: the next due check offers the value again."""
        self.offered, self.offered_at = MISSING, -math.inf
