"""Opening a Realtime session of the robot with the conversation so far.

A new session is given the newest ``replay_max_items`` items of the robot's
conversation (``ConversationLog``); its function calls are history, never
executed again. The first session of the process continues a conversation
whose newest item is younger than ``RESUME_WINDOW_S`` (a restarted gateway);
every later conversation is the supervisor's own choice.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Final

from redis.exceptions import RedisError

from robovox.gateway.realtime.conversation import ConversationLog
from robovox.gateway.realtime.peer import PeerClosedError
from robovox.gateway.realtime.session import RealtimeSession
from robovox.gateway.realtime.signaling import SignalingError
from robovox.gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

RESUME_WINDOW_S: Final = 3600.0
"""At start-up, a conversation whose newest item is younger than this is continued."""
OPEN_FAILURES = (SignalingError, PeerClosedError, TimeoutError, OSError, RedisError)

NewSession = Callable[[str], RealtimeSession]
"""A new (unopened) Realtime session of the robot, for the conversation named."""


def new_conversation_id() -> str:
    return f"conv_{secrets.token_hex(8)}"


class SessionOpener:
    def __init__(
        self, robot_id: str, settings: GatewaySettings, *, new_session: NewSession, conversation: ConversationLog
    ) -> None:
        self.robot_id = robot_id
        self._settings = settings
        self._new_session = new_session
        self._conversation = conversation
        self._may_resume = True
        """Only the first session of this process may continue a recent conversation from Redis."""
        self.sessions_opened = 0
        self.last_error: str | None = None
        """Why the last attempt to open a session failed."""

    async def conversation_for(self, conversation_id: str | None) -> str:
        """``conversation_id``, or when there is none the one to continue or a new one."""
        if conversation_id is None:
            resumed = await self._conversation.resumable(RESUME_WINDOW_S) if self._may_resume else None
            conversation_id = resumed or new_conversation_id()
        self._may_resume = False
        return conversation_id

    async def open(self, conversation_id: str) -> tuple[RealtimeSession, str] | None:
        """A new session given the conversation so far, and the log id it was read up to;
        None when it could not be opened (``last_error`` says why)."""
        session = self._new_session(conversation_id)
        try:
            await session.open()
            items, read_to = await self._conversation.items(conversation_id, self._settings.replay_max_items)
            replayed = session.replay(items)
        except OPEN_FAILURES as exc:
            self.last_error = f"opening a session failed: {str(exc) or repr(exc)}"
            log.warning("%s: %s", self.robot_id, self.last_error)
            await session.close()
            return None
        self.sessions_opened += 1
        log.info(
            "%s: session %s open (call %s), %d items replayed",
            self.robot_id, session.session_id, session.provider_call_id, replayed,
        )  # fmt: skip
        return session, read_to

    async def catch_up(self, session: RealtimeSession, read_to: str) -> None:
        """Give ``session`` the items appended since it was given the conversation (read up to
        ``read_to``): those a swap of sessions could miss."""
        late, _ = await self._conversation.items_after(session.conversation_id, read_to)
        session.replay(late)
