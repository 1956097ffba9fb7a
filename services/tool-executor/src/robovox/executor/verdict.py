"""What the executor decided about a call before touching the robot."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RejectionReason(StrEnum):
    """Why a call was refused; written to the inbox entry's ``reason`` field."""

    UNKNOWN_TOOL = "unknown_tool"
    INVALID_JSON = "invalid_json"
    WRONG_TYPE = "wrong_type"
    NOT_AN_OPTION = "not_an_option"
    OUT_OF_RANGE = "out_of_range"
    MISSING_ARGUMENT = "missing_argument"
    UNEXPECTED_ARGUMENT = "unexpected_argument"
    INVALID_ARGUMENTS = "invalid_arguments"
    ARGUMENTS_TOO_LARGE = "arguments_too_large"
    ARGUMENTS_TOO_DEEP = "arguments_too_deep"
    VALUE_TOO_LONG = "value_too_long"
    PRECONDITION_FAILED = "precondition_failed"
    PRECONDITION_UNKNOWN = "precondition_unknown"
    ROBOT_OFFLINE = "robot_offline"
    ROBOT_UNREACHABLE = "robot_unreachable"
    """Its bridge is up but nothing is heard from the robot: motion is refused."""
    TOOL_UNAVAILABLE = "tool_unavailable"
    """The adapter's check found the robot lacks what the tool needs (or has it with another type)."""
    DEADLINE_PASSED = "deadline_passed"
    REPEATED_MOTION = "repeated_motion"
    TELEMETRY_UNAVAILABLE = "telemetry_unavailable"
    EMERGENCY_STOPPED = "emergency_stopped"
    """The robot's emergency stop is latched: motion is refused until a person resets it."""


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: RejectionReason
    sentence: str
    """What the model is told: what is wrong and what to do about it."""
