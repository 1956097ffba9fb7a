"""Is a client's peer still there? A consent check (RFC 7675) every second.

aioice checks consent every 5 s and gives up after six failures, so a tab that
was killed (no DTLS close, no SCTP abort: it just stops answering) would keep
its place among the robot's clients, and the microphone, for about 33 s. The
gateway asks the client's ICE agent itself, on the nominated pair, once a
``probe_interval_s``, one try each; a peer that has answered none of them for
``peer_timeout_s`` (``ROBOVOX_CLIENT_PEER_TIMEOUT_S``) is gone. A closed data
channel or DTLS transport is found at once by the connection itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from aioice import stun
from aiortc import RTCPeerConnection

log = logging.getLogger(__name__)

PROBE_INTERVAL_S = 1.0


def _ice_connection(pc: RTCPeerConnection) -> Any | None:
    """The aioice connection under the peer's data channel (aiortc keeps it private)."""
    sctp = pc.sctp
    if sctp is None:
        return None
    return getattr(sctp.transport.transport, "_connection", None)


async def _probe(connection: Any) -> bool | None:
    """One consent check on each nominated pair: True if one was answered, False if none was,
    None when there is nothing to check (no nominated pair yet, or an aioice this does not know)."""
    password = getattr(connection, "remote_password", None)
    pairs = list(getattr(connection, "_nominated", {}).values())
    if not password or not pairs or not hasattr(connection, "build_request"):
        return None
    answered = False
    for pair in pairs:
        request = connection.build_request(pair, nominate=False)
        with contextlib.suppress(stun.TransactionError, OSError, AssertionError):
            await pair.protocol.request(
                request, pair.remote_addr, integrity_key=password.encode("utf8"), retransmissions=0
            )
            answered = True
    return answered


async def watch_peer(pc: RTCPeerConnection, peer_timeout_s: float, probe_interval_s: float = PROBE_INTERVAL_S) -> float:
    """Return (the seconds since it last answered) once the peer has answered no check for
    ``peer_timeout_s``; runs until cancelled while it answers."""
    last_answer = time.monotonic()
    while True:
        started = time.monotonic()
        connection = _ice_connection(pc)
        # Unknown counts as alive: a peer is never taken for gone for want of a way to ask it
        # (aioice's own 30 s consent timer still holds then).
        if connection is None or await _probe(connection) is not False:
            last_answer = time.monotonic()
        silent_s = time.monotonic() - last_answer
        if silent_s >= peer_timeout_s:
            return silent_s
        await asyncio.sleep(max(0.0, probe_interval_s - (time.monotonic() - started)))
