"""Liveness of one rosbridge connection: websocket pings, answered in order.

A bridge process that stops (SIGSTOP, a hung interpreter, a half-open TCP
partition) keeps its socket open; the kernel goes on taking our bytes, and the
bridge runs all of them when it resumes, however old. Nothing the client does
afterwards can take a frame back: a reset connection does not discard what the
peer's kernel already holds. So the only defence is to write a command only
right after the bridge has shown it is reading, and to know fast when it stops.

A pong answers a ping the bridge read, and a websocket is read in order: a pong
to a ping sent after a frame proves the bridge read the frame too. ``proof()``
sends one ping for every caller waiting in the same loop step (so a burst of
commands costs one round trip, not one each) and returns when its pong is back,
or raises ``LinkStalledError`` after the timeout, when the watchdog has also
dropped the link. The timers are asyncio's own (autobahn's auto-ping runs on
txaio's batched timer, which floors deadlines to whole seconds and was seen not
to fire at all on some connections).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable

from robovox.ros_adapter.errors import LinkStalledError

_tokens = itertools.count(1)

SendPing = Callable[[bytes], bool]
"""Write a ping with this payload now; False if there is no connection to write it on."""


class Liveness:
    def __init__(self, send_ping: SendPing, timeout_s: float, on_stall: Callable[[str], None]) -> None:
        self._send_ping = send_ping
        self.timeout_s = timeout_s
        self._on_stall = on_stall
        self._round: asyncio.Future[float] | None = None
        """The ping round callers of this step join; sent in the next step."""
        self._pongs: dict[bytes, asyncio.Future[float]] = {}
        self.last_pong = 0.0
        """``time.monotonic()`` of the last pong (0: none on this connection)."""

    def reset(self) -> None:
        """A new connection: pings of the old one can never be answered."""
        for future in self._pongs.values():
            if not future.done():
                future.set_exception(LinkStalledError("the connection was replaced before the bridge answered"))
                future.exception()  # retrieved: nobody may be waiting
        self._pongs.clear()
        self._round = None
        self.last_pong = 0.0

    async def proof(self) -> float:
        """Wait until the bridge has read everything written before this call; returns the pong's
        ``time.monotonic()``. ``LinkStalledError`` if no pong comes within the timeout."""
        if self._round is None:
            loop = asyncio.get_running_loop()
            self._round = loop.create_future()
            loop.call_soon(self._send_round, self._round)
        return await asyncio.shield(self._round)

    def _send_round(self, round_: asyncio.Future[float]) -> None:
        self._round = None
        token = f"robovox-{next(_tokens)}".encode()
        if not self._send_ping(token):
            round_.set_exception(LinkStalledError("there is no connection to the bridge"))
            round_.exception()
            return
        self._pongs[token] = round_
        timer = asyncio.get_running_loop().call_later(self.timeout_s, self._expire, token)
        round_.add_done_callback(lambda _: timer.cancel())

    def _expire(self, token: bytes) -> None:
        future = self._pongs.pop(token, None)
        if future is None or future.done():
            return
        why = f"the bridge did not answer a ping within {self.timeout_s:g} s"
        future.set_exception(LinkStalledError(why))
        future.exception()
        self._on_stall(why)

    def pong(self, payload: bytes) -> None:
        """A pong arrived (on our loop)."""
        future = self._pongs.pop(payload, None)
        now = time.monotonic()
        self.last_pong = now
        if future is not None and not future.done():
            future.set_result(now)
