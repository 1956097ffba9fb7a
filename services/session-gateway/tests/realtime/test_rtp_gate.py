"""The RTP gate drops the model's audio packets while nobody listens, keeps one in
KEEP_ONE_IN for SRTP's rollover tracking, and never touches STUN, DTLS or RTCP."""

from __future__ import annotations

from typing import Any

from robovox.gateway.realtime.rtp_gate import KEEP_ONE_IN, RtpGate

RTP = bytes([0x80, 111]) + bytes(10)  # version 2, payload type 111 (Opus)
RTCP = bytes([0x80, 200]) + bytes(6)  # sender report
STUN = bytes([0x00, 0x01]) + bytes(18)
DTLS = bytes([22, 0xFE]) + bytes(11)


def gated(gate: RtpGate) -> tuple[list[bytes], Any]:
    passed: list[bytes] = []
    return passed, gate._wrap(lambda data, _addr: passed.append(data))


def test_a_closed_gate_drops_rtp_but_one_in_n_and_passes_everything_else() -> None:
    gate = RtpGate()
    passed, receive = gated(gate)
    for _ in range(KEEP_ONE_IN * 10):
        receive(RTP, ("127.0.0.1", 1))
    for other in (RTCP, STUN, DTLS):
        receive(other, ("127.0.0.1", 1))
    assert passed.count(RTP) == 10 and gate.dropped == KEEP_ONE_IN * 10 - 10
    assert passed[-3:] == [RTCP, STUN, DTLS]


def test_an_open_gate_passes_every_packet() -> None:
    gate = RtpGate()
    gate.open = True
    passed, receive = gated(gate)
    for _ in range(100):
        receive(RTP, ("127.0.0.1", 1))
    assert len(passed) == 100 and gate.dropped == 0
