"""What an alert says and how it is delivered: severity decides the inbox entry."""

from __future__ import annotations

import string
from datetime import timedelta
from typing import Any, Final

from robovox.alert_monitor.forecast import Forecast
from robovox.alert_monitor.rules import Transition
from robovox.shared.entry import utc_from_timestamp, utc_now
from robovox.shared.messages import (
    ALERT_SESSION_PREFIX,
    AlertStatus,
    AlertTransition,
    InboxEntry,
    InboxKind,
    ToolCall,
    Urgency,
)
from robovox.shared.profile.alerts import AlertRule, Severity
from robovox.shared.profile.mapping import MISSING

SOURCE: Final = "alert-monitor"

CRITICAL_INSTRUCTIONS: Final = (
    "CRITICAL WARNING! Respond with maximum urgency and severity. Use a stern, authoritative tone. "
    "In one or two short sentences, tell the people near the robot exactly what is wrong and what to do now. "
    "This warning must be treated as a top priority for user safety and system integrity."
)
WARNING_INSTRUCTIONS: Final = (
    "Tell the people near the robot about this warning in one short, calm sentence, and what they can do about it."
)


class _LenientFormatter(string.Formatter):
    """A numeric format spec on a value that is not a number prints the value as it is."""

    def format_field(self, value: Any, format_spec: str) -> str:
        try:
            return str(super().format_field(value, format_spec))
        except (TypeError, ValueError):
            return str(value)


_FORMATTER: Final = _LenientFormatter()


def value_text(value: Any) -> str:
    if value is MISSING:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def render(rule: AlertRule, transition: Transition, robot: str, forecast: Forecast | None) -> str:
    """The rule's message (or resolved message) with its placeholders filled."""
    label = rule.label or rule.field
    unit = f" {rule.unit}" if rule.unit else ""
    values: dict[str, Any] = {
        "value": "no reading" if transition.value is MISSING else transition.value,
        "threshold": rule.threshold,
        "label": label,
        "unit": rule.unit,
        "robot": robot,
        "rule": rule.name,
        "forecast": forecast.spoken() if forecast else "",
        "minutes_to_threshold": forecast.minutes_to_threshold if forecast else None,
        "silent_s": rule.missing_for_s or 0,
    }
    if transition.status is AlertStatus.FIRING:
        template = rule.message
    elif rule.resolved_message is not None:
        template = rule.resolved_message
    elif rule.missing_for_s is not None:
        template = f"{rule.topic} is reporting again."
    else:
        template = f"{label} is back to normal ({value_text(transition.value)}{unit})."
    text = _FORMATTER.format(template, **values)
    return " ".join(text.split())


def notice(rule: AlertRule, transition: Transition, robot: str, text: str, open_session: bool) -> InboxEntry | None:
    """The inbox entry: info silent, warning spoken in turn, critical preempting; resolutions silent,
    and none for a ``changed`` rule (the change was the news)."""
    firing = transition.status is AlertStatus.FIRING
    severity = rule.severity
    if not firing:
        if rule.changed:
            return None
        return InboxEntry(
            kind=InboxKind.SYSTEM_MESSAGE, robot_id=robot, text=f"Resolved ({rule.name}): {text}",
            speak=False, source=SOURCE, reason=rule.name,
        )  # fmt: skip
    speak = severity is not Severity.INFO
    critical = severity is Severity.CRITICAL
    prefix = {Severity.INFO: "Notice", Severity.WARNING: "Warning", Severity.CRITICAL: "CRITICAL WARNING"}[severity]
    instructions = rule.instructions or (CRITICAL_INSTRUCTIONS if critical else WARNING_INSTRUCTIONS)
    return InboxEntry(
        kind=InboxKind.SYSTEM_MESSAGE,
        robot_id=robot,
        text=f"{prefix} ({rule.name}): {text}",
        speak=speak,
        source=SOURCE,
        reason=rule.name,
        instructions=instructions if speak else None,
        urgency=Urgency.URGENT if critical else Urgency.NORMAL,
        severity=severity,
        open_session=open_session and speak,
    )


def action_call(rule: AlertRule, transition: Transition, robot: str, timeout_s: float) -> ToolCall | None:
    """The tool call of the rule's ``action`` when it fires: one per firing, its call_id from the
    rule and the firing's time, so the executor (which dispatches a call_id once) runs it once."""
    if rule.action is None or transition.status is not AlertStatus.FIRING:
        return None
    now = utc_now()
    return ToolCall(
        call_id=f"alert-{rule.name}-{int(transition.at * 1000)}"[:128],
        robot_id=robot,
        name=rule.action,
        arguments="{}",
        session_id=f"{ALERT_SESSION_PREFIX}{rule.name}",
        issued_at=now,
        deadline=now + timedelta(seconds=timeout_s),
    )


def record(
    rule: AlertRule,
    transition: Transition,
    robot: str,
    text: str,
    forecast: Forecast | None,
    action: ToolCall | None = None,
) -> AlertTransition:
    """The alerts stream entry."""
    return AlertTransition(
        robot_id=robot,
        rule=rule.name,
        status=transition.status,
        severity=rule.severity,
        condition=rule.describe(),
        topic=rule.topic,
        value=value_text(transition.value),
        message=text,
        sample_at=utc_from_timestamp(transition.sample_at) if transition.sample_at is not None else None,
        minutes_to_threshold=forecast.minutes_to_threshold if forecast else None,
        at=utc_from_timestamp(transition.at),
        action=action.name if action else None,
        action_call_id=action.call_id if action else None,
    )
