"""The bridge's client connections: one session and one writer per websocket."""

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


class Connections:
    """Clients of one bridge; ``handle`` is the websocket server's handler."""

    def __init__(self, ctx: BridgeContext, max_send_queue: int) -> None:
        self._ctx = ctx
        self._max_send_queue = max_send_queue
        self._clients: dict[int, _Client] = {}
        self._conn_ids = itertools.count(1)
        self.accepting = False

    @property
    def clients(self) -> list[ClientInfo]:
        return [c.info for c in self._clients.values()]

    # ---------------------------------------------------------- failure modes
    def freeze_reading(self) -> None:
        """Stop reading from every current client, nothing else (a half-open TCP link)."""
        for client in self._clients.values():
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
        writer = asyncio.get_running_loop().create_task(self._writer(ws, queue))
        LOG.debug("client %d connected from %s", conn, ws.remote_address)
        try:
            async for frame in ws:
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

    @staticmethod
    async def _writer(ws: ServerConnection, queue: asyncio.Queue[str]) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await ws.send(await queue.get())
