"""Everything the monitor decides for one robot, without I/O: samples in,
alert transitions, derived telemetry and context notes out.

``evaluate`` is the hot path (every telemetry sample of the robot goes through
it), so it skips topics no rule reads before parsing anything.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from robovox.alert_monitor import notices
from robovox.alert_monitor.context import ContextField
from robovox.alert_monitor.errors import MonitorError
from robovox.alert_monitor.forecast import BatteryForecaster, Forecast
from robovox.alert_monitor.rules import RuleEvaluator, Transition
from robovox.shared.messages import AlertTransition, InboxEntry, InboxKind, ToolCall, parse_time
from robovox.shared.profile import RobotProfile
from robovox.shared.profile.alerts import BATTERY_FORECAST_TOPIC
from robovox.shared.profile.mapping import as_number, read_field

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RaisedAlert:
    """A transition ready to be written: its stream record, its inbox notice, the rule's new state."""

    record: AlertTransition
    notice: InboxEntry | None
    action: ToolCall | None
    """The rule's ``action``, a tool call for the executor, when it fires."""
    rule: str
    state: str


@dataclass(slots=True)
class Outgoing:
    """What the evaluation produced since the last write."""

    alerts: list[RaisedAlert] = field(default_factory=list)
    derived: list[tuple[str, dict[str, Any], float]] = field(default_factory=list)
    """(topic, message, time) of derived telemetry (the battery forecast)."""

    def __bool__(self) -> bool:
        return bool(self.alerts or self.derived)


class UnreadableSampleError(MonitorError, ValueError):
    """A telemetry entry that is not a sample the monitor can evaluate."""


class RobotEvaluation:
    def __init__(self, profile: RobotProfile, now: float) -> None:
        self.robot_id = profile.robot_id
        self._call_timeout_s = profile.tool_call_timeout_s
        config = profile.alerts
        self._open_session = config.when_no_session == "open"
        self.rules = {rule.name: RuleEvaluator(rule, now) for rule in config.rules}
        self.context = [ContextField(spec) for spec in config.context]
        self.forecaster = BatteryForecaster(config.battery_forecast) if config.battery_forecast else None
        self.forecast: Forecast | None = None
        self._rules_by_topic: dict[str, list[RuleEvaluator]] = {}
        for evaluator in self.rules.values():
            self._rules_by_topic.setdefault(evaluator.rule.topic, []).append(evaluator)
        self._context_by_topic: dict[str, list[ContextField]] = {}
        for context in self.context:
            self._context_by_topic.setdefault(context.spec.topic, []).append(context)
        self.derived_topics = config.derived_topics()
        self.topics = set(self._rules_by_topic) | set(self._context_by_topic)
        if self.forecaster is not None:
            self.topics.add(self.forecaster.config.topic)
        self.out = Outgoing()
        self.samples_evaluated = 0
        self.samples_unreadable = 0

    def evaluate(self, fields: Mapping[str, str]) -> None:
        """One telemetry stream entry (decoded fields); UnreadableSampleError if it is not a sample."""
        topic = fields.get("topic")
        if topic is None:
            self.samples_unreadable += 1
            raise UnreadableSampleError("not a telemetry sample: it has no topic")
        if fields.get("robot_id") != self.robot_id:
            self.samples_unreadable += 1
            raise UnreadableSampleError(f"sample for robot {fields.get('robot_id')!r} on {self.robot_id!r}'s stream")
        if topic not in self.topics or topic in self.derived_topics:
            return  # derived samples were evaluated when they were made
        try:
            msg = json.loads(fields["msg"])
            at = parse_time(fields["received_at"]).timestamp()
        except (KeyError, ValueError, TypeError, RecursionError) as exc:
            self.samples_unreadable += 1
            what = f"no {exc.args[0]} field" if isinstance(exc, KeyError) else f"{type(exc).__name__}: {exc}"
            raise UnreadableSampleError(f"unreadable sample on {topic}: {what}") from None
        if not isinstance(msg, dict):
            self.samples_unreadable += 1
            raise UnreadableSampleError(f"unreadable sample on {topic}: msg is not a JSON object")
        self.samples_evaluated += 1
        self._evaluate(topic, msg, at)

    def _evaluate(self, topic: str, msg: dict[str, Any], at: float) -> None:
        for evaluator in self._rules_by_topic.get(topic, ()):
            transition = evaluator.observe(read_field(msg, evaluator.rule.field), at)
            if transition is not None:
                self._raise(evaluator, transition)
        for context in self._context_by_topic.get(topic, ()):
            context.observe(read_field(msg, context.spec.field))
        forecaster = self.forecaster
        if forecaster is not None and topic == forecaster.config.topic:
            volts = as_number(read_field(msg, forecaster.config.field))
            if volts is not None:
                forecaster.add(at, volts)
                if forecaster.due(at):
                    self._publish_forecast(forecaster, at)

    def _publish_forecast(self, forecaster: BatteryForecaster, at: float) -> None:
        forecaster.published_at = at
        forecast = forecaster.forecast()
        msg = forecast.message() if forecast is not None else forecaster.early_message()
        if msg is None:
            return
        self.forecast = forecast
        self.out.derived.append((BATTERY_FORECAST_TOPIC, msg, at))
        self._evaluate(BATTERY_FORECAST_TOPIC, msg, at)

    def tick(self, now: float) -> None:
        """Let time pass for every rule (``for_s``, ``clear_for_s``, cooldowns, silent topics)."""
        for evaluator in self.rules.values():
            transition = evaluator.tick(now)
            if transition is not None:
                self._raise(evaluator, transition)

    def _raise(self, evaluator: RuleEvaluator, transition: Transition) -> None:
        rule = evaluator.rule
        text = notices.render(rule, transition, self.robot_id, self.forecast)
        action = notices.action_call(rule, transition, self.robot_id, self._call_timeout_s)
        self.out.alerts.append(
            RaisedAlert(
                record=notices.record(rule, transition, self.robot_id, text, self.forecast, action),
                action=action,
                notice=notices.notice(rule, transition, self.robot_id, text, self._open_session),
                rule=rule.name,
                state=evaluator.dump(),
            )
        )

    def context_note(self, now: float) -> InboxEntry | None:
        """One silent system message with every context value worth telling now, or None."""
        due = [context.offer(now) for context in self.context if context.due(now)]
        if not due:
            return None
        return InboxEntry(
            kind=InboxKind.SYSTEM_MESSAGE,
            robot_id=self.robot_id,
            text="Telemetry update: " + "; ".join(due) + ".",
            speak=False,
            source=notices.SOURCE,
            reason="telemetry_context",
        )

    def forget_context(self) -> None:
        """A new conversation: every context value is told again."""
        for context in self.context:
            context.forget()

    def take(self) -> Outgoing:
        out, self.out = self.out, Outgoing()
        return out

    def restore(self, states: Mapping[str, str]) -> None:
        for name, text in states.items():
            evaluator = self.rules.get(name)
            if evaluator is not None:
                evaluator.restore(text)
