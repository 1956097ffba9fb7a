"""The executor's work for one robot: each tool call, from its entry to its outcome.

A call's life is kept in its call record, so every step is safe to repeat:
a call already answered is only acked; a call already dispatched (by this
process before a restart, or by an executor that died) is waited on, never
sent again; a new call is checked and then dispatched at most once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from typing import Any

from redis.asyncio import Redis

from robovox.executor import outcome
from robovox.executor.arguments import parse_arguments
from robovox.executor.policy import check_deadline, check_link, check_preconditions, check_repeated_motion
from robovox.executor.queries import answer_query
from robovox.executor.results import ResultWaiter
from robovox.executor.settings import ExecutorSettings
from robovox.executor.verdict import Rejection, RejectionReason
from robovox.shared.call_record import STATE, CallRecords, CallState
from robovox.shared.consumer import PermanentError, StreamConsumer
from robovox.shared.entry import EntryError, utc_now
from robovox.shared.messages import CommandKind, InboxEntry, RosCommand, ToolCall
from robovox.shared.profile import RobotProfile, Tool
from robovox.shared.profile.mapping import fill_template
from robovox.shared.streams import Group, RobotKeys

log = logging.getLogger(__name__)

SERVICE = "tool-executor"


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
        timeout_s=tool.timeout_s,
    )


class RobotCalls:
    def __init__(self, redis: Redis, profile: RobotProfile, settings: ExecutorSettings) -> None:
        self.profile = profile
        self._redis = redis
        self._settings = settings
        self._keys = RobotKeys.of(profile.robot_id)
        self._records = CallRecords(redis)
        self.results = ResultWaiter(redis, self._keys, self._records, settings.block_ms)
        self.consumer = StreamConsumer(
            redis,
            [self._keys.tool_calls],
            settings.consumer_config(SERVICE, Group.TOOL_EXECUTOR),
            self._handle,
            dead_letter_stream=self._keys.dead_letters,
            on_dead_letter=self._answer_dead_letter,
        )

    @property
    def ready(self) -> asyncio.Event:
        return self.consumer.ready

    async def run(self, stopping: asyncio.Event) -> None:
        listener = asyncio.create_task(self.results.run(stopping))
        consumer = asyncio.create_task(self.consumer.run())
        await stopping.wait()
        self.consumer.stop()
        await asyncio.gather(consumer, listener)

    async def _handle(self, stream: str, entry_id: str, fields: dict[str, str]) -> None:
        try:
            call = ToolCall.from_fields(fields)
        except EntryError as exc:
            raise PermanentError(str(exc)) from None
        if call.robot_id != self.profile.robot_id:
            raise PermanentError(f"call for robot {call.robot_id!r} on {self.profile.robot_id!r}'s stream")
        state = (await self._records.read(self._keys, call.call_id)).get(STATE)
        if state == CallState.DONE:
            return
        tool = self.profile.tool(call.name)
        if state == CallState.DISPATCHED:
            log.info("%s: %s was dispatched before; waiting for its result", call.robot_id, call.call_id)
            entry = await self._await_result(call, tool)
        else:
            entry = await self._decide_and_run(call, tool)
        if await self._records.finish(self._keys, call.call_id, entry):
            log.info(
                "%s: %s %s -> %s%s",
                call.robot_id,
                call.call_id,
                call.name,
                entry.outcome.value if entry.outcome else "",
                f" ({entry.reason})" if entry.reason else "",
            )

    async def _decide_and_run(self, call: ToolCall, tool: Tool | None) -> InboxEntry:
        if tool is None:
            names = ", ".join(t.name for t in self.profile.tools)
            return outcome.rejected(
                call,
                Rejection(
                    RejectionReason.UNKNOWN_TOOL,
                    f'There is no function named "{call.name}". The available functions are: {names}. '
                    "Tell the user what you can do instead.",
                ),
            )
        arguments = parse_arguments(tool, call.arguments)
        if isinstance(arguments, Rejection):
            return outcome.rejected(call, arguments)
        rejection = (
            check_deadline(call)
            or await check_link(self._redis, self._keys, self.profile, tool)
            or await check_preconditions(self._redis, self._keys, tool)
        )
        if rejection is None and tool.is_query:
            answer = await answer_query(self._redis, self._keys, tool, arguments)
            return outcome.rejected(call, answer) if isinstance(answer, Rejection) else outcome.answered(call, answer)
        rejection = rejection or await check_repeated_motion(
            self._redis, self._keys, tool, call, arguments, self._settings.motion_repeat_window_s
        )
        if rejection is not None:
            return outcome.rejected(call, rejection)
        await self._records.dispatch(self._keys, build_command(call, tool, arguments))
        return await self._await_result(call, tool)

    async def _await_result(self, call: ToolCall, tool: Tool | None) -> InboxEntry:
        timeout_s = tool.timeout_s if tool else 0.0
        until = call.deadline + timedelta(seconds=timeout_s + self._settings.result_grace_s)
        result = await self.results.wait(call.call_id, (until - utc_now()).total_seconds())
        return outcome.from_result(call, tool, self.profile, result)

    async def _answer_dead_letter(self, stream: str, fields: dict[str, str], reason: str) -> None:
        """A call given up on still gets an output, so the model is never left waiting."""
        try:
            call = ToolCall.from_fields(fields)
        except EntryError:
            return  # without a valid call_id there is nothing the model could match it to
        entry = outcome.from_result(call, self.profile.tool(call.name), self.profile, None)
        await self._records.finish(self._keys, call.call_id, entry)
