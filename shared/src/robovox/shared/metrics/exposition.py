"""``/metrics``: the process's series, the loop-lag sampler, and a small
listener for the services without an HTTP API.

The listener is a few lines of asyncio on the service's own loop (not
``prometheus_client``'s thread server), so the stream figures it reads from
Redis at each scrape use the service's connections and the process keeps one
thread. It answers ``GET /metrics`` and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Final

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from robovox.shared.errors import RoboVoxError
from robovox.shared.metrics.series import LOOP_LAG
from robovox.shared.metrics.streams import Snapshot, StreamFigures

log = logging.getLogger(__name__)

CONTENT_TYPE: Final = CONTENT_TYPE_LATEST
LOOP_LAG_INTERVAL_S: Final = 0.05
REQUEST_TIMEOUT_S: Final = 5.0


class MetricsListenError(RoboVoxError, OSError):
    """The metrics port cannot be listened on."""


async def render(streams: StreamFigures | None) -> bytes:
    """The exposition of every series of this process, and of ``streams`` read now."""
    body = generate_latest(REGISTRY)
    if streams is not None:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(Snapshot(await streams.families()))
        body += generate_latest(registry)
    return body


async def sample_loop_lag(stopping: asyncio.Event, interval_s: float = LOOP_LAG_INTERVAL_S) -> None:
    """Observe how late an ``interval_s`` timer fires, until ``stopping``."""
    while not stopping.is_set():
        expected = time.perf_counter() + interval_s
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), interval_s)
        LOOP_LAG.observe(max(0.0, time.perf_counter() - expected))


class MetricsListener:
    """``GET /metrics`` on ``host:port`` (0: a free port, read ``port`` once ``start`` returned)."""

    def __init__(self, host: str, port: int, streams: StreamFigures | None) -> None:
        self._host = host
        self._port = port
        self._streams = streams
        self._server: asyncio.Server | None = None
        self.port = port

    async def start(self) -> None:
        try:
            self._server = await asyncio.start_server(self._serve, self._host, self._port)
        except OSError as exc:
            raise MetricsListenError(
                f"cannot listen for metrics on {self._host}:{self._port}: {exc.strerror} "
                "(another process has the port? pick another, or 0 in the setting turns it off)"
            ) from None
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("metrics on http://%s:%d/metrics", self._host, self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                request = await reader.readline()
                while (await reader.readline()).strip():  # the headers: none matter
                    pass
                parts = request.split()
                if len(parts) >= 2 and parts[0] == b"GET" and parts[1].split(b"?")[0] == b"/metrics":
                    body, status, kind = await render(self._streams), b"200 OK", CONTENT_TYPE.encode()
                else:
                    body, status, kind = b"only GET /metrics here\n", b"404 Not Found", b"text/plain"
                writer.write(
                    b"HTTP/1.1 " + status + b"\r\nContent-Type: " + kind
                    + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
                )  # fmt: skip
                await writer.drain()
        except (TimeoutError, ConnectionError) as exc:
            log.debug("metrics request dropped: %s", exc)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
