"""The consumer under load and garbage: bytes that are not UTF-8, entries over the size
limit, a Redis error inside a handler, a restart with many pending entries, a busy pool."""

from __future__ import annotations

import asyncio
import json
import time

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from robovox.shared.consumer import ConsumerConfig, StreamConsumer
from robovox.shared.messages import DeadLetter
from robovox.shared.redis_client import connect_redis, open_redis
from robovox.shared.settings import ServiceSettings

STREAM = "robovox:{r1}:tool_calls"
DLQ = "robovox:{r1}:dead_letters"


def consumer(redis: Redis, handler, *, claim_idle_ms: int = 5000, **overrides: int) -> StreamConsumer:  # type: ignore[no-untyped-def]
    cfg = ConsumerConfig(
        group="g", consumer="c1", block_ms=50, claim_idle_ms=claim_idle_ms, max_deliveries=3, **overrides
    )
    return StreamConsumer(redis, [STREAM], cfg, handler, dead_letter_stream=DLQ)


async def letters(redis: Redis, count: int) -> list[DeadLetter]:
    async with asyncio.timeout(10):
        while ((raw := await redis.xrange(DLQ)) and len(raw) < count) or not raw:
            await redis.xread({DLQ: raw[-1][0] if raw else "0-0"}, block=1000)
    return [DeadLetter.from_fields(fields) for _id, fields in raw]


async def test_bytes_that_are_not_utf8_are_dead_lettered_escaped_and_the_loop_goes_on(redis: Redis) -> None:
    raw: Redis = open_redis(_url(redis), decode_responses=False)  # writes bytes as they are
    handled: list[str] = []
    done = asyncio.Event()

    async def handler(stream: str, eid: str, fields: dict[str, str]) -> None:
        handled.append(fields["n"])
        done.set()

    await raw.xadd(STREAM, {b"call_id": b"c\xff\xfe", b"n": b"junk"})
    await raw.xadd(STREAM, {b"\xc3(": b"x"})
    await raw.xadd(STREAM, {b"n": b"after"})
    c = consumer(redis, handler)
    task = asyncio.create_task(c.run())
    await asyncio.wait_for(done.wait(), 10)
    c.stop()
    await asyncio.wait_for(task, 5)
    await raw.aclose()
    assert handled == ["after"], "the handler saw only the readable entry, after the two that are not"
    found = await letters(redis, 2)
    assert "field 'call_id' is not UTF-8 text (byte 0xff at 1)" in found[0].reason
    assert json.loads(found[0].original) == {"call_id": r"c\xff\xfe", "n": "junk"}, "bytes kept, escaped"
    assert "a field name is not UTF-8 text" in found[1].reason
    assert (await redis.xpending(STREAM, "g"))["pending"] == 0


async def test_an_entry_over_the_size_limit_is_dead_lettered_unread_and_cut(redis: Redis) -> None:
    async def handler(stream: str, eid: str, fields: dict[str, str]) -> None:
        raise AssertionError("never handed to the handler")

    await redis.xadd(STREAM, {"call_id": "c1", "arguments": "x" * 1_000_000})
    c = consumer(redis, handler, max_entry_bytes=65_536, dead_letter_chars=1000)
    task = asyncio.create_task(c.run())
    found = await letters(redis, 1)
    c.stop()
    await asyncio.wait_for(task, 5)
    assert "over the limit of 65536 bytes" in found[0].reason
    assert len(found[0].original) <= 1000 and "more characters]" in found[0].original


async def test_a_redis_error_in_a_handler_is_retried_at_once_not_after_the_claim(redis: Redis) -> None:
    attempts: list[float] = []
    done = asyncio.Event()

    async def handler(stream: str, eid: str, fields: dict[str, str]) -> None:
        attempts.append(time.monotonic())
        if len(attempts) < 3:
            raise RedisConnectionError("Too many connections")
        done.set()

    await redis.xadd(STREAM, {"n": "1"})
    c = consumer(redis, handler, claim_idle_ms=15_000)
    task = asyncio.create_task(c.run())
    await asyncio.wait_for(done.wait(), 5)
    c.stop()
    await asyncio.wait_for(task, 5)
    assert attempts[-1] - attempts[0] < 1.0, "retried within a second, not at the 15 s reclaim"
    assert (await redis.xpending(STREAM, "g"))["pending"] == 0
    assert await redis.xlen(DLQ) == 0, "a transient error is no reason to give up"


async def test_own_pending_entries_after_a_restart_respect_max_in_flight(redis: Redis) -> None:
    await redis.xgroup_create(STREAM, "g", id="0", mkstream=True)
    for n in range(60):
        await redis.xadd(STREAM, {"n": str(n)})
    await redis.xreadgroup("g", "c1", {STREAM: ">"}, count=100)  # read by c1's predecessor, never acked
    running = peak = 0
    handled: list[str] = []
    done = asyncio.Event()

    async def handler(stream: str, eid: str, fields: dict[str, str]) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.005)
        running -= 1
        handled.append(fields["n"])
        if len(handled) == 60:
            done.set()

    started = time.monotonic()
    c = consumer(redis, handler, max_in_flight=4, claim_idle_ms=15_000)
    task = asyncio.create_task(c.run())
    await asyncio.wait_for(done.wait(), 10)
    c.stop()
    await asyncio.wait_for(task, 5)
    assert peak <= 4
    assert sorted(handled, key=int) == [str(n) for n in range(60)]
    assert time.monotonic() - started < 5, "taken up at once, not at the idle claim"


async def test_the_command_pool_waits_for_a_connection_instead_of_failing(redis_url: str) -> None:
    settings = ServiceSettings(redis_url=redis_url, redis_pool_size=2)
    client = connect_redis(settings, robots=20)
    try:
        # Twenty commands that each hold a connection 50 ms, through a pool of two: they queue.
        replies = await asyncio.gather(*(client.blpop(["robovox:nothing"], timeout=0.05) for _ in range(20)))
        assert len(replies) == 20
        assert client.connection_pool.max_connections == 2  # type: ignore[attr-defined]
    finally:
        await client.aclose()


def _url(redis: Redis) -> str:
    kwargs = redis.get_connection_kwargs()
    return f"redis://{kwargs['host']}:{kwargs['port']}/{kwargs.get('db', 0)}"
