"""How a profile names ROS things: names, types in either dialect, and the four ways a tool
reaches the robot (``RosBinding``)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from robovox.shared.ros_types import InterfaceKind, RosTypeName

ToolName = Annotated[str, Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_-]{0,63}$")]
RosName = Annotated[str, Field(pattern=r"^/?[A-Za-z_~][A-Za-z0-9_/~]*$")]
_TYPE_PATTERN = Field(pattern=r"^[A-Za-z0-9_]+/(msg/|srv/|action/)?[A-Za-z0-9_]+$")


def _kind_checker(kind: InterfaceKind) -> AfterValidator:
    """Either dialect (``pkg/Name`` or ``pkg/<kind>/Name``), never another kind's middle part."""

    def check(text: str) -> str:
        RosTypeName.parse(text, kind)
        return text

    return AfterValidator(check)


MessageType = Annotated[str, _TYPE_PATTERN, _kind_checker(InterfaceKind.MSG)]
ServiceType = Annotated[str, _TYPE_PATTERN, _kind_checker(InterfaceKind.SRV)]
ActionType = Annotated[str, _TYPE_PATTERN, _kind_checker(InterfaceKind.ACTION)]
FieldPath = Annotated[str, Field(pattern=r"^[A-Za-z0-9_{}]+(\.[A-Za-z0-9_{}]+)*$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CallService(Strict):
    """Call a ROS service; ``args`` is the request, with ``{argument}`` placeholders."""

    name: RosName
    type: ServiceType
    args: dict[str, Any] = Field(default_factory=dict)
    success_field: str | None = "success"
    """Boolean field of the response that reports success (``None``: any response is success)."""
    message_field: str | None = "message"
    """Text field of the response to report back."""


class PublishTopic(Strict):
    """Publish one message on a topic."""

    topic: RosName
    type: MessageType
    msg: dict[str, Any] = Field(default_factory=dict)


class SendActionGoal(Strict):
    """Send a ROS 2 action goal and wait for its result (feedback is logged)."""

    name: RosName
    type: ActionType
    goal: dict[str, Any] = Field(default_factory=dict)
    success_field: str | None = "success"
    message_field: str | None = "message"


class ReadTelemetry(Strict):
    """Answer from the latest telemetry value, without a ROS round trip."""

    topic: RosName
    field: FieldPath = "data"
    """Dotted path into the message; ``{argument}`` placeholders choose the field."""
    label: str | None = None
    """How to name the value when speaking it (default: the field path)."""
    unit: str = ""
    max_age_s: float = Field(default=10.0, gt=0)


class RosBinding(Strict):
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
