"""The client calls open on this gateway, by call id (``rtc_rv_...``), for their hang-up.

A call is forgotten when its connection closes; its id and robot are kept among the
last ``ENDED_KEPT`` ended calls, so a page's hang-up that arrives after its own
peer connection closed (a page closes both at once, and the close may win the race)
is answered as ended rather than unknown. A connection whose client never
opens its ``oai-events`` channel within the join timeout is closed: it would
hold a place among the robot's clients for ever. The watchers are tasks of the
registry's own, cancelled when the API stops.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Final

from robovox.gateway.clients.connection import ClientConnection
from robovox.shared.aio import TaskSet

ENDED_KEPT: Final = 1000


class ClientCalls:
    def __init__(self, join_timeout_s: float) -> None:
        self._join_timeout_s = join_timeout_s
        self._open: dict[str, ClientConnection] = {}
        self._ended: OrderedDict[str, str] = OrderedDict()
        """Recently ended calls: call id -> robot id."""
        self._watchers = TaskSet("client calls", "watching a client call")

    def __len__(self) -> int:
        return len(self._open)

    def get(self, client_call_id: str) -> ClientConnection | None:
        return self._open.get(client_call_id)

    def ended_robot(self, client_call_id: str) -> str | None:
        """The robot of a call that ended recently, or None."""
        return self._ended.get(client_call_id)

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
        self._ended[connection.client_call_id] = connection.robot_id
        while len(self._ended) > ENDED_KEPT:
            self._ended.popitem(last=False)
