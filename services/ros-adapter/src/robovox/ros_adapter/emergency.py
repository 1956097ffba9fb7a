"""The emergency stop on the adapter's side: the robot's ``emergency`` stream, read by a consumer of
its own (never behind the ``commands`` consumer's in-flight limit), each stop written on the live
link ahead of anything waiting and retried there until its deadline, never after.

A stop goes through the same truthful path as any command, but for one step: it is written the
moment the link is up, without the ping every other command waits for first
(``RosbridgeLink.ready()``: one round trip on the adapter's busy loop, 10 ms at p99 under the
soak's load). That ping keeps a command from running late, when a stalled bridge resumes, and a
stop that runs late is still a stop. What is claimed does not change: a published stop is
``sent`` only once a ping written after it is answered (the bridge read it), ``stalled`` and
written again on the next link if not, and ``confirmed`` only when the tool's ``confirm`` is seen
in telemetry. A reset keeps the ping first: a reset that ran late could release a robot stopped
again since. While a stop waits for the link (an outage) it holds the link's
opening (``RobotBridge.priority``): when the link returns, the stop is written as soon as the robot
is checked, before the after-stall tool and before every command that waited.
"""

from __future__ import annotations

import asyncio
import logging
import time

from redis.asyncio import Redis

from robovox.ros_adapter.bridge import SERVICE, RobotBridge
from robovox.ros_adapter.commands import fixed_command, not_sent_result, run_command
from robovox.ros_adapter.errors import CommandNotSentError, NotSentReason
from robovox.ros_adapter.hearing import settle
from robovox.ros_adapter.settings import AdapterSettings
from robovox.shared.call_life import CallLife, Started
from robovox.shared.consumer import Acked, StreamConsumer, read_robot_entry
from robovox.shared.emergency import RESET_DEADLINE_S, EmergencyStops
from robovox.shared.messages import CommandResult, CommandStatus, EmergencyAction, EmergencyRequest, RosCommand
from robovox.shared.profile import RobotProfile
from robovox.shared.streams import Group, RobotKeys

log = logging.getLogger(__name__)

RETRY = frozenset({CommandStatus.LINK_DOWN, CommandStatus.STALLED, CommandStatus.INTERRUPTED})
"""Outcomes after which a stop is written again on the next live link (a stop is safe to repeat)."""
_RETRY_PAUSE_S = 0.02


class EmergencyLine:
    def __init__(self, redis: Redis, profile: RobotProfile, settings: AdapterSettings, bridge: RobotBridge) -> None:
        self.profile = profile
        self._bridge = bridge
        self._keys = RobotKeys.of(profile.robot_id)
        self._calls = CallLife(redis)
        self._stops = EmergencyStops(redis)
        self.consumer = StreamConsumer(
            redis,
            [self._keys.emergency],
            settings.consumer_config(SERVICE, Group.ROS_ADAPTER),
            self._handle,
            dead_letter_stream=self._keys.dead_letters,
        )

    async def _handle(self, stream: str, entry_id: str, fields: dict[str, str]) -> Acked | None:
        request = read_robot_entry(EmergencyRequest, fields, self.profile.robot_id, "emergency request")
        command = self._command(request)
        if command is None:
            log.warning("robot %s: %s %s: the profile names nothing to run", request.robot_id, request.action, entry_id)
            return None
        result = await self.send(request, command)
        level = logging.WARNING if request.action is EmergencyAction.STOP else logging.INFO
        log.log(
            level,
            "robot %s: emergency %s %s (%s %s) -> %s %s",
            request.robot_id,
            request.action.value,
            request.stop_id,
            request.trigger.value,
            request.triggered_by,
            result.status.value,
            result.message,
        )
        await self._stops.record_result(request, result)
        if request.call_id is not None:
            await self._calls.store_result(self._keys, result.model_copy(update={"call_id": request.call_id}))
        return None

    def _command(self, request: EmergencyRequest) -> RosCommand | None:
        stop = self.profile.emergency_stop
        if stop is None:
            return None
        if request.action is EmergencyAction.STOP:
            tool = self.profile.tool(stop.tool)
            assert tool is not None, "the profile checks emergency_stop.tool names a tool"
            ros, name, timeout_s = tool.ros, tool.name, tool.timeout_s
        elif stop.reset is not None:
            ros, name, timeout_s = stop.reset, "emergency_stop.reset", RESET_DEADLINE_S
        else:
            return None
        return fixed_command(
            request.robot_id, name, ros, call_id=request.stop_id, deadline=request.deadline, timeout_s=timeout_s
        )

    async def send(self, request: EmergencyRequest, command: RosCommand) -> CommandResult:
        """Write ``command`` on the live link as soon as it is up and checked, again after each loss,
        until its deadline; never after it."""
        deadline = command.deadline.timestamp()
        tool = self.profile.tool(command.tool)
        confirm = tool.confirm if tool is not None else None
        started = request.call_id is None
        result = not_sent_result(
            command, CommandNotSentError(NotSentReason.EXPIRED, "the link was not up before the stop's deadline")
        )
        while time.time() < deadline:
            async with self._bridge.priority():
                if not await self._bridge.wait_checked(deadline):
                    break
                try:
                    if request.action is EmergencyAction.STOP:
                        self._bridge.link.check_up()
                    else:
                        await self._bridge.link.ready()
                except CommandNotSentError as exc:
                    result = not_sent_result(command, exc)
                    await asyncio.sleep(_RETRY_PAUSE_S)
                    continue
                if not started and request.call_id is not None:
                    if await self._calls.start(self._keys, request.call_id) is Started.NEVER:
                        return not_sent_result(
                            command, CommandNotSentError(NotSentReason.EXPIRED, "the executor gave up on it")
                        )
                    started = True
                watch = self._bridge.hearing.expect(confirm) if confirm is not None else None
                result = await run_command(
                    self._bridge.link, command, version=self._bridge.version, actions=self._bridge.actions
                )
            if result.status not in RETRY:
                return await settle(self._bridge.hearing, confirm, watch, result)
            log.warning(
                "robot %s: emergency %s: %s; again on the next link", request.robot_id, command.tool, result.message
            )
            await asyncio.sleep(_RETRY_PAUSE_S)
        return result
