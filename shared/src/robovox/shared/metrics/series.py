"""Every Prometheus series a RoboVox process exports, in one place.

They live in ``prometheus_client``'s process-wide registry, each service
setting the ones it owns. Labels are bounded: a robot id (from the profiles), a
tool name (from the profile; a name the profile lacks is ``unknown``), an
outcome, a reason, a state, a stream or group name. Never a call id.

What a scrape also reads from Redis (stream lengths, group lag and pending) is
in ``robovox.shared.metrics.streams``.
"""

from __future__ import annotations

import time
from datetime import datetime
from enum import StrEnum
from typing import Final, Generic, TypeVar

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

from robovox.shared.messages import AlertStatus, AlertTransition

UNKNOWN_TOOL: Final = "unknown"
"""The tool label of a call whose name the robot's profile does not have (labels stay bounded)."""

STAGE_BUCKETS: Final = (
    0.001,
    0.002,
    0.003,
    0.005,
    0.0075,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)
LAG_BUCKETS: Final = (0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class Stage(StrEnum):
    """How far a tool call got; each is timed from the moment the gateway saw the model's call complete."""

    PUBLISHED = "published"
    """Its ``tool_calls`` entry confirmed by Redis (session-gateway)."""
    DISPATCHED = "dispatched"
    """Its command appended for the adapter (tool-executor)."""
    SENT = "sent"
    """Its command written to the robot's rosbridge socket (ros-adapter)."""
    RESULT = "result"
    """The robot's result stored (ros-adapter)."""
    ANSWERED = "answered"
    """Its output appended to the robot's inbox: refused, answered from telemetry, or the command's outcome
    (tool-executor)."""


CALL_STAGE: Final = Histogram(
    "robovox_call_stage_seconds",
    "Seconds from the model's completed function call to each stage of the tool call.",
    ["robot", "tool", "stage"],
    buckets=STAGE_BUCKETS,
)
CALLS: Final = Counter(
    "robovox_calls", "Tool calls answered, by outcome and reason.", ["robot", "tool", "outcome", "reason"]
)
REFUSALS: Final = Counter("robovox_refusals", "Tool calls refused, by reason.", ["robot", "tool", "reason"])
SESSION_STATE: Final = Gauge(
    "robovox_session_state", "1 for the state the robot's voice session is in.", ["robot", "state"]
)
SESSION_RECYCLES: Final = Counter("robovox_session_recycles", "Sessions replaced before the provider's cap.", ["robot"])
SESSION_RECONNECTS: Final = Counter(
    "robovox_session_reconnects", "Sessions reopened after a failed or lost one.", ["robot"]
)
LINK_STATE: Final = Gauge("robovox_link_state", "1 for the state the robot's rosbridge link is in.", ["robot", "state"])
LINK_RECONNECTS: Final = Counter("robovox_link_reconnects", "Rosbridge links up again after a loss.", ["robot"])
LINK_STALLS: Final = Counter("robovox_link_stalls", "Rosbridge links dropped for an unanswered ping.", ["robot"])
ALERT_TRANSITIONS: Final = Counter(
    "robovox_alert_transitions", "Alert transitions, firing or resolved.", ["robot", "rule", "severity", "status"]
)
ALERTS_FIRING: Final = Gauge(
    "robovox_alerts_firing", "1 while the rule's alert is firing.", ["robot", "rule", "severity"]
)
EMERGENCY: Final = Counter(
    "robovox_emergency_requests", "Emergency stops and resets triggered, by what.", ["robot", "action", "trigger"]
)
DEAD_LETTERS: Final = Counter(
    "robovox_dead_letters", "Entries this process gave up on (dead-lettered).", ["robot", "stream", "group"]
)
LOOP_LAG: Final = Histogram(
    "robovox_loop_lag_seconds", "How late a 50 ms timer of the event loop fired.", buckets=LAG_BUCKETS
)
REDIS_ERRORS: Final = Counter("robovox_redis_errors", "Redis errors met (unreachable, dropped, timed out).", ["where"])


MetricT = TypeVar("MetricT", bound=MetricWrapperBase)


class Children(Generic[MetricT]):
    """The labelled children of ``metric``, each looked up once: ``labels()`` validates and locks on
    every call, a third of what a tool call's counting costs. Labels are bounded, and so is this."""

    def __init__(self, metric: MetricT) -> None:
        self._metric = metric
        self._children: dict[tuple[str, ...], MetricT] = {}

    def __call__(self, *values: str) -> MetricT:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._metric.labels(*values)
        return child


CALL_STAGE_OF: Final = Children(CALL_STAGE)
CALLS_OF: Final = Children(CALLS)
REFUSALS_OF: Final = Children(REFUSALS)


def set_state(gauge: Gauge, robot: str, states: type[StrEnum], current: StrEnum) -> None:
    """One series per state of ``states``: 1 for ``current``, 0 for every other (a gauge per state,
    so a dashboard counts robots by state with ``sum by (state)``)."""
    for state in states:
        gauge.labels(robot=robot, state=state.value).set(1.0 if state is current else 0.0)


def observe_stage(robot: str, tool: str, stage: Stage, issued_at: datetime) -> None:
    """Time ``stage`` of a call from its ``issued_at`` (the gateway's clock: one box, one clock)."""
    CALL_STAGE_OF(robot, tool, stage.value).observe(max(0.0, time.time() - issued_at.timestamp()))


def show_firing(robot: str, rule: str, severity: StrEnum, firing: bool) -> None:
    ALERTS_FIRING.labels(robot, rule, severity.value).set(1.0 if firing else 0.0)


def count_alert(record: AlertTransition) -> None:
    """An alert transition written to the robot's ``alerts`` stream."""
    ALERT_TRANSITIONS.labels(record.robot_id, record.rule, record.severity.value, record.status.value).inc()
    show_firing(record.robot_id, record.rule, record.severity, record.status is AlertStatus.FIRING)


def forget_robot(robot_id: str) -> None:
    """A robot this process no longer serves (its profile was removed): its series leave the
    scrape. Its gauges would otherwise hold their last values for ever: a link ``up``, a session
    ``live``, an alert firing, on a robot that is gone."""
    for metric in list(globals().values()):
        if isinstance(metric, MetricWrapperBase) and "robot" in getattr(metric, "_labelnames", ()):
            metric.remove_by_labels({"robot": robot_id})
