"""``/health`` is not ``ok`` until the gateway is ready: while the first session attempt is
still in flight it answers 503 ``starting`` (a container health check and a load balancer
wait), and 200 ``ok`` once every robot's inbox is read and its first attempt is made."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import statistics
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest

from robovox.gateway.service import SessionGateway
from tests.conftest import gateway_settings

pytestmark = [pytest.mark.redis, pytest.mark.network]


@contextlib.asynccontextmanager
async def silent_realtime_api() -> AsyncIterator[tuple[str, asyncio.Event, asyncio.Event]]:
    """A Realtime API that takes the connection and answers nothing until released: the base URL,
    the event set when the gateway's request arrives, and the event that releases it (closed, unanswered)."""
    asked, release = asyncio.Event(), asyncio.Event()

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        asked.set()
        await release.wait()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1", asked, release
    finally:
        release.set()
        server.close()
        await server.wait_closed()


async def test_health_is_starting_until_the_first_session_attempt_is_made(redis_url: str, profiles_dir: Path) -> None:
    async with silent_realtime_api() as (base_url, asked, release):
        settings = gateway_settings(redis_url, profiles_dir, base_url, connect_timeout_s=60.0)
        service = SessionGateway(settings)
        task = asyncio.create_task(service.run())
        try:
            await asyncio.wait_for(service.api_started.wait(), 10)
            await asyncio.wait_for(asked.wait(), 10)
            async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{service.api_port}") as anonymous:
                starting = await anonymous.get("/health")
                assert starting.status_code == 503
                assert starting.json() == {"status": "starting", "robots": 1, "live": 0}
                assert not service.ready.is_set()
                release.set()  # the attempt fails: the gateway is ready, and retries on its own
                await asyncio.wait_for(service.ready.wait(), 10)
                ready = await anonymous.get("/health")
                assert ready.status_code == 200 and ready.json()["status"] == "ok"
        finally:
            service.stop()
            await asyncio.wait_for(task, 15)


def _keep_alive_round_trips(port: int, count: int) -> list[float]:
    """``count`` ``GET /health`` on one connection, each read to its last body byte; the times (ms)."""
    times = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(count):
            began = time.perf_counter()
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: robovox\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data:
                data += sock.recv(65536)
            head, body = data.split(b"\r\n\r\n", 1)
            length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))[15:])
            while len(body) < length:
                body += sock.recv(65536)
            times.append((time.perf_counter() - began) * 1000)
    return times


async def test_keep_alive_answers_are_not_held_for_the_clients_delayed_ack(redis_url: str, profiles_dir: Path) -> None:
    """A response's body leaves with its headers: with Nagle on the accepted socket it waited for the
    client's delayed ACK of the headers (40 ms on Linux) on every request after a connection's first few."""
    async with silent_realtime_api() as (base_url, _asked, _release):
        service = SessionGateway(gateway_settings(redis_url, profiles_dir, base_url, connect_timeout_s=60.0))
        task = asyncio.create_task(service.run())
        try:
            await asyncio.wait_for(service.api_started.wait(), 10)
            assert service.api_port is not None
            times = await asyncio.to_thread(_keep_alive_round_trips, service.api_port, 21)
            assert statistics.median(times) < 20, times
        finally:
            service.stop()
            await asyncio.wait_for(task, 15)
