"""Function calls from the model into the robot's tool-call stream, once per call_id.

One Lua script (the call life's ``PUBLISH_SCRIPT``) moves the call record to
``published``, appends the ToolCall to ``tool_calls`` and the call to the
conversation log. A call id the gateway has already published (a replayed
event, a second gateway, a retry after a Redis hiccup) is never published again. The keys share the robot's
hash slot, so this holds on Redis Cluster.

The script is written to the gateway's ``DispatchConnection`` in the callback that
received the call, and timed when its reply is parsed. If the connection is down, or
the reply does not come, a task publishes through redis-py instead and keeps
trying until the call could no longer start (its deadline); the script makes
that retry harmless when the first attempt did reach Redis.

A call of the profile's emergency stop tool is also put on the robot's priority path as
soon as it is published (never before: the adapter starts the call's record, and a
started record is not published), so the stop does not wait for a free slot in the
executor; the executor then only answers it from the adapter's result.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

from robovox.gateway.calls.connection import DispatchConnection
from robovox.shared.call_life import PUBLISH_SCRIPT, publish_script_call
from robovox.shared.emergency import EmergencyStops
from robovox.shared.entry import utc_now
from robovox.shared.loop_lag import RecentSamples
from robovox.shared.messages import EmergencyAction, EmergencyTrigger, ToolCall
from robovox.shared.metrics import UNKNOWN_TOOL, Stage
from robovox.shared.metrics.series import CALL_STAGE_OF, REDIS_ERRORS
from robovox.shared.profile import RobotProfile
from robovox.shared.streams import RobotKeys

log = logging.getLogger(__name__)

RETRY_INITIAL_S: Final = 0.05
RETRY_MAX_S: Final = 1.0


@dataclass(frozen=True, slots=True)
class _Pending:
    call: ToolCall
    keys: list[str]
    args: list[Any]
    received_at: float
    """``time.perf_counter()`` when the call came off the data channel."""


class CallPublisher:
    def __init__(
        self,
        redis: Redis,
        robot_id: str,
        call_timeout_s: float,
        *,
        connection: DispatchConnection | None = None,
        timings: RecentSamples | None = None,
        profile: RobotProfile | None = None,
    ) -> None:
        self._robot_id = robot_id
        self._keys = RobotKeys.of(robot_id)
        self._timeout = timedelta(seconds=call_timeout_s)
        self._script = redis.register_script(PUBLISH_SCRIPT)
        self._connection = connection
        self.timings = timings if timings is not None else RecentSamples()
        """Each call, from its arrival on the data channel to its entry in Redis (ms)."""
        self._retries: set[asyncio.Task[None]] = set()
        self._profile = profile
        self._stops = EmergencyStops(redis)

    def publish(
        self, call_id: str, name: str, arguments: str, session_id: str, conversation_id: str, received_at: float
    ) -> ToolCall:
        """Publish the call (a call id published before is left alone). Over the connection the
        command is on the socket when this returns; otherwise a task publishes it."""
        pending = self._prepare(call_id, name, arguments, session_id, conversation_id, received_at)
        command = ("EVALSHA", self._script.sha, len(pending.keys), *pending.keys, *pending.args)
        if self._connection is None or not self._connection.send(command, lambda reply: self._replied(pending, reply)):
            self._retry(pending)
        return pending.call

    async def settled(self, timeout_s: float) -> None:
        """Wait (up to ``timeout_s``) for calls still being retried."""
        if self._retries:
            await asyncio.wait(list(self._retries), timeout=timeout_s)

    def _prepare(
        self, call_id: str, name: str, arguments: str, session_id: str, conversation_id: str, received_at: float
    ) -> _Pending:
        now = utc_now()
        call = ToolCall(
            call_id=call_id,
            robot_id=self._robot_id,
            name=name,
            arguments=arguments,
            session_id=session_id,
            issued_at=now,
            deadline=now + self._timeout,
        )
        keys, args = publish_script_call(self._keys, call, conversation_id)
        return _Pending(call, keys, args, received_at)

    def _replied(self, pending: _Pending, reply: Any) -> None:
        if isinstance(reply, Exception):  # NOSCRIPT after a restart, or the connection went down
            log.info(
                "%s: call %s not confirmed over the dispatch connection (%s); retrying",
                self._robot_id,
                pending.call.call_id,
                reply,
            )
            self._retry(pending)
            return
        self._published(pending)

    def _published(self, pending: _Pending) -> None:
        took_s = time.perf_counter() - pending.received_at
        self.timings.add(took_s * 1000)
        name = pending.call.name
        tool = name if self._profile is not None and self._profile.tool(name) is not None else UNKNOWN_TOOL
        CALL_STAGE_OF(self._robot_id, tool, Stage.PUBLISHED.value).observe(took_s)
        if self._profile is not None and self._profile.is_emergency_stop(pending.call.name):
            task = asyncio.create_task(self._stop(pending.call))
            self._retries.add(task)
            task.add_done_callback(self._retries.discard)

    async def _stop(self, call: ToolCall) -> None:
        assert self._profile is not None
        try:
            await self._stops.trigger(
                self._profile,
                EmergencyAction.STOP,
                EmergencyTrigger.MODEL,
                f"call {call.call_id}",
                call_id=call.call_id,
            )
        except (RedisError, OSError) as exc:  # the executor puts it on the path when it takes the call
            log.warning("%s: stop call %s left to the executor: %s", self._robot_id, call.call_id, exc)

    def _retry(self, pending: _Pending) -> None:
        task = asyncio.create_task(self._publish_until_deadline(pending))
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)

    async def _publish_until_deadline(self, pending: _Pending) -> None:
        """Retried until the call could no longer start; redis-py's script call loads the script if Redis lost it."""
        call = pending.call
        give_up = time.monotonic() + (call.deadline - utc_now()).total_seconds()  # the connection may have used some
        delay = RETRY_INITIAL_S
        while True:
            try:
                await self._script(keys=pending.keys, args=pending.args)
                self._published(pending)
                return
            except (RedisError, OSError) as exc:
                REDIS_ERRORS.labels(where="publish").inc()
                if time.monotonic() + delay > give_up:
                    log.error(
                        "%s: call %s (%s) lost: Redis unreachable (%s)", self._robot_id, call.call_id, call.name, exc
                    )
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_S)
