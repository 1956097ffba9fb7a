"""One fleet of service processes and one demo run for the whole module: the metrics,
dashboard and Prometheus tests all read what it left."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from robovox.shared.redis_client import open_redis
from tests.observability.fleet import Fleet, demo_run, running_fleet
from tests.observability.prometheus import Prometheus, scraping


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fleet(redis_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Fleet]:
    redis = open_redis(redis_server_url)
    try:
        async with running_fleet(redis_server_url, redis, Path(tmp_path_factory.mktemp("fleet"))) as running:
            await demo_run(running)
            yield running
    finally:
        await redis.aclose()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def prometheus(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Prometheus]:
    async with scraping(fleet.targets, Path(tmp_path_factory.mktemp("prometheus"))) as running:
        yield running
