"""A Redis connection of the gateway's own for publishing function calls.

A function call is the one thing the gateway does whose latency the robot's
user feels, and redis-py's asyncio client puts a lot between the data channel
and Redis: a new task (one loop iteration before it starts), the connection
pool, command packing in Python, a stream reader whose waiter wakes the task
(another iteration), on every call. On an edge box serving fifty robots each
of those iterations runs everyone else's audio and events first.

This connection writes the command in the callback that received the call (the
bytes are on the socket before the data channel's callback returns) and hands
each reply, in order, to a callback the moment it is parsed. It speaks RESP2
with hiredis (``pack_command``, ``Reader``), pipelines every robot's calls on
one connection, and knows nothing of what it sends.

It never retries. A command whose reply does not come (the connection broke,
Redis restarted, or ``reply_timeout_s`` passed: the connection is then closed
and opened again) is answered with ``ReplyLostError``; the caller decides (the
publisher retries through redis-py: its script is idempotent, so a call that
did reach Redis is not published twice). While the connection is down ``send``
returns False and callers use their slower path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Final

import hiredis
from redis.connection import SSLConnection, UnixDomainSocketConnection, parse_url

from robovox.gateway.errors import GatewayError
from robovox.shared.aio import wait_first

log = logging.getLogger(__name__)

Arg = str | bytes | int | float
OnReply = Callable[[Any], None]
"""Called with the reply: a value, a ``hiredis.ReplyError``, or ``ReplyLostError``."""

_INCOMPLETE: Final = object()
RETRY_INITIAL_S: Final = 0.1
RETRY_MAX_S: Final = 2.0


class ReplyLostError(GatewayError, ConnectionError):
    """The command's reply will not come: the connection closed first."""


class DispatchConnection(asyncio.Protocol):
    """Keep ``run`` going for the connection to be up; ``send`` while ``up``."""

    def __init__(
        self,
        redis_url: str,
        *,
        scripts: Sequence[str] = (),
        connect_timeout_s: float = 5.0,
        reply_timeout_s: float = 5.0,
    ) -> None:
        self._params: dict[str, Any] = parse_url(redis_url)  # type: ignore[no-untyped-call]
        self._scripts = tuple(scripts)
        """Loaded on every connect, so ``EVALSHA`` finds them after a Redis restart too."""
        self._connect_timeout_s = connect_timeout_s
        self._reply_timeout_s = reply_timeout_s
        self._transport: asyncio.Transport | None = None
        self._reader = hiredis.Reader(notEnoughData=_INCOMPLETE)
        self._waiting: deque[tuple[float, OnReply]] = deque()
        """Who gets each reply to come, in order, with when the command was written."""
        self._up = False
        self._up_event = asyncio.Event()
        self._lost = asyncio.Event()
        self._quiet = asyncio.Event()
        self._quiet.set()
        self.connects = 0

    @property
    def up(self) -> bool:
        return self._up

    async def wait_up(self) -> None:
        await self._up_event.wait()

    def send(self, args: Sequence[Arg], on_reply: OnReply) -> bool:
        """Write one command now; False (nothing written) when the connection is down."""
        if not self._up or self._transport is None:
            return False
        self._transport.write(_pack(args))
        self._waiting.append((time.monotonic(), on_reply))
        self._quiet.clear()
        return True

    async def quiet(self) -> None:
        """Return when no command is waiting for its reply: work that can wait (the events
        log) goes after the function calls, not between them and Redis."""
        await self._quiet.wait()

    async def run(self, stopping: asyncio.Event) -> None:
        """Connect, and reconnect with a bounded backoff, until ``stopping``."""
        delay = RETRY_INITIAL_S
        try:
            while not stopping.is_set():
                try:
                    await self._connect()
                except (OSError, TimeoutError, hiredis.HiredisError) as exc:
                    log.warning("dispatch connection to Redis: %s; retrying in %.1f s", exc or repr(exc), delay)
                    self._close()
                    await wait_first(stopping.wait(), within_s=delay)
                    delay = min(delay * 2, RETRY_MAX_S)
                    continue
                delay = RETRY_INITIAL_S
                await self._watch(stopping)
        finally:
            self._close()

    async def _watch(self, stopping: asyncio.Event) -> None:
        """Until the connection is lost: one whose oldest reply is overdue is closed (a wedged
        Redis, a half-open connection), so its commands go the slow way instead of waiting."""
        while not stopping.is_set() and not self._lost.is_set():
            await wait_first(stopping.wait(), self._lost.wait(), within_s=self._reply_timeout_s / 4)
            if self._waiting and time.monotonic() - self._waiting[0][0] > self._reply_timeout_s:
                log.warning("dispatch connection: no reply from Redis in %.1f s; reconnecting", self._reply_timeout_s)
                self._close()
                await self._lost.wait()

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._reader = hiredis.Reader(notEnoughData=_INCOMPLETE)
        self._lost.clear()

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        try:
            while (reply := self._reader.gets()) is not _INCOMPLETE:
                if not self._waiting:
                    raise hiredis.ProtocolError("a reply nobody asked for")
                self._waiting.popleft()[1](reply)
            if not self._waiting:
                self._quiet.set()
        except hiredis.ProtocolError as exc:
            log.error("dispatch connection: %s; reconnecting", exc)
            self._close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._up = False
        self._up_event.clear()
        self._transport = None
        waiting, self._waiting = self._waiting, deque()
        for _sent_at, on_reply in waiting:
            on_reply(ReplyLostError(str(exc) if exc else "connection closed"))
        self._quiet.set()
        self._lost.set()

    # Connecting
    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        params = self._params
        async with asyncio.timeout(self._connect_timeout_s):
            if params.get("connection_class") is UnixDomainSocketConnection:
                await loop.create_unix_connection(lambda: self, params["path"])
            else:
                tls = _tls_context(params) if params.get("connection_class") is SSLConnection else None
                await loop.create_connection(lambda: self, params["host"], params["port"], ssl=tls)
            for command in self._handshake():
                reply = await self._request(command)
                if isinstance(reply, hiredis.ReplyError | ReplyLostError):
                    raise OSError(f"{command[0]} refused: {reply}")
        self._up = True
        self._up_event.set()
        self.connects += 1

    def _handshake(self) -> list[tuple[str, ...]]:
        params = self._params
        commands: list[tuple[str, ...]] = []
        if params.get("password"):
            user = params.get("username")
            commands.append(("AUTH", user, params["password"]) if user else ("AUTH", params["password"]))
        if params.get("db"):
            commands.append(("SELECT", str(params["db"])))
        commands.append(("CLIENT", "SETNAME", "robovox-dispatch"))
        commands += [("SCRIPT", "LOAD", script) for script in self._scripts]
        return commands

    async def _request(self, command: tuple[str, ...]) -> Any:
        assert self._transport is not None
        reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._transport.write(_pack(command))
        self._waiting.append((time.monotonic(), lambda value: None if reply.done() else reply.set_result(value)))
        return await reply

    def _close(self) -> None:
        self._up = False
        self._up_event.clear()
        if self._transport is not None:
            with contextlib.suppress(Exception):
                self._transport.close()


def _pack(args: Sequence[Arg]) -> bytes:
    packed: bytes = hiredis.pack_command(tuple(args))  # type: ignore[arg-type]  # the stub takes a 1-tuple
    return packed


def _tls_context(params: dict[str, Any]) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=params.get("ssl_ca_certs"))
    if str(params.get("ssl_cert_reqs", "required")).lower() in ("none", "optional"):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
