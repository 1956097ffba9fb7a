"""One live process per consumer name: a restarted process takes its name back at once,
a second live process with the same name is refused with the reason."""

from __future__ import annotations

import asyncio
import os
import socket
import time

import pytest
from redis.asyncio import Redis

from robovox.shared.replica import NameInUseError, ReplicaLease
from robovox.shared.streams import replica_key

NAME = "tool-executor@test"
HOST = socket.gethostname()


async def test_a_free_name_is_taken_and_released_on_stop(redis: Redis) -> None:
    lease = ReplicaLease(redis, NAME)
    await lease.acquire()
    assert await redis.get(replica_key(NAME)) == lease.holder
    stopping = asyncio.Event()
    keeping = asyncio.create_task(lease.keep(stopping))
    stopping.set()
    await asyncio.wait_for(keeping, 5)
    assert await redis.get(replica_key(NAME)) is None


async def test_the_name_of_a_dead_process_of_this_host_is_taken_at_once(redis: Redis) -> None:
    gone = await asyncio.create_subprocess_exec("true")
    await gone.wait()
    await redis.set(replica_key(NAME), f"{HOST}:{gone.pid}:dead", px=10_000)
    started = time.monotonic()
    await ReplicaLease(redis, NAME).acquire()
    assert time.monotonic() - started < 0.5
    await redis.set(replica_key(NAME), f"{HOST}:{os.getpid()}:before-restart", px=10_000)  # a restarted container
    await ReplicaLease(redis, NAME).acquire()


async def test_a_live_process_of_this_host_keeps_its_name(redis: Redis) -> None:
    alive = await asyncio.create_subprocess_exec("sleep", "30")
    try:
        await redis.set(replica_key(NAME), f"{HOST}:{alive.pid}:alive", px=10_000)
        with pytest.raises(NameInUseError, match=f"in use by process {alive.pid} on this host; give each replica"):
            await ReplicaLease(redis, NAME).acquire()
    finally:
        alive.kill()
        await alive.wait()


async def test_a_name_held_from_another_host_is_taken_once_its_lease_expires(redis: Redis) -> None:
    await redis.set(replica_key(NAME), "edge-9:4242:elsewhere", px=400)
    started = time.monotonic()
    lease = ReplicaLease(redis, NAME)
    await lease.acquire()
    assert time.monotonic() - started >= 0.3
    assert await redis.get(replica_key(NAME)) == lease.holder


async def test_a_process_whose_name_was_taken_stops(redis: Redis) -> None:
    lease = ReplicaLease(redis, NAME)
    await lease.acquire()
    await redis.set(replica_key(NAME), "edge-9:1:thief", px=10_000)
    with pytest.raises(NameInUseError, match="was taken by another process"):
        await asyncio.wait_for(lease.keep(asyncio.Event()), 5)
