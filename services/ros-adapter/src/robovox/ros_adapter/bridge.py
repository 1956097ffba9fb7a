"""One robot behind its rosbridge: the link, what the robot was found to be, whether it is heard,
and the link state other services read.

Commands wait for ``wait_open()``: after every connect the robot is checked
against the profile first (``robot_check``), telemetry is subscribed in the
robot's dialect, and, when the link dropped because the bridge stalled while a
motion command was in flight, the profile's ``robot_link.after_stall`` tool
runs before anything else: a stalled bridge runs what it held when it resumes,
and the stop then follows it instead of the next command.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

from redis.asyncio import Redis

from robovox.ros_adapter.commands import fixed_command, run_command
from robovox.ros_adapter.errors import CommandNotSentError
from robovox.ros_adapter.hearing import Hearing
from robovox.ros_adapter.link import RosbridgeLink
from robovox.ros_adapter.link.actions import ActionGoals, Ros1ActionGoals, Ros2ActionGoals
from robovox.ros_adapter.robot_check import CheckReport, check_robot
from robovox.ros_adapter.settings import AdapterSettings
from robovox.ros_adapter.telemetry import TelemetryRecorder
from robovox.shared.entry import utc_now
from robovox.shared.link import LinkInfo, LinkState, RobotCheck
from robovox.shared.messages import RosCommand
from robovox.shared.metrics import set_state
from robovox.shared.metrics.series import LINK_STATE
from robovox.shared.profile import RobotProfile, Tool
from robovox.shared.ros_types import InterfaceKind, RosTypeName, RosVersion
from robovox.shared.streams import RobotKeys

log = logging.getLogger(__name__)

SERVICE = "ros-adapter"


class RobotBridge:
    def __init__(
        self, redis: Redis, profile: RobotProfile, settings: AdapterSettings, telemetry: TelemetryRecorder
    ) -> None:
        self.profile = profile
        self._redis = redis
        self._settings = settings
        self._keys = RobotKeys.of(profile.robot_id)
        self._telemetry = telemetry
        fixed = profile.robot_link.ros_version
        self._fixed = None if fixed == "auto" else RosVersion(int(fixed))
        self.link = RosbridgeLink(
            profile.robot_id,
            profile.rosbridge_url,
            ping_interval_s=settings.link_ping_interval_s,
            ping_timeout_s=settings.link_ping_timeout_s,
            connect_timeout_s=settings.link_connect_timeout_s,
        )
        self.hearing = Hearing(profile.heartbeat_topics(), profile.robot_link.max_silence_s)
        self.report = CheckReport(self._fixed)
        self._ros1_actions = Ros1ActionGoals(self.link)
        self._ros2_actions = Ros2ActionGoals(self.link)
        self._subscribed = False
        self._open = asyncio.Event()
        """Set while commands may go out: up, checked, recovered."""
        self._checked = asyncio.Event()
        """Set while the emergency stop may go out: up and checked, before anything else is let out."""
        self._stops = 0
        self._no_stops = asyncio.Event()
        self._no_stops.set()
        self._stalled_motion: str | None = None
        """The motion command in flight when the bridge last stalled (its tool), until recovered from."""
        self._changed = asyncio.Event()
        self.link_up_published = asyncio.Event()
        """Set while Redis says this robot's link is up (what the executor checks)."""
        self._since = utc_now()
        self._published_state: LinkState | None = None
        self._connect_task: asyncio.Task[None] | None = None

    @property
    def version(self) -> RosVersion | None:
        return self.report.version

    @property
    def actions(self) -> ActionGoals:
        return self._ros1_actions if self.version is RosVersion.ROS1 else self._ros2_actions

    def start(self) -> None:
        self.link.on_state(self._on_link_state)
        if self._fixed is not None:
            self._subscribe_telemetry(self._fixed)
        self.link.start()

    async def close(self) -> None:
        if self._connect_task is not None:
            self._connect_task.cancel()
        await self.link.close()

    # -- commands ------------------------------------------------------------

    async def wait_open(self, deadline: float) -> None:
        """Return once commands may go out and the bridge has just answered a ping;
        ``CommandNotSentError`` if that is not so by ``deadline`` (or at once if the link is down)."""
        if not self._open.is_set() and self.link.state is LinkState.UP:  # a down link is refused at once
            with contextlib.suppress(TimeoutError):  # past the deadline, the write's own check refuses it
                await asyncio.wait_for(self._open.wait(), max(0.0, deadline - time.time()))
        await self.link.ready()

    @contextlib.asynccontextmanager
    async def priority(self) -> AsyncIterator[None]:
        """Hold the link's opening while an emergency stop waits for it or is written on it: after a
        connect, the stop goes out before the after-stall tool and every command that waited."""
        self._stops += 1
        self._no_stops.clear()
        try:
            yield
        finally:
            self._stops -= 1
            if self._stops == 0:
                self._no_stops.set()

    async def wait_checked(self, deadline: float) -> bool:
        """Whether the link is up and the robot checked by ``deadline`` (waiting for it if need be)."""
        if not self._checked.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._checked.wait(), max(0.0, deadline - time.time()))
        return self._checked.is_set()

    def stalled_with(self, command: RosCommand) -> None:
        """``command`` was in flight when the bridge stalled."""
        tool = self.profile.tool(command.tool)
        if tool is not None and tool.motion:
            self._stalled_motion = tool.name

    # -- connects ------------------------------------------------------------

    def _on_link_state(self, state: LinkState) -> None:
        self._open.clear()
        self._checked.clear()
        if state is not LinkState.UP:
            self.link_up_published.clear()
            if self._connect_task is not None:
                self._connect_task.cancel()
        else:
            self.hearing.listen_from_now()
            self._connect_task = asyncio.create_task(self._connected(), name=f"{self.profile.robot_id}-connected")
        self._changed.set()

    async def _connected(self) -> None:
        robot = self.profile.robot_id
        self.report = await check_robot(
            self.link, self.profile, fixed=self._fixed, timeout_s=self._settings.link_check_timeout_s
        )
        self._subscribe_telemetry(self.version)
        self._changed.set()
        self._checked.set()
        await self._no_stops.wait()  # a waiting emergency stop goes first
        if self._stalled_motion is not None and self.profile.robot_link.after_stall:
            tool = self.profile.tool(self.profile.robot_link.after_stall)
            assert tool is not None, "the profile checks after_stall names a tool"
            await self._recover(tool, self._stalled_motion)
        self._stalled_motion = None
        self._open.set()
        log.info("robot %s: taking commands", robot)
        while self.report.check is RobotCheck.PROBLEMS:  # a node started late is found without a reconnect
            await asyncio.sleep(self._settings.link_recheck_s)
            report = await check_robot(
                self.link, self.profile, fixed=self._fixed, timeout_s=self._settings.link_check_timeout_s
            )
            if report.problems != self.report.problems:
                for name in sorted(set(self.report.unavailable) - set(report.unavailable)):
                    log.info("robot %s: %s is available now", robot, name)
                self.report = report
                self._changed.set()

    def _subscribe_telemetry(self, version: RosVersion | None) -> None:
        if self._subscribed:
            return
        self._subscribed = True
        for sub in self.profile.telemetry:
            ros_type = (
                sub.type if version is None else RosTypeName.parse(sub.type, InterfaceKind.MSG).spelled_for(version)
            )
            self.link.subscribe(sub.topic, ros_type, sub.throttle_ms, self._recorder_for(sub.topic, ros_type))
        if version is RosVersion.ROS1:
            for tool in self.profile.tools:
                if tool.ros.send_action_goal is not None:
                    self._ros1_actions.watch(tool.ros.send_action_goal.name, tool.ros.send_action_goal.type)

    def _recorder_for(self, topic: str, ros_type: str) -> Callable[[dict[str, Any]], None]:
        def record(msg: dict[str, Any]) -> None:
            self.hearing.message(topic, msg)
            self._telemetry.offer(topic, ros_type, msg)

        return record

    async def _recover(self, tool: Tool, stalled: str) -> None:
        """Run ``tool`` (no arguments) before any other command."""
        robot = self.profile.robot_id
        command = fixed_command(
            robot,
            tool.name,
            tool.ros,
            call_id=f"after-stall-{int(time.time() * 1000)}",
            deadline=utc_now() + timedelta(seconds=tool.timeout_s),
            timeout_s=tool.timeout_s,
        )
        try:
            await self.link.ready()
        except CommandNotSentError as exc:
            log.warning("robot %s: %s not run after the stall: %s", robot, tool.name, exc)
            return
        result = await run_command(self.link, command, version=self.version, actions=self.actions)
        log.warning(
            "robot %s: the bridge stalled with %s in flight; ran %s first on the new link: %s %s",
            robot,
            stalled,
            tool.name,
            result.status.value,
            result.message,
        )

    # -- link state ------------------------------------------------------------

    def state(self) -> LinkState:
        state = self.link.state
        if state is LinkState.UP and self.hearing.silent():
            return LinkState.UNREACHABLE
        return state

    async def publish_link_state(self, stopping: asyncio.Event) -> None:
        tick = min(self._settings.link_heartbeat_s, self.hearing.max_silence_s / 4)
        while not stopping.is_set():
            self._changed.clear()
            self.hearing.changed.clear()
            try:
                await self.write_link_state()
            except Exception as exc:
                log.warning("robot %s: could not publish link state: %s", self.profile.robot_id, exc)
            waits = [asyncio.ensure_future(self._changed.wait()), asyncio.ensure_future(self.hearing.changed.wait())]
            await asyncio.wait(waits, timeout=tick, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waits:
                waiter.cancel()

    async def write_link_state(self) -> None:
        state = self.state()
        if state is not self._published_state:
            if state is LinkState.UNREACHABLE:
                log.warning(
                    "robot %s: unreachable: its bridge is up but nothing heard for %.1f s (max %g s)",
                    self.profile.robot_id,
                    self.hearing.silent_for_s(),
                    self.hearing.max_silence_s,
                )
            elif self._published_state is LinkState.UNREACHABLE:
                log.info("robot %s: heard again", self.profile.robot_id)
            if self._published_state is not None:
                self._since = utc_now()
            self._published_state = state
            set_state(LINK_STATE, self.profile.robot_id, LinkState, state)
        report = self.report
        info = LinkInfo(
            state=state,
            since=self._since,
            rosbridge_url=self.profile.rosbridge_url,
            adapter=self._settings.consumer(SERVICE),
            connects=self.link.connects,
            telemetry_dropped=self._telemetry.dropped,
            ros_version=report.version.value if report.version is not None else None,
            ros_distro=report.distro,
            check=report.check if self.link.state is LinkState.UP else RobotCheck.PENDING,
            problems="; ".join(report.problems),
            unavailable=json.dumps(report.unavailable, sort_keys=True),
            last_heard=self.hearing.last_heard,
            stalls=self.link.stalls,
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
