"""Query tools answered from the latest telemetry, with no round trip to the robot."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from robovox.executor.verdict import Rejection, RejectionReason
from robovox.shared.profile import ReadTelemetry, Tool
from robovox.shared.profile.mapping import MISSING, fill_template, read_field
from robovox.shared.streams import RobotKeys
from robovox.shared.telemetry import read_latest, spoken_value, staleness


async def answer_query(redis: Redis, keys: RobotKeys, tool: Tool, arguments: dict[str, Any]) -> str | Rejection:
    binding: ReadTelemetry | None = tool.ros.read_telemetry
    assert binding is not None
    field = str(fill_template(binding.field, arguments))
    sample = (await read_latest(redis, keys, [binding.topic])).get(binding.topic)
    why = staleness(sample, binding.max_age_s)
    if why is not None or sample is None:
        return Rejection(
            RejectionReason.TELEMETRY_UNAVAILABLE,
            f"I cannot read {binding.label or field} right now: {why} on {binding.topic}. "
            "Tell the user the value is unavailable and that the robot may be disconnected.",
        )
    value = read_field(sample.msg, field)
    if value is MISSING:
        return Rejection(
            RejectionReason.TELEMETRY_UNAVAILABLE,
            f"{binding.topic} has no field {field!r}, so {tool.name} cannot answer. Tell the user.",
        )
    unit = f" {binding.unit}" if binding.unit else ""
    return f"{binding.label or field}: {spoken_value(value)}{unit} (measured {sample.age_s:.1f} s ago)"
