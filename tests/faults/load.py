"""The session gateway's side of a fault run: tool calls published as the gateway
publishes them (its CallPublisher, retrying while Redis is down until each call's
deadline), and a reader of every robot's inbox."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from robovox.gateway.calls.publisher import CallPublisher
from robovox.shared.streams import RobotKeys

log = logging.getLogger(__name__)

TOOLS = ("probe", "note")


@dataclass(frozen=True, slots=True)
class IssuedCall:
    call_id: str
    robot_id: str
    tool: str
    deadline: float
    """The ToolCall's deadline, as ``time.time()``."""
    sent_at: float
    """``time.time()`` when the gateway handed it to Redis (or to its retries)."""


class LoadGenerator:
    """``rate_per_robot`` calls a second to each robot, each with its own tag (the call id)."""

    def __init__(
        self,
        redis: Redis,
        robots: Sequence[str],
        rate_per_robot: float,
        prefix: str,
        call_timeout_s: float = 10.0,
        tools: Sequence[str] = TOOLS,
    ) -> None:
        self._robots = list(robots)
        self._rate = rate_per_robot
        self._prefix = prefix
        self._tools = list(tools)
        self._publishers = {r: CallPublisher(redis, r, call_timeout_s) for r in self._robots}
        self.calls: list[IssuedCall] = []
        self.finished = False
        """Set once every call has been issued."""
        self.elapsed_s = 0.0
        """From the first call to the last."""
        self._issued = asyncio.Condition()

    def call_ids(self) -> list[str]:
        return [c.call_id for c in self.calls]

    async def run(self, duration_s: float) -> list[IssuedCall]:
        """Issue calls for ``duration_s``, then wait until every retry has ended (published or given up)."""
        start = time.monotonic()
        count = max(1, round(duration_s * self._rate))
        try:
            await asyncio.gather(*(self._robot(r, i, start, count) for i, r in enumerate(self._robots)))
        finally:
            self.elapsed_s = time.monotonic() - start
            self.finished = True
            async with self._issued:
                self._issued.notify_all()
        await asyncio.gather(*(p.settled(60.0) for p in self._publishers.values()))
        return self.calls

    async def issued(self, count: int) -> int:
        """Return once ``count`` calls have been issued in all, or all of them were; how many were."""
        async with self._issued:
            await self._issued.wait_for(lambda: len(self.calls) >= count or self.finished)
        return len(self.calls)

    async def _robot(self, robot: str, index: int, start: float, count: int) -> None:
        period = 1.0 / self._rate
        phase = period * index / len(self._robots)  # spread the robots over the period
        publisher = self._publishers[robot]
        for seq in range(count):
            due = start + phase + seq * period
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tool = self._tools[seq % len(self._tools)]
            call_id = f"{self._prefix}_{robot}_{seq:06d}"
            sent_at = time.time()
            call = publisher.publish(
                call_id, tool, json.dumps({"tag": call_id}), "sess_fault", "conv_fault", time.perf_counter()
            )
            self.calls.append(IssuedCall(call_id, robot, tool, call.deadline.timestamp(), sent_at))
            async with self._issued:
                self._issued.notify_all()


@dataclass
class InboxWatcher:
    """Follows every robot's inbox from the start, as the gateway would, and keeps every entry."""

    redis: Redis
    robots: Sequence[str]
    outputs: dict[str, list[tuple[str, dict[str, str]]]] = field(default_factory=dict)
    """call_id -> every function_call_output entry (id, fields) seen for it."""
    notices: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    """robot -> every other inbox entry (alerts), in order."""
    errors: int = 0
    _seen: set[str] = field(default_factory=set)
    _positions: dict[Any, Any] = field(default_factory=dict)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        self._positions = {RobotKeys.of(r).inbox: "0-0" for r in self.robots}
        while not self._stopping.is_set():
            try:
                reply: Any = await self.redis.xread(self._positions, block=200, count=2000)
            except Exception as exc:  # Redis killed under us: read on from where we were
                self.errors += 1
                log.info("inbox watcher: %s; retrying", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), 0.05)
                continue
            if reply:
                self._take(reply)
                async with self._changed:
                    self._changed.notify_all()

    def _take(self, reply: Any) -> None:
        for stream, entries in reply:
            for entry_id, fields in entries:
                self._positions[stream] = entry_id
                key = f"{stream} {entry_id}"
                if key in self._seen:
                    continue
                self._seen.add(key)
                if fields.get("kind") == "function_call_output":
                    self.outputs.setdefault(fields.get("call_id", ""), []).append((entry_id, fields))
                else:
                    self.notices.setdefault(fields.get("robot_id", ""), []).append(fields)

    async def catch_up(self) -> None:
        """Read whatever the live reader has not yet (XRANGE from its positions)."""
        for stream, last in list(self._positions.items()):
            raw: Any = await self.redis.xrange(stream, min=f"({last}" if last != "0-0" else "-")
            if raw:
                self._take([(stream, raw)])

    async def wait(self, condition: Any, timeout_s: float) -> bool:
        """Wait until ``condition()`` holds (re-checked on every new entry); False on timeout."""
        try:
            async with asyncio.timeout(timeout_s), self._changed:
                await self._changed.wait_for(condition)
            return True
        except TimeoutError:
            return condition() is True

    def answered(self, call_ids: Sequence[str]) -> bool:
        return all(c in self.outputs for c in call_ids)

    def stop(self) -> None:
        self._stopping.set()
