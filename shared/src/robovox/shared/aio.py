"""Small asyncio helpers the services share."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any

from robovox.shared.errors import RoboVoxError


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
