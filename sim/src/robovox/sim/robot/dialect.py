"""The two rosbridges the simulator can play: ROS 2 (default) and ROS 1.

``DialectRules`` gathers every place where a rosbridge_suite 0.11 on ROS 1
Noetic (with rosapi and a rospy robot) differs, as seen by a client, from the
ROS 2 rosbridge the simulator has always been:

- type names: ROS 1 accepts only ``pkg/Name``; ``std_msgs/msg/Float32`` is
  "not a valid type string" and the op carrying it is dropped (logged only).
  ROS 2 accepts both forms and uses the ROS 2 one internally;
- ROS 1 never sends ``status`` ops, ignores a ``call_service``'s ``type`` and
  ``timeout``, and knows no ``send_action_goal``/``cancel_action_goal``:
  its actions are actionlib topics (``actionlib.py``);
- rosapi's own service types are ``rosapi/*`` on ROS 1 and ``rosapi_msgs/srv/*``
  on ROS 2, its answers use the dialect's type names, time is ``{secs, nsecs}``
  on ROS 1 and ``{sec, nanosec}`` on ROS 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .interfaces import ROS2, normalize_type, types_equal
from .msgdefs import Kind, Registry
from .ros1_interfaces import ROS1, check_ros1, ros1_name


class Dialect(StrEnum):
    ROS1 = "ros1"
    ROS2 = "ros2"


@dataclass(frozen=True)
class DialectRules:
    """What a rosbridge of one ROS version accepts and answers."""

    dialect: Dialect
    registry: Registry
    ros_version: int
    distro: str

    @property
    def is_ros1(self) -> bool:
        return self.dialect is Dialect.ROS1

    @property
    def sends_status(self) -> bool:
        """ROS 1's rosbridge never sends ``status`` ops, even after ``set_level``."""
        return not self.is_ros1

    @property
    def ros2_actions(self) -> bool:
        """``send_action_goal`` and ``cancel_action_goal`` exist (ROS 2 only)."""
        return not self.is_ros1

    @property
    def checks_service_type(self) -> bool:
        """ROS 2 refuses a ``call_service`` whose ``type`` is not the service's; ROS 1 ignores the field."""
        return not self.is_ros1

    @property
    def service_timeouts(self) -> bool:
        """``call_service``'s ``timeout`` (rosbridge 2.2.0, ROS 2)."""
        return not self.is_ros1

    def msg_type(self, name: str) -> str:
        """The topic type a client's op names, as the bridge records it; ``InterfaceError`` if refused."""
        return check_ros1(name) if self.is_ros1 else normalize_type(name)

    def native(self, ros2_name: str, kind: Kind = "msg") -> str:
        """A robot-side type (written ROS 2 style) spelled the way this dialect answers it."""
        return ros1_name(ros2_name) if self.is_ros1 else normalize_type(ros2_name, kind)

    def same_type(self, given: str, known: str, kind: Kind = "msg") -> bool:
        """Whether a type name a client gave (rosapi's ``*_for_type``) names ``known``."""
        if self.is_ros1:
            return given == known
        return types_equal(given, known, kind)

    def part_type(self, name: str, kind: Kind, part: str) -> str:
        """A service's or action's part (``Request``, ``Goal``, ...) as rosapi's ``*_details`` look it up."""
        if self.is_ros1:
            return f"{check_ros1(name, kind)}{part}"
        return f"{normalize_type(name, kind)}_{part}"

    def rosapi_type(self, short: str) -> str:
        return f"rosapi/{short}" if self.is_ros1 else f"rosapi_msgs/srv/{short}"

    def time_msg(self, sec: int, nanosec: int) -> dict[str, Any]:
        return {"secs": sec, "nsecs": nanosec} if self.is_ros1 else {"sec": sec, "nanosec": nanosec}

    def unknown_service(self, name: str) -> str:
        return f"Service {name} does not exist." if self.is_ros1 else f"Service {name} does not exist"

    def unknown_op(self, op: Any) -> str:
        return f"Unknown operation: {op}" if self.is_ros1 else f"Unknown or unsupported operation {op!r}"


ROS1_RULES = DialectRules(Dialect.ROS1, ROS1, 1, "noetic")
ROS2_RULES = DialectRules(Dialect.ROS2, ROS2, 2, "humble")


def rules_for(dialect: Dialect | str) -> DialectRules:
    return ROS1_RULES if Dialect(dialect) is Dialect.ROS1 else ROS2_RULES
