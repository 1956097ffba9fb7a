"""What a consumer is told: its group and name, its pace, its limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from robovox.shared.errors import RoboVoxError
from robovox.shared.limits import Limits

Fields = dict[str, str]


class Acked:
    """What a handler returns when it acked the entry itself, in the same script or transaction
    as its outcome (one round trip less, and the outcome and the ack land together)."""


ACKED: Final = Acked()
Handler = Callable[[str, str, Fields], Awaitable[Acked | None]]
"""``handler(stream, entry_id, fields)``; return to ack (or ``ACKED`` if it did), raise to retry later."""
DeadLetterHook = Callable[[str, Fields, str], Awaitable[None]]
"""``hook(stream, fields, reason)``, awaited before an entry is dead-lettered. ``fields`` may hold
``\\xNN`` escapes where the entry was not UTF-8."""

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
"""Transient: Redis unreachable, a connection dropped, no pooled connection free in time."""


class PermanentError(RoboVoxError):
    """Raised by a handler for an entry that can never succeed (malformed, invalid):
    it is dead-lettered at once instead of being retried."""


@dataclass(frozen=True, slots=True)
class ConsumerConfig:
    group: str
    consumer: str
    block_ms: int = 1000
    """The longest a read blocks (each read blocks a random 75-100 % of it)."""
    claim_idle_ms: int = 15_000
    max_deliveries: int = 5
    max_in_flight: int = 16
    """Entries handled at once, on every path: new reads, own pending after a restart, claims."""
    shutdown_grace_ms: int = 5000
    """On stop, how long in-flight handlers may finish; the rest are cancelled unacked (redelivered later)."""
    max_entry_bytes: int = Limits().entry_bytes
    """Larger entries are dead-lettered unread."""
    dead_letter_chars: int = Limits().dead_letter_chars
    """Most characters of the original entry a dead letter keeps."""
