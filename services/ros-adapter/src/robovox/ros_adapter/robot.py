"""Everything the adapter does for one robot: its link, its command consumer,
its telemetry, and the link state other services read."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.asyncio import Redis

from robovox.ros_adapter.bridge import SERVICE, RobotBridge
from robovox.ros_adapter.commands import not_sent_result, run_command
from robovox.ros_adapter.emergency import EmergencyLine
from robovox.ros_adapter.errors import CommandNotSentError
from robovox.ros_adapter.hearing import settle
from robovox.ros_adapter.settings import AdapterSettings
from robovox.ros_adapter.telemetry import TelemetryRecorder
from robovox.shared.aio import supervise
from robovox.shared.call_life import Ack, CallLife, Started
from robovox.shared.consumer import ACKED, REDIS_DOWN, Acked, StreamConsumer, read_robot_entry
from robovox.shared.messages import CommandResult, CommandStatus, RosCommand
from robovox.shared.metrics import UNKNOWN_TOOL, Stage
from robovox.shared.metrics.series import REDIS_ERRORS, observe_stage
from robovox.shared.profile import RobotProfile
from robovox.shared.streams import Group, RobotKeys

log = logging.getLogger(__name__)

STORE_RETRY_INITIAL_S = 0.05
STORE_RETRY_MAX_S = 2.0


class RobotRuntime:
    def __init__(self, redis: Redis, profile: RobotProfile, settings: AdapterSettings) -> None:
        self.profile = profile
        self._redis = redis
        self._settings = settings
        self._keys = RobotKeys.of(profile.robot_id)
        self._calls = CallLife(redis)
        self.telemetry = TelemetryRecorder(redis, profile.robot_id, settings.telemetry_maxlen)
        self.bridge = RobotBridge(redis, profile, settings, self.telemetry)
        self.link = self.bridge.link
        self.emergency = EmergencyLine(redis, profile, settings, self.bridge)
        self.consumer = StreamConsumer(
            redis,
            [self._keys.commands],
            settings.consumer_config(SERVICE, Group.ROS_ADAPTER),
            self._handle,
            dead_letter_stream=self._keys.dead_letters,
        )

    @property
    def ready(self) -> asyncio.Event:
        return self.consumer.ready

    @property
    def link_up_published(self) -> asyncio.Event:
        return self.bridge.link_up_published

    async def run(self, stopping: asyncio.Event) -> None:
        self.bridge.start()
        tasks = [
            asyncio.create_task(self.consumer.run(), name=f"{self.profile.robot_id}-commands"),
            asyncio.create_task(self.emergency.consumer.run(), name=f"{self.profile.robot_id}-emergency"),
            asyncio.create_task(self.telemetry.run(stopping), name=f"{self.profile.robot_id}-telemetry"),
            asyncio.create_task(self.bridge.publish_link_state(stopping), name=f"{self.profile.robot_id}-link"),
        ]
        try:
            await supervise(stopping, tasks)
        finally:
            self.consumer.stop()
            self.emergency.consumer.stop()
            await asyncio.wait(tasks, timeout=self._settings.shutdown_grace_ms / 1000 + 2)
            await self.bridge.close()
        with contextlib.suppress(Exception):
            await self.bridge.write_link_state()

    async def _handle(self, stream: str, entry_id: str, fields: dict[str, str]) -> Acked | None:
        command = read_robot_entry(RosCommand, fields, self.profile.robot_id, "command")
        not_sent: CommandNotSentError | None = None
        try:
            # Before the start: a command is written only right after the bridge has shown it reads.
            await self.bridge.wait_open(command.deadline.timestamp())
        except CommandNotSentError as exc:
            not_sent = exc
        started = await self._calls.start(self._keys, command.call_id)
        if started is Started.NEVER:
            log.info("robot %s: %s was given up on before it started; not run", command.robot_id, command.call_id)
            return None
        if started is Started.NOW:
            result = await self._run(command, not_sent)
        else:
            # Another delivery of this call already reached the robot, or was about to:
            # never run it again. Report what is known.
            known = await self._calls.read(self._keys, command.call_id)
            if known.result is not None:
                return None
            result = CommandResult(
                call_id=command.call_id,
                robot_id=command.robot_id,
                status=CommandStatus.INTERRUPTED,
                message="the ROS adapter stopped while running this command; it was not run again, "
                "and its outcome is unknown",
                sent_to_robot=True,
            )
        log.info(
            "robot %s: %s %s -> %s %s",
            command.robot_id,
            command.call_id,
            command.target,
            result.status.value,
            result.message,
        )
        await self._store(result, Ack(stream, Group.ROS_ADAPTER, entry_id))
        self._time(command, Stage.RESULT)
        return ACKED

    def _time(self, command: RosCommand, stage: Stage) -> None:
        if command.call_issued_at is not None:
            tool = command.tool if self.profile.tool(command.tool) is not None else UNKNOWN_TOOL
            observe_stage(self.profile.robot_id, tool, stage, command.call_issued_at)

    async def _run(self, command: RosCommand, not_sent: CommandNotSentError | None) -> CommandResult:
        if not_sent is not None:
            return not_sent_result(command, not_sent)
        unavailable = self.bridge.report.unavailable.get(command.tool)
        if unavailable is not None:  # dispatched before the executor could read the check's finding
            return CommandResult(
                call_id=command.call_id,
                robot_id=command.robot_id,
                status=CommandStatus.UNAVAILABLE,
                message=unavailable,
                sent_to_robot=False,
            )
        tool = self.profile.tool(command.tool)
        confirm = tool.confirm if tool is not None else None
        watch = self.bridge.hearing.expect(confirm) if confirm is not None else None
        self._time(command, Stage.SENT)  # handed to the live link right after the bridge answered a ping
        result = await run_command(self.link, command, version=self.bridge.version, actions=self.bridge.actions)
        if result.status is CommandStatus.STALLED:
            self.bridge.stalled_with(command)
        return await settle(self.bridge.hearing, confirm, watch, result)

    async def _store(self, result: CommandResult, ack: Ack) -> None:
        """Store the result, retrying through a Redis outage: handling the entry again would find the
        command started and no result, and report a command the robot did answer as interrupted."""
        delay = STORE_RETRY_INITIAL_S
        while True:
            try:
                await self._calls.store_result(self._keys, result, ack)
                return
            except REDIS_DOWN as exc:
                REDIS_ERRORS.labels(where="store_result").inc()
                log.warning("robot %s: result of %s not stored yet (%s)", self.profile.robot_id, result.call_id, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, STORE_RETRY_MAX_S)
