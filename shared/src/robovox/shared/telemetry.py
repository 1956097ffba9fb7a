"""The latest-value hash (``RobotKeys.telemetry_latest``): topic -> JSON of the
newest message, written by the ROS adapter, read by tools and preconditions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from robovox.shared.entry import format_time, utc_now
from robovox.shared.messages import TelemetrySample, parse_time
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


def record_samples(
    pipe: Pipeline, robot_id: str, samples: list[tuple[str, str, dict[str, Any], datetime]], maxlen: int
) -> None:
    """Queue (topic, ros_type, msg, received_at) samples on ``pipe``: one stream entry each, and
    the newest per topic in the latest-value hash. Every producer of telemetry writes through here."""
    keys = RobotKeys.of(robot_id)
    latest: dict[str, str] = {}
    for topic, ros_type, msg, received_at in samples:
        sample = TelemetrySample(
            robot_id=robot_id, topic=topic, ros_type=ros_type, msg=json.dumps(msg, separators=(",", ":")),
            received_at=received_at,
        )  # fmt: skip
        pipe.xadd(keys.telemetry, sample.to_fields(), maxlen=maxlen, approximate=True)  # type: ignore[arg-type]
        latest[topic] = encode_latest(msg, ros_type, received_at)
    if latest:
        pipe.hset(keys.telemetry_latest, mapping=latest)  # type: ignore[arg-type]


def spoken_value(value: Any, decimals: int = 2) -> str:
    """A telemetry value as the model should say it: ``on (true)``, ``24.10``, ``up``."""
    if isinstance(value, bool):
        return "on (true)" if value else "off (false)"
    if isinstance(value, float):
        return f"{value:.{decimals}f}"
    return str(value)


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
