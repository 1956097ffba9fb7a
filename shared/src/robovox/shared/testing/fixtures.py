"""pytest fixtures every RoboVox test suite can use (registered in the root conftest)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis

from robovox.shared.redis_client import open_redis
from robovox.shared.testing.redis_source import redis_for_tests


@pytest.fixture(scope="session")
def redis_server_url() -> Iterator[str]:
    with redis_for_tests() as url:
        yield url


@pytest.fixture
async def redis_url(redis_server_url: str) -> AsyncIterator[str]:
    """A Redis URL with an empty database, for one test."""
    client: Redis = open_redis(redis_server_url, decode_responses=False)
    await client.flushdb()
    await client.aclose()
    yield redis_server_url


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    """A decoded client on an empty database."""
    client: Redis = open_redis(redis_url)
    yield client
    await client.aclose()


# The test pyramid. A test is marked by the kind of peer it needs, from the fixtures it uses
# (or a module's own ``pytestmark`` where it starts the peer itself); the unit layer is what is
# left: ``make test-fast`` runs ``-m "not (redis or network or webrtc or process or browser)"``.
LAYER_BY_FIXTURE = {
    "redis_server_url": "redis",  # a real redis-server
    "sim": "network",  # the rosbridge simulator on a loopback port
    "emulator": "webrtc",  # the Realtime emulator, with real WebRTC
    "spawn_executor": "process",  # service processes
    "rigs": "process",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for fixture, layer in LAYER_BY_FIXTURE.items():
            if fixture in names:
                item.add_marker(layer)
