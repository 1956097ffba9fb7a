"""A robot's rosbridge link as the ROS adapter holding it publishes it: the
``link`` hash (``RobotKeys.link_state``), rewritten on every change and every
heartbeat and expiring when no adapter keeps it (a missing hash is a robot
nobody is connected to). The tool executor refuses motion while it is not up,
and any tool the adapter found the robot lacks; pages and the demo show it."""

from __future__ import annotations

import json
from enum import StrEnum

from pydantic import AwareDatetime

from robovox.shared.entry import StreamEntry
from robovox.shared.messages import JsonObjectText


class LinkState(StrEnum):
    CONNECTING = "connecting"
    """Not up yet: the first connection, or a fresh one replacing a stuck attempt."""
    UP = "up"
    UNREACHABLE = "unreachable"
    """The websocket is up but the robot is not heard: no telemetry for longer than the profile's
    ``robot_link.max_silence_s`` (seen after a ROS master restart)."""
    DOWN = "down"
    """Lost; roslibpy reconnects with back-off."""
    CLOSED = "closed"
    """Closed on purpose: the adapter is stopping."""


class RobotCheck(StrEnum):
    """What the adapter's check of the robot against the profile found, at the last connect."""

    PENDING = "pending"
    """Not checked yet on this connection."""
    PASSED = "passed"
    PROBLEMS = "problems"
    """Mismatches: listed in ``problems``, the tools they disable in ``unavailable``."""
    UNCHECKED = "unchecked"
    """The robot has no rosapi: nothing could be checked."""


class LinkInfo(StreamEntry):
    """The ``link`` hash."""

    state: LinkState
    since: AwareDatetime
    rosbridge_url: str
    adapter: str
    """The consumer name of the adapter holding the link."""
    connects: int
    """Connections made since the adapter started (1 without a reconnect)."""
    telemetry_dropped: int
    """Telemetry samples dropped because Redis could not take them fast enough."""
    ros_version: int | None = None
    """1 or 2, as the robot's rosapi said (or the profile fixed); none while unknown."""
    ros_distro: str = ""
    check: RobotCheck = RobotCheck.PENDING
    problems: str = ""
    """Every mismatch between profile and robot, one sentence each, joined by ``; ``."""
    unavailable: JsonObjectText = "{}"
    """Tool name -> why it cannot run on this robot, as JSON."""
    last_heard: AwareDatetime | None = None
    """When the adapter last received telemetry that proves the robot is heard."""
    stalls: int = 0
    """Links dropped because the bridge stopped answering pings, since the adapter started."""

    @property
    def up(self) -> bool:
        return self.state is LinkState.UP

    def unavailable_tools(self) -> dict[str, str]:
        loaded: dict[str, str] = json.loads(self.unavailable)
        return loaded
