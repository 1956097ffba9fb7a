"""The one consumer-group loop every RoboVox service uses.

- ``XREADGROUP ... BLOCK`` on a connection of the consumer's own that returns
  bytes (``dedicated_reader``), with the block time below the socket timeout.
  Each entry is checked (size, UTF-8) before its handler sees it; one that
  fails goes to the dead-letter stream with its bytes escaped and the reason,
  and the loop goes on.
- ``XACK`` only after the handler returned; a handler that raises leaves the
  entry pending, to be redelivered. A transient Redis error inside a handler
  (connection lost, pool busy) is retried at once with back-off by this
  consumer, which owns the entry, instead of waiting for the idle claim.
- ``XAUTOCLAIM`` of entries idle longer than ``claim_idle_ms``: the work of a
  consumer that crashed is picked up by a live one. Entries this consumer is
  still working on are re-claimed to itself (``XCLAIM ... JUSTID``) so that a
  long handler is not mistaken for a dead one; this runs on a timer of its own.
- ``max_in_flight`` holds on every path: new entries, this consumer's own
  pending entries after a restart (read a page at a time), and claims.
- After ``max_deliveries`` deliveries, or at once for a ``PermanentError``, the
  entry goes to the dead-letter stream with the reason, and is acked.
- Block times and claim rounds are jittered: fifty robots' consumers started
  together would otherwise time out together, every second, and hit the
  event loop and Redis as one burst.
- Shutdown is a flag checked between reads, never ``task.cancel()`` on a
  blocked read (on Python 3.11 redis-py can swallow that cancel); in-flight
  handlers are awaited.
- Any other failure of the loop itself is raised from ``run()``: the service
  stops with the reason rather than leaving a robot unserved.

Streams read by one consumer must share a hash slot (one robot), so the loop
works unchanged on Redis Cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from robovox.shared.consumer.config import ACKED, REDIS_DOWN, ConsumerConfig, DeadLetterHook, Handler, PermanentError
from robovox.shared.consumer.raw import UnreadableEntryError, dead_letter, decode_lossy, readable_fields, text
from robovox.shared.logs import bind_log_context
from robovox.shared.redis_client import dedicated_reader
from robovox.shared.streams import MaxLen

log = logging.getLogger(__name__)

RawFields = Mapping[bytes, bytes]
RETRY_INITIAL_S: Final = 0.05
RETRY_MAX_S: Final = 2.0


def _entries(reply: Any) -> list[tuple[str, list[tuple[Any, RawFields | None]]]]:
    """XREADGROUP's reply (RESP2 list form) with the stream names as text."""
    return [(text(stream), list(entries)) for stream, entries in reply or []]


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
        self._reader: Redis | None = None
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

    async def run(self) -> None:
        self._reader = dedicated_reader(self._redis)
        keeper = asyncio.create_task(self._keep_claimed(), name=f"{self._cfg.group} heartbeat")
        backoff = 0.1
        try:
            while not self._stopping.is_set():
                try:
                    await self._run_once()
                    backoff = 0.1
                except REDIS_DOWN as exc:
                    log.warning("%s: Redis unreachable (%s); retrying in %.1f s", self._cfg.group, exc, backoff)
                    await self._sleep_unless_stopping(backoff)
                    backoff = min(backoff * 2, 5.0)
            await self._drain()
        finally:
            self._stopping.set()
            await keeper
            await self._reader.aclose()

    @property
    def _read(self) -> Redis:
        assert self._reader is not None, "run() opens the reader"
        return self._reader

    async def _run_once(self) -> None:
        await self._ensure_groups()
        await self._recover_own_pending()
        self.ready.set()
        next_claim = 0.0
        while not self._stopping.is_set():
            now = time.monotonic()
            if now >= next_claim:
                await self._claim_idle()
                next_claim = now + self._cfg.claim_idle_ms / 3000 * random.uniform(0.75, 1.0)
            free = self._cfg.max_in_flight - len(self._in_flight)
            if free <= 0:
                await self._wait_for_a_handler()
                continue
            try:
                reply = await self._read.xreadgroup(
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
            for stream, entries in _entries(reply):
                for entry_id, raw in entries:
                    self._spawn(stream, text(entry_id), raw or {}, deliveries=1)

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

    async def _wait_for_a_handler(self) -> None:
        await asyncio.wait(
            list(self._in_flight.values()), timeout=self._cfg.block_ms / 1000, return_when=asyncio.FIRST_COMPLETED
        )

    async def _room(self) -> int:
        """Wait until a handler slot is free (keeping in-flight entries claimed meanwhile); how many are."""
        while (free := self._cfg.max_in_flight - len(self._in_flight)) <= 0:
            await self._wait_for_a_handler()
        return free

    async def _recover_own_pending(self) -> None:
        """Entries delivered to this consumer name in an earlier life and never acked, a page at a time."""
        for stream in self._streams:
            after: Any = "0"
            while not self._stopping.is_set():
                free = await self._room()
                reply = await self._read.xreadgroup(self._cfg.group, self._cfg.consumer, {stream: after}, count=free)
                page = [entry for _, entries in _entries(reply) for entry in entries]
                if not page:
                    break
                for entry_id, raw in page:
                    after = entry_id
                    await self._spawn_redelivered(stream, text(entry_id), raw)

    async def _claim_idle(self) -> None:
        for stream in self._streams:
            start: Any = "0-0"
            while (free := self._cfg.max_in_flight - len(self._in_flight)) > 0:
                reply = await self._read.xautoclaim(
                    stream,
                    self._cfg.group,
                    self._cfg.consumer,
                    min_idle_time=self._cfg.claim_idle_ms,
                    start_id=start,
                    count=min(free, 100),
                )
                start = reply[0]
                for entry_id, raw in reply[1]:
                    log.info("%s: claimed %s %s from an idle consumer", self._cfg.group, stream, text(entry_id))
                    await self._spawn_redelivered(stream, text(entry_id), raw)
                if text(start) == "0-0":
                    break

    async def _keep_claimed(self) -> None:
        """Four times per claim period, reset the idle time of entries still being handled (without
        counting a delivery), on its own timer: a blocked read or a busy loop never lets them look dead."""
        period_s = self._cfg.claim_idle_ms / 4000
        while not self._stopping.is_set():
            await self._sleep_unless_stopping(period_s)
            by_stream: dict[str, list[str]] = {}
            for stream, entry_id in self._in_flight:
                by_stream.setdefault(stream, []).append(entry_id)
            for stream, ids in by_stream.items():
                try:
                    await self._redis.xclaim(
                        stream,
                        self._cfg.group,
                        self._cfg.consumer,
                        min_idle_time=0,
                        message_ids=list[Any](ids),
                        justid=True,
                    )
                except REDIS_DOWN as exc:
                    log.warning("%s: in-flight entries not kept claimed (%s)", self._cfg.group, exc)

    async def _spawn_redelivered(self, stream: str, entry_id: str, raw: RawFields | None) -> None:
        if (stream, entry_id) in self._in_flight:
            return
        if not raw:
            # Trimmed away while pending: nothing left to handle.
            await self._redis.xack(stream, self._cfg.group, entry_id)
            return
        pending = await self._redis.xpending_range(stream, self._cfg.group, entry_id, entry_id, 1)
        deliveries = int(pending[0]["times_delivered"]) if pending else 1
        self._spawn(stream, entry_id, raw, deliveries)

    def _spawn(self, stream: str, entry_id: str, raw: RawFields, deliveries: int) -> None:
        key = (stream, entry_id)
        task = asyncio.create_task(self._process(stream, entry_id, raw, deliveries))
        self._in_flight[key] = task
        task.add_done_callback(lambda _t: self._in_flight.pop(key, None))

    async def _process(self, stream: str, entry_id: str, raw: RawFields, deliveries: int) -> None:
        delay = RETRY_INITIAL_S
        while True:
            try:
                await self._process_once(stream, entry_id, raw, deliveries)
                return
            except REDIS_DOWN as exc:
                if self._stopping.is_set():
                    log.warning("%s: %s %s left pending at shutdown (%s)", self._cfg.group, stream, entry_id, exc)
                    return
                level = logging.WARNING if delay == RETRY_INITIAL_S else logging.DEBUG
                log.log(level, "%s: Redis error on %s %s (%s); retrying", self._cfg.group, stream, entry_id, exc)
                await self._sleep_unless_stopping(delay)
                delay = min(delay * 2, RETRY_MAX_S)
            except Exception:
                log.exception(
                    "%s: handler failed on %s %s (delivery %d of %d); it will be redelivered",
                    self._cfg.group,
                    stream,
                    entry_id,
                    deliveries,
                    self._cfg.max_deliveries,
                )
                return

    async def _process_once(self, stream: str, entry_id: str, raw: RawFields, deliveries: int) -> None:
        try:
            fields = readable_fields(raw, self._cfg.max_entry_bytes)
        except UnreadableEntryError as exc:
            await self._dead_letter(stream, entry_id, raw, deliveries, str(exc))
            return
        # This entry's own task: what its handling logs names its call (a stop's id, on the emergency path).
        bind_log_context(call_id=fields.get("call_id") or fields.get("stop_id") or fields.get("action_call_id"))
        if deliveries > self._cfg.max_deliveries:
            reason = f"gave up after {deliveries - 1} deliveries without success"
            await self._dead_letter(stream, entry_id, raw, deliveries, reason)
            return
        try:
            done = await self._handler(stream, entry_id, fields)
        except PermanentError as exc:
            await self._dead_letter(stream, entry_id, raw, deliveries, str(exc))
            return
        if done is not ACKED:
            await self._redis.xack(stream, self._cfg.group, entry_id)

    async def _dead_letter(self, stream: str, entry_id: str, raw: RawFields, deliveries: int, reason: str) -> None:
        letter = dead_letter(
            stream, entry_id, raw, reason, group=self._cfg.group, consumer=self._cfg.consumer,
            original_chars=self._cfg.dead_letter_chars, deliveries=deliveries,
        )  # fmt: skip
        log.error("%s: dead-lettering %s %s: %s", self._cfg.group, stream, entry_id, letter.reason)
        if self._on_dead_letter is not None:
            await self._on_dead_letter(stream, decode_lossy(raw), letter.reason)
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
