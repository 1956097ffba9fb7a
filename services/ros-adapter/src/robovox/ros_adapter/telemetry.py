"""Telemetry: samples into the robot's stream, the latest value per topic into a hash."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from redis.asyncio import Redis

from robovox.shared.entry import utc_now
from robovox.shared.messages import TelemetrySample
from robovox.shared.streams import RobotKeys
from robovox.shared.telemetry import encode_latest

log = logging.getLogger(__name__)


class TelemetryRecorder:
    """Writes samples in arrival order from one task, so the event loop never
    piles up a Redis round trip per message."""

    def __init__(self, redis: Redis, robot_id: str, maxlen: int) -> None:
        self._redis = redis
        self._robot_id = robot_id
        self._keys = RobotKeys.of(robot_id)
        self._maxlen = maxlen
        self._queue: asyncio.Queue[tuple[str, str, dict[str, Any]]] = asyncio.Queue(maxsize=10_000)
        self.dropped = 0

    def offer(self, topic: str, ros_type: str, msg: dict[str, Any]) -> None:
        try:
            self._queue.put_nowait((topic, ros_type, msg))
        except asyncio.QueueFull:
            self.dropped += 1

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                first = await asyncio.wait_for(self._queue.get(), timeout=0.5)
            except TimeoutError:
                continue
            batch = [first]
            while not self._queue.empty() and len(batch) < 500:
                batch.append(self._queue.get_nowait())
            try:
                await self._write(batch)
            except Exception:
                log.exception("robot %s: could not record %d telemetry samples", self._robot_id, len(batch))

    async def _write(self, batch: list[tuple[str, str, dict[str, Any]]]) -> None:
        latest: dict[Any, Any] = {}
        async with self._redis.pipeline(transaction=False) as pipe:
            for topic, ros_type, msg in batch:
                now = utc_now()
                sample = TelemetrySample(
                    robot_id=self._robot_id, topic=topic, ros_type=ros_type, msg=json.dumps(msg), received_at=now
                )
                pipe.xadd(self._keys.telemetry, sample.to_fields(), maxlen=self._maxlen, approximate=True)  # type: ignore[arg-type]
                latest[topic] = encode_latest(msg, ros_type, now)
            pipe.hset(self._keys.telemetry_latest, mapping=latest)
            await pipe.execute()
