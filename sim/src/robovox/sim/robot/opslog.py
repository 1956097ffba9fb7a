"""Log of every rosbridge op received, awaitable by tests."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from typing import Any


def op_name(message: dict[str, Any]) -> str | None:
    """The topic, service or action an op refers to (if any)."""
    for key in ("topic", "service", "action"):
        value = message.get(key)
        if isinstance(value, str):
            return value
    return None


@dataclass(frozen=True)
class OpRecord:
    """One received op: ``wall_time`` is ``time.time()``, ``mono_time`` ``time.perf_counter()``."""

    op: str
    name: str | None
    conn: int
    wall_time: float
    mono_time: float
    message: dict[str, Any]

    def matches(self, op: str | None, name: str | None) -> bool:
        return (op is None or self.op == op) and (name is None or self.name == name)


@dataclass
class _Waiter:
    op: str | None
    name: str | None
    count: int
    seen: int
    future: asyncio.Future[None]


class OpsLog:
    """Bounded, in-memory record of received ops (oldest dropped beyond ``maxlen``)."""

    def __init__(self, maxlen: int | None = 100_000) -> None:
        self._records: deque[OpRecord] = deque(maxlen=maxlen)
        self._waiters: list[_Waiter] = []

    def append(self, conn: int, message: dict[str, Any]) -> OpRecord:
        op = message.get("op")
        record = OpRecord(
            op=op if isinstance(op, str) else "",
            name=op_name(message),
            conn=conn,
            wall_time=time.time(),
            mono_time=time.perf_counter(),
            message=message,
        )
        self._records.append(record)
        if self._waiters:
            for waiter in self._waiters:
                if record.matches(waiter.op, waiter.name):
                    waiter.seen += 1
                    if waiter.seen >= waiter.count and not waiter.future.done():
                        waiter.future.set_result(None)
        return record

    def query(self, op: str | None = None, name: str | None = None) -> list[OpRecord]:
        return [r for r in self._records if r.matches(op, name)]

    def clear(self) -> None:
        self._records.clear()
        for waiter in self._waiters:
            waiter.seen = 0

    async def wait_for(
        self,
        op: str | None,
        name: str | None = None,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - public API, mirrors asyncio.wait_for
    ) -> list[OpRecord]:
        """Wait until at least ``count`` matching ops are in the log; return all of them.

        Raises ``TimeoutError`` if that does not happen within ``timeout`` seconds.
        """
        seen = len(self.query(op, name))
        if seen >= count:
            return self.query(op, name)
        waiter = _Waiter(op, name, count, seen, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter.future, timeout)
        except TimeoutError:
            got = len(self.query(op, name))
            raise TimeoutError(
                f"timed out after {timeout}s waiting for {count} op(s) op={op!r} name={name!r}; got {got}"
            ) from None
        finally:
            self._waiters.remove(waiter)
        return self.query(op, name)
