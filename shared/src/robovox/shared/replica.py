"""One live process per consumer name.

Consumer names are stable across restarts (``<service>@<host>``), so a restarted
process takes up its predecessor's pending entries at once. Two live processes
sharing a name would instead take up each other's entries while both work on
them. Each process therefore holds a lease on its name (``replica_key``), a
string with a short TTL that it refreshes:

- free, or held by a dead process of this host (its pid is gone, or it is our
  own pid: a restarted container) -> taken at once;
- held by a live process of this host -> refused with the reason;
- held from another host -> waited on until it expires (that process died), or
  refused if it keeps being refreshed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from typing import Final

from redis.asyncio import Redis

from robovox.shared.consumer import REDIS_DOWN
from robovox.shared.errors import RoboVoxError
from robovox.shared.streams import replica_key

log = logging.getLogger(__name__)

LEASE_TTL_MS: Final = 10_000
REFRESH_S: Final = 3.0

# KEYS: lease. ARGV: holder, ttl ms. 1 if held by us now, 0 if another holds it.
_REFRESH = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""


_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""


class NameInUseError(RoboVoxError, RuntimeError):
    """Another live process holds this consumer name."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ReplicaLease:
    def __init__(self, redis: Redis, name: str) -> None:
        self.name = name
        self._redis = redis
        self._key = replica_key(name)
        self._host = socket.gethostname()
        self.holder = f"{self._host}:{os.getpid()}:{secrets.token_hex(4)}"
        self._refresh = redis.register_script(_REFRESH)

    async def acquire(self) -> None:
        """Hold the name, or raise NameInUseError saying who does."""
        waited_for: str | None = None
        current: str | None
        give_up = time.monotonic() + LEASE_TTL_MS / 1000 + 2
        while True:
            try:
                current = await self._redis.get(self._key)  # type: ignore[assignment]
            except REDIS_DOWN as exc:
                log.warning("consumer name %s: Redis unreachable (%s); retrying", self.name, exc)
                await asyncio.sleep(1.0)
                continue
            if current is None or self._predecessor(current):
                await self._redis.set(self._key, self.holder, px=LEASE_TTL_MS)
                if current is not None:
                    log.info("consumer name %s: taking over from %s, which is gone", self.name, current)
                return
            host, pid = self._parse(current)
            if host == self._host:
                raise NameInUseError(
                    f"consumer name {self.name!r} is in use by process {pid} on this host; give each replica "
                    "its own ROBOVOX_CONSUMER_NAME"
                )
            if waited_for is None:
                log.warning("consumer name %s is held by %s; waiting for its lease to expire", self.name, current)
            elif current != waited_for or time.monotonic() > give_up:
                raise NameInUseError(f"consumer name {self.name!r} is in use by a live process on {host}")
            waited_for = current
            await asyncio.sleep(0.5)

    async def keep(self, stopping: asyncio.Event) -> None:
        """Refresh the lease until ``stopping``; raise NameInUseError if another process took the name."""
        while not stopping.is_set():
            try:
                held = await self._refresh(keys=[self._key], args=[self.holder, LEASE_TTL_MS])
            except REDIS_DOWN as exc:
                log.warning("consumer name %s: lease not refreshed (%s)", self.name, exc)
                held = True
            if not held:
                raise NameInUseError(f"consumer name {self.name!r} was taken by another process")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), REFRESH_S)
        with contextlib.suppress(*REDIS_DOWN):
            await self._redis.eval(_RELEASE, 1, self._key, self.holder)

    def _predecessor(self, current: str) -> bool:
        host, pid = self._parse(current)
        return host == self._host and (pid == os.getpid() or not _pid_alive(pid))

    @staticmethod
    def _parse(holder: str) -> tuple[str, int]:
        """``host:pid:token`` -> (host, pid); anything else -> (itself, -1)."""
        parts = holder.rsplit(":", 2)
        if len(parts) != 3 or not parts[1].isdigit():
            return holder, -1
        return parts[0], int(parts[1])
