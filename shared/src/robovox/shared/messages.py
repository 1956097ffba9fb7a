"""The message models that cross service boundaries through Redis streams.

Each model is one stream's entry; ``docs/streams.md`` lists which stream
carries which model. Times are aware UTC datetimes; on the wire they are ISO
8601 text (see ``robovox.shared.entry``).
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field, model_validator

from robovox.shared.entry import StreamEntry, utc_now
from robovox.shared.profile.alerts import Severity
from robovox.shared.streams import check_robot_id

RobotId = Annotated[str, AfterValidator(check_robot_id)]
CallId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")]


def _json_object_text(value: str) -> str:
    """Accept only text that parses as a JSON object (for payloads RoboVox itself writes)."""
    parsed = json.loads(value)
    if not isinstance(parsed, dict):
        raise ValueError("must be a JSON object")
    return value


JsonObjectText = Annotated[str, AfterValidator(_json_object_text)]


ALERT_SESSION_PREFIX = "alert:"
"""The ``session_id`` of a tool call an alert rule's ``action`` made: ``alert:<rule>``."""


class ToolCall(StreamEntry):
    """A function call the model completed, as the gateway publishes it.

    ``arguments`` is the model's raw JSON text, unparsed: text that is not JSON
    is one of the rejections the executor must be able to speak.
    """

    call_id: CallId
    robot_id: RobotId
    name: str = Field(min_length=1, max_length=128)
    arguments: str = ""
    session_id: str | None = None
    issued_at: AwareDatetime = Field(default_factory=utc_now)
    deadline: AwareDatetime
    """The call must have started on the robot by this time, or not at all."""


class CommandKind(StrEnum):
    SERVICE = "service"
    PUBLISH = "publish"
    ACTION = "action"


class RosCommand(StreamEntry):
    """A validated ROS operation, from the tool executor to the ROS adapter."""

    call_id: CallId
    robot_id: RobotId
    tool: str
    kind: CommandKind
    target: str
    """Service, topic or action name."""
    ros_type: str
    payload: JsonObjectText
    """Service args, message, or action goal, as JSON."""
    deadline: AwareDatetime
    """Start by this time or fail without touching the robot."""
    timeout_s: float = Field(gt=0, le=3600)
    """How long the operation itself may take once started."""
    issued_at: AwareDatetime = Field(default_factory=utc_now)
    call_issued_at: AwareDatetime | None = None
    """When the gateway saw the model's call complete (the tool call's ``issued_at``), for the stage
    timings; absent on commands no tool call made (emergency stop and reset, the after-stall stop)."""

    def payload_object(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.payload)
        return loaded


class CommandStatus(StrEnum):
    SUCCEEDED = "succeeded"
    """Answered as done: a service or action result, or a command whose ``confirm`` held."""
    SENT = "sent"
    """A publish rosbridge read (a pong after it proved that) and nothing can confirm: rosbridge
    never answers a publish, and the tool declares no ``confirm``."""
    UNCONFIRMED = "unconfirmed"
    """Sent (and answered, for a service), but the tool's ``confirm`` did not hold in time."""
    FAILED = "failed"
    """The robot ran the command and reported failure (service result false, action aborted)."""
    TIMED_OUT = "timed_out"
    """Started, but no answer within the operation timeout: outcome unknown."""
    LINK_DOWN = "link_down"
    """Not sent: the rosbridge link was down."""
    EXPIRED = "expired"
    """Not sent: its deadline had passed."""
    UNAVAILABLE = "unavailable"
    """Not sent: the adapter's check found the robot lacks what the tool needs."""
    CANCELED = "canceled"
    INTERRUPTED = "interrupted"
    """The adapter restarted, or the link dropped, while the command ran: outcome unknown, never retried."""
    STALLED = "stalled"
    """Sent, then the bridge stopped answering before it acknowledged: it may still run, late,
    when the bridge recovers."""


class CommandResult(StreamEntry):
    """The outcome of one RosCommand, from the ROS adapter."""

    call_id: CallId
    robot_id: RobotId
    status: CommandStatus
    message: str = ""
    """Human text: the robot's own message, or why RoboVox did not run the command."""
    values: JsonObjectText = "{}"
    """The service response / action result values, as JSON."""
    sent_to_robot: bool
    """Whether anything reached rosbridge for this command."""
    duration_ms: float = 0.0
    finished_at: AwareDatetime = Field(default_factory=utc_now)

    @property
    def ok(self) -> bool:
        return self.status is CommandStatus.SUCCEEDED

    def values_object(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.values)
        return loaded


class InboxKind(StrEnum):
    FUNCTION_CALL_OUTPUT = "function_call_output"
    SYSTEM_MESSAGE = "system_message"
    USER_MESSAGE = "user_message"


class Outcome(StrEnum):
    """How a tool call ended, for people reading the inbox."""

    SUCCEEDED = "succeeded"
    REJECTED = "rejected"
    """Refused before touching the robot."""
    FAILED = "failed"
    SENT = "sent"
    """Reached the robot's bridge; nothing can tell whether it took effect (a publish without ``confirm``)."""
    UNKNOWN = "unknown"
    """Started but unconfirmed (timeout, adapter restart, a bridge that stalled, a ``confirm`` that did not hold)."""


