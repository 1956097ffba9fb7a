"""Test helpers that speak the stream contracts: put a tool call in, await its outcome."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from redis.asyncio import Redis

from robovox.shared.call_life import PUBLISH_SCRIPT, publish_script_call
from robovox.shared.entry import utc_now
from robovox.shared.link import LinkInfo, LinkState
from robovox.shared.messages import InboxEntry, ToolCall
from robovox.shared.streams import RobotKeys
from robovox.shared.telemetry import encode_latest

LOOK_MS = 1000
"""The longest a helper's XREAD blocks at once: below the clients' 5 s socket timeout, which a longer
block would run into as a Redis TimeoutError instead of the helper's own."""

_call_ids = itertools.count(1)


def new_call_id() -> str:
    return f"call_test_{time.time_ns()}_{next(_call_ids)}"


async def add_tool_call(
    redis: Redis,
    robot_id: str,
    name: str,
    arguments: str | dict[str, Any] = "{}",
    *,
    call_id: str | None = None,
    deadline_in_s: float = 10.0,
) -> ToolCall:
    """Publish a tool call as the gateway does (the call life's publish script: record, tool-call
    entry, conversation item); a call id published before is left alone."""
    now = utc_now()
    call = ToolCall(
        call_id=call_id or new_call_id(),
        robot_id=robot_id,
        name=name,
        arguments=arguments if isinstance(arguments, str) else json.dumps(arguments),
        session_id="sess_test",
        issued_at=now,
        deadline=now + timedelta(seconds=deadline_in_s),
    )
    keys, args = publish_script_call(RobotKeys.of(robot_id), call, "conv_test")
    await redis.eval(PUBLISH_SCRIPT, len(keys), *keys, *args)
    return call


async def inbox_entries(redis: Redis, robot_id: str, call_id: str | None = None) -> list[InboxEntry]:
    raw: Any = await redis.xrange(RobotKeys.of(robot_id).inbox)
    entries = [InboxEntry.from_fields(fields) for _id, fields in raw]
    return [e for e in entries if call_id is None or e.call_id == call_id]


async def last_entry_id(redis: Redis, stream: str) -> str:
    """The id of the newest entry of ``stream`` ("0-0" if empty), to read what comes after it."""
    newest: Any = await redis.xrevrange(stream, count=1)
    return str(newest[0][0]) if newest else "0-0"


async def follow(redis: Redis, stream: str, after: str = "$") -> AsyncIterator[tuple[str, dict[str, str]]]:
    """Every entry of ``stream`` after id ``after`` ("$": from now), as it arrives (XREAD BLOCK)."""
    last = await last_entry_id(redis, stream) if after == "$" else after
    while True:
        reply: Any = await redis.xread({stream: last}, block=1000, count=100)
        for _stream, entries in reply or []:
            for entry_id, fields in entries:
                last = entry_id
                yield entry_id, fields


async def wait_for_entries(
    redis: Redis, stream: str, count: int, timeout_s: float = 10.0
) -> list[tuple[str, dict[str, str]]]:
    """Every entry of ``stream``, once it holds at least ``count`` (XREAD BLOCK between looks)."""
    async with asyncio.timeout(timeout_s):
        while True:
            raw: Any = await redis.xrange(stream)
            if len(raw) >= count:
                return [(str(entry_id), fields) for entry_id, fields in raw]
            await redis.xread({stream: raw[-1][0] if raw else "0-0"}, block=LOOK_MS)


async def wait_for_output(
    redis: Redis, robot_id: str, call_id: str, timeout_s: float = 10.0, *, after: str = "0-0"
) -> InboxEntry:
    """Block on the inbox stream (from entry ``after`` on) until the output for ``call_id`` arrives."""
    key = RobotKeys.of(robot_id).inbox
    last = after
    end = time.monotonic() + timeout_s
    while (left := end - time.monotonic()) > 0:
        reply: Any = await redis.xread({key: last}, block=max(1, min(LOOK_MS, int(left * 1000))), count=100)
        for _stream, entries in reply or []:
            for entry_id, fields in entries:
                last = entry_id
                if fields.get("call_id") == call_id:
                    return InboxEntry.from_fields(fields)
    raise TimeoutError(f"no inbox entry for {call_id} within {timeout_s} s")


async def set_link(redis: Redis, robot_id: str, state: LinkState = LinkState.UP) -> None:
    """Write the robot's link hash as a ROS adapter would."""
    info = LinkInfo(
        state=state, since=utc_now(), rosbridge_url="ws://test", adapter="test", connects=1, telemetry_dropped=0
    )
    await redis.hset(RobotKeys.of(robot_id).link_state, mapping=info.to_fields())  # type: ignore[arg-type]


async def set_telemetry(
    redis: Redis, robot_id: str, topic: str, msg: dict[str, Any], ros_type: str = "x/msg/Y", age_s: float = 0.0
) -> None:
    """Write a latest-value sample as the ROS adapter would, ``age_s`` seconds old."""
    when = utc_now() - timedelta(seconds=age_s)
    await redis.hset(RobotKeys.of(robot_id).telemetry_latest, topic, encode_latest(msg, ros_type, when))
