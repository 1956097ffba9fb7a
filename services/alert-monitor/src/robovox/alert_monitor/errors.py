"""The alert monitor's errors."""

from __future__ import annotations

from robovox.shared.errors import RoboVoxError


class MonitorError(RoboVoxError):
    """Base of the alert monitor's errors."""
