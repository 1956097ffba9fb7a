"""Function calls over the gateway's own Redis connection: written at once, published
once, never lost when the link is down, killed or Redis forgot the script; the events
log waits while a call is on its way."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from robovox.gateway.calls.connection import DispatchConnection, ReplyLostError
from robovox.gateway.calls.publisher import PUBLISH_SCRIPT, CallPublisher
from robovox.gateway.realtime.event_log import EventLog
from robovox.shared.embedded_redis import EmbeddedRedis
from robovox.shared.messages import ToolCall
from robovox.shared.redis_client import open_redis
from robovox.shared.streams import RobotKeys
from robovox.shared.testing.streams import wait_for_entries

pytestmark = pytest.mark.redis  # a redis-server of its own (EmbeddedRedis)

ROBOT = "cleaner-1"
KEYS = RobotKeys.of(ROBOT)


@contextlib.asynccontextmanager
async def running(link: DispatchConnection) -> AsyncIterator[DispatchConnection]:
    stopping = asyncio.Event()
    task = asyncio.create_task(link.run(stopping))
    try:
        async with asyncio.timeout(10):
            await link.wait_up()
        yield link
    finally:
        stopping.set()
        await task


@pytest.fixture
async def link(redis_url: str) -> AsyncIterator[DispatchConnection]:
    async with running(DispatchConnection(redis_url, scripts=[PUBLISH_SCRIPT])) as link:
        yield link


async def published(redis: Redis, count: int) -> list[ToolCall]:
    """The robot's tool calls, once there are ``count`` of them."""
    return [ToolCall.from_fields(fields) for _id, fields in await wait_for_entries(redis, KEYS.tool_calls, count)]


def publish(publisher: CallPublisher, call_id: str) -> ToolCall:
    return publisher.publish(call_id, "stop_cleaning", "{}", "sess_test", "conv_test", time.perf_counter())


async def test_a_call_is_on_the_socket_when_publish_returns_and_in_redis_once(
    link: DispatchConnection, redis: Redis
) -> None:
    publisher = CallPublisher(redis, ROBOT, 10.0, connection=link)
    publish(publisher, "call_a")
    assert len(link._waiting) == 1 and not link_is_quiet(link)  # written before publish returned
    publish(publisher, "call_a")  # the same call again (a replayed event, a second gateway)
    publish(publisher, "call_b")
    calls = await published(redis, 2)
    await link.quiet()
    assert [c.call_id for c in calls] == ["call_a", "call_b"]
    assert not publisher._retries and publisher.timings.count == 3


async def test_with_the_link_down_calls_go_through_redis_py(redis_url: str, redis: Redis) -> None:
    link = DispatchConnection(redis_url)  # never run: down
    publisher = CallPublisher(redis, ROBOT, 10.0, connection=link)
    publish(publisher, "call_c")
    await publisher.settled(10)
    assert [c.call_id for c in await published(redis, 1)] == ["call_c"]
    assert publisher.timings.count == 1


async def test_a_script_redis_forgot_is_loaded_again_and_the_call_published_once(
    link: DispatchConnection, redis: Redis
) -> None:
    publisher = CallPublisher(redis, ROBOT, 10.0, connection=link)
    await redis.script_flush()
    publish(publisher, "call_d")
    await link.quiet()  # NOSCRIPT came back: the call went to the retry path
    await publisher.settled(10)
    publish(publisher, "call_e")  # the retry loaded the script for everyone
    await link.quiet()
    assert [c.call_id for c in await published(redis, 2)] == ["call_d", "call_e"]


async def test_a_killed_connection_loses_no_call_and_the_link_reconnects(
    link: DispatchConnection, redis: Redis
) -> None:
    publisher = CallPublisher(redis, ROBOT, 10.0, connection=link)
    clients: Any = await redis.client_list()
    (mine,) = [c for c in clients if c["name"] == "robovox-dispatch"]
    await redis.client_kill_filter(_id=mine["id"])
    for n in range(5):  # the link may not know yet: written to a dead socket, or sent the slow way
        publish(publisher, f"call_{n}")
    assert sorted(c.call_id for c in await published(redis, 5)) == [f"call_{n}" for n in range(5)]
    await publisher.settled(10)
    async with asyncio.timeout(10):
        await link.wait_up()
    assert link.connects == 2
    publish(publisher, "call_after")
    await link.quiet()
    assert len(await published(redis, 6)) == 6


async def test_the_url_s_password_and_database_are_used() -> None:
    with EmbeddedRedis() as server:
        admin: Redis = open_redis(server.url)
        await admin.config_set("requirepass", "s3cret")
        await admin.aclose()
        url = f"redis://:s3cret@127.0.0.1:{server.port}/3"
        async with running(DispatchConnection(url, scripts=[PUBLISH_SCRIPT])) as link:
            db3: Redis = open_redis(url)
            publish(CallPublisher(db3, ROBOT, 10.0, connection=link), "call_f")
            await link.quiet()
            assert [c.call_id for c in await published(db3, 1)] == ["call_f"]
            await db3.aclose()


async def test_a_wrong_password_keeps_the_link_down_and_retrying() -> None:
    with EmbeddedRedis() as server:
        admin: Redis = open_redis(server.url, decode_responses=False)
        await admin.config_set("requirepass", "s3cret")
        await admin.aclose()
        link = DispatchConnection(f"redis://:wrong@127.0.0.1:{server.port}/0")
        stopping = asyncio.Event()
        task = asyncio.create_task(link.run(stopping))
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5):
                await link.wait_up()
        assert not link.up and not link.send(("PING",), lambda _reply: None)
        stopping.set()
        await task


async def test_a_reply_that_does_not_come_closes_the_connection_and_is_answered_link_down(redis_url: str) -> None:
    async with running(DispatchConnection(redis_url, reply_timeout_s=0.4)) as link:
        reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        assert link.send(("BLPOP", "robovox:test:never", "0"), reply.set_result)  # Redis answers never
        async with asyncio.timeout(5):
            assert isinstance(await reply, ReplyLostError)
            await link.wait_up()
        assert link.connects == 2


def link_is_quiet(link: DispatchConnection) -> bool:
    return link._quiet.is_set()


async def test_quiet_waits_for_the_replies_outstanding(link: DispatchConnection, redis: Redis) -> None:
    await link.quiet()  # nothing outstanding
    replies: list[Any] = []
    assert link.send(("BLPOP", "robovox:test:wake", "0"), replies.append)
    quiet = asyncio.create_task(link.quiet())
    await asyncio.sleep(0)
    assert not quiet.done()
    await redis.rpush("robovox:test:wake", "now")
    await quiet
    assert replies == [[b"robovox:test:wake", b"now"]]


class HeldBack:
    """A stand-in for the dispatch connection with a call outstanding until ``release``."""

    def __init__(self) -> None:
        self.asked = asyncio.Event()
        self._released = asyncio.Event()

    async def quiet(self) -> None:
        self.asked.set()
        await self._released.wait()

    def release(self) -> None:
        self._released.set()


async def test_the_events_log_waits_while_a_call_is_outstanding(redis: Redis) -> None:
    calls = HeldBack()
    log = EventLog(redis, gives_way_to=calls)
    log.start()
    log.add(ROBOT, "server", {"type": "response.created", "event_id": "event_1"}, session_id="sess_test")
    async with asyncio.timeout(5):
        await calls.asked.wait()
    assert await redis.xlen(KEYS.events) == 0
    calls.release()
    async with asyncio.timeout(5):
        reply: Any = await redis.xread({KEYS.events: "0-0"}, block=5000)
    assert reply[0][1][0][1]["type"] == "response.created"
    await log.stop()
