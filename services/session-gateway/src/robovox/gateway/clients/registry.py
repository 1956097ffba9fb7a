"""The client calls open on this gateway, by call id (``rtc_rv_...``), for their hang-up.

A call is forgotten when its connection closes. A connection whose client never
opens its ``oai-events`` channel within the join timeout is closed: it would
hold a place among the robot's clients for ever. The watchers are tasks of the
registry's own, cancelled when the API stops.
"""

from __future__ import annotations

import asyncio

from robovox.gateway.clients.connection import ClientLink
from robovox.gateway.tasks import TaskSet


class ClientCalls:
    def __init__(self, join_timeout_s: float) -> None:
        self._join_timeout_s = join_timeout_s
        self._open: dict[str, ClientLink] = {}
        self._watchers = TaskSet("client calls", "watching a client call")

    def __len__(self) -> int:
        return len(self._open)

    def get(self, call_id: str) -> ClientLink | None:
        return self._open.get(call_id)

    def add(self, link: ClientLink) -> None:
        self._open[link.call_id] = link
        self._watchers.spawn(self._watch(link))

    async def close(self) -> None:
        await self._watchers.cancel(1.0)

    async def _watch(self, link: ClientLink) -> None:
        try:
            await asyncio.wait_for(link.joined.wait(), self._join_timeout_s)
        except TimeoutError:
            await link.close()
        await link.closed.wait()
        self._open.pop(link.call_id, None)
