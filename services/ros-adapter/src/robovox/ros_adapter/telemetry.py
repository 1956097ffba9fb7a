"""Telemetry: samples into the robot's stream, the latest value per topic into a hash."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis.asyncio import Redis

from robovox.shared.entry import utc_now
from robovox.shared.streams import RobotKeys
from robovox.shared.telemetry import record_samples

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
        async with self._redis.pipeline(transaction=False) as pipe:
            record_samples(pipe, self._robot_id, [(t, r, m, utc_now()) for t, r, m in batch], self._maxlen)
            await pipe.execute()
