"""One way to open Redis, so every service gets the same timeouts and decoding."""

from __future__ import annotations

from redis.asyncio import Redis

from robovox.shared.settings import ServiceSettings


def connect_redis(settings: ServiceSettings, *, max_connections: int = 200) -> Redis:
    """A client whose socket timeout sits above the BLOCK time (redis-py's 5 s default
    would turn a long XREADGROUP BLOCK into a TimeoutError). Every blocked reader
    holds a connection, so the pool is sized for one reader per robot and stream."""
    client: Redis = Redis.from_url(
        settings.redis_url,
        decode_responses=True,
        socket_timeout=settings.redis_socket_timeout_s,
        socket_connect_timeout=5.0,
        max_connections=max_connections,
        health_check_interval=30,
    )
    return client
