"""Run one RosCommand on a robot's link and say exactly what happened.

The adapter reports transport truth (sent or not, rosbridge's result flag,
the action's goal status, the values); what a response *means* for the tool
(a ``success: false`` field, say) is the executor's call.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from robovox.ros_adapter.errors import CommandNotSentError, LinkLostError, LinkStalledError, NotSentReason
from robovox.ros_adapter.link import Reply, RosbridgeLink
from robovox.ros_adapter.link.actions import GOAL_CANCELED, GOAL_SUCCEEDED, ActionGoals
from robovox.shared.messages import CommandKind, CommandResult, CommandStatus, RosCommand
from robovox.shared.profile import RosBinding
from robovox.shared.profile.mapping import fill_template
from robovox.shared.ros_types import InterfaceKind, RosTypeName, RosVersion

log = logging.getLogger(__name__)

MakeResult = Callable[..., CommandResult]

_KINDS = {
    CommandKind.SERVICE: InterfaceKind.SRV,
    CommandKind.PUBLISH: InterfaceKind.MSG,
    CommandKind.ACTION: InterfaceKind.ACTION,
}
NOT_SENT_STATUS = {
    NotSentReason.EXPIRED: CommandStatus.EXPIRED,
    NotSentReason.LINK_DOWN: CommandStatus.LINK_DOWN,
    NotSentReason.STALLED: CommandStatus.LINK_DOWN,
}


def spelled_type(command: RosCommand, version: RosVersion | None) -> str:
    """The command's type as the robot's ROS writes it (as the profile wrote it while unknown)."""
    if version is None:
        return command.ros_type
    try:
        return RosTypeName.parse(command.ros_type, _KINDS[command.kind]).spelled_for(version)
    except ValueError:  # not from a profile (which checks its types): the bridge judges it as written
        return command.ros_type


def fixed_command(
    robot_id: str, tool: str, ros: RosBinding, *, call_id: str, deadline: datetime, timeout_s: float
) -> RosCommand:
    """The command of a service or publish without arguments (after-stall tool, emergency stop, reset)."""
    if ros.call_service is not None:
        service = ros.call_service
        kind, target, ros_type, payload = CommandKind.SERVICE, service.name, service.type, service.args
    elif ros.publish is not None:
        kind, target, ros_type, payload = CommandKind.PUBLISH, ros.publish.topic, ros.publish.type, ros.publish.msg
    else:
        raise ValueError(f"{tool} is not a service or a publish")
    return RosCommand(
        call_id=call_id,
        robot_id=robot_id,
        tool=tool,
        kind=kind,
        target=target,
        ros_type=ros_type,
        payload=json.dumps(fill_template(payload, {})),
        deadline=deadline,
        timeout_s=timeout_s,
    )


def not_sent_result(command: RosCommand, error: CommandNotSentError, duration_ms: float = 0.0) -> CommandResult:
    return CommandResult(
        call_id=command.call_id,
        robot_id=command.robot_id,
        status=NOT_SENT_STATUS[error.reason],
        message=f"not sent to the robot: {error}",
        sent_to_robot=False,
        duration_ms=duration_ms,
    )


async def run_command(
    link: RosbridgeLink, command: RosCommand, *, version: RosVersion | None, actions: ActionGoals
) -> CommandResult:
    """Run ``command`` now. The caller has proved the bridge is reading (``link.ready()``), or for an
    emergency stop that the link is up (``link.check_up()``)."""
    started = time.perf_counter()
    deadline = command.deadline.timestamp()
    payload = command.payload_object()

    def result(status: CommandStatus, message: str, *, sent: bool, values: Any = None) -> CommandResult:
        return CommandResult(
            call_id=command.call_id,
            robot_id=command.robot_id,
            status=status,
            message=message,
            values=json.dumps(values if isinstance(values, dict) else {}),
            sent_to_robot=sent,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
        )

    ros_type = spelled_type(command, version)
    try:
        if command.kind is CommandKind.PUBLISH:
            try:
                await link.publish(command.target, ros_type, payload, deadline=deadline)
            except LinkStalledError as exc:
                return result(
                    CommandStatus.STALLED,
                    f"published on {command.target}, then {exc}; the robot may still get it, late, "
                    "when the bridge resumes",
                    sent=True,
                )
            return result(
                CommandStatus.SENT,
                f"published on {command.target}; rosbridge read it (it never answers a publish)",
                sent=True,
            )
        if command.kind is CommandKind.SERVICE:
            reply = await link.call_service(
                command.target, ros_type, payload, deadline=deadline, timeout_s=command.timeout_s
            )
            return _from_service_reply(reply, command, result)
        reply = await actions.send_goal(
            command.target,
            ros_type,
            payload,
            deadline=deadline,
            timeout_s=command.timeout_s,
            on_feedback=lambda values: log.debug("%s feedback: %s", command.call_id, values),
        )
        return _from_action_reply(reply, command, result)
    except CommandNotSentError as exc:
        return not_sent_result(command, exc, round((time.perf_counter() - started) * 1000, 3))
    except TimeoutError:
        what = "goal was canceled" if command.kind is CommandKind.ACTION else "call may still complete"
        return result(
            CommandStatus.TIMED_OUT,
            f"no answer from {command.target} within {command.timeout_s:g} s; the {what}",
            sent=True,
        )
    except LinkStalledError as exc:
        return result(CommandStatus.STALLED, str(exc), sent=True)
    except LinkLostError as exc:
        return result(CommandStatus.INTERRUPTED, f"{exc}; its outcome is unknown", sent=True)


def _from_service_reply(reply: Reply, command: RosCommand, result: MakeResult) -> CommandResult:
    if reply.ok:
        return result(CommandStatus.SUCCEEDED, "", sent=True, values=reply.values)
    return result(CommandStatus.FAILED, f"{command.target} failed: {reply.values}", sent=True)


def _from_action_reply(reply: Reply, command: RosCommand, result: MakeResult) -> CommandResult:
    if reply.status == GOAL_SUCCEEDED and reply.ok:
        return result(CommandStatus.SUCCEEDED, "", sent=True, values=reply.values)
    if reply.status == GOAL_CANCELED:
        return result(CommandStatus.CANCELED, f"{command.target} was canceled", sent=True, values=reply.values)
    message = reply.values.get("message", "") if isinstance(reply.values, dict) else str(reply.values)
    return result(
        CommandStatus.FAILED,
        f"{command.target} ended with status {reply.status}" + (f": {message}" if message else ""),
        sent=True,
        values=reply.values,
    )
