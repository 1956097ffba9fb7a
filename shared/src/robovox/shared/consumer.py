"""The one consumer-group loop every RoboVox service uses.

- ``XREADGROUP ... BLOCK`` with the block time below the socket timeout.
- ``XACK`` only after the handler returned; a handler that raises leaves the
  entry pending, to be redelivered.
- ``XAUTOCLAIM`` of entries idle longer than ``claim_idle_ms``: the work of a
  consumer that crashed is picked up by a live one. Entries this consumer is
  still working on are re-claimed to itself (``XCLAIM ... JUSTID``) so that a
  long handler is not mistaken for a dead one.
- After ``max_deliveries`` deliveries, or at once for a ``PermanentError``, the
  entry goes to the dead-letter stream with the reason, and is acked.
- Block times and claim rounds are jittered: fifty robots' consumers started
  together would otherwise time out together, every second, and hit the
  event loop and Redis as one burst.
- Shutdown is a flag checked between reads, never ``task.cancel()`` on a
  blocked read (on Python 3.11 redis-py can swallow that cancel); in-flight
  handlers are awaited.

Streams read by one consumer must share a hash slot (one robot), so the loop
works unchanged on Redis Cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from robovox.shared.messages import DeadLetter
from robovox.shared.streams import MaxLen

log = logging.getLogger(__name__)

Fields = dict[str, str]
Handler = Callable[[str, str, Fields], Awaitable[None]]
"""``handler(stream, entry_id, fields)``; return to ack, raise to retry later."""
DeadLetterHook = Callable[[str, Fields, str], Awaitable[None]]
"""``hook(stream, fields, reason)``, awaited before an entry is dead-lettered."""


StreamReply = list[tuple[str, list[tuple[str, Fields | None]]]]


def _stream_entries(reply: Any) -> StreamReply:
    """XREADGROUP's reply (RESP2 list form) with its types spelled out."""
    return list(reply or [])


class PermanentError(Exception):
    """Raised by a handler for an entry that can never succeed (malformed, invalid):
    it is dead-lettered at once instead of being retried."""


@dataclass(frozen=True, slots=True)
class ConsumerConfig:
    group: str
    consumer: str
    block_ms: int = 1000
    """The longest a read blocks (each read blocks a random 75-100 % of it)."""
    claim_idle_ms: int = 15_000
    max_deliveries: int = 5
    max_in_flight: int = 16
    shutdown_grace_ms: int = 5000
    """On stop, how long in-flight handlers may finish; the rest are cancelled unacked (redelivered later)."""


_REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


