"""The ROS adapter's errors."""

from __future__ import annotations

from enum import StrEnum

from robovox.shared.errors import RoboVoxError


class AdapterError(RoboVoxError):
    """Base of the ROS adapter's errors."""


class NotSentReason(StrEnum):
    LINK_DOWN = "link_down"
    EXPIRED = "expired"
    STALLED = "stalled"
    """The bridge did not answer a ping just before the command would have gone out."""


class CommandNotSentError(AdapterError):
    """Nothing reached rosbridge, for ``reason``."""

    def __init__(self, reason: NotSentReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class LinkLostError(AdapterError):
    """The link dropped after the command was sent: its outcome is unknown."""


class LinkStalledError(LinkLostError):
    """The bridge stopped answering pings after the command was sent, and the link was dropped: a
    stopped bridge keeps what it was sent and may run it when it resumes, however late."""
