"""Tasks started to run beside their owner, kept until they end so that none is lost
unawaited: the owner waits for them or cancels them when it closes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class TaskSet:
    def __init__(self, owner: str, what: str = "a task") -> None:
        self._owner = owner
        self._what = what
        """Named in the log line of a task that failed."""
        self._tasks: set[asyncio.Task[Any]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    async def wait(self, timeout_s: float) -> None:
        """Wait (up to ``timeout_s``) for the tasks running now."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout_s)

    async def cancel(self, timeout_s: float) -> None:
        """Cancel every task but the one calling, and wait (up to ``timeout_s``) for them to end."""
        current = asyncio.current_task()
        others = [task for task in self._tasks if task is not current]
        for task in others:
            task.cancel()
        if others:
            await asyncio.wait(others, timeout=timeout_s)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("%s: %s failed: %r", self._owner, self._what, exc)
