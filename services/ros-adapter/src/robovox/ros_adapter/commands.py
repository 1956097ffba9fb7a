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
from typing import Any

from robovox.ros_adapter.errors import CommandNotSentError, LinkLostError, NotSentReason
from robovox.ros_adapter.link import Reply, RosbridgeLink
from robovox.shared.messages import CommandKind, CommandResult, CommandStatus, RosCommand

log = logging.getLogger(__name__)

GOAL_SUCCEEDED, GOAL_CANCELED = 4, 5

MakeResult = Callable[..., CommandResult]


async def run_command(link: RosbridgeLink, command: RosCommand) -> CommandResult:
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

    try:
        if command.kind is CommandKind.PUBLISH:
            await link.publish(command.target, command.ros_type, payload, deadline=deadline)
            return result(CommandStatus.SUCCEEDED, f"published on {command.target}", sent=True)
        if command.kind is CommandKind.SERVICE:
            reply = await link.call_service(
                command.target, command.ros_type, payload, deadline=deadline, timeout_s=command.timeout_s
            )
            return _from_service_reply(reply, command, result)
        reply = await link.send_action_goal(
            command.target,
            command.ros_type,
            payload,
            deadline=deadline,
            timeout_s=command.timeout_s,
            on_feedback=lambda values: log.debug("%s feedback: %s", command.call_id, values),
        )
        return _from_action_reply(reply, command, result)
    except CommandNotSentError as exc:
        status = CommandStatus.EXPIRED if exc.reason is NotSentReason.EXPIRED else CommandStatus.LINK_DOWN
        return result(status, f"not sent to the robot: {exc}", sent=False)
    except TimeoutError:
        what = "goal was canceled" if command.kind is CommandKind.ACTION else "call may still complete"
        return result(
            CommandStatus.TIMED_OUT,
            f"no answer from {command.target} within {command.timeout_s:g} s; the {what}",
            sent=True,
        )
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
