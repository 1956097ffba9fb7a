"""The executor's remote call to the ROS adapter: a command goes out on the
robot's ``commands`` stream and its result comes back on ``command_results``,
while the call's tool-call entry stays pending (so a crashed executor's calls
are taken over and waited on, never sent again).

The request half is the call record's ``dispatch`` step (one command per
call); the reply half is ``ResultFollower``. The timeout has two parts: a
command the adapter has not *started* shortly after the call's deadline is
abandoned, in the call record, so the adapter never starts it and the model
can be told truthfully that nothing was sent; a command the adapter did start
gets the tool's own timeout before the reply is given up on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from robovox.executor.results import ResultFollower
from robovox.shared.call_life import CallLife
from robovox.shared.entry import utc_now
from robovox.shared.messages import CommandResult, RosCommand, ToolCall
from robovox.shared.metrics import Stage
from robovox.shared.metrics.series import observe_stage
from robovox.shared.streams import RobotKeys


@dataclass(frozen=True, slots=True)
class CommandReply:
    started: bool
    """False: the adapter never started the command, and now never will (nothing reached the robot)."""
    result: CommandResult | None
    """The adapter's result; None if it started the command and reported nothing in time."""


NOT_STARTED = CommandReply(started=False, result=None)


class CommandRpc:
    def __init__(
        self, keys: RobotKeys, calls: CallLife, results: ResultFollower, *, start_grace_s: float, result_grace_s: float
    ) -> None:
        self._keys = keys
        self._calls = calls
        self._results = results
        self._start_grace = timedelta(seconds=start_grace_s)
        self._result_grace = timedelta(seconds=result_grace_s)

    async def run(self, stopping: asyncio.Event) -> None:
        """Follow the results stream until ``stopping``."""
        await self._results.run(stopping)

    async def call(self, call: ToolCall, command: RosCommand, timeout_s: float) -> CommandReply:
        """Dispatch ``command`` for ``call`` (unless an earlier delivery did) and wait for its reply."""
        await self._results.expect(call.call_id)
        try:
            first = await self._calls.dispatch(self._keys, command)
        except BaseException:
            self._results.forget(call.call_id)
            raise
        if first:
            observe_stage(call.robot_id, command.tool, Stage.DISPATCHED, call.issued_at)
        # Dispatched now: its result cannot have come yet. Dispatched before (another delivery): look.
        return await self.reply(call, timeout_s, expected=first)

    async def priority(self, call: ToolCall, send: Callable[[], Awaitable[object]], timeout_s: float) -> CommandReply:
        """The emergency stop's call: ``send`` puts it on the priority path (the adapter starts the
        call's record and stores its result), and the reply is waited for as any other."""
        await self._results.expect(call.call_id)
        try:
            await send()
        except BaseException:
            self._results.forget(call.call_id)
            raise
        return await self.reply(call, timeout_s, expected=True)

    async def reply(self, call: ToolCall, timeout_s: float, *, expected: bool = False) -> CommandReply:
        """The reply to a dispatched call: its result, or NOT_STARTED if the adapter had not started it
        shortly after the call's deadline (abandoned now), or no result after ``timeout_s`` more."""
        start_by = call.deadline + self._start_grace
        result = await self._results.wait(call.call_id, _seconds_until(start_by), expected=expected)
        if result is not None:
            return CommandReply(started=True, result=result)
        if await self._calls.abandon(self._keys, call.call_id):
            return NOT_STARTED
        until = call.deadline + timedelta(seconds=timeout_s) + self._result_grace
        return CommandReply(started=True, result=await self._results.wait(call.call_id, _seconds_until(until)))

    async def known_reply(self, call_id: str) -> CommandReply:
        """What the record says, without waiting: abandoned now if the adapter had not started it."""
        if await self._calls.abandon(self._keys, call_id):
            return NOT_STARTED
        return CommandReply(started=True, result=(await self._calls.read(self._keys, call_id)).result)


def _seconds_until(moment: datetime) -> float:
    return max((moment - utc_now()).total_seconds(), 0.0)
