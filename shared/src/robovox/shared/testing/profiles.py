"""The shipped robot profiles, for tests that call a service's modules directly."""

from __future__ import annotations

from pathlib import Path

from robovox.shared.profile import RobotProfile, Tool, load_profiles

SHIPPED_PROFILES = Path(__file__).resolve().parents[5] / "deploy" / "profiles"


def shipped_profile(robot_id: str = "cleaner-1") -> RobotProfile:
    return load_profiles(SHIPPED_PROFILES)[robot_id]


def tool_named(profile: RobotProfile, name: str) -> Tool:
    """The profile's tool ``name``; a test naming a tool the profile lacks fails here, plainly."""
    found = profile.tool(name)
    assert found is not None, f"{profile.robot_id} has no tool {name!r}"
    return found
