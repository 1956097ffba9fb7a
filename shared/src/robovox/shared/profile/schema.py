"""The robot profile: one YAML file per robot, the single source of its voice
session (persona, voice, tools) and of how each tool maps onto ROS.

The same tool definitions yield the Realtime API ``tools`` list and drive the
executor's validation, so what the model is told and what is enforced cannot
drift apart.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import Field, field_validator, model_validator

from robovox.shared.profile.alerts import AlertsConfig
from robovox.shared.profile.audio import RobotAudio
from robovox.shared.profile.ros import (
    FieldPath,
    MessageType,
    RosBinding,
    RosName,
    Strict,
    ToolName,
)
from robovox.shared.profile.stop_word import StopWord
from robovox.shared.streams import ROBOT_ID_PATTERN


class FieldProblem(ValueError):
    """A rule across sections broken at ``loc`` (a path into the profile, as pydantic's), so that
    the loader names that field's line rather than the profile's first."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


class Precondition(Strict):
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


class Confirm(Strict):
    """How to see in telemetry that a command took effect: rosbridge never answers a publish, so
    without this a publish is only known to be sent."""

    topic: RosName
    field: FieldPath = "data"
    equals: Any = None
    above: float | None = None
    below: float | None = None
    within_s: float = Field(default=2.0, gt=0, le=600)
    """A message received this long after the command was sent must show it."""

    @model_validator(mode="after")
    def _one_test(self) -> Confirm:
        tests = [name for name in ("equals", "above", "below") if getattr(self, name) is not None]
        if len(tests) != 1:
            raise ValueError("give exactly one of equals, above, below")
        return self

    def holds(self, value: Any) -> bool:
        if self.equals is not None:
            return bool(value == self.equals)
        if not isinstance(value, int | float) or isinstance(value, bool):
            return False
        return value > self.above if self.above is not None else value < (self.below or 0.0)

    def describe(self) -> str:
        test = (
            f"equals {self.equals!r}"
            if self.equals is not None
            else (f"above {self.above:g}" if self.above is not None else f"below {self.below:g}")
        )
        return f"{self.topic} {self.field} {test} within {self.within_s:g} s"


class Tool(Strict):
    name: ToolName
    description: str = Field(min_length=1)
    examples: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(default_factory=list, max_length=20)
    """Things a person would say for this tool: they document it, and the model is given them with
    the description (the Realtime emulator's stand-in model matches on them)."""
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
    confirm: Confirm | None = None
    """Checked against telemetry after the command: "sent but not confirmed" when it does not hold."""

    @model_validator(mode="after")
    def _confirm_needs_a_command(self) -> Tool:
        if self.confirm is not None and self.ros.read_telemetry is not None:
            raise ValueError("confirm is for tools that send a command, not for read_telemetry")
        return self

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


class TelemetrySubscription(Strict):
    topic: RosName
    type: MessageType
    throttle_ms: int = Field(default=0, ge=0)
    """rosbridge throttle_rate: at most one message per this many milliseconds."""


class RobotLink(Strict):
    """What the adapter expects of the robot behind its rosbridge."""

    ros_version: Literal["auto", 1, 2] = "auto"
    """``auto``: asked from rosapi at every connect (``/rosapi/get_ros_version``)."""
    heartbeat_topic: RosName | None = None
    """The telemetry topic that proves the robot is heard (default: any subscribed topic)."""
    max_silence_s: float = Field(default=5.0, gt=0, le=3600)
    """Websocket up and nothing heard this long: the robot is ``unreachable`` and motion is refused."""
    after_stall: ToolName | None = None
    """A tool (a service or publish without required arguments) the adapter runs first when a link
    that stalled with a motion command in flight comes back, before any other command."""


class EmergencyStop(Strict):
    """The robot's emergency stop, sent on its own path ahead of every other command."""

    tool: ToolName
    """The profile tool that stops the robot (a service or publish without required arguments); the
    model calling it takes the same priority path."""
    deadline_s: float = Field(default=5.0, gt=0, le=60)
    """How long a stop is retried on the link (through an outage) before it is given up; never sent after."""
    reset: RosBinding | None = None
    """The robot's own reset (a service or publish), run when a person resets the stop; not a tool."""
    stop_word: StopWord | None = None
    """Phrases the gateway listens for in the microphone holder's and the robot's own microphone's
    audio; hearing one stops the robot through the same path as the API (none: no stop word)."""

    @model_validator(mode="after")
    def _reset_sends(self) -> EmergencyStop:
        if self.reset is not None and self.reset.call_service is None and self.reset.publish is None:
            raise ValueError("emergency_stop.reset must be a call_service or a publish")
        return self


class RobotProfile(Strict):
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
    robot_link: RobotLink = Field(default_factory=RobotLink)
    emergency_stop: EmergencyStop | None = None

    @model_validator(mode="after")
    def _unique_names(self) -> RobotProfile:
        for section, key, names in (
            ("tools", "name", [t.name for t in self.tools]),
            ("telemetry", "topic", [s.topic for s in self.telemetry]),
        ):
            for index, name in enumerate(names):
                if name in names[:index]:
                    raise FieldProblem((section, index, key), f"{name!r} is given twice; names must be unique")
        subscribed = {s.topic for s in self.telemetry} | self.alerts.derived_topics()
        read: list[tuple[tuple[str | int, ...], str]] = [
            (("alerts", "rules", i, "topic"), r.topic) for i, r in enumerate(self.alerts.rules)
        ]
        read += [(("alerts", "context", i, "topic"), c.topic) for i, c in enumerate(self.alerts.context)]
        for loc, topic in read:
            if topic not in subscribed:
                raise FieldProblem(loc, f"{topic} is not subscribed under telemetry, so nothing would ever arrive")
        forecast = self.alerts.battery_forecast
        if forecast is not None and forecast.topic not in subscribed:
            raise FieldProblem(
                ("alerts", "battery_forecast", "topic"), f"{forecast.topic} is not subscribed under telemetry"
            )
        self._check_robot_link()
        for index, tool in enumerate(self.tools):
            uses: list[tuple[tuple[str | int, ...], str]] = [
                (("preconditions", i, "topic"), p.topic) for i, p in enumerate(tool.preconditions)
            ]
            if tool.ros.read_telemetry is not None:
                uses.append((("ros", "read_telemetry", "topic"), tool.ros.read_telemetry.topic))
            if tool.confirm is not None:
                uses.append((("confirm", "topic"), tool.confirm.topic))
            for loc, topic in uses:
                if topic not in subscribed:
                    raise FieldProblem(
                        ("tools", index, *loc),
                        f"tool {tool.name!r} reads telemetry from {topic}, which the profile does not subscribe "
                        "under telemetry",
                    )
        return self

    def _check_robot_link(self) -> None:
        link = self.robot_link
        if link.heartbeat_topic is not None:
            if link.heartbeat_topic not in {s.topic for s in self.telemetry}:
                raise FieldProblem(
                    ("robot_link", "heartbeat_topic"), f"{link.heartbeat_topic} is not subscribed under telemetry"
                )
            for index, rule in enumerate(self.alerts.rules):
                if rule.topic == link.heartbeat_topic and rule.missing_for_s not in (None, link.max_silence_s):
                    raise FieldProblem(
                        ("alerts", "rules", index, "missing_for_s"),
                        f"alert {rule.name!r} calls {rule.topic} silent after {rule.missing_for_s:g} s but "
                        f"robot_link.max_silence_s is {link.max_silence_s:g} s: give both the same value, so "
                        "that the alert and the robot's link state agree",
                    )
        if link.after_stall is not None:
            self._check_stop_tool(("robot_link", "after_stall"), link.after_stall)
        if self.emergency_stop is not None:
            self._check_stop_tool(("emergency_stop", "tool"), self.emergency_stop.tool)
        for index, rule in enumerate(self.alerts.rules):
            action = self.tool(rule.action) if rule.action else None
            if rule.action and (action is None or action.is_query or action.parameters.get("required")):
                raise FieldProblem(
                    ("alerts", "rules", index, "action"),
                    f"alert {rule.name!r}: action must name a command tool without required arguments "
                    f"({rule.action!r})",
                )

    def _check_stop_tool(self, loc: tuple[str, ...], name: str) -> None:
        tool = self.tool(name)
        if tool is None or (tool.ros.call_service is None and tool.ros.publish is None):
            raise FieldProblem(loc, f"must name a service or publish tool ({name!r})")
        if tool.parameters.get("required"):
            raise FieldProblem(loc, f"tool {tool.name!r} must take no required arguments")

    def is_emergency_stop(self, tool_name: str) -> bool:
        return self.emergency_stop is not None and self.emergency_stop.tool == tool_name

    def heartbeat_topics(self) -> set[str]:
        """The topics whose messages prove the robot is heard."""
        topic = self.robot_link.heartbeat_topic
        return {topic} if topic is not None else {s.topic for s in self.telemetry}

    def tool(self, name: str) -> Tool | None:
        return next((t for t in self.tools if t.name == name), None)

    def persona(self) -> str:
        return self.instructions.replace("{language}", self.language).replace(
            "{display_name}", self.display_name or self.robot_id
        )
