"""Unit: type names in both dialects, and the actionlib topics of a ROS 1 action."""

from __future__ import annotations

import pytest

from robovox.shared.ros_types import ActionlibPart, InterfaceKind, RosTypeName, RosVersion


@pytest.mark.parametrize("written", ["std_msgs/msg/Float32", "std_msgs/Float32"])
def test_a_type_is_spelled_for_each_dialect_whichever_way_it_was_written(written: str) -> None:
    name = RosTypeName.parse(written, InterfaceKind.MSG)
    assert name.spelled_for(RosVersion.ROS1) == "std_msgs/Float32"
    assert name.spelled_for(RosVersion.ROS2) == "std_msgs/msg/Float32"
    assert name.names_same("std_msgs/Float32") and name.names_same("std_msgs/msg/Float32")
    assert not name.names_same("std_msgs/String") and not name.names_same("std_msgs/srv/Float32")


def test_a_ros1_action_is_its_actionlib_topics() -> None:
    move = RosTypeName.parse("cleaning_robot_interfaces/action/MoveToCorner", InterfaceKind.ACTION)
    assert move.actionlib(ActionlibPart.GOAL) == "cleaning_robot_interfaces/MoveToCornerActionGoal"
    assert move.actionlib(ActionlibPart.RESULT) == "cleaning_robot_interfaces/MoveToCornerActionResult"
    assert move.actionlib(ActionlibPart.CANCEL) == "actionlib_msgs/GoalID"


@pytest.mark.parametrize("bad", ["std_msgs/srv/Float32", "Float32", "a/b/c/d"])
def test_a_name_of_another_kind_or_shape_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="is not a msg type name"):
        RosTypeName.parse(bad, InterfaceKind.MSG)
