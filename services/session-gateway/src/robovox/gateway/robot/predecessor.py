"""Provider calls a gateway left open when it died.

A gateway names every provider call it holds for a robot in the robot's
session hash (``provider_calls``, and the live one as ``provider_call_id``),
from the provider's answer until the call is hung up. A process killed
without a chance to hang up (SIGKILL, a crash, power) leaves them open: the
provider keeps the session (and bills it) until ICE consent fails, about 30 s
later. The next gateway to serve the robot reads the hash before it writes
its own state and hangs those calls up, while it opens its own session.

One gateway serves a robot at a time: a call named in the hash is never this
process's own, since it reads the hash before opening any.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from robovox.gateway.realtime.signaling import RealtimeSignaling
from robovox.shared.entry import EntryError
from robovox.shared.session import SessionInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LeftOpen:
    gateway: str
    """The consumer name of the gateway that wrote the hash."""
    calls: list[str]


async def left_open(redis: Redis, session_key: str) -> LeftOpen:
    """The calls the robot's session hash names (none if it is gone or unreadable)."""
    try:
        fields: Any = await redis.hgetall(session_key)
        info = SessionInfo.from_hash(fields)
    except (RedisError, OSError, EntryError) as exc:
        log.warning("%s: cannot read the session hash for calls left open: %s", session_key, exc)
        return LeftOpen("", [])
    if info is None:
        return LeftOpen("", [])
    named = [*info.provider_calls, *([info.provider_call_id] if info.provider_call_id else [])]
    return LeftOpen(info.gateway, list(dict.fromkeys(call for call in named if call)))


async def hang_up_left_open(signaling: RealtimeSignaling, robot_id: str, found: LeftOpen) -> int:
    """Hang up every call in ``found``, at once; returns how many the provider confirmed."""
    if not found.calls:
        return 0
    confirmed = await asyncio.gather(*(signaling.hang_up(provider_call_id) for provider_call_id in found.calls))
    log.info(
        "%s: hung up %d of %d provider call(s) left open by %s: %s",
        robot_id,
        sum(confirmed),
        len(found.calls),
        found.gateway or "an earlier gateway",
        ", ".join(found.calls),
    )
    return sum(confirmed)