class StreamConsumer:
    """Consume ``streams`` in ``config.group`` until ``stop()``; see the module doc."""

    def __init__(
        self,
        redis: Redis,
        streams: Sequence[str],
        config: ConsumerConfig,
        handler: Handler,
        *,
        dead_letter_stream: str,
        on_dead_letter: DeadLetterHook | None = None,
    ) -> None:
        if not streams:
            raise ValueError("a consumer needs at least one stream")
        self._redis = redis
        self._streams = list(streams)
        self._cfg = config
        self._handler = handler
        self._dead_letter_stream = dead_letter_stream
        self._on_dead_letter = on_dead_letter
        self._stopping = asyncio.Event()
        self._in_flight: dict[tuple[str, str], asyncio.Task[None]] = {}
        self.ready = asyncio.Event()
        """Set once the groups exist and the consumer is reading."""

    def stop(self) -> None:
        """Ask the loop to finish: it returns after the current read and in-flight handlers."""
        self._stopping.set()

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    async def run(self) -> None:
        backoff = 0.1
        while not self._stopping.is_set():
            try:
                await self._run_once()
                backoff = 0.1
            except _REDIS_DOWN as exc:
                log.warning("%s: Redis unreachable (%s); retrying in %.1f s", self._cfg.group, exc, backoff)
                await self._sleep_unless_stopping(backoff)
                backoff = min(backoff * 2, 5.0)
        await self._drain()

    async def _run_once(self) -> None:
        await self._ensure_groups()
        await self._recover_own_pending()
        self.ready.set()
        next_claim = 0.0
        while not self._stopping.is_set():
            now = time.monotonic()
            if now >= next_claim:
                await self._heartbeat_in_flight()
                await self._claim_idle()
                next_claim = now + self._cfg.claim_idle_ms / 3000 * random.uniform(0.75, 1.0)
            free = self._cfg.max_in_flight - len(self._in_flight)
            if free <= 0:
                await asyncio.wait(
                    list(self._in_flight.values()),
                    timeout=self._cfg.block_ms / 1000,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                continue
            try:
                reply = await self._redis.xreadgroup(
                    self._cfg.group,
                    self._cfg.consumer,
                    dict.fromkeys(self._streams, ">"),
                    count=free,
                    block=self._block_ms(),
                )
            except ResponseError as exc:
                if "NOGROUP" not in str(exc) and "no longer exists" not in str(exc):
                    raise
                # Redis restarted without persistence: the group is gone. Recreate it.
                log.warning("%s: consumer group vanished; recreating it", self._cfg.group)
                await self._ensure_groups()
                continue
            for stream, entries in _stream_entries(reply):
                for entry_id, fields in entries:
                    self._spawn(stream, entry_id, fields or {}, deliveries=1)

    def _block_ms(self) -> int:
        return max(1, round(self._cfg.block_ms * random.uniform(0.75, 1.0)))

    async def _ensure_groups(self) -> None:
        for stream in self._streams:
            try:
                # From "0": entries written before the group existed are not lost.
                await self._redis.xgroup_create(stream, self._cfg.group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def _recover_own_pending(self) -> None:
        """Entries delivered to this consumer name in an earlier life and never acked."""
        for stream in self._streams:
            reply = await self._redis.xreadgroup(self._cfg.group, self._cfg.consumer, {stream: "0"}, count=1000)
            for _, entries in _stream_entries(reply):
                for entry_id, fields in entries:
                    await self._spawn_redelivered(stream, entry_id, fields)

    async def _claim_idle(self) -> None:
        for stream in self._streams:
            start = "0-0"
            while True:
                reply = await self._redis.xautoclaim(
                    stream,
                    self._cfg.group,
                    self._cfg.consumer,
                    min_idle_time=self._cfg.claim_idle_ms,
                    start_id=start,
                    count=100,
                )
                start = reply[0]
                entries: list[tuple[str, Fields | None]] = reply[1]
                for entry_id, fields in entries:
                    log.info("%s: claimed %s %s from an idle consumer", self._cfg.group, stream, entry_id)
                    await self._spawn_redelivered(stream, entry_id, fields)
                if start in ("0-0", b"0-0"):
                    break

    async def _heartbeat_in_flight(self) -> None:
        """Reset the idle time of entries still being handled, without counting a delivery."""
        by_stream: dict[str, list[str]] = {}
        for stream, entry_id in self._in_flight:
            by_stream.setdefault(stream, []).append(entry_id)
        for stream, ids in by_stream.items():
            await self._redis.xclaim(
                stream,
                self._cfg.group,
                self._cfg.consumer,
                min_idle_time=0,
                message_ids=list[Any](ids),
                justid=True,
            )

    async def _spawn_redelivered(self, stream: str, entry_id: str, fields: Fields | None) -> None:
        if (stream, entry_id) in self._in_flight:
            return
        if not fields:
            # Trimmed away while pending: nothing left to handle.
            await self._redis.xack(stream, self._cfg.group, entry_id)
            return
        pending = await self._redis.xpending_range(stream, self._cfg.group, entry_id, entry_id, 1)
        deliveries = int(pending[0]["times_delivered"]) if pending else 1
        self._spawn(stream, entry_id, fields, deliveries)

    def _spawn(self, stream: str, entry_id: str, fields: Fields, deliveries: int) -> None:
        key = (stream, entry_id)
        task = asyncio.create_task(self._process(stream, entry_id, fields, deliveries))
        self._in_flight[key] = task
        task.add_done_callback(lambda _t: self._in_flight.pop(key, None))

    async def _process(self, stream: str, entry_id: str, fields: Fields, deliveries: int) -> None:
        try:
            if deliveries > self._cfg.max_deliveries:
                reason = f"gave up after {deliveries - 1} deliveries without success"
                await self._dead_letter(stream, entry_id, fields, deliveries, reason)
                return
            try:
                await self._handler(stream, entry_id, fields)
            except PermanentError as exc:
                await self._dead_letter(stream, entry_id, fields, deliveries, str(exc))
                return
            await self._redis.xack(stream, self._cfg.group, entry_id)
        except _REDIS_DOWN as exc:
            log.warning(
                "%s: Redis error on %s %s (%s); it will be redelivered",
                self._cfg.group,
                stream,
                entry_id,
                exc,
            )
        except Exception:
            log.exception(
                "%s: handler failed on %s %s (delivery %d of %d); it will be redelivered",
                self._cfg.group,
                stream,
                entry_id,
                deliveries,
                self._cfg.max_deliveries,
            )

    async def _dead_letter(self, stream: str, entry_id: str, fields: Fields, deliveries: int, reason: str) -> None:
        log.error("%s: dead-lettering %s %s: %s", self._cfg.group, stream, entry_id, reason)
        if self._on_dead_letter is not None:
            await self._on_dead_letter(stream, fields, reason)
        letter = DeadLetter(
            stream=stream,
            entry_id=entry_id,
            group=self._cfg.group,
            consumer=self._cfg.consumer,
            deliveries=deliveries,
            reason=reason,
            original=json.dumps(fields, ensure_ascii=False),
        )
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xadd(self._dead_letter_stream, letter.to_fields(), maxlen=MaxLen.DEAD_LETTERS, approximate=True)  # type: ignore[arg-type]
            pipe.xack(stream, self._cfg.group, entry_id)
            await pipe.execute()

    async def _drain(self) -> None:
        if not self._in_flight:
            return
        tasks = list(self._in_flight.values())
        _, late = await asyncio.wait(tasks, timeout=self._cfg.shutdown_grace_ms / 1000)
        if late:
            log.warning(
                "%s: leaving %d entries unacked at shutdown; they will be redelivered", self._cfg.group, len(late)
            )
            for task in late:
                task.cancel()
            await asyncio.wait(late, timeout=1.0)

    async def _sleep_unless_stopping(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
