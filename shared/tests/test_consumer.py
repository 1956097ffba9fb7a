"""The consumer-group helper: ack, redelivery, claiming a dead consumer's work,
dead letters, and a shutdown that never hangs."""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis

from robovox.shared.consumer import ConsumerConfig, PermanentError, StreamConsumer
from robovox.shared.messages import DeadLetter
from robovox.shared.testing.streams import wait_for_entries

STREAM = "robovox:{r1}:tool_calls"
DLQ = "robovox:{r1}:dead_letters"


def make_consumer(redis: Redis, name: str, handler, **overrides: int) -> StreamConsumer:  # type: ignore[no-untyped-def]
    cfg = ConsumerConfig(
        group="g", consumer=name, block_ms=overrides.get("block_ms", 50),
        claim_idle_ms=overrides.get("claim_idle_ms", 300), max_deliveries=overrides.get("max_deliveries", 3),
    )  # fmt: skip
    return StreamConsumer(redis, [STREAM], cfg, handler, dead_letter_stream=DLQ)


async def run_until(consumer: StreamConsumer, condition: asyncio.Event, limit_s: float = 10.0) -> None:
    task = asyncio.create_task(consumer.run())
    try:
        await asyncio.wait_for(condition.wait(), limit_s)
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 5)


async def test_handled_entries_are_acked_and_leave_nothing_pending(redis: Redis) -> None:
    seen: list[str] = []
    done = asyncio.Event()

    async def handler(stream: str, entry_id: str, fields: dict[str, str]) -> None:
        seen.append(fields["n"])
        if len(seen) == 3:
            done.set()

    for n in range(3):
        await redis.xadd(STREAM, {"n": str(n)})
    await run_until(make_consumer(redis, "c1", handler), done)
    assert seen == ["0", "1", "2"]
    assert (await redis.xpending(STREAM, "g"))["pending"] == 0


async def test_entry_left_by_a_dead_consumer_is_claimed_by_a_live_one(redis: Redis) -> None:
    await redis.xgroup_create(STREAM, "g", id="0", mkstream=True)
    entry_id = await redis.xadd(STREAM, {"n": "7"})
    # A consumer that read the entry and died before acking it.
    await redis.xreadgroup("g", "dead", {STREAM: ">"}, count=1)
    got = asyncio.Event()
    handled: list[str] = []

    async def handler(stream: str, eid: str, fields: dict[str, str]) -> None:
        handled.append(eid)
        got.set()

    started = time.monotonic()
    await run_until(make_consumer(redis, "live", handler, claim_idle_ms=300), got)
    assert handled == [entry_id]
    assert time.monotonic() - started >= 0.25, "claimed before the entry was idle long enough"
    assert (await redis.xpending(STREAM, "g"))["pending"] == 0


async def test_failing_entry_is_dead_lettered_after_max_deliveries(redis: Redis) -> None:
    attempts: list[int] = []

    async def handler(stream: str, eid: str, fields: dict[str, str]) -> None:
        attempts.append(1)
        raise RuntimeError("robot arm on fire")

    entry_id = await redis.xadd(STREAM, {"n": "1"})
    consumer = make_consumer(redis, "c1", handler, claim_idle_ms=100, max_deliveries=3)
    task = asyncio.create_task(consumer.run())
    letters = await wait_for_entries(redis, DLQ, 1)
    consumer.stop()
    await asyncio.wait_for(task, 5)
    letter = DeadLetter.from_fields(letters[0][1])
    assert letter.entry_id == entry_id and letter.stream == STREAM
    assert letter.deliveries == 4 and "gave up after 3 deliveries" in letter.reason
    assert '"n": "1"' in letter.original
    assert len(attempts) == 3
    assert (await redis.xpending(STREAM, "g"))["pending"] == 0


async def test_permanent_error_is_dead_lettered_at_once_with_its_reason(redis: Redis) -> None:
    async def handler(stream: str, eid: str, fields: dict[str, str]) -> None:
        raise PermanentError("not a valid ToolCall entry: deadline: Field required")

    await redis.xadd(STREAM, {"junk": "x"})
    consumer = make_consumer(redis, "c1", handler)
    task = asyncio.create_task(consumer.run())
    letters = await wait_for_entries(redis, DLQ, 1)
    consumer.stop()
    await asyncio.wait_for(task, 5)
    letter = DeadLetter.from_fields(letters[0][1])
    assert letter.deliveries == 1 and letter.reason.endswith("deadline: Field required")


async def test_long_handler_is_not_stolen_while_it_is_still_working(redis: Redis) -> None:
    release = asyncio.Event()
    calls: list[str] = []

    async def slow(stream: str, eid: str, fields: dict[str, str]) -> None:
        calls.append("slow")
        await release.wait()

    async def thief(stream: str, eid: str, fields: dict[str, str]) -> None:
        calls.append("thief")

    await redis.xadd(STREAM, {"n": "1"})
    a = make_consumer(redis, "a", slow, claim_idle_ms=150)
    b = make_consumer(redis, "b", thief, claim_idle_ms=150)
    ta = asyncio.create_task(a.run())
    await asyncio.wait_for(a.ready.wait(), 5)
    tb = asyncio.create_task(b.run())
    # Five claim periods of b pass while a still works on the entry.
    await asyncio.sleep(0.75)
    release.set()
    a.stop()
    b.stop()
    await asyncio.wait_for(asyncio.gather(ta, tb), 5)
    assert calls == ["slow"]


async def test_stop_returns_within_the_block_time(redis: Redis) -> None:
    async def handler(stream: str, eid: str, fields: dict[str, str]) -> None:
        pass

    consumer = make_consumer(redis, "c1", handler, block_ms=200)
    task = asyncio.create_task(consumer.run())
    await asyncio.wait_for(consumer.ready.wait(), 5)
    started = time.monotonic()
    consumer.stop()
    await asyncio.wait_for(task, 2)
    assert time.monotonic() - started < 1.0


async def test_group_lost_in_a_redis_restart_is_recreated(redis: Redis) -> None:
    got = asyncio.Event()

    async def handler(stream: str, eid: str, fields: dict[str, str]) -> None:
        got.set()

    consumer = make_consumer(redis, "c1", handler)
    task = asyncio.create_task(consumer.run())
    await asyncio.wait_for(consumer.ready.wait(), 5)
    await redis.delete(STREAM)  # what a restart without persistence leaves behind
    await redis.xadd(STREAM, {"n": "after"})
    try:
        await asyncio.wait_for(got.wait(), 10)
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 5)
