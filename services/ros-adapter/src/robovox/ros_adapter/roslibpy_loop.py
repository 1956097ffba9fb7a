"""roslibpy on the adapter's own event loop, instead of the thread it starts by default.

roslibpy's asyncio transport runs every connection on one background thread
(``roslibpy-asyncio``). Each command then crossed threads twice: the adapter's
loop marks it started in Redis, hands the write to roslibpy's thread and waits for that
thread to get the GIL (up to the interpreter's 5 ms switch interval under load).
A SIGKILL in that gap leaves a started command that was never written, which no
one can tell from one that was: its answer has to be "outcome unknown". On one
loop the start's reply and the websocket write happen in the same step, and the
cross-thread wake-ups go.

``new_ros()`` makes a roslibpy connection with a manager of its own on the running
loop; roslibpy's process-wide manager, and any other roslibpy user in the process,
are left as they are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import roslibpy
from roslibpy.comm import comm_asyncio


class RunningLoopManager(comm_asyncio.AsyncioEventLoopManager):  # type: ignore[misc]
    """roslibpy's loop manager on a loop that is already running: no thread of its own."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.loop = loop

    def run(self) -> None:
        """Nothing to start: the loop runs."""

    def run_forever(self) -> None:
        raise RuntimeError("roslibpy runs on the ROS adapter's loop; there is no loop of its own to run")

    def terminate(self) -> None:
        """Nothing to stop: the loop belongs to the adapter."""

    def blocking_call_from_thread(self, callback: Callable[[Any], Any], timeout: float | None) -> Any:
        raise RuntimeError("a blocking roslibpy call would stop the ROS adapter's loop; use the callback form")


def new_ros(url: str) -> Any:
    """A ``roslibpy.Ros`` (asyncio transport) whose connection runs on the running loop and writes
    frames at once (``ImmediateProtocol``). roslibpy's constructor schedules the connection
    attempt on this loop: register the factory's handlers before the caller next awaits."""
    manager = RunningLoopManager(asyncio.get_running_loop())
    shared = comm_asyncio._MANAGER_SINGLETON
    comm_asyncio._MANAGER_SINGLETON = manager  # what the factory's constructor picks up
    try:
        ros = roslibpy.Ros(url, None, transport="asyncio")  # no port: the URL is used whole, path included
    finally:
        comm_asyncio._MANAGER_SINGLETON = shared
    ros.factory.protocol = ImmediateProtocol
    return ros


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
