"""Everything the adapter does for one robot: its link, its command consumer,
its telemetry, and the link state other services read."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from robovox.ros_adapter.commands import run_command
from robovox.ros_adapter.link import RosbridgeLink
from robovox.ros_adapter.settings import AdapterSettings
from robovox.ros_adapter.telemetry import TelemetryRecorder
from robovox.shared.aio import supervise
from robovox.shared.call_life import Ack, CallLife, Started
from robovox.shared.consumer import ACKED, REDIS_DOWN, Acked, PermanentError, StreamConsumer
from robovox.shared.entry import EntryError, utc_now
from robovox.shared.link import LinkInfo, LinkState
from robovox.shared.messages import CommandResult, CommandStatus, RosCommand
from robovox.shared.profile import RobotProfile
from robovox.shared.streams import Group, RobotKeys

log = logging.getLogger(__name__)

SERVICE = "ros-adapter"
STORE_RETRY_INITIAL_S = 0.05
STORE_RETRY_MAX_S = 2.0


class RobotRuntime:
    def __init__(self, redis: Redis, profile: RobotProfile, settings: AdapterSettings) -> None:
        self.profile = profile
        self._redis = redis
        self._settings = settings
        self._keys = RobotKeys.of(profile.robot_id)
        self._calls = CallLife(redis)
        host, port = profile.rosbridge_host_port
        self.link = RosbridgeLink(
            profile.robot_id,
            host,
            port,
            is_secure=profile.rosbridge_url.startswith("wss"),
            ping_interval_s=settings.link_ping_interval_s,
            ping_timeout_s=settings.link_ping_timeout_s,
            connect_timeout_s=settings.link_connect_timeout_s,
        )
        self.telemetry = TelemetryRecorder(redis, profile.robot_id, settings.telemetry_maxlen)
        self.consumer = StreamConsumer(
            redis,
            [self._keys.commands],
            settings.consumer_config(SERVICE, Group.ROS_ADAPTER),
            self._handle,
            dead_letter_stream=self._keys.dead_letters,
        )
        self._link_changed = asyncio.Event()
        self.link_up_published = asyncio.Event()
        """Set while Redis says this robot's link is up (what the executor checks)."""
        self._link_since = utc_now()

    @property
    def ready(self) -> asyncio.Event:
        return self.consumer.ready

    async def run(self, stopping: asyncio.Event) -> None:
        self.link.on_state(self._on_link_state)
        for sub in self.profile.telemetry:
            self.link.subscribe(sub.topic, sub.type, sub.throttle_ms, self._recorder_for(sub.topic, sub.type))
        self.link.start()
        tasks = [
            asyncio.create_task(self.consumer.run(), name=f"{self.profile.robot_id}-commands"),
            asyncio.create_task(self.telemetry.run(stopping), name=f"{self.profile.robot_id}-telemetry"),
            asyncio.create_task(self._publish_link_state(stopping), name=f"{self.profile.robot_id}-link"),
        ]
        try:
            await supervise(stopping, tasks)
        finally:
            self.consumer.stop()
            await asyncio.wait(tasks, timeout=self._settings.shutdown_grace_ms / 1000 + 2)
            await self.link.close()
        with contextlib.suppress(Exception):
            await self._write_link_state()

    def _recorder_for(self, topic: str, ros_type: str) -> Callable[[dict[str, Any]], None]:
        def record(msg: dict[str, Any]) -> None:
            self.telemetry.offer(topic, ros_type, msg)

        return record

    async def _handle(self, stream: str, entry_id: str, fields: dict[str, str]) -> Acked | None:
        try:
            command = RosCommand.from_fields(fields)
        except EntryError as exc:
            raise PermanentError(str(exc)) from None
        if command.robot_id != self.profile.robot_id:
            raise PermanentError(f"command for robot {command.robot_id!r} on {self.profile.robot_id!r}'s stream")
        started = await self._calls.start(self._keys, command.call_id)
        if started is Started.NEVER:
            log.info("robot %s: %s was given up on before it started; not run", command.robot_id, command.call_id)
            return None
        if started is Started.NOW:
            result = await run_command(self.link, command)
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
        return ACKED

    async def _store(self, result: CommandResult, ack: Ack) -> None:
        """Store the result, retrying through a Redis outage: handling the entry again would find the
        command started and no result, and report a command the robot did answer as interrupted."""
        delay = STORE_RETRY_INITIAL_S
        while True:
            try:
                await self._calls.store_result(self._keys, result, ack)
                return
            except REDIS_DOWN as exc:
                log.warning("robot %s: result of %s not stored yet (%s)", self.profile.robot_id, result.call_id, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, STORE_RETRY_MAX_S)

    def _on_link_state(self, state: LinkState) -> None:
        self._link_since = utc_now()
        if state is not LinkState.UP:
            self.link_up_published.clear()
        self._link_changed.set()

    async def _publish_link_state(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            self._link_changed.clear()
            try:
                await self._write_link_state()
            except Exception as exc:
                log.warning("robot %s: could not publish link state: %s", self.profile.robot_id, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._link_changed.wait(), self._settings.link_heartbeat_s)

    async def _write_link_state(self) -> None:
        info = LinkInfo(
            state=self.link.state,
            since=self._link_since,
            rosbridge_url=self.profile.rosbridge_url,
            adapter=self._settings.consumer(SERVICE),
            connects=self.link.connects,
            telemetry_dropped=self.telemetry.dropped,
        )
        ttl_ms = int(self._settings.link_heartbeat_s * 3000)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._keys.link_state, mapping=info.to_fields())  # type: ignore[arg-type]
            pipe.pexpire(self._keys.link_state, ttl_ms)
            await pipe.execute()
        if info.up:
            self.link_up_published.set()
        else:
            self.link_up_published.clear()
