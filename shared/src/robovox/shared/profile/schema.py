"""The robot profile: one YAML file per robot, the single source of its voice
session (persona, voice, tools) and of how each tool maps onto ROS.

The same tool definitions yield the Realtime API ``tools`` list and drive the
executor's validation, so what the model is told and what is enforced cannot
drift apart.
"""

from __future__ import annotations

from typing import Annotated, Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from robovox.shared.profile.alerts import AlertsConfig
from robovox.shared.profile.audio import RobotAudio
from robovox.shared.streams import ROBOT_ID_PATTERN

ToolName = Annotated[str, Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_-]{0,63}$")]
RosName = Annotated[str, Field(pattern=r"^/?[A-Za-z_~][A-Za-z0-9_/~]*$")]
RosType = Annotated[str, Field(pattern=r"^[A-Za-z0-9_]+/(msg/|srv/|action/)?[A-Za-z0-9_]+$")]
FieldPath = Annotated[str, Field(pattern=r"^[A-Za-z0-9_{}]+(\.[A-Za-z0-9_{}]+)*$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CallService(_Strict):
    """Call a ROS service; ``args`` is the request, with ``{argument}`` placeholders."""

    name: RosName
    type: RosType
    args: dict[str, Any] = Field(default_factory=dict)
    success_field: str | None = "success"
    """Boolean field of the response that reports success (``None``: any response is success)."""
    message_field: str | None = "message"
    """Text field of the response to report back."""


class PublishTopic(_Strict):
    """Publish one message on a topic."""

    topic: RosName
    type: RosType
    msg: dict[str, Any] = Field(default_factory=dict)


class SendActionGoal(_Strict):
    """Send a ROS 2 action goal and wait for its result (feedback is logged)."""

    name: RosName
    type: RosType
    goal: dict[str, Any] = Field(default_factory=dict)
    success_field: str | None = "success"
    message_field: str | None = "message"


class ReadTelemetry(_Strict):
    """Answer from the latest telemetry value, without a ROS round trip."""

    topic: RosName
    field: FieldPath = "data"
    """Dotted path into the message; ``{argument}`` placeholders choose the field."""
    label: str | None = None
    """How to name the value when speaking it (default: the field path)."""
    unit: str = ""
    max_age_s: float = Field(default=10.0, gt=0)


class RosBinding(_Strict):
    """Exactly one of the four ways a tool reaches the robot."""

    call_service: CallService | None = None
    publish: PublishTopic | None = None
    send_action_goal: SendActionGoal | None = None
    read_telemetry: ReadTelemetry | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> RosBinding:
        chosen = [name for name, value in self if value is not None]
        if len(chosen) != 1:
            raise ValueError(
                "give exactly one of call_service, publish, send_action_goal, read_telemetry"
                + (f" (got {', '.join(chosen)})" if chosen else "")
            )
        return self


class Precondition(_Strict):
    """A condition on the latest telemetry that must hold before the tool runs."""

    topic: RosName
    field: FieldPath = "data"
    equals: Any = None
    not_equals: Any = None
    one_of: list[Any] | None = None
    above: float | None = None
    below: float | None = None
    max_age_s: float = Field(default=10.0, gt=0)
    """Older telemetry counts as unknown, and unknown never passes."""
    message: str = Field(min_length=1)
    """What the robot says when the condition fails: what is wrong and what to do."""

    @model_validator(mode="after")
    def _one_test(self) -> Precondition:
        tests = [
            name for name in ("equals", "not_equals", "one_of", "above", "below") if getattr(self, name) is not None
        ]
        if not tests:
            raise ValueError("give one of equals, not_equals, one_of, above, below")
        return self


class Tool(_Strict):
    name: ToolName
    description: str = Field(min_length=1)
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    """JSON schema of the arguments (an object); extra arguments are refused unless it says otherwise."""
    ros: RosBinding
    motion: bool = False
    """Moves the robot: repeats with the same arguments are refused within the duplicate window."""
    preconditions: list[Precondition] = Field(default_factory=list)
    speak_on_success: bool = False
    """A robot that silently does what it is told is nicer to use; queries always speak."""
    success_instructions: str | None = None
    timeout_s: float = Field(default=10.0, gt=0, le=3600)

    @field_validator("parameters")
    @classmethod
    def _valid_object_schema(cls, schema: dict[str, Any]) -> dict[str, Any]:
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            raise ValueError(f"not a valid JSON schema: {exc.message}") from None
        if schema.get("type") != "object":
            raise ValueError('parameters must be a JSON schema with "type": "object"')
        return {"additionalProperties": False, **schema}

    @property
    def is_query(self) -> bool:
        return self.ros.read_telemetry is not None


class TelemetrySubscription(_Strict):
    topic: RosName
    type: RosType
    throttle_ms: int = Field(default=0, ge=0)
    """rosbridge throttle_rate: at most one message per this many milliseconds."""


class RobotProfile(_Strict):
    robot_id: Annotated[str, Field(pattern=ROBOT_ID_PATTERN)]
    display_name: str = ""
    rosbridge_url: Annotated[str, Field(pattern=r"^wss?://[^\s/]+(:\d+)?(/\S*)?$")]
    language: str = "English"
    voice: str = "ash"
    instructions: str = Field(min_length=1)
    """The persona; ``{language}`` and ``{display_name}`` are filled in."""
    tool_call_timeout_s: float = Field(default=10.0, gt=0)
    """The gateway's deadline for a call to start on the robot, from when the model made it."""
    tools: list[Tool] = Field(default_factory=list)
    telemetry: list[TelemetrySubscription] = Field(default_factory=list)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    audio: RobotAudio | None = None
    """The robot's own microphone and speaker, if the gateway should use them."""

    @model_validator(mode="after")
    def _unique_names(self) -> RobotProfile:
        for what, names in (
            ("tool", [t.name for t in self.tools]),
            ("telemetry topic", [s.topic for s in self.telemetry]),
        ):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{what} names must be unique; repeated: {', '.join(dupes)}")
        subscribed = {s.topic for s in self.telemetry} | self.alerts.derived_topics()
        unread = sorted(self.alerts.topics() - subscribed)
        if unread:
            raise ValueError(f"alerts read {', '.join(unread)}, which the profile does not subscribe under telemetry")
        for tool in self.tools:
            needed = [p.topic for p in tool.preconditions]
            if tool.ros.read_telemetry is not None:
                needed.append(tool.ros.read_telemetry.topic)
            missing = sorted(set(needed) - subscribed)
            if missing:
                raise ValueError(
                    f"tool {tool.name!r} reads telemetry from {', '.join(missing)}, "
                    "which the profile does not subscribe under telemetry"
                )
        return self

    def tool(self, name: str) -> Tool | None:
        return next((t for t in self.tools if t.name == name), None)

    def persona(self) -> str:
        return self.instructions.replace("{language}", self.language).replace(
            "{display_name}", self.display_name or self.robot_id
        )

    @property
    def rosbridge_host_port(self) -> tuple[str, int]:
        rest = self.rosbridge_url.split("://", 1)[1].split("/", 1)[0]
        host, _, port = rest.rpartition(":")
        if not host:
            return rest, 443 if self.rosbridge_url.startswith("wss") else 9090
        return host.strip("[]"), int(port)
