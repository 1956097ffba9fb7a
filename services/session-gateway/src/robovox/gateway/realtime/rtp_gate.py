"""Drop the model's audio at the socket while nobody listens.

A Realtime session streams its voice as about 50 RTP packets a second. Even
with the receiver switched off, aiortc handles each one in Python: aioice
tries it as STUN, queues it, wakes the DTLS transport's task, which decrypts,
parses and routes it, only for the receiver to throw it away. Fifty robots
make that 2,500 packets a second on the event loop that also dispatches their
function calls.

The gate wraps the ICE sockets' ``datagram_received`` and drops incoming RTP
(not RTCP, STUN or DTLS) while closed, letting one packet in ``KEEP_ONE_IN``
through so that SRTP keeps track of the sequence number's rollover (libsrtp
guesses it from the last packet it saw, and a gap of 2^15 packets, about 11
minutes of voice, would break decryption for good).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiortc import RTCPeerConnection
from aiortc.rtp import is_rtcp

log = logging.getLogger(__name__)

KEEP_ONE_IN = 64


def _is_rtp(data: bytes) -> bool:
    return len(data) >= 2 and 127 < data[0] < 192 and not is_rtcp(data)


class RtpGate:
    def __init__(self) -> None:
        self.open = False
        self.dropped = 0
        self._seen = 0
        self.installed = False

    def install(self, pc: RTCPeerConnection) -> None:
        """Wrap the sockets of the connection's ICE transports (after ``setLocalDescription``)."""
        for transceiver in pc.getTransceivers():
            ice = getattr(transceiver.receiver.transport, "transport", None)
            connection = getattr(ice, "_connection", None)
            for protocol in getattr(connection, "_protocols", []):
                if not getattr(protocol, "_robovox_gated", False):
                    protocol.datagram_received = self._wrap(protocol.datagram_received)
                    protocol._robovox_gated = True
                    self.installed = True
        if not self.installed:
            log.warning("cannot gate incoming RTP (aiortc internals changed): idle voices are decoded-and-dropped")

    def _wrap(self, receive: Callable[[bytes, Any], None]) -> Callable[[bytes, Any], None]:
        def gated(data: bytes, addr: Any) -> None:
            if not self.open and _is_rtp(data):
                self._seen += 1
                if self._seen % KEEP_ONE_IN:
                    self.dropped += 1
                    return
            receive(data, addr)

        return gated
