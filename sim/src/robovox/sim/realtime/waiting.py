"""Await state changes without polling."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class Signal:
    """Wakes every waiter each time ``notify`` is called."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_for(self, check: Callable[[], T | None], timeout: float, what: str) -> T:  # noqa: ASYNC109
        """Return ``check()`` once it is not None, re-checking after each ``notify``."""
        try:
            async with asyncio.timeout(timeout):
                while (result := check()) is None:
                    await self._event.wait()
        except TimeoutError:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}") from None
        return result


def first_event(
    records: list[dict[str, Any]], type_: str, predicate: Callable[[dict[str, Any]], bool] | None, after: int
) -> dict[str, Any] | None:
    for record in records[after:]:
        if record.get("type") == type_ and (predicate is None or predicate(record)):
            return record
    return None
