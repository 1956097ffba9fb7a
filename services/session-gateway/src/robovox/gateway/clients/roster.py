"""The clients joined to one robot (consoles, Realtime pages), and what they are told.

The robot's sessions broadcast through the roster: every server event of the
model session as received, and the gateway's own ``robovox.*`` events
(``clients/events.py``, ``docs/console.md``). A client whose channel is not open yet, or is gone, is
skipped; it never holds up the robot.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from robovox.gateway.clients.events import ClientEvent, ClientListed, RobovoxEvent
from robovox.gateway.errors import GatewayError


class ClientEndpoint(Protocol):
    client_id: str
    operator: str

    def send_text(self, text: str) -> None: ...

    async def close(self) -> None: ...


class RosterFullError(GatewayError):
    """The robot already has as many clients as allowed."""


def event_text(event: dict[str, Any]) -> str:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


class ClientRoster:
    def __init__(self, robot_id: str, max_clients: int) -> None:
        self.robot_id = robot_id
        self.max_clients = max_clients
        self._clients: dict[str, ClientEndpoint] = {}

    def __len__(self) -> int:
        return len(self._clients)

    @property
    def clients(self) -> list[ClientEndpoint]:
        return list(self._clients.values())

    def add(self, client: ClientEndpoint) -> None:
        if len(self._clients) >= self.max_clients:
            raise RosterFullError(f"robot {self.robot_id} already has {self.max_clients} clients")
        self._clients[client.client_id] = client

    def remove(self, client_id: str) -> None:
        self._clients.pop(client_id, None)

    def broadcast_text(self, text: str) -> None:
        for client in list(self._clients.values()):
            client.send_text(text)

    def broadcast(self, event: RobovoxEvent) -> None:
        if self._clients:
            self.broadcast_text(event.encoded())

    def listing(self) -> list[ClientListed]:
        """Who is joined, as clients are told it."""
        return [ClientListed(client_id=c.client_id, operator=c.operator) for c in self._clients.values()]

    def announce(self, mic_holder: str | None) -> None:
        """Tell every client who is joined and who holds the microphone (``robovox.client``)."""
        listing = self.listing()
        for client in list(self._clients.values()):
            event = ClientEvent(
                robot_id=self.robot_id,
                client_id=client.client_id,
                mic_holder=mic_holder,
                you_hold_mic=mic_holder == client.client_id,
                clients=listing,
            )
            client.send_text(event.encoded())

    async def close_all(self) -> None:
        for client in list(self._clients.values()):
            await client.close()
        self._clients.clear()
