"""What the simulators' command lines share: serve until SIGINT / SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from typing import Any


async def serve_until_signalled(server: AbstractAsyncContextManager[Any], banner: Callable[[], str]) -> None:
    """Run ``server`` (an async context manager) and print ``banner()`` once it is up, until a signal."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with server:
        print(banner(), flush=True)
        await stop.wait()


def run_cli(main: Coroutine[Any, Any, None], log_level: str) -> None:
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main)
