"""One way to open Redis, so every service gets the same timeouts, decoding and limits.

Two kinds of connection, never mixed:

- **Commands** (short: HGET, XADD, scripts) share one blocking pool per process.
  Its size is derived from what the process serves (robots x in-flight entries,
  plus each robot's own writers) and logged at start; a command that finds the
  pool busy waits for a connection (up to ``ROBOVOX_REDIS_POOL_TIMEOUT_S``)
  instead of failing at once with "Too many connections".
- **Blocking readers** (XREADGROUP / XREAD with BLOCK) each hold a connection of
  their own (``dedicated_reader``), outside the pool, so a busy box can never
  starve readers of connections or readers starve commands. Readers get bytes:
  the consumer decodes each entry itself (``robovox.shared.consumer.raw``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

from redis.asyncio import BlockingConnectionPool, ConnectionPool, Redis
from redis.client import NEVER_DECODE

if TYPE_CHECKING:  # settings build consumer configs, and the consumer opens its reader here
    from robovox.shared.settings import ServiceSettings

log = logging.getLogger(__name__)

CONNECTIONS_PER_ROBOT: Final = 4
"""Besides its in-flight entries, what each robot may use at once: link or session state,
telemetry, results, heartbeats."""
CONNECTIONS_PER_PROCESS: Final = 8


def pool_size(settings: ServiceSettings, robots: int) -> int:
    """The command pool a process needs: every in-flight entry and each robot's own writers at once."""
    if settings.redis_pool_size:
        return settings.redis_pool_size
    return max(1, robots) * (settings.max_in_flight + CONNECTIONS_PER_ROBOT) + CONNECTIONS_PER_PROCESS


def connect_redis(settings: ServiceSettings, *, robots: int = 1, name: str = "robovox") -> Redis:
    """The process's client for commands: decoded replies, a blocking pool sized for ``robots``."""
    size = pool_size(settings, robots)
    pool: BlockingConnectionPool = BlockingConnectionPool.from_url(
        settings.redis_url,
        decode_responses=True,
        socket_timeout=settings.redis_socket_timeout_s,
        socket_connect_timeout=5.0,
        max_connections=size,
        timeout=settings.redis_pool_timeout_s,
        health_check_interval=30,
    )
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


def dedicated_reader(redis: Redis) -> Redis:
    """A client of exactly one connection to the same server, returning bytes, for one blocking reader.

    Close it with ``aclose()`` when the reader stops."""
    source = redis.connection_pool
    kwargs: dict[str, Any] = {**source.connection_kwargs, "decode_responses": False}
    pool = ConnectionPool(connection_class=source.connection_class, max_connections=1, **kwargs)
    reader: Redis = Redis.from_pool(pool)
    return reader


async def read_raw(redis: Redis, *command: str | int) -> Any:
    """A short read (XRANGE, XREVRANGE) on the command pool, its reply left as bytes: entries any
    producer wrote, whatever bytes they hold, can be read and then decoded one by one."""
    return await redis.execute_command(*command, **{NEVER_DECODE: True})  # type: ignore[no-untyped-call]
