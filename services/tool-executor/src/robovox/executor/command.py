"""A validated call as the ROS command the adapter runs."""

from __future__ import annotations

import json
from typing import Any

from robovox.shared.messages import CommandKind, RosCommand, ToolCall
from robovox.shared.profile import Tool
from robovox.shared.profile.mapping import fill_template


def build_command(call: ToolCall, tool: Tool, arguments: dict[str, Any]) -> RosCommand:
    ros = tool.ros
    kind: CommandKind
    if ros.call_service is not None:
        kind, target, ros_type, template = (
            CommandKind.SERVICE,
            ros.call_service.name,
            ros.call_service.type,
            ros.call_service.args,
        )
    elif ros.publish is not None:
        kind, target, ros_type, template = CommandKind.PUBLISH, ros.publish.topic, ros.publish.type, ros.publish.msg
    elif ros.send_action_goal is not None:
        goal = ros.send_action_goal
        kind, target, ros_type, template = CommandKind.ACTION, goal.name, goal.type, goal.goal
    else:
        raise ValueError(f"{tool.name} is not a ROS command")
    return RosCommand(
        call_id=call.call_id,
        robot_id=call.robot_id,
        tool=tool.name,
        kind=kind,
        target=target,
        ros_type=ros_type,
        payload=json.dumps(fill_template(template, arguments)),
        deadline=call.deadline,
        call_issued_at=call.issued_at,
        timeout_s=tool.timeout_s,
    )
