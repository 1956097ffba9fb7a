"""Debian's real Prometheus, scraping the fleet's services on loopback every second."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx2
import yaml

from robovox.shared.embedded_redis import free_port
from tests.observability.fleet import stop

BINARY: Final = "prometheus"
SCRAPES_BEFORE_QUERIES: Final = 3
"""Enough samples for every ``rate`` / ``increase`` a dashboard uses."""


class PrometheusMissingError(AssertionError):
    """Debian's prometheus is not installed (``make prometheus-deps``, run by ``make test``, installs it)."""


@dataclass
class Prometheus:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    async def query(self, expr: str) -> dict[str, Any]:
        async with httpx2.AsyncClient(base_url=self.url, timeout=10) as client:
            reply = await client.get("/api/v1/query", params={"query": expr})
        body: dict[str, Any] = reply.json()
        assert reply.status_code == 200 and body["status"] == "success", f"{expr}: {reply.text}"
        data: dict[str, Any] = body["data"]
        return data

    async def ready(self) -> bool:
        async with httpx2.AsyncClient(base_url=self.url, timeout=10) as client:
            return (await client.get("/-/ready")).status_code == 200

    async def label_values(self, label: str, match: str) -> list[str]:
        async with httpx2.AsyncClient(base_url=self.url, timeout=10) as client:
            reply = await client.get(f"/api/v1/label/{label}/values", params={"match[]": match})
        values: list[str] = reply.json()["data"]
        return values


def _config(targets: Mapping[str, str]) -> dict[str, Any]:
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [{"job_name": job, "static_configs": [{"targets": [t]}]} for job, t in targets.items()],
    }


async def _scraped(prometheus: Prometheus, jobs: int, timeout_s: float = 90.0) -> None:
    """Until every job is up and has been scraped ``SCRAPES_BEFORE_QUERIES`` times."""
    expr = f"count(count_over_time(up[1m]) >= {SCRAPES_BEFORE_QUERIES} and up == 1)"
    async with asyncio.timeout(timeout_s):
        while True:
            assert prometheus.proc.poll() is None, f"prometheus exited:\n{prometheus.log.read_text()[-3000:]}"
            with contextlib.suppress(httpx2.TransportError):
                # Until its storage is open Prometheus answers 503 in plain text, not its API's JSON.
                if await prometheus.ready():
                    result = (await prometheus.query(expr))["result"]
                    if result and int(float(result[0]["value"][1])) == jobs:
                        return
            await asyncio.sleep(0.2)  # another process's scrapes: nothing to await here


def _start(targets: Mapping[str, str], folder: Path) -> Prometheus:
    binary = shutil.which(BINARY)
    if binary is None:
        raise PrometheusMissingError("Debian's prometheus is missing: run `make prometheus-deps` (make test does)")
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "prometheus.yml"
    config.write_text(yaml.safe_dump(_config(targets)))
    port = free_port()
    log = folder / "prometheus.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={folder / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            stdout=out, stderr=out,
        )  # fmt: skip
    return Prometheus(f"http://127.0.0.1:{port}", proc, log)


@contextlib.asynccontextmanager
async def scraping(targets: Mapping[str, str], folder: Path) -> AsyncIterator[Prometheus]:
    """Prometheus on a free 127.0.0.1 port scraping ``targets`` (job -> host:port), until the block ends."""
    prometheus = _start(targets, folder)
    try:
        await _scraped(prometheus, len(targets))
        yield prometheus
    finally:
        stop(prometheus.proc)
