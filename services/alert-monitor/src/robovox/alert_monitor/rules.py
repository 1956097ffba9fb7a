"""One alert rule's state machine, driven by samples and by the clock.

::

    inactive --condition--> pending --held for_s, cooled down--> firing
    firing --clear condition--> clearing --held clear_for_s--> inactive (resolved)

A rule that fired cannot fire again within its cooldown: while cooling down it
waits in ``pending`` and fires when the cooldown ends if the condition still
holds. Times are epoch seconds (the samples' ``received_at``), so a replayed
backlog is judged by when its samples arrived, not when it is read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from robovox.shared.messages import AlertStatus
from robovox.shared.profile.alerts import AlertRule
from robovox.shared.profile.mapping import MISSING, as_number


class Phase(StrEnum):
    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"
    CLEARING = "clearing"


@dataclass(frozen=True, slots=True)
class Transition:
    rule: AlertRule
    status: AlertStatus
    value: Any
    """The value that caused it; MISSING for a silent topic."""
    at: float
    sample_at: float | None


class RuleEvaluator:
    __slots__ = ("_silent_since", "fired_at", "last_sample_at", "last_value", "phase", "rule", "since")

    def __init__(self, rule: AlertRule, now: float) -> None:
        self.rule = rule
        self.phase = Phase.INACTIVE
        self.since = now
        self.fired_at: float | None = None
        self.last_value: Any = MISSING
        self.last_sample_at: float | None = None
        self._silent_since = now
        """Start of the silence a ``missing_for_s`` rule measures (the monitor's start before any sample)."""

    @property
    def active(self) -> bool:
        """Fired and not yet resolved."""
        return self.phase in (Phase.FIRING, Phase.CLEARING)

    # Samples
    def observe(self, value: Any, at: float) -> Transition | None:
        """A sample of the rule's field arrived (``value`` MISSING: the message lacks the field)."""
        rule = self.rule
        self.last_sample_at = at
        if rule.missing_for_s is not None:
            self._silent_since = at
            if self.active:
                return self._step(False, True, at, MISSING)
            self.phase = Phase.INACTIVE
            return None
        if value is MISSING:
            return None
        if rule.changed:
            previous, self.last_value = self.last_value, value
            if previous is MISSING:
                return None
            return self._step(value != previous, value == previous, at, value)
        verdict = self._judge(value)
        if verdict is None:
            return None
        self.last_value = value
        holds, clears = verdict
        return self._step(holds, clears, at, value)

    def _judge(self, value: Any) -> tuple[bool, bool] | None:
        """(condition holds, clear condition holds); None when the value cannot be judged."""
        rule = self.rule
        if rule.equals is not None:
            return value == rule.equals, value != rule.equals
        number = as_number(value)
        if number is None:
            return None
        if rule.below is not None:
            clear_at = rule.clear_above if rule.clear_above is not None else rule.below
            return number < rule.below, number >= clear_at
        assert rule.above is not None
        clear_at = rule.clear_below if rule.clear_below is not None else rule.above
        return number > rule.above, number <= clear_at

    # Clock
    def tick(self, now: float) -> Transition | None:
        """Let time pass: ``for_s``, ``clear_for_s``, cooldowns and silences end without a new sample."""
        if self.rule.missing_for_s is not None:
            if not self.active and now - self._silent_since >= self.rule.missing_for_s:
                return self._step(True, False, now, MISSING)
            if self.phase is Phase.CLEARING:
                return self._step(False, True, now, MISSING)
            return None
        if self.phase is Phase.PENDING:
            return self._step(True, False, now, self.last_value)
        if self.phase is Phase.CLEARING:
            return self._step(False, True, now, self.last_value)
        return None

    def _step(self, holds: bool, clears: bool, now: float, value: Any) -> Transition | None:
        rule = self.rule
        sample_at = self.last_sample_at if value is not MISSING else None
        if not self.active:
            if not holds:
                self.phase = Phase.INACTIVE
                return None
            if self.phase is Phase.INACTIVE:
                self.phase, self.since = Phase.PENDING, now
            cooled = self.fired_at is None or now - self.fired_at >= rule.cooldown_s
            if now - self.since >= rule.for_s and cooled:
                self.phase, self.since, self.fired_at = Phase.FIRING, now, now
                return Transition(rule, AlertStatus.FIRING, value, now, sample_at)
            return None
        if not clears:
            self.phase = Phase.FIRING
            return None
        if self.phase is Phase.FIRING:
            self.phase, self.since = Phase.CLEARING, now
        if now - self.since >= rule.clear_for_s:
            self.phase, self.since = Phase.INACTIVE, now
            return Transition(rule, AlertStatus.RESOLVED, value, now, sample_at)
        return None

    # Persistence (the monitor's state hash)
    def dump(self) -> str:
        return json.dumps({"active": self.active, "fired_at": self.fired_at}, separators=(",", ":"))

    def restore(self, text: str) -> None:
        """Take up where an earlier process left off: a firing alert stays firing, cooldowns carry on."""
        data = json.loads(text)
        fired_at = data.get("fired_at")
        self.fired_at = float(fired_at) if fired_at is not None else None
        if data.get("active"):
            self.phase = Phase.FIRING
