"""The Realtime API ``tools`` list and session instructions, built from a profile."""

from __future__ import annotations

from typing import Any

from robovox.shared.profile.schema import RobotProfile


def realtime_tools(profile: RobotProfile) -> list[dict[str, Any]]:
    """``[{"type": "function", "name", "description", "parameters"}]`` for ``session.tools``."""
    return [
        {
            "type": "function",
            "name": tool.name,
            "description": tool.description.strip(),
            "parameters": tool.parameters,
        }
        for tool in profile.tools
    ]
