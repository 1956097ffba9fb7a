"""ROS interface type names in both dialects.

A profile may write a type as ROS 2 does (``std_msgs/msg/Float32``) or as ROS 1
does (``std_msgs/Float32``). Each robot is sent the form its own ROS
understands: a ROS 1 rosbridge drops the ROS 2 form without a word. ROS 1 has
no action interfaces of its own: an action is five actionlib topics whose
message types are derived from the action's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum


class RosVersion(IntEnum):
    ROS1 = 1
    ROS2 = 2


class InterfaceKind(StrEnum):
    MSG = "msg"
    SRV = "srv"
    ACTION = "action"


@dataclass(frozen=True, slots=True)
class RosTypeName:
    """``package/Name`` of a message, service or action, without its dialect."""

    package: str
    name: str
    kind: InterfaceKind

    @classmethod
    def parse(cls, text: str, kind: InterfaceKind) -> RosTypeName:
        """``pkg/Name`` or ``pkg/<kind>/Name``; a middle part naming another kind is an error."""
        parts = text.strip("/").split("/")
        if len(parts) == 2:
            return cls(parts[0], parts[1], kind)
        if len(parts) == 3 and parts[1] == kind.value:
            return cls(parts[0], parts[2], kind)
        raise ValueError(f"{text!r} is not a {kind.value} type name (pkg/Name or pkg/{kind.value}/Name)")

    def spelled_for(self, version: RosVersion) -> str:
        if version is RosVersion.ROS1:
            return f"{self.package}/{self.name}"
        return f"{self.package}/{self.kind.value}/{self.name}"

    def names_same(self, other: str) -> bool:
        """Whether ``other`` (in either dialect) names this type."""
        try:
            parsed = RosTypeName.parse(other, self.kind)
        except ValueError:
            return False
        return (parsed.package, parsed.name) == (self.package, self.name)

    def actionlib(self, part: ActionlibPart) -> str:
        """The ROS 1 message type of one of this action's actionlib topics."""
        if part is ActionlibPart.CANCEL:
            return "actionlib_msgs/GoalID"
        if part is ActionlibPart.STATUS:
            return "actionlib_msgs/GoalStatusArray"
        return f"{self.package}/{self.name}Action{part.value.capitalize()}"


class ActionlibPart(StrEnum):
    """The topics of a ROS 1 action ``<name>/<part>``."""

    GOAL = "goal"
    CANCEL = "cancel"
    STATUS = "status"
    FEEDBACK = "feedback"
    RESULT = "result"


class ActionlibStatus(IntEnum):
    """actionlib_msgs/GoalStatus codes (ROS 1); ROS 2's GoalStatus numbers differ."""

    PENDING = 0
    ACTIVE = 1
    PREEMPTED = 2
    SUCCEEDED = 3
    ABORTED = 4
    REJECTED = 5
    PREEMPTING = 6
    RECALLING = 7
    RECALLED = 8
    LOST = 9

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = {
    ActionlibStatus.PREEMPTED,
    ActionlibStatus.SUCCEEDED,
    ActionlibStatus.ABORTED,
    ActionlibStatus.REJECTED,
    ActionlibStatus.RECALLED,
    ActionlibStatus.LOST,
}
