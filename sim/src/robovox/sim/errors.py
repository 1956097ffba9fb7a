"""The simulators' errors."""

from __future__ import annotations

from robovox.shared.errors import RoboVoxError


class SimError(RoboVoxError):
    """Base of the robot simulator's and the Realtime emulator's errors."""
