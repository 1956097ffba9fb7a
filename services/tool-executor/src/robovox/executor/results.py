"""Wait for a command's result, wherever it was dispatched from.

Every executor process follows each robot's results stream with plain XREAD
(not a group: the result must reach the process waiting for it), and also
checks the call record, which holds results written before it started
listening, for example when it took a call over from a crashed executor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from redis.asyncio import Redis

from robovox.shared.call_record import CallRecords, result_from_record
from robovox.shared.consumer import UndecodableEntry, decode_fields
from robovox.shared.entry import EntryError
from robovox.shared.limits import cut_text
from robovox.shared.messages import CommandResult
from robovox.shared.redis_client import dedicated_reader
from robovox.shared.streams import RobotKeys

log = logging.getLogger(__name__)


class ResultWaiter:
    def __init__(self, redis: Redis, keys: RobotKeys, records: CallRecords, block_ms: int) -> None:
        self._redis = redis
        self._keys = keys
        self._records = records
        self._block_ms = block_ms
        self._waiting: dict[str, asyncio.Future[CommandResult]] = {}
        self.listening = asyncio.Event()

    async def wait(self, call_id: str, timeout_s: float) -> CommandResult | None:
        """The call's result, or None if none came within ``timeout_s``."""
        future = self._waiting.get(call_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._waiting[call_id] = future
        try:
            await self.listening.wait()
            # Registered before this read, so a result cannot slip between the two.
            stored = result_from_record(await self._records.read(self._keys, call_id))
            if stored is not None:
                return stored
            return await asyncio.wait_for(asyncio.shield(future), max(timeout_s, 0.0))
        except TimeoutError:
            return None
        finally:
            self._waiting.pop(call_id, None)

    async def run(self, stopping: asyncio.Event) -> None:
        reader = dedicated_reader(self._redis)  # a blocked XREAD holds its connection
        try:
            await self._follow(reader, stopping)
        finally:
            await reader.aclose()

    async def _follow(self, reader: Redis, stopping: asyncio.Event) -> None:
        last_id: Any = "$"
        while not stopping.is_set():
            try:
                if last_id == "$":
                    # Resolve "$" to a concrete id before announcing that we listen.
                    info: Any = await reader.xrevrange(self._keys.command_results, count=1)  # bytes: any entry
                    last_id = info[0][0] if info else "0-0"
                    self.listening.set()
                reply: Any = await reader.xread({self._keys.command_results: last_id}, block=self._block_ms, count=500)
            except Exception as exc:
                log.warning("results of %s: %s; retrying", self._keys.robot_id, exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), 0.5)
                continue
            for _stream, entries in reply or []:
                for entry_id, raw in entries:
                    last_id = entry_id
                    self._deliver(entry_id, raw)

    def _deliver(self, entry_id: bytes, raw: dict[bytes, bytes]) -> None:
        """Hand a result to the call waiting for it; a result that cannot be read is logged and skipped
        (the adapter also keeps it in the call record, which a waiting call reads)."""
        try:
            fields = decode_fields(raw)
        except UndecodableEntry as exc:
            log.error("results of %s: entry %s skipped: %s", self._keys.robot_id, entry_id.decode(), exc)
            return
        call_id = fields.get("call_id", "")
        future = self._waiting.get(call_id)
        if future is None or future.done():
            return
        try:
            future.set_result(CommandResult.from_fields(fields))
        except EntryError as exc:
            log.error("malformed result for %s: %s", cut_text(call_id, 128), exc)
