"""The consent watcher: a peer that answers is kept, one that stops is gone after the timeout,
and one it has no way to ask is never taken for gone."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from aioice import stun
from aiortc import RTCPeerConnection

from robovox.gateway.clients.liveness import watch_peer


class Pair:
    def __init__(self, peer: Peer) -> None:
        self.remote_addr = ("127.0.0.1", 9)
        self.protocol = peer


class Peer:
    """Stands in for the peer connection down to aioice's connection, answering while ``answering``."""

    def __init__(self, *, nominated: bool = True) -> None:
        self.answering = True
        self.checks = 0
        self.remote_password = "pw"
        self._nominated = {1: Pair(self)} if nominated else {}
        self.sctp = self
        self.transport = self

    def build_request(self, pair: Pair, nominate: bool) -> str:
        return "binding request"

    async def request(self, *_args: Any, **_kwargs: Any) -> None:
        self.checks += 1
        if not self.answering:
            raise stun.TransactionTimeout()

    @property
    def _connection(self) -> Peer:
        return self


def as_pc(peer: Peer) -> RTCPeerConnection:
    return cast(RTCPeerConnection, peer)


async def test_a_peer_that_answers_is_kept_and_one_that_stops_is_gone_after_the_timeout() -> None:
    peer = Peer()
    watching = asyncio.ensure_future(watch_peer(as_pc(peer), peer_timeout_s=0.2, probe_interval_s=0.02))
    done, _ = await asyncio.wait([watching], timeout=0.5)
    assert not done and peer.checks >= 10
    peer.answering = False
    silent_s = await asyncio.wait_for(watching, 1.0)
    assert 0.2 <= silent_s < 0.5


async def test_a_peer_it_cannot_ask_is_never_taken_for_gone() -> None:
    peer = Peer(nominated=False)
    peer.answering = False
    watching = asyncio.ensure_future(watch_peer(as_pc(peer), peer_timeout_s=0.1, probe_interval_s=0.02))
    done, _ = await asyncio.wait([watching], timeout=0.4)
    watching.cancel()
    assert not done and peer.checks == 0
