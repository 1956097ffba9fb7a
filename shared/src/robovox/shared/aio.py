"""Small asyncio helpers the services share."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Coroutine, Sequence
from typing import Any

from robovox.shared.errors import RoboVoxError

log = logging.getLogger(__name__)


async def wait_first(*awaitables: Awaitable[Any], within_s: float | None = None) -> None:
    """Return when one of ``awaitables`` is done or ``within_s`` seconds have passed; the rest are cancelled."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        await asyncio.wait(tasks, timeout=within_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


class TaskEndedError(RoboVoxError, RuntimeError):
    """A task a worker depends on ended while the worker was meant to run on."""


async def supervise(stopping: asyncio.Event, tasks: Sequence[asyncio.Task[Any]]) -> None:
    """Return when ``stopping`` is set; raise TaskEndedError, naming the task and its error, if one of
    ``tasks`` ends first (the others are cancelled). A robot's consumer that died would otherwise
    leave it unserved, silently."""
    stop = asyncio.ensure_future(stopping.wait())
    try:
        done, _ = await asyncio.wait([stop, *tasks], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
    if stop in done:
        return
    ended = next(task for task in tasks if task.done())
    for task in tasks:  # the process is going down: what is unacked is redelivered after the restart
        task.cancel()
    await asyncio.wait(tasks, timeout=2.0)
    error = None if ended.cancelled() else ended.exception()
    why = f": {type(error).__name__}: {error}" if error else " without being asked to stop"
    raise TaskEndedError(f"{ended.get_name()} ended{why}") from error


class TaskSet:
    """Tasks started to run beside their owner, kept until they end so that none is lost unawaited:
    the owner waits for them or cancels them when it closes. A task that fails is logged."""

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
