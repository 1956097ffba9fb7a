"""The latest-value hash (``RobotKeys.telemetry_latest``): topic -> JSON of the
newest message, written by the ROS adapter, read by tools and preconditions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

from robovox.shared.entry import format_time, utc_now
from robovox.shared.messages import parse_time
from robovox.shared.streams import RobotKeys


@dataclass(frozen=True, slots=True)
class LatestSample:
    topic: str
    ros_type: str
    msg: dict[str, Any]
    received_at: datetime

    @property
    def age_s(self) -> float:
        return (utc_now() - self.received_at).total_seconds()


def staleness(sample: LatestSample | None, max_age_s: float) -> str | None:
    """Why ``sample`` cannot be trusted (missing, or older than ``max_age_s``), or None if it can."""
    if sample is None:
        return "no reading has arrived yet"
    if sample.age_s > max_age_s:
        return f"the last reading is {sample.age_s:.0f} s old"
    return None


def encode_latest(msg: dict[str, Any], ros_type: str, received_at: datetime) -> str:
    return json.dumps({"msg": msg, "type": ros_type, "received_at": format_time(received_at)}, separators=(",", ":"))


async def read_latest(redis: Redis, keys: RobotKeys, topics: list[str]) -> dict[str, LatestSample]:
    """The newest sample of each topic that has one."""
    if not topics:
        return {}
    raw: list[Any] = await redis.hmget(keys.telemetry_latest, topics)
    samples = {}
    for topic, text in zip(topics, raw, strict=True):
        if text is None:
            continue
        data = json.loads(text)
        samples[topic] = LatestSample(topic, data["type"], data["msg"], parse_time(data["received_at"]))
    return samples
