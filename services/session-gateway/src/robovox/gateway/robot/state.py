"""The robot's session state as others see it.

- The session hash (``RobotKeys.session``, model ``SessionInfo``), written on
  every change of state or of the provider calls held, and every
  ``INFO_REFRESH_S``; it expires ``INFO_TTL_S`` after the gateway stops
  refreshing it. People and the alert monitor read it, and a gateway started
  after this one died finds the provider calls it left open there.
- ``robovox.session`` to the robot's clients on every change of state.

Writes are tasks of the publisher's own, awaited when the robot's voice stops.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Final, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from robovox.gateway.clients.events import SessionEvent
from robovox.gateway.clients.roster import ClientRoster
from robovox.gateway.realtime.provider_calls import ProviderCalls
from robovox.gateway.realtime.session import RealtimeSession
from robovox.gateway.robot.opener import SessionOpener
from robovox.shared.aio import TaskSet
from robovox.shared.session import SessionInfo, SessionState
from robovox.shared.streams import RobotKeys

log = logging.getLogger(__name__)

INFO_TTL_S: Final = 60
INFO_REFRESH_S: Final = 20.0


class SessionView(Protocol):
    """What the supervisor knows of the robot's session (``SessionSupervisor``)."""

    @property
    def state(self) -> SessionState: ...
    @property
    def since(self) -> datetime: ...
    @property
    def current(self) -> RealtimeSession | None: ...
    @property
    def conversation_id(self) -> str | None: ...


class SessionStatePublisher:
    def __init__(
        self,
        redis: Redis,
        robot_id: str,
        *,
        gateway: str,
        session_max_s: float,
        opener: SessionOpener,
        provider_calls: ProviderCalls,
        clients: ClientRoster,
    ) -> None:
        self._redis = redis
        self.robot_id = robot_id
        self._key = RobotKeys.of(robot_id).session
        self._gateway = gateway
        """Names this gateway process in the session hash."""
        self._max = timedelta(seconds=session_max_s)
        self._opener = opener
        self._provider_calls = provider_calls
        self._clients = clients
        self._writes = TaskSet(robot_id, "writing the session state")

    def event(self, view: SessionView) -> SessionEvent:
        """``robovox.session`` for clients: the session's state as it changes."""
        session_id = view.current.session_id if view.current else None
        return SessionEvent(robot_id=self.robot_id, state=view.state, session_id=session_id)

    def info(self, view: SessionView) -> SessionInfo:
        session = view.current
        limits = session.rate_limits if session else {}
        return SessionInfo(
            robot_id=self.robot_id,
            state=view.state,
            since=view.since,
            gateway=self._gateway,
            session_id=session.session_id if session else None,
            provider_call_id=session.provider_call_id if session else None,
            provider_calls=self._provider_calls.listed(),
            conversation_id=view.conversation_id,
            started_at=session.started_wall if session else None,
            recycle_at=session.started_wall + self._max if session else None,
            sessions_opened=self._opener.sessions_opened,
            requests_remaining=limits["requests"].remaining if "requests" in limits else None,
            requests_limit=limits["requests"].limit if "requests" in limits else None,
            tokens_remaining=limits["tokens"].remaining if "tokens" in limits else None,
            tokens_limit=limits["tokens"].limit if "tokens" in limits else None,
            rate_limits_at=session.rate_limits_at if session and limits else None,
            last_error=(session.last_error if session and session.last_error else self._opener.last_error),
        )

    def state_changed(self, view: SessionView) -> None:
        if len(self._clients):
            self._clients.broadcast(self.event(view))
        self.schedule(view)

    def schedule(self, view: SessionView) -> None:
        """Write the session hash soon (in a task of the publisher's)."""
        self._writes.spawn(self.write(view))

    async def write(self, view: SessionView) -> None:
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(self._key)
                pipe.hset(self._key, mapping=self.info(view).to_fields())  # type: ignore[arg-type]
                pipe.expire(self._key, INFO_TTL_S)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            log.debug("%s: session state not written: %s", self.robot_id, exc)

    async def close(self) -> None:
        """Let the writes under way finish (briefly), then stop those left."""
        await self._writes.wait(2.0)
        await self._writes.cancel(1.0)