class Urgency(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"
    """Preempt the active response (critical alerts)."""


class InboxEntry(StreamEntry):
    """Something the gateway must put into the robot's conversation.

    ``function_call_output`` carries ``call_id`` and becomes a
    ``conversation.item.create`` of that type; the other kinds become a
    ``message`` item with role system / user. ``speak`` asks for a
    ``response.create`` (with ``instructions`` when given).
    """

    kind: InboxKind
    robot_id: RobotId
    text: str
    speak: bool
    source: str
    call_id: CallId | None = None
    tool: str | None = None
    outcome: Outcome | None = None
    reason: str | None = None
    """Machine-readable rejection or failure class (``unknown_tool``, ``precondition`` ...)."""
    instructions: str | None = None
    urgency: Urgency = Urgency.NORMAL
    severity: Severity | None = None
    """An alert's severity (alert monitor), shown to operators."""
    open_session: bool = False
    """Ask the gateway to open the robot's session if none is open (alerts on robots with a speaker)."""
    created_at: AwareDatetime = Field(default_factory=utc_now)

    @model_validator(mode="after")
    def _call_id_for_outputs(self) -> InboxEntry:
        if self.kind is InboxKind.FUNCTION_CALL_OUTPUT and not self.call_id:
            raise ValueError("a function_call_output needs its call_id")
        return self


class TelemetrySample(StreamEntry):
    """One message from a subscribed topic.

    The message's scalar leaves are flattened into ``msg.<path>`` fields (for
    inspection); ``msg`` holds the whole message as JSON.
    """

    robot_id: RobotId
    topic: str
    ros_type: str
    msg: JsonObjectText
    received_at: AwareDatetime = Field(default_factory=utc_now)

    def to_fields(self) -> dict[str, str]:
        fields = super().to_fields()
        fields.update(flatten_message(json.loads(self.msg)))
        return fields

    def message(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.msg)
        return loaded


def flatten_message(message: dict[str, Any], prefix: str = "msg.") -> dict[str, str]:
    """``{"pose": {"x": 1.5}, "ok": true}`` -> ``{"msg.pose.x": "1.5", "msg.ok": "true"}``.

    Lists stay whole as JSON text: a column per array element helps nobody.
    """
    flat: dict[str, str] = {}
    for key, value in message.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_message(value, f"{path}."))
        elif isinstance(value, bool):
            flat[path] = "true" if value else "false"
        elif isinstance(value, list):
            flat[path] = json.dumps(value, separators=(",", ":"))
        else:
            flat[path] = str(value)
    return flat


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class AlertTransition(StreamEntry):
    """An alert rule firing or resolving, with the sample that caused it."""

    robot_id: RobotId
    rule: str
    status: AlertStatus
    severity: Severity
    condition: str
    """The rule's condition in words: ``/battery/voltage data below 23 V``."""
    topic: str
    value: str
    """The value that caused the transition, as text (empty for a silent topic)."""
    message: str
    """What the model was told."""
    sample_at: AwareDatetime | None = None
    """When the causing sample was received (none for a silent topic)."""
    minutes_to_threshold: float | None = None
    """The battery forecast at the time, when there is one."""
    trigger: str | None = None
    """Emergency stops and resets (rule ``emergency_stop`` / ``emergency_reset``): ``api``, ``model``, ``alert``."""
    triggered_by: str | None = None
    """Who or what: the API client, ``call <call_id>``, ``rule <name>``."""
    stop_id: str | None = None
    action: str | None = None
    """The tool the rule ran when it fired (``stop_cleaning``), and ``action_call_id`` its call."""
    action_call_id: str | None = None
    at: AwareDatetime = Field(default_factory=utc_now)


class EmergencyAction(StrEnum):
    STOP = "stop"
    RESET = "reset"


class EmergencyTrigger(StrEnum):
    API = "api"
    MODEL = "model"
    ALERT = "alert"
    STOP_WORD = "stop_word"


class EmergencyRequest(StreamEntry):
    """An emergency stop or reset on the robot's priority path (``emergency`` stream)."""

    stop_id: CallId
    """The model's call_id for a stop the model called; else RoboVox's own id."""
    robot_id: RobotId
    action: EmergencyAction
    trigger: EmergencyTrigger
    triggered_by: str = Field(max_length=200)
    call_id: CallId | None = None
    """The model's call, when the model called the stop tool (its record is started and answered)."""
    issued_at: AwareDatetime = Field(default_factory=utc_now)
    deadline: AwareDatetime
    """The stop is retried on the link until then, and never written after."""


class DeadLetter(StreamEntry):
    """An entry a consumer gave up on, with the reason and the original fields."""

    stream: str
    entry_id: str
    group: str
    consumer: str
    deliveries: int
    reason: str
    original: str
    """The original entry's fields as JSON."""
    dead_at: AwareDatetime = Field(default_factory=utc_now)


def parse_time(value: str) -> datetime:
    """Parse the ISO text RoboVox writes (``...Z``)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
