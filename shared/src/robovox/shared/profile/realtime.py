"""The Realtime API ``tools`` list and session instructions, built from a profile."""

from __future__ import annotations

from typing import Any

from robovox.shared.profile.schema import RobotProfile, Tool

EXAMPLES_LEAD = "Examples of what people say for it: "


def tool_description(tool: Tool) -> str:
    """The description the model gets: the profile's, then the tool's examples on a line of their own."""
    text = tool.description.strip()
    if tool.examples:
        text += "\n" + EXAMPLES_LEAD + "; ".join(f'"{example}"' for example in tool.examples) + "."
    return text


def realtime_tools(profile: RobotProfile) -> list[dict[str, Any]]:
    """``[{"type": "function", "name", "description", "parameters"}]`` for ``session.tools``."""
    return [
        {
            "type": "function",
            "name": tool.name,
            "description": tool_description(tool),
            "parameters": tool.parameters,
        }
        for tool in profile.tools
    ]
