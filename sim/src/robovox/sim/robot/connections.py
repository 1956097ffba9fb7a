"""The bridge's client connections: one session and one writer per websocket, and freezing.

``freeze()`` plays a stopped bridge process (SIGSTOP): no client socket is
read (pings go unanswered, ops wait in the kernel's buffer), nothing is sent
(replies and telemetry wait in each client's send queue, the server's own
keepalive pings stop), sockets stay open, and a new connection's handshake is
not answered.  ``thaw()`` resumes (SIGCONT): what the sockets yield is
handled, however old, and the queues are flushed.  Nothing is faked on thaw:
a client that reset its connection meanwhile gets whatever its socket gives.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from .protocol import BridgeContext, ClientSession

LOG = logging.getLogger("robovox.sim.robot")


@dataclass(frozen=True)
class ClientInfo:
    conn: int
    remote_address: Any
    compression: str | None  # e.g. "permessage-deflate" when negotiated
    connected_at: float  # time.time()


@dataclass
class _Client:
    info: ClientInfo
    ws: ServerConnection
    session: ClientSession
    done: asyncio.Event = field(default_factory=asyncio.Event)
    half_open: bool = False  # reading paused by freeze_reading(); thaw() leaves it so


class Connections:
    """Clients of one bridge; ``handle`` is the websocket server's handler."""

    def __init__(self, ctx: BridgeContext, max_send_queue: int) -> None:
        self._ctx = ctx
        self._max_send_queue = max_send_queue
        self._clients: dict[int, _Client] = {}
        self._conn_ids = itertools.count(1)
        self._running = asyncio.Event()
        self._running.set()
        self.accepting = False

    @property
    def clients(self) -> list[ClientInfo]:
        return [c.info for c in self._clients.values()]

    # --------------------------------------------------------------- freezing
    @property
    def frozen(self) -> bool:
        return not self._running.is_set()

    def freeze(self) -> None:
        if self.frozen:
            return
        self._running.clear()
        for client in self._clients.values():
            self._stop_client(client)
        LOG.info("rosbridge simulator frozen (%d clients)", len(self._clients))

    def thaw(self) -> None:
        if not self.frozen:
            return
        self._running.set()
        for client in self._clients.values():
            ws = client.ws
            # websockets pauses reading itself while its frame queue is full; leave that to it.
            if not client.half_open and not ws.recv_messages.paused:
                ws.transport.resume_reading()
            if ws.ping_interval is not None and ws.keepalive_task is None:
                ws.start_keepalive()
        LOG.info("rosbridge simulator thawed")

    @staticmethod
    def _stop_client(client: _Client) -> None:
        ws = client.ws
        ws.transport.pause_reading()
        if ws.keepalive_task is not None:
            ws.keepalive_task.cancel()
            ws.keepalive_task = None

    async def _wait_running(self, ws: ServerConnection) -> bool:
        """Wait while frozen; False if the connection was closed meanwhile (aborted by us)."""
        if self._running.is_set():
            return True
        running = asyncio.ensure_future(self._running.wait())
        closed = asyncio.ensure_future(ws.wait_closed())
        try:
            await asyncio.wait({running, closed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            running.cancel()
            closed.cancel()
        return not ws.transport.is_closing()

    def release(self) -> None:
        """End a freeze without handling anything: for a bridge going away (its clients aborted)."""
        self._running.set()

    async def process_request(self, ws: ServerConnection, request: Request) -> Response | None:
        """Opening handshakes wait while frozen (websockets' ``open_timeout`` still applies)."""
        await self._running.wait()
        return None

    def freeze_reading(self) -> None:
        """Stop reading from every current client, nothing else (a half-open TCP link)."""
        for client in self._clients.values():
            client.half_open = True
            client.ws.transport.pause_reading()

    async def drop_all(self) -> None:
        """Abort every client websocket (TCP reset, no close handshake)."""
        clients = list(self._clients.values())
        for client in clients:
            client.ws.transport.abort()
        for client in clients:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(client.done.wait(), 5.0)

    # ---------------------------------------------------------------- handler
    async def handle(self, ws: ServerConnection) -> None:
        if not self.accepting:
            ws.transport.abort()
            return
        conn = next(self._conn_ids)
        queue: asyncio.Queue[str] = asyncio.Queue()

        def send(payload: str) -> None:
            if queue.qsize() < self._max_send_queue:
                queue.put_nowait(payload)
            else:
                LOG.debug("[client %d] send queue full, dropping message", conn)

        extensions = [e.name for e in ws.protocol.extensions]
        info = ClientInfo(conn, ws.remote_address, extensions[0] if extensions else None, time.time())
        client = _Client(info, ws, ClientSession(conn, send, self._ctx))
        self._clients[conn] = client
        if self.frozen:  # frozen again between its handshake and now
            self._stop_client(client)
        writer = asyncio.get_running_loop().create_task(self._writer(ws, queue))
        LOG.debug("client %d connected from %s", conn, ws.remote_address)
        try:
            async for frame in ws:
                if not await self._wait_running(ws):
                    break
                client.session.handle_text(frame)
        except ConnectionClosed:
            pass
        finally:
            del self._clients[conn]
            writer.cancel()
            await client.session.aclose()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            client.done.set()
            LOG.debug("client %d disconnected", conn)

    async def _writer(self, ws: ServerConnection, queue: asyncio.Queue[str]) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                payload = await queue.get()
                if not await self._wait_running(ws):
                    return
                await ws.send(payload)
