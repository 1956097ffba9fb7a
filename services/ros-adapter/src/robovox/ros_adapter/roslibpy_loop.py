"""roslibpy on the adapter's own event loop, instead of the thread it starts by default.

roslibpy's asyncio transport runs every connection on one background thread
(``roslibpy-asyncio``). Each command then crossed threads twice: the adapter's
loop claims it in Redis, hands the write to roslibpy's thread and waits for that
thread to get the GIL (up to the interpreter's 5 ms switch interval under load).
A SIGKILL in that gap leaves a claimed command that was never written, which no
one can tell from one that was: its answer has to be "outcome unknown". On one
loop the claim's reply and the websocket write happen in the same step, and the
cross-thread wake-ups go.

``install()`` replaces roslibpy's process-wide manager before any connection is
made; the manager's loop is whichever loop is running when roslibpy asks (each
test has its own), or the last one seen when asked from a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from roslibpy.comm import comm_asyncio


class RunningLoopManager(comm_asyncio.AsyncioEventLoopManager):  # type: ignore[misc]
    """roslibpy's loop manager, on the caller's running loop: no thread of its own."""

    def __init__(self) -> None:
        self._last: asyncio.AbstractEventLoop | None = None
        super().__init__()

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        with contextlib.suppress(RuntimeError):  # not on a loop: a worker thread (roslibpy's call_in_thread)
            self._last = asyncio.get_running_loop()
        return self._last

    @loop.setter
    def loop(self, value: asyncio.AbstractEventLoop | None) -> None:
        if value is not None:
            self._last = value

    def run(self) -> None:
        """Nothing to start: the caller's loop runs."""

    def run_forever(self) -> None:
        raise RuntimeError("roslibpy runs on the ROS adapter's loop; there is no loop of its own to run")

    def terminate(self) -> None:
        """Nothing to stop: the loop belongs to the adapter."""

    def blocking_call_from_thread(self, callback: Callable[[Any], Any], timeout: float | None) -> Any:
        raise RuntimeError("a blocking roslibpy call would stop the ROS adapter's loop; use the callback form")


def install() -> None:
    """Make every roslibpy connection of this process run on the loop that creates it."""
    if not isinstance(comm_asyncio._MANAGER_SINGLETON, RunningLoopManager):
        comm_asyncio._MANAGER_SINGLETON = RunningLoopManager()


class ImmediateProtocol(comm_asyncio.AsyncioRosBridgeProtocol):  # type: ignore[misc]
    """roslibpy's protocol, writing a frame at once when asked on its own loop (roslibpy schedules
    every write for a later loop turn, and logs and drops a write that fails). A failed write
    raises to the caller, which then knows nothing was sent."""

    def send_message(self, payload: bytes) -> None:
        loop = self.factory.manager.loop
        if loop is None or loop.is_closed():
            raise ConnectionError("the rosbridge connection's loop is closed")
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self.sendMessage(payload, isBinary=False)
        else:
            loop.call_soon_threadsafe(self._send, payload)
