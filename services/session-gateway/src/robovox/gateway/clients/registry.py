"""The client calls open on this gateway, by call id (``rtc_rv_...``), for their hang-up.

A call is forgotten when its connection closes. A connection whose client never
opens its ``oai-events`` channel within the join timeout is closed: it would
hold a place among the robot's clients for ever. The watchers are tasks of the
registry's own, cancelled when the API stops.
"""

from __future__ import annotations

import asyncio

from robovox.gateway.clients.connection import ClientConnection
from robovox.shared.aio import TaskSet


class ClientCalls:
    def __init__(self, join_timeout_s: float) -> None:
        self._join_timeout_s = join_timeout_s
        self._open: dict[str, ClientConnection] = {}
        self._watchers = TaskSet("client calls", "watching a client call")

    def __len__(self) -> int:
        return len(self._open)

    def get(self, client_call_id: str) -> ClientConnection | None:
        return self._open.get(client_call_id)

    def add(self, connection: ClientConnection) -> None:
        self._open[connection.client_call_id] = connection
        self._watchers.spawn(self._watch(connection))

    async def close(self) -> None:
        await self._watchers.cancel(1.0)

    async def _watch(self, connection: ClientConnection) -> None:
        try:
            await asyncio.wait_for(connection.joined.wait(), self._join_timeout_s)
        except TimeoutError:
            await connection.close()
        await connection.closed.wait()
        self._open.pop(connection.client_call_id, None)
