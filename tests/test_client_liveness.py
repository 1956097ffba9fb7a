"""A client whose peer is gone loses its place and the microphone within 5 s: a peer that
stops answering (a killed tab sends no DTLS close or SCTP abort) and one whose channel closes."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx2

from robovox.gateway.clients.connection import ClientConnection
from robovox.gateway.service import SessionGateway
from robovox.sim.realtime import RealtimeEmulator
from robovox.sim.realtime.client import EmulatorClient
from tests.conftest import ROBOT
from tests.test_clients import join
from tests.test_gateway import live_session

GONE_WITHIN_S = 5.0


def silence(client: EmulatorClient) -> None:
    """The client's machine stops answering, as a killed tab: its ICE sockets close without a word."""
    sctp = client.pc.sctp
    assert sctp is not None
    connection: Any = sctp.transport.transport._connection
    for protocol in list(connection._protocols):
        protocol.transport.close()


def the_connection(gateway: SessionGateway) -> ClientConnection:
    (connection,) = gateway.robots[ROBOT].clients.clients
    assert isinstance(connection, ClientConnection)
    return connection


async def test_a_peer_that_stops_answering_loses_its_place_and_the_microphone_within_5_s(
    gateway: SessionGateway, emulator: RealtimeEmulator, api: httpx2.AsyncClient
) -> None:
    await live_session(gateway, emulator)
    client, _ = await join(api)
    robot = gateway.robots[ROBOT]
    try:
        await client.wait_for("robovox.client", lambda e: e["you_hold_mic"])
        connection = the_connection(gateway)
        assert robot.audio.mic_holder == connection.client_id
        # Still there after a few consent checks: an answering peer is never taken for gone.
        assert not await _closed_within(connection, 2.5)
        silenced_at = time.monotonic()
        silence(client)
        assert await _closed_within(connection, GONE_WITHIN_S)
        gone_after_s = time.monotonic() - silenced_at
        assert gone_after_s < GONE_WITHIN_S
        assert len(robot.clients) == 0 and robot.audio.mic_holder is None
    finally:
        await client.close()


async def test_a_client_whose_channel_closes_is_gone_at_once(
    gateway: SessionGateway, emulator: RealtimeEmulator, api: httpx2.AsyncClient
) -> None:
    await live_session(gateway, emulator)
    client, _ = await join(api)
    try:
        await client.wait_for("robovox.client", lambda e: e["you_hold_mic"])
        connection = the_connection(gateway)
        client.channel.close()
        assert await _closed_within(connection, 2.0)
        assert gateway.robots[ROBOT].audio.mic_holder is None
    finally:
        await client.close()


async def _closed_within(connection: ClientConnection, seconds: float) -> bool:
    try:
        await asyncio.wait_for(connection.closed.wait(), seconds)
    except TimeoutError:
        return False
    return True
