"""Realtime events into each robot's ``events`` stream, off the hot path.

Events are queued as they came (no parsing, no model building: the data
channel's receive path runs the gateway's handler before it acknowledges the
packet, so every microsecond spent there delays the provider's next packet)
and turned into entries and written by one task in pipelined batches, so a
burst of transcript deltas from fifty robots costs a few round trips. Audio
deltas are left out.

The log gives way to function calls. It is written ``FLUSH_DELAY_S`` after
the first event of a batch (after the burst that brought it, not in its
middle), a few entries per turn of the event loop, and never while a call is
waiting for Redis (``DispatchConnection.quiet``): on a small edge box Redis shares
the gateway's core and runs when the gateway's loop pauses, so every
millisecond spent building log entries after a call was written is a
millisecond before the robot's executor sees it.

When Redis is down the oldest queued events are dropped (the log is for
inspection; nothing depends on it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from robovox.shared.entry import utc_now
from robovox.shared.session import RealtimeEventEntry
from robovox.shared.streams import MaxLen, RobotKeys

log = logging.getLogger(__name__)

NOT_LOGGED: Final = frozenset({"response.output_audio.delta", "input_audio_buffer.append"})
QUEUE_LIMIT: Final = 10_000
BATCH: Final = 500
FLUSH_DELAY_S: Final = 0.05
SLICE: Final = 8
"""Entries built per turn of the event loop."""


class Quiet(Protocol):
    async def quiet(self) -> None:
        """Return when nothing more urgent is waiting for Redis (``DispatchConnection.quiet``)."""


@dataclass(frozen=True, slots=True)
class _Queued:
    robot_id: str
    direction: Literal["server", "client"]
    event: dict[str, Any]
    raw: str
    session_id: str | None
    at: datetime

    def entry(self) -> tuple[str, dict[str, str]]:
        entry = RealtimeEventEntry.of(
            self.robot_id, self.direction, self.event, self.raw, session_id=self.session_id, at=self.at
        )
        return RobotKeys.of(self.robot_id).events, entry.to_fields()


class EventLog:
    def __init__(self, redis: Redis, *, gives_way_to: Quiet | None = None) -> None:
        self._redis = redis
        self._calls = gives_way_to
        self._queue: asyncio.Queue[_Queued] = asyncio.Queue(QUEUE_LIMIT)
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def add(
        self,
        robot_id: str,
        direction: Literal["server", "client"],
        event: dict[str, Any],
        raw: str = "",
        session_id: str | None = None,
    ) -> None:
        if event.get("type") in NOT_LOGGED:
            return
        if self._queue.full():
            self._queue.get_nowait()
            self._queue.task_done()
            self.dropped += 1
        self._queue.put_nowait(_Queued(robot_id, direction, event, raw, session_id, utc_now()))

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._write())

    async def stop(self) -> None:
        """Write what is queued (briefly), then stop."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), 2.0)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _write(self) -> None:
        while True:
            batch = [await self._queue.get()]
            await asyncio.sleep(FLUSH_DELAY_S)
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for count, queued in enumerate(batch):
                        if count % SLICE == 0:
                            await self._give_way()
                        stream, fields = queued.entry()
                        pipe.xadd(stream, fields, maxlen=MaxLen.EVENTS, approximate=True)  # type: ignore[arg-type]
                    await self._give_way()
                    await pipe.execute()
            except (RedisError, OSError) as exc:
                self.dropped += len(batch)
                log.warning("events stream write failed (%s); %d events dropped", exc, len(batch))
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _give_way(self) -> None:
        await asyncio.sleep(0)  # a call that has just arrived is handled first
        if self._calls is not None:
            await self._calls.quiet()
