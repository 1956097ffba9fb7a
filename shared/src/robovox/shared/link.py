"""A robot's rosbridge link as the ROS adapter holding it publishes it: the
``link`` hash (``RobotKeys.link_state``), rewritten on every change and every
heartbeat and expiring when no adapter keeps it (a missing hash is a robot
nobody is connected to). The tool executor refuses motion while it is not up;
pages and the demo show it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime

from robovox.shared.entry import StreamEntry


class LinkState(StrEnum):
    CONNECTING = "connecting"
    """Not up yet: the first connection, or a fresh one replacing a stuck attempt."""
    UP = "up"
    DOWN = "down"
    """Lost; roslibpy reconnects with back-off."""
    CLOSED = "closed"
    """Closed on purpose: the adapter is stopping."""


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

    @property
    def up(self) -> bool:
        return self.state is LinkState.UP
