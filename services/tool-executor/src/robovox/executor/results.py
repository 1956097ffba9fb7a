"""The results half of the executor's command RPC (``command_rpc``): every
executor process follows each robot's ``command_results`` stream with plain
XREAD (not a group: a result must reach the process waiting for it, whichever
that is) and hands each result to the future of the call waiting for it. A
result written before the waiter listened (a call taken over from a crashed
executor) is in the call record, which ``wait`` reads first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from redis.asyncio import Redis

from robovox.shared.call_life import CallLife
from robovox.shared.consumer import UnreadableEntryError, add_dead_letter, dead_letter, readable_fields
from robovox.shared.entry import EntryError
from robovox.shared.limits import Limits
from robovox.shared.messages import CommandResult
from robovox.shared.redis_client import dedicated_reader
from robovox.shared.streams import Group, RobotKeys

log = logging.getLogger(__name__)


class ResultFollower:
    def __init__(
        self, redis: Redis, keys: RobotKeys, calls: CallLife, block_ms: int, *, consumer: str, limits: Limits
    ) -> None:
        self._redis = redis
        self._consumer = consumer
        self._limits = limits
        self._keys = keys
        self._calls = calls
        self._block_ms = block_ms
        self._waiting: dict[str, asyncio.Future[CommandResult]] = {}
        self.listening = asyncio.Event()

    async def expect(self, call_id: str) -> None:
        """Be ready for ``call_id``'s result before its command is dispatched: then no result can
        come before the waiter, and ``wait(..., expected=True)`` needs no look at the call record."""
        await self.listening.wait()
        self._future(call_id)

    def forget(self, call_id: str) -> None:
        self._waiting.pop(call_id, None)

    def _future(self, call_id: str) -> asyncio.Future[CommandResult]:
        future = self._waiting.get(call_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._waiting[call_id] = future
        return future

    async def wait(self, call_id: str, timeout_s: float, *, expected: bool = False) -> CommandResult | None:
        """The call's result, or None if none came within ``timeout_s``."""
        future = self._future(call_id)
        try:
            if not expected:
                await self.listening.wait()
                # Registered before this read, so a result cannot slip between the two.
                stored = (await self._calls.read(self._keys, call_id)).result
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
                    await self._deliver(entry_id.decode(), raw)

    async def _deliver(self, entry_id: str, raw: dict[bytes, bytes]) -> None:
        """Hand a result to the call waiting for it. One that cannot be read is dead-lettered (a waiting
        call then reads the adapter's result from the call record, or abandons the call)."""
        try:
            result = CommandResult.from_fields(readable_fields(raw, self._limits.entry_bytes))
        except (UnreadableEntryError, EntryError) as exc:
            await self._dead_letter(entry_id, raw, str(exc))
            return
        if result.robot_id != self._keys.robot_id:
            await self._dead_letter(
                entry_id, raw, f"result for robot {result.robot_id!r} on {self._keys.robot_id!r}'s stream"
            )
            return
        future = self._waiting.get(result.call_id)
        if future is not None and not future.done():
            future.set_result(result)

    async def _dead_letter(self, entry_id: str, raw: dict[bytes, bytes], reason: str) -> None:
        letter = dead_letter(
            self._keys.command_results, entry_id, raw, reason, group=Group.TOOL_EXECUTOR, consumer=self._consumer,
            original_chars=self._limits.dead_letter_chars,
        )  # fmt: skip
        await add_dead_letter(self._redis, self._keys.dead_letters, letter)
