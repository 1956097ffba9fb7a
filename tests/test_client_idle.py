"""How long clients hold a robot: a robot whose session closes when idle keeps it
open while a client is joined, and closes it once the last client has left; a
client that never opens its channel loses its place."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2
import pytest

from robovox.gateway.service import SessionGateway
from robovox.shared.session import SessionState
from robovox.sim.realtime import RealtimeEmulator
from tests.conftest import ROBOT
from tests.test_client_signaling import post_offer
from tests.test_clients import client_secret, join
from tests.test_gateway import live_session

IDLE_CLOSE_S = 0.5
CONNECT_TIMEOUT_S = 2.0


@pytest.fixture
def gateway_overrides() -> dict[str, Any]:
    return {"idle_close_s": IDLE_CLOSE_S, "connect_timeout_s": CONNECT_TIMEOUT_S}


async def test_a_joined_client_keeps_an_idle_session_open(
    gateway: SessionGateway, emulator: RealtimeEmulator, api: httpx2.AsyncClient
) -> None:
    session = await live_session(gateway, emulator)
    client, location = await join(api)
    try:
        await client.wait_for("robovox.client")
        # Nothing happens for four idle periods: a silent window is the point of this check.
        await asyncio.sleep(4 * IDLE_CLOSE_S)
        assert gateway.robots[ROBOT].state is SessionState.LIVE and not session.closed_event.is_set()
        assert (await api.post(f"{location}/hangup")).status_code == 200
        await asyncio.wait_for(session.closed_event.wait(), 10 * IDLE_CLOSE_S)
        assert gateway.robots[ROBOT].state is SessionState.IDLE
    finally:
        await client.close()


async def test_a_client_that_never_connects_loses_its_place(
    gateway: SessionGateway, emulator: RealtimeEmulator, api: httpx2.AsyncClient
) -> None:
    await live_session(gateway, emulator)
    clients = gateway.robots[ROBOT].clients
    # The offer is answered, but the client goes away without applying the answer.
    assert (await post_offer(gateway, await client_secret(api))).status_code == 201
    (link,) = clients.clients
    await asyncio.wait_for(link.closed.wait(), 3 * CONNECT_TIMEOUT_S)  # type: ignore[attr-defined]
    assert len(clients) == 0
