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
from robovox.shared.entry import EntryError
from robovox.shared.messages import CommandResult
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
        last_id = "$"
        while not stopping.is_set():
            try:
                if last_id == "$":
                    # Resolve "$" to a concrete id before announcing that we listen.
                    info: Any = await self._redis.xrevrange(self._keys.command_results, count=1)
                    last_id = info[0][0] if info else "0-0"
                    self.listening.set()
                reply: Any = await self._redis.xread(
                    {self._keys.command_results: last_id}, block=self._block_ms, count=500
                )
            except Exception as exc:
                log.warning("results of %s: %s; retrying", self._keys.robot_id, exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), 0.5)
                continue
            for _stream, entries in reply or []:
                for entry_id, fields in entries:
                    last_id = entry_id
                    self._deliver(fields)

    def _deliver(self, fields: dict[str, str]) -> None:
        call_id = fields.get("call_id", "")
        future = self._waiting.get(call_id)
        if future is None or future.done():
            return
        try:
            future.set_result(CommandResult.from_fields(fields))
        except EntryError as exc:
            log.error("malformed result for %s: %s", call_id, exc)
