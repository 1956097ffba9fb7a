"""A robot whose session closes when idle keeps it open while a client is joined,
and closes it once the last client has left."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2
import pytest

from robovox.gateway.service import SessionGateway
from robovox.shared.session import SessionState
from robovox.sim.realtime import RealtimeEmulator
from tests.conftest import ROBOT
from tests.test_clients import join
from tests.test_gateway import live_session

IDLE_CLOSE_S = 0.5


@pytest.fixture
def gateway_overrides() -> dict[str, Any]:
    return {"idle_close_s": IDLE_CLOSE_S}


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
