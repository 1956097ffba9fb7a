"""Small asyncio helpers the services share."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any


async def wait_first(*awaitables: Awaitable[Any], within_s: float | None = None) -> None:
    """Return when one of ``awaitables`` is done or ``within_s`` seconds have passed; the rest are cancelled."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        await asyncio.wait(tasks, timeout=within_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
