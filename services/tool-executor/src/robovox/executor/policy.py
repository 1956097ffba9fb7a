"""Safety policy checked before a call may touch the robot: its deadline, the
robot's link, the tool's preconditions on live telemetry, and the guard
against the same motion command twice in a row."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from redis.asyncio import Redis

from robovox.executor.verdict import Rejection, RejectionReason
from robovox.shared.entry import format_time, utc_now
from robovox.shared.link import LinkInfo, LinkState
from robovox.shared.messages import ToolCall
from robovox.shared.profile import Precondition, RobotProfile, Tool
from robovox.shared.profile.mapping import MISSING, read_field
from robovox.shared.streams import RobotKeys
from robovox.shared.telemetry import read_latest, staleness


def check_deadline(call: ToolCall) -> Rejection | None:
    late = (utc_now() - call.deadline).total_seconds()
    if late <= 0:
        return None
    return Rejection(
        RejectionReason.DEADLINE_PASSED,
        f"{call.name} was not run: it reached the robot {late:.1f} s after its deadline, and a late "
        "command could surprise someone. Ask the user whether it is still wanted.",
    )


def check_link(link: LinkInfo | None, profile: RobotProfile, tool: Tool) -> Rejection | None:
    """``link``: the robot's link hash as the ROS adapter last wrote it (None: no adapter keeps one)."""
    name = profile.display_name or profile.robot_id
    if link is not None:
        why = link.unavailable_tools().get(tool.name)
        if why is not None:
            return Rejection(
                RejectionReason.TOOL_UNAVAILABLE,
                f"{tool.name} is unavailable: {why}. Nothing was sent. Tell the user this function does not "
                "work on this robot until its setup is fixed.",
            )
        if link.up:
            return None
        if link.state is LinkState.UNREACHABLE:
            if not tool.motion:
                return None
            heard = (
                f"nothing heard from it since {format_time(link.last_heard)}"
                if link.last_heard
                else "nothing heard from it"
            )
            return Rejection(
                RejectionReason.ROBOT_UNREACHABLE,
                f"{name} is not reachable ({heard}, although its ROS bridge is connected), so {tool.name} was "
                "not sent: a robot that cannot be heard must not be moved. Tell the user to check the robot.",
            )
    why = "its ROS bridge is not answering" if link else "no ROS adapter is connected to it"
    return Rejection(
        RejectionReason.ROBOT_OFFLINE,
        f"{name} is offline ({why}), so {tool.name} was not sent. "
        "Tell the user to check that the robot is powered on and connected, then try again.",
    )


def _holds(rule: Precondition, value: Any) -> bool:
    if rule.equals is not None and value != rule.equals:
        return False
    if rule.not_equals is not None and value == rule.not_equals:
        return False
    if rule.one_of is not None and value not in rule.one_of:
        return False
    if rule.above is not None and not (isinstance(value, int | float) and value > rule.above):
        return False
    return not (rule.below is not None and not (isinstance(value, int | float) and value < rule.below))


async def check_preconditions(redis: Redis, keys: RobotKeys, tool: Tool) -> Rejection | None:
    if not tool.preconditions:
        return None
    latest = await read_latest(redis, keys, sorted({p.topic for p in tool.preconditions}))
    for rule in tool.preconditions:
        sample = latest.get(rule.topic)
        stale = staleness(sample, rule.max_age_s)
        value = read_field(sample.msg, rule.field) if sample is not None else MISSING
        if stale is None and value is MISSING:
            stale = f"its messages have no field {rule.field!r}"
        if stale is not None:
            return Rejection(
                RejectionReason.PRECONDITION_UNKNOWN,
                f"{tool.name} was not run because I cannot check that it is safe: {rule.topic} is unknown "
                f"({stale}). Tell the user the robot's state is unknown and ask them to check it.",
            )
        if not _holds(rule, value):
            return Rejection(RejectionReason.PRECONDITION_FAILED, rule.message.strip())
    return None


def arguments_digest(arguments: dict[str, Any]) -> str:
    canonical = json.dumps(arguments, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


async def check_repeated_motion(
    redis: Redis, keys: RobotKeys, tool: Tool, call: ToolCall, arguments: dict[str, Any], window_s: float
) -> Rejection | None:
    """Claim the motion guard for this call; refuse if another call holds it.

    The guard's value is the call_id that set it, so a redelivery of that same
    call is never mistaken for a repeat."""
    if not tool.motion or window_s <= 0:
        return None
    key = keys.motion_guard(tool.name, arguments_digest(arguments))
    if await redis.set(key, call.call_id, nx=True, px=int(window_s * 1000)):
        return None
    holder = await redis.get(key)
    if holder in (None, call.call_id):
        return None
    ttl_ms = await redis.pttl(key)
    ago = max(0.0, window_s - ttl_ms / 1000)
    return Rejection(
        RejectionReason.REPEATED_MOTION,
        f"{tool.name} with the same arguments was already sent {ago:.1f} s ago, so it was not sent again. "
        f"If the user really wants it repeated, ask them to confirm and call it again after "
        f"{window_s:g} seconds.",
    )
