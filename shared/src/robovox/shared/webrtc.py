"""WebRTC settings every RoboVox peer shares (gateway and Realtime emulator).

Two aiortc defaults send traffic where an edge box or a test must not:

- With no ``iceServers`` aiortc asks Google's public STUN server for a
  server-reflexive candidate. RoboVox passes an explicit list (empty by default).
- aioice offers every interface address as a host candidate except 127.0.0.1,
  so two peers on one machine never talk over loopback unless host addresses
  are restricted. ``restrict_ice_host_addresses(["127.0.0.1"])`` keeps all media
  on loopback (tests, the embedded demo); on a real edge box it can pin the
  interface that faces the internet.

Requires the ``webrtc`` extra (aiortc).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer

_original_get_host_addresses: Callable[[bool, bool], list[str]] = aioice.ice.get_host_addresses
_LOOPBACK = {"127.0.0.1", "::1"}


def check_ip_addresses(addresses: Sequence[str]) -> list[str]:
    """Return the addresses in canonical text, or raise ValueError naming the bad one."""
    checked: list[str] = []
    for address in addresses:
        try:
            checked.append(str(ipaddress.ip_address(address.strip())))
        except ValueError:
            raise ValueError(f"{address!r} is not an IP address") from None
    return checked


def restrict_ice_host_addresses(allowed: Sequence[str]) -> None:
    """Offer only ``allowed`` addresses as ICE host candidates, process-wide.

    An empty sequence restores aioice's default (every interface but loopback).
    Loopback addresses are offered when listed, although aioice never offers
    them itself. Listed addresses the machine does not have are ignored.
    """
    wanted = check_ip_addresses(allowed)
    if not wanted:
        aioice.ice.get_host_addresses = _original_get_host_addresses  # type: ignore[assignment]
        return

    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        present = set(_original_get_host_addresses(use_ipv4, use_ipv6)) | _LOOPBACK
        return [address for address in wanted if address in present and (use_ipv6 if ":" in address else use_ipv4)]

    aioice.ice.get_host_addresses = get_host_addresses


@dataclass(frozen=True, slots=True)
class IceServer:
    """One STUN or TURN server entry, as a browser's ``RTCPeerConnection({iceServers})`` takes it."""

    urls: tuple[str, ...]
    username: str = ""
    credential: str = ""

    def to_rtc(self) -> RTCIceServer:
        return RTCIceServer(urls=list(self.urls), username=self.username or None, credential=self.credential or None)

    def to_json(self) -> dict[str, str | list[str]]:
        entry: dict[str, str | list[str]] = {"urls": list(self.urls)}
        if self.username or self.credential:
            entry |= {"username": self.username, "credential": self.credential}
        return entry


def ice_servers(
    stun_urls: Sequence[str] = (), turn_urls: Sequence[str] = (), username: str = "", credential: str = ""
) -> list[IceServer]:
    """The STUN servers one an entry, then the TURN servers in one entry with their credentials."""
    servers = [IceServer((url,)) for url in stun_urls]
    if turn_urls:
        servers.append(IceServer(tuple(turn_urls), username, credential))
    return servers


def rtc_configuration(servers: Sequence[IceServer] = ()) -> RTCConfiguration:
    """An RTCConfiguration with exactly these STUN / TURN servers (none by default, never Google's)."""
    return RTCConfiguration(iceServers=[server.to_rtc() for server in servers])
