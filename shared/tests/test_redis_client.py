"""Clients opened through ``robovox.shared.redis_client`` can always be cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from redis.asyncio import Redis

from robovox.shared.redis_client import CancellableSend, connect_redis, open_redis
from robovox.shared.settings import ServiceSettings

# A cancellation that lands as a command's send completes is the one redis-py's
# ``wait_for`` lost on Python 3.11; which turn that is depends on the machine, so the
# cancel is swept across the first milliseconds of a fresh client's first commands.
CANCEL_AFTER_S = [i * 0.0002 for i in range(60)]


async def blocked_reader(redis: Redis) -> None:
    while True:
        await redis.xread({"robovox:test:nothing": "$"}, block=1000, count=10)


async def still_running_after_cancel(make_client: Callable[[], Redis], delays: list[float]) -> list[float]:
    """The delays after which a cancelled reader was still running 2 s later."""
    kept_on: list[float] = []
    for delay in delays:
        client = make_client()
        reader = asyncio.create_task(blocked_reader(client))
        await asyncio.sleep(delay)
        reader.cancel()
        done, _ = await asyncio.wait([reader], timeout=2.0)
        if not done:
            kept_on.append(delay)
            reader.cancel()
            await asyncio.wait([reader], timeout=2.0)
        await client.aclose()
    return kept_on


async def test_a_reader_on_open_redis_stops_when_cancelled_at_any_moment(redis_url: str) -> None:
    assert await still_running_after_cancel(lambda: open_redis(redis_url), CANCEL_AFTER_S) == []


async def test_a_reader_on_the_service_pool_stops_when_cancelled_at_any_moment(redis_url: str) -> None:
    settings = ServiceSettings(redis_url=redis_url)
    assert await still_running_after_cancel(lambda: connect_redis(settings), CANCEL_AFTER_S) == []


@pytest.mark.parametrize("url", ["redis://127.0.0.1:1/0", "rediss://127.0.0.1:1/0", "unix:///tmp/robovox-none.sock"])
def test_every_kind_of_connection_gets_the_cancellable_send(url: str) -> None:
    client = open_redis(url)
    connection = client.connection_pool.make_connection()
    assert isinstance(connection, CancellableSend)
    assert type(connection).__name__.startswith("Cancellable")
