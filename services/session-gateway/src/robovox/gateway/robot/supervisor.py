"""The supervisor of one robot's Realtime sessions: one is live for as long as one is
wanted. It opens the session (``SessionOpener``: with the conversation so far) and
replaces it:
- before the provider's maximum duration (``session_max_s``), make before break:
  the new session is opened and given the conversation while the old one still
  serves, then the two swap;
- at once on ``session_expired``, and with bounded backoff when its connection fails;
- never executing a tool again: replayed function calls are history.

Response requests made while no session is live are carried to the next one. An
idle session (``idle_close_s``) is closed, and reopened on demand.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from enum import StrEnum

from robovox.gateway.audio.hub import AudioHub
from robovox.gateway.clients.roster import ClientRoster
from robovox.gateway.realtime.sequencer import ResponseRequest
from robovox.gateway.realtime.session import RealtimeSession
from robovox.gateway.robot.opener import SessionOpener
from robovox.gateway.robot.state import INFO_REFRESH_S, SessionStatePublisher
from robovox.gateway.settings import GatewaySettings
from robovox.shared.aio import wait_first
from robovox.shared.entry import utc_now
from robovox.shared.metrics import set_state
from robovox.shared.metrics.series import SESSION_RECONNECTS, SESSION_RECYCLES, SESSION_STATE
from robovox.shared.session import SessionState

log = logging.getLogger(__name__)


class RestartMode(StrEnum):
    CONTINUE = "continue"
    """A new Realtime session given the conversation so far."""
    FRESH = "fresh"
    """A new Realtime session and a new conversation."""


class SessionSupervisor:
    def __init__(
        self,
        robot_id: str,
        settings: GatewaySettings,
        *,
        opener: SessionOpener,
        audio: AudioHub,
        clients: ClientRoster,
        publisher: SessionStatePublisher,
    ) -> None:
        self.robot_id = robot_id
        self._settings = settings
        self._opener = opener
        self._audio = audio
        self._clients = clients
        self._publisher = publisher
        self.state = SessionState.STOPPED
        self.since = utc_now()
        set_state(SESSION_STATE, self.robot_id, SessionState, self.state)
        SESSION_RECYCLES.labels(robot_id)  # exported from 0
        SESSION_RECONNECTS.labels(robot_id)
        self.current: RealtimeSession | None = None
        self.conversation_id: str | None = None
        self.ready = asyncio.Event()
        """Set once the first session is open or has failed to open (or none is wanted)."""
        self._live = asyncio.Event()
        self._wake = asyncio.Event()
        self._wanted = settings.autostart
        self._idle = False
        self._restart: RestartMode | None = None
        """Set when a restart is asked for."""
        self._carried: list[ResponseRequest] = []

    # Control
    def start(self) -> None:
        self._wanted, self._idle = True, False
        self._wake.set()

    def stop(self) -> None:
        """Close the session; the conversation ends with it."""
        self._wanted, self._idle = False, False
        self._wake.set()

    def restart(self, fresh: bool = False) -> None:
        self._restart = RestartMode.FRESH if fresh else RestartMode.CONTINUE
        self.start()

    @property
    def wanted(self) -> bool:
        """A session is wanted (started and not idle-closed): open, or being opened."""
        return self._wanted

    @property
    def idle(self) -> bool:
        """Closed after a quiet spell, to be reopened on demand."""
        return self._idle

    @property
    def live_session(self) -> RealtimeSession | None:
        return self.current if self._live.is_set() else None

    async def wait_live(self) -> RealtimeSession:
        await self._live.wait()
        assert self.current is not None
        return self.current

    def take_offline(self, session: RealtimeSession | None = None) -> None:
        """No session is live until one is installed (with ``session``: if it is the current one)."""
        if session is None or self.current is session:
            self._live.clear()

    def request_response(self, request: ResponseRequest) -> None:
        session = self.live_session
        if session is not None:
            session.sequencer.request(request)
        else:
            self._carried.append(request)

    # Supervision
    async def run(self, stopping: asyncio.Event) -> None:
        retry_s = self._settings.session_retry_initial_s
        while not stopping.is_set():
            self._wake.clear()
            if self._restart is not None:
                await self._handle_restart()
            if not self._wanted:
                closed_state = SessionState.IDLE if self._idle else SessionState.STOPPED
                if self.current is not None:
                    await self._retire(self.current, closed_state)
                self._set_state(closed_state)
                if not self._idle:
                    self.conversation_id = None
                await self._wait_for_wake(stopping, INFO_REFRESH_S)
                continue
            if self.current is None:
                opened = await self._open_and_install()
                self.ready.set()
                if not opened:
                    self._set_state(SessionState.RECONNECTING)
                    await self._wait_for_wake(stopping, retry_s)
                    retry_s = min(retry_s * 2, self._settings.session_retry_max_s)
                    continue
                retry_s = self._settings.session_retry_initial_s
            await self._watch_live(stopping)

    async def close(self) -> None:
        """Take the live session out of service and close it; the state is then STOPPED."""
        if self.current is not None:
            await self._retire(self.current, self.state)
        self._set_state(SessionState.STOPPED)

    async def _watch_live(self, stopping: asyncio.Event) -> None:
        """Wait for the live session to need something: recycle, replacement, idle close, a command."""
        session = self.current
        assert session is not None
        settings = self._settings
        while not stopping.is_set() and not self._wake.is_set():
            if session.ended:
                log.info(
                    "%s: session %s ended (%s); opening a new one",
                    self.robot_id,
                    session.session_id,
                    session.end_reason,
                )
                await self._retire(session, SessionState.RECONNECTING)
                return
            now = time.monotonic()
            recycle_in = session.started_at + settings.session_max_s - now
            if recycle_in <= 0:
                await self._recycle(session)
                return
            wait_s = min(recycle_in, INFO_REFRESH_S * random.uniform(0.75, 1.0))  # robots apart, not in step
            if len(self._clients):
                session.last_activity = now  # someone is listening: not idle
            if settings.idle_close_s > 0:
                idle_in = session.last_activity + settings.idle_close_s - now
                if idle_in <= 0 and not session.sequencer.busy:
                    log.info("%s: closing the idle session %s", self.robot_id, session.session_id)
                    self._wanted, self._idle = False, True
                    return
                wait_s = min(wait_s, max(idle_in, 0.05))
            await wait_first(stopping.wait(), self._wake.wait(), session.wait_ended(), within_s=wait_s)
            await self._publisher.write(self)

    async def _handle_restart(self) -> None:
        mode, self._restart = self._restart, None
        if mode is RestartMode.FRESH:
            self.conversation_id = None
        if self.current is not None:
            await self._retire(self.current, SessionState.CONNECTING)

    async def _open_and_install(self) -> bool:
        state = SessionState.RECONNECTING if self.state is SessionState.RECONNECTING else SessionState.CONNECTING
        self._set_state(state)
        opened = await self._open()
        if opened is None:
            return False
        self._install(opened[0])
        return True

    async def _open(self) -> tuple[RealtimeSession, str] | None:
        self.conversation_id = await self._opener.conversation_for(self.conversation_id)
        return await self._opener.open(self.conversation_id)

    def _install(self, session: RealtimeSession) -> None:
        for request in self._carried:
            session.sequencer.request(request)
        self._carried = []
        self.current = session
        self._audio.attach(session.peer)
        session.greet_clients()
        self._live.set()
        self._set_state(SessionState.LIVE)

    async def _retire(self, session: RealtimeSession, state: SessionState) -> None:
        """Take the session out of service; its unanswered response requests go to the next one."""
        self._live.clear()
        self._set_state(state)
        self._carried.extend(session.sequencer.take_pending())
        self.current = None
        self._audio.attach(None)
        await session.close()

    async def _recycle(self, old: RealtimeSession) -> None:
        """Make before break: the new session has the conversation before the old one goes."""
        self._set_state(SessionState.RECYCLING)
        quiet_wait_s = self._settings.recycle_quiet_wait_s
        await wait_first(old.sequencer.idle.wait(), old.wait_ended(), within_s=quiet_wait_s)
        opened = await self._open()
        if opened is None:
            if old.ended:
                await self._retire(old, SessionState.RECONNECTING)
            else:
                old.started_at = time.monotonic() - self._settings.session_max_s + 5.0  # try again in 5 s
                self._set_state(SessionState.LIVE)
            return
        new, read_to = opened
        await self._retire(old, SessionState.RECYCLING)
        await self._opener.catch_up(new, read_to)
        self._install(new)

    def _set_state(self, state: SessionState) -> None:
        if state is not self.state:
            self.state = state
            self.since = utc_now()
            set_state(SESSION_STATE, self.robot_id, SessionState, state)
            if state is SessionState.RECYCLING:
                SESSION_RECYCLES.labels(self.robot_id).inc()
            elif state is SessionState.RECONNECTING:
                SESSION_RECONNECTS.labels(self.robot_id).inc()
            log.debug("%s: session %s", self.robot_id, state.value)
            self._publisher.state_changed(self)

    async def _wait_for_wake(self, stopping: asyncio.Event, timeout_s: float) -> None:
        await wait_first(stopping.wait(), self._wake.wait(), within_s=timeout_s)
