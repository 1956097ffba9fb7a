"""Running one task per robot in a service, with a readiness signal."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable
from typing import Any


async def run_until_stopped(
    runs: Iterable[Coroutine[Any, Any, None]], readiness: Iterable[asyncio.Event], ready: asyncio.Event
) -> None:
    """Run every robot's coroutine; set ``ready`` once every readiness event is set.
    A robot task that fails early ends the wait and raises."""
    tasks = [asyncio.create_task(run) for run in runs]
    all_ready: asyncio.Future[Any] = asyncio.ensure_future(asyncio.gather(*(event.wait() for event in readiness)))
    watched: list[asyncio.Future[Any]] = [all_ready, *tasks]
    done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
    if all_ready in done:
        ready.set()
    else:
        all_ready.cancel()
    await asyncio.gather(*tasks)
