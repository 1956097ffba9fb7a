"""One way to open Redis, so every service gets the same timeouts, decoding and limits.

Two kinds of connection, never mixed:

- **Commands** (short: HGET, XADD, scripts) share one blocking pool per process.
  Its size is derived from what the process serves (robots x in-flight entries,
  plus each robot's own writers) and logged at start; a command that finds the
  pool busy waits for a connection (up to ``ROBOVOX_REDIS_POOL_TIMEOUT_S``)
  instead of failing at once with "Too many connections".
- **Threads** (a stop word's listener, which stops the robot from the thread
  that heard the phrase) use a blocking client of their own
  (``connect_blocking_redis``), a small pool beside the process's.
- **Blocking readers** (XREADGROUP / XREAD with BLOCK) each hold a connection of
  their own (``dedicated_reader``), outside the pool, so a busy box can never
  starve readers of connections or readers starve commands. Readers get bytes:
  the consumer decodes each entry itself (``robovox.shared.consumer.raw``).

Every client opened here sends its commands through ``cancellable`` connections: on
Python 3.11 redis-py's own send can swallow a task's cancellation (see ``CancellableSend``).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final

import redis as blocking
from redis.asyncio import BlockingConnectionPool, ConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection
from redis.backoff import NoBackoff
from redis.client import NEVER_DECODE
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

if TYPE_CHECKING:  # settings build consumer configs, and the consumer opens its reader here
    from robovox.shared.settings import ServiceSettings

log = logging.getLogger(__name__)

CONNECTIONS_PER_ROBOT: Final = 4
"""Besides its in-flight entries, what each robot may use at once: link or session state,
telemetry, results, heartbeats."""
CONNECTIONS_PER_PROCESS: Final = 8


class CancellableSend(AbstractConnection):
    """A send bounded by ``asyncio.timeout`` instead of ``asyncio.wait_for``.

    redis-py sends every command inside ``asyncio.wait_for(send, socket_timeout)``. On Python
    3.11 ``wait_for`` returns normally when the task is cancelled in the same loop turn as the
    send completes (CPython gh-86296, fixed in 3.12): the cancellation is lost, so a cancelled
    reader goes on reading (the demo's Ctrl-C hung on it) and an ``asyncio.timeout`` around a
    command does not fire. ``asyncio.timeout`` never loses one. On 3.12 and later the library's
    own send is used unchanged."""

    async def send_packed_command(self, command: bytes | str | Iterable[bytes], check_health: bool = True) -> None:
        if sys.version_info >= (3, 12) or not self.socket_timeout:
            await super().send_packed_command(command, check_health)
            return
        if not self.is_connected:
            await self.connect_check_health(check_health=False)
        if check_health:
            await self.check_health()  # type: ignore[no-untyped-call]
        chunks = (
            [command.encode()] if isinstance(command, str) else [command] if isinstance(command, bytes) else command
        )
        writer = self._writer
        if writer is None:
            raise RedisConnectionError("Connection closed before the command was sent")
        try:
            async with asyncio.timeout(self.socket_timeout):
                writer.writelines(chunks)
                await writer.drain()
        except TimeoutError:  # before OSError, of which it is one
            await self.disconnect(nowait=True)
            raise RedisTimeoutError("Timeout writing to socket") from None
        except OSError as exc:
            await self.disconnect(nowait=True)
            raise RedisConnectionError(f"Error while writing to socket: {exc}") from exc
        except BaseException:  # a half-sent command leaves the connection unusable
            await self.disconnect(nowait=True)
            raise


_CANCELLABLE: dict[type[AbstractConnection], type[AbstractConnection]] = {}


def cancellable(connection_class: type[AbstractConnection]) -> type[AbstractConnection]:
    """``connection_class`` (plain, TLS or Unix socket, as the URL chose) with ``CancellableSend``."""
    if issubclass(connection_class, CancellableSend):
        return connection_class
    if connection_class not in _CANCELLABLE:
        name = f"Cancellable{connection_class.__name__}"
        _CANCELLABLE[connection_class] = type(name, (CancellableSend, connection_class), {})
    return _CANCELLABLE[connection_class]


def open_redis(url: str, *, decode_responses: bool = True) -> Redis:
    """A plain client for tools, tests and benches (services use ``connect_redis``)."""
    pool = ConnectionPool.from_url(url, decode_responses=decode_responses)
    pool.connection_class = cancellable(pool.connection_class)
    client: Redis = Redis.from_pool(pool)
    return client


def pool_size(settings: ServiceSettings, robots: int) -> int:
    """The command pool a process needs: every in-flight entry and each robot's own writers at once."""
    if settings.redis_pool_size:
        return settings.redis_pool_size
    return max(1, robots) * (settings.max_in_flight + CONNECTIONS_PER_ROBOT) + CONNECTIONS_PER_PROCESS


def connect_redis(settings: ServiceSettings, *, robots: int = 1, name: str = "robovox") -> Redis:
    """The process's client for commands: decoded replies, a blocking pool sized for ``robots``."""
    size = pool_size(settings, robots)
    pool: BlockingConnectionPool = BlockingConnectionPool.from_url(
        settings.redis_address,
        decode_responses=True,
        socket_timeout=settings.redis_socket_timeout_s,
        socket_connect_timeout=5.0,
        max_connections=size,
        timeout=settings.redis_pool_timeout_s,
        health_check_interval=30,
    )
    pool.connection_class = cancellable(pool.connection_class)
    log.info(
        "%s: Redis pool of %d connections for commands (%d robots x (%d in flight + %d), + %d), waiting up to "
        "%.1f s for one; each blocking reader has its own connection",
        name,
        size,
        robots,
        settings.max_in_flight,
        CONNECTIONS_PER_ROBOT,
        CONNECTIONS_PER_PROCESS,
        settings.redis_pool_timeout_s,
    )
    client: Redis = Redis.from_pool(pool)
    return client


def connect_blocking_redis(settings: ServiceSettings, *, connections: int = 2) -> blocking.Redis:
    """A blocking client for threads, with a pool of ``connections`` of its own (a thread that
    finds them all busy waits for one, up to ``ROBOVOX_REDIS_POOL_TIMEOUT_S``). It never retries
    by itself (redis-py's default is ten tries with backoff, seconds in all): its caller decides,
    against its own deadline."""
    pool = blocking.BlockingConnectionPool.from_url(
        settings.redis_address,
        decode_responses=True,
        retry=Retry(NoBackoff(), 0),
        socket_timeout=settings.redis_socket_timeout_s,
        socket_connect_timeout=1.0,
        max_connections=connections,
        timeout=settings.redis_pool_timeout_s,
        health_check_interval=30,
    )
    return blocking.Redis(connection_pool=pool)


def resize_pool(redis: Redis, settings: ServiceSettings, robots: int) -> None:
    """Grow (or shrink) the command pool to what ``robots`` need, when the profiles change."""
    pool = redis.connection_pool
    size = pool_size(settings, robots)
    if isinstance(pool, BlockingConnectionPool) and pool.max_connections != size:
        log.info("Redis pool resized from %d to %d connections for %d robots", pool.max_connections, size, robots)
        pool.max_connections = size


def reader_name(consumer: str, streams: Sequence[str]) -> str:
    """The client name of a consumer's blocking reader (``CLIENT LIST``), by which a health check
    finds it: ``<consumer>/<stream>+<stream>``."""
    return f"{consumer}/{'+'.join(streams)}".replace(" ", "_")


def dedicated_reader(redis: Redis, name: str | None = None) -> Redis:
    """A client of exactly one connection to the same server, returning bytes, for one blocking reader,
    named ``name`` on the server when given (set again on every reconnect).

    Close it with ``aclose()`` when the reader stops."""
    source = redis.connection_pool
    kwargs: dict[str, Any] = {**source.connection_kwargs, "decode_responses": False}
    if name:
        kwargs["client_name"] = name
    pool = ConnectionPool(connection_class=source.connection_class, max_connections=1, **kwargs)
    reader: Redis = Redis.from_pool(pool)
    return reader


async def read_raw(redis: Redis, *command: str | int) -> Any:
    """A short read (XRANGE, XREVRANGE) on the command pool, its reply left as bytes: entries any
    producer wrote, whatever bytes they hold, can be read and then decoded one by one."""
    return await redis.execute_command(*command, **{NEVER_DECODE: True})  # type: ignore[no-untyped-call]
