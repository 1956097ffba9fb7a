"""The ``alerts`` section of a robot profile: rules on telemetry, telemetry the
model is kept aware of, and the battery forecast.

Rules follow Prometheus alerting rules: a condition on one telemetry field must
hold ``for_s`` before the alert fires, a clear condition (a hysteresis band)
must hold ``clear_for_s`` before it resolves, and after firing it cannot fire
again within ``cooldown_s``, so a value flapping around a threshold raises one
alert, not a storm.
"""

from __future__ import annotations

import string
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

RosName = Annotated[str, Field(pattern=r"^/?[A-Za-z_~][A-Za-z0-9_/~]*$")]
FieldPath = Annotated[str, Field(pattern=r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")]
RuleName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]

BATTERY_FORECAST_TOPIC: Final = "/robovox/battery_forecast"
"""Derived telemetry the alert monitor publishes: rules, context and read tools may use it like a topic."""
BATTERY_FORECAST_TYPE: Final = "robovox/msg/BatteryForecast"

TEMPLATE_FIELDS: Final = frozenset(
    {"value", "threshold", "label", "unit", "robot", "rule", "forecast", "minutes_to_threshold", "silent_s"}
)
"""What an alert message may use: ``{value:.1f}``, ``{forecast}`` ..."""


class Severity(StrEnum):
    INFO = "info"
    """A silent system message: context the model uses when asked."""
    WARNING = "warning"
    """The message, and a spoken response once the robot is not already speaking."""
    CRITICAL = "critical"
    """Preempts whatever the robot is saying, with maximum urgency."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def check_template(template: str, allowed: frozenset[str] = TEMPLATE_FIELDS) -> str:
    """Accept ``{name}`` / ``{name:spec}`` with known names only (no attribute or index access)."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"not a valid message template: {exc}") from None
    for _text, name, _spec, conversion in parts:
        if name is None:
            continue
        if name not in allowed or conversion is not None:
            raise ValueError(f"unknown placeholder {{{name}}}; use {', '.join(sorted(allowed))}")
    return template


class AlertRule(_Strict):
    name: RuleName
    topic: RosName
    field: FieldPath = "data"
    above: float | None = None
    below: float | None = None
    equals: Any = None
    changed: bool = False
    """Fires when the value differs from the previous sample's."""
    missing_for_s: float | None = Field(default=None, gt=0)
    """Fires when the topic has been silent this long."""
    for_s: float = Field(default=0.0, ge=0)
    """The condition must hold this long before the alert fires."""
    clear_above: float | None = None
    """For ``below``: resolve only once the value is back at or above this (default: ``below``)."""
    clear_below: float | None = None
    """For ``above``: resolve only once the value is back at or below this (default: ``above``)."""
    clear_for_s: float = Field(default=0.0, ge=0)
    """The clear condition must hold this long before the alert resolves."""
    severity: Severity = Severity.WARNING
    message: Annotated[str, Field(min_length=1)]
    """What the model is told; placeholders: see ``TEMPLATE_FIELDS``."""
    resolved_message: str | None = None
    """What the model is told when the alert resolves (default: a sentence built from ``label``)."""
    instructions: str | None = None
    """How to speak it; default by severity (critical: the prototype's CRITICAL WARNING)."""
    cooldown_s: float = Field(default=300.0, ge=0)
    """After firing, the rule cannot fire again for this long."""
    action: Annotated[str, Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_-]{0,63}$")] | None = None
    """A tool (without required arguments) run once each time the rule fires, through the executor
    with all its checks (the priority path if it is the emergency stop tool)."""
    label: str | None = None
    """How to name the value in resolved messages (default: the field path)."""
    unit: str = ""

    @field_validator("message", "resolved_message")
    @classmethod
    def _known_placeholders(cls, value: str | None) -> str | None:
        return None if value is None else check_template(value)

    @model_validator(mode="after")
    def _one_condition(self) -> AlertRule:
        given = [
            name
            for name, value in (
                ("above", self.above),
                ("below", self.below),
                ("equals", self.equals),
                ("changed", self.changed or None),
                ("missing_for_s", self.missing_for_s),
            )
            if value is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one condition of above, below, equals, changed, missing_for_s"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.clear_above is not None and (self.below is None or self.clear_above < self.below):
            raise ValueError("clear_above goes with below, at or above its threshold")
        if self.clear_below is not None and (self.above is None or self.clear_below > self.above):
            raise ValueError("clear_below goes with above, at or below its threshold")
        return self

    @property
    def threshold(self) -> Any:
        """The value named by the condition (for messages and the alerts stream)."""
        for value in (self.above, self.below, self.equals, self.missing_for_s):
            if value is not None:
                return value
        return None

    def describe(self) -> str:
        """``/battery/voltage data below 23.0 V``: the condition, for people."""
        unit = f" {self.unit}" if self.unit else ""
        what = f"{self.topic} {self.field}"
        if self.above is not None:
            return f"{what} above {self.above:g}{unit}"
        if self.below is not None:
            return f"{what} below {self.below:g}{unit}"
        if self.equals is not None:
            return f"{what} equals {self.equals!r}"
        if self.changed:
            return f"{what} changed"
        return f"no {self.topic} message for {self.missing_for_s:g} s"


class TelemetryContext(_Strict):
    """A value the model is kept aware of, by silent system messages."""

    topic: RosName
    field: FieldPath = "data"
    label: str | None = None
    unit: str = ""
    min_delta: float = Field(default=0.0, ge=0)
    """A number is offered again once it moved at least this much (other values: on any change)."""
    min_interval_s: float = Field(default=30.0, ge=0)
    """And no sooner than this after the last offer."""
    decimals: int = Field(default=2, ge=0, le=6)


class BatteryForecast(_Strict):
    """Estimate the discharge rate by least squares over a sliding window of voltage samples."""

    topic: RosName = "/battery/voltage"
    field: FieldPath = "data"
    threshold_v: float
    """The voltage at which the battery needs swapping."""
    window_s: float = Field(default=120.0, gt=0)
    min_samples: int = Field(default=10, ge=3)
    publish_every_s: float = Field(default=1.0, gt=0)
    """How often the forecast is published as ``/robovox/battery_forecast`` telemetry."""


class AlertsConfig(_Strict):
    when_no_session: Literal["keep", "open"] = "keep"
    """``keep``: deliver when the next session opens; ``open``: ask the gateway to open one
    to announce warnings and critical alerts (robots with their own speaker)."""
    rules: list[AlertRule] = Field(default_factory=list)
    context: list[TelemetryContext] = Field(default_factory=list)
    battery_forecast: BatteryForecast | None = None

    @model_validator(mode="after")
    def _unique_rules(self) -> AlertsConfig:
        names = [r.name for r in self.rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"alert rule names must be unique; repeated: {', '.join(dupes)}")
        return self

    def topics(self) -> set[str]:
        """Every topic the section reads."""
        topics = {r.topic for r in self.rules} | {c.topic for c in self.context}
        if self.battery_forecast is not None:
            topics.add(self.battery_forecast.topic)
        return topics

    def derived_topics(self) -> set[str]:
        """Topics the alert monitor itself publishes for this profile."""
        return {BATTERY_FORECAST_TOPIC} if self.battery_forecast is not None else set()
