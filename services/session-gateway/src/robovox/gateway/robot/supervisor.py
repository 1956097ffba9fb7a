"""One robot's voice session, kept alive for as long as it is wanted.

The supervisor opens the session, replays the conversation into it, and
replaces it:
- before the provider's maximum duration (``session_max_s``), make before
  break: the new session is opened and given the conversation while the old
  one still serves, then the two swap;
- at once on ``session_expired``, and with bounded backoff when the link fails;
- never executing a tool again: replayed function calls are history, and
  dispatch is once per call_id in Redis.

Inbox entries are delivered in order (one in flight) to whichever session is
live; during a swap they wait, and are acked only once sent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import secrets
import time
from datetime import timedelta
from enum import StrEnum
from typing import Any, Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

from robovox.gateway.audio.robot_devices import RobotAudioDevices
from robovox.gateway.clients.events import SessionEvent
from robovox.gateway.realtime.fit import MessageTooLargeError
from robovox.gateway.realtime.peer import PeerClosedError
from robovox.gateway.realtime.sequencer import ResponseRequest
from robovox.gateway.realtime.session import RealtimeSession, RobotContext
from robovox.gateway.realtime.signaling import SignalingError
from robovox.gateway.robot.inbox_letters import outputs_in_place_of
from robovox.gateway.robot.predecessor import hang_up_left_open, left_open
from robovox.shared.aio import supervise, wait_first
from robovox.shared.consumer import ConsumerConfig, PermanentError, StreamConsumer
from robovox.shared.entry import EntryError, utc_now
from robovox.shared.messages import InboxEntry
from robovox.shared.session import SessionInfo, SessionState
from robovox.shared.streams import MaxLen, RobotKeys

log = logging.getLogger(__name__)

RESUME_WINDOW_S: Final = 3600.0
"""At start-up, a conversation whose newest item is younger than this is continued."""
INFO_TTL_S: Final = 60
INFO_REFRESH_S: Final = 20.0
OPEN_FAILURES = (SignalingError, PeerClosedError, TimeoutError, OSError)


class RestartMode(StrEnum):
    CONTINUE = "continue"
    """A new Realtime session given the conversation so far."""
    FRESH = "fresh"
    """A new Realtime session and a new conversation."""


def new_conversation_id() -> str:
    return f"conv_{secrets.token_hex(8)}"


class RobotSession:
    def __init__(self, redis: Redis, ctx: RobotContext, consumer: ConsumerConfig) -> None:
        self.ctx = ctx
        self._redis = redis
        self._keys = RobotKeys.of(ctx.robot_id)
        settings = ctx.settings
        self.state = SessionState.STOPPED
        self.since = utc_now()
        self.current: RealtimeSession | None = None
        self.conversation_id: str | None = None
        self.sessions_opened = 0
        self.last_error: str | None = None
        self.ready = asyncio.Event()
        self._live = asyncio.Event()
        self._wake = asyncio.Event()
        self._wanted = settings.autostart
        self._idle = False
        self._may_resume = True
        """Only the first session of this process may continue a recent conversation from Redis;
        a stop or a fresh restart asked for a new one."""
        self._restart: RestartMode | None = None
        """Set when a restart is asked for."""
        self._carried: list[ResponseRequest] = []
        self._consumer_name = consumer.consumer
        """Names this gateway process in the session hash."""
        self._consumer = StreamConsumer(
            redis,
            [self._keys.inbox],
            dataclasses.replace(consumer, max_in_flight=1),
            self._on_inbox,
            dead_letter_stream=self._keys.dead_letters,
            on_dead_letter=self._on_inbox_dead_letter,
        )

    # Control (API)
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
    def live_session(self) -> RealtimeSession | None:
        return self.current if self._live.is_set() else None

    # Clients (console, Realtime pages)
    async def tell(self, entry: InboxEntry) -> bool:
        """Put a client's item into the live session now; without one, queue it in the inbox
        (started if needed). Returns True if delivered now."""
        session = self.live_session
        if session is not None:
            try:
                await session.deliver(entry)
                return True
            except PeerClosedError:
                pass
        await self.enqueue(entry)
        if not self._wanted:
            self.start()
        return False

    async def enqueue(self, entry: InboxEntry) -> str:
        """Add ``entry`` to the robot's inbox stream (told to the session in order with results
        and alerts); returns its entry id."""
        fields: Any = entry.to_fields()
        entry_id = await self._redis.xadd(self._keys.inbox, fields, maxlen=MaxLen.INBOX, approximate=True)
        return str(entry_id)

    def request_response(self, request: ResponseRequest) -> None:
        session = self.live_session
        if session is not None:
            session.sequencer.request(request)
        else:
            self._carried.append(request)

    def cancel_response(self) -> None:
        session = self.live_session
        if session is not None:
            session.sequencer.preempt()

    def send_to_model(self, event: dict[str, Any]) -> bool:
        """A client event passed through as it is (input audio buffer control)."""
        session = self.live_session
        if session is None:
            return False
        try:
            session.send(event)
        except PeerClosedError:
            return False
        return True

    async def wait_live(self) -> RealtimeSession:
        await self._live.wait()
        assert self.current is not None
        return self.current

    # Supervisor
    async def run(self, stopping: asyncio.Event) -> None:
        robot = self.ctx.robot_id
        # Before this process writes the session hash: the calls a killed predecessor left open,
        # hung up while this one opens its own.
        found = await left_open(self._redis, self._keys.session)
        hang_ups = asyncio.create_task(hang_up_left_open(self.ctx.signaling, robot, found))
        consumer = asyncio.create_task(self._consumer.run(), name=f"{robot} inbox consumer")
        devices = RobotAudioDevices(self.ctx.audio, self.ctx.profile.audio, robot)
        try:
            await devices.start()  # the robot's own microphone and speaker, if its profile names them
            ready = asyncio.ensure_future(self._consumer.ready.wait())
            await asyncio.wait([ready, consumer], return_when=asyncio.FIRST_COMPLETED)
            ready.cancel()
            if not self._wanted:
                self.ready.set()
            supervisor = asyncio.create_task(self._supervise(stopping), name=f"{robot} session supervisor")
            await supervise(stopping, [consumer, supervisor])  # a dead inbox consumer stops the process
            await supervisor
        finally:
            self._consumer.stop()
            self._live.clear()
            await self.ctx.clients.close_all()
            await self._close_current()
            self._set_state(SessionState.STOPPED)
            await asyncio.wait([consumer])
            await self._write_info()
            await devices.stop()
            await hang_ups

    async def _supervise(self, stopping: asyncio.Event) -> None:
        retry_s = self.ctx.settings.session_retry_initial_s
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
                    retry_s = min(retry_s * 2, self.ctx.settings.session_retry_max_s)
                    continue
                retry_s = self.ctx.settings.session_retry_initial_s
            await self._watch_live(stopping)

    async def _watch_live(self, stopping: asyncio.Event) -> None:
        """Wait for the live session to need something: recycle, replacement, idle close, a command."""
        session = self.current
        assert session is not None
        settings = self.ctx.settings
        while not stopping.is_set() and not self._wake.is_set():
            if session.ended:
                log.info(
                    "%s: session %s ended (%s); opening a new one",
                    self.ctx.robot_id, session.session_id, session.end_reason,
                )  # fmt: skip
                await self._retire(session, SessionState.RECONNECTING)
                return
            now = time.monotonic()
            recycle_in = session.started_at + settings.session_max_s - now
            if recycle_in <= 0:
                await self._recycle(session)
                return
            wait_s = min(recycle_in, INFO_REFRESH_S * random.uniform(0.75, 1.0))  # robots apart, not in step
            if len(self.ctx.clients):
                session.last_activity = now  # someone is listening: not idle
            if settings.idle_close_s > 0:
                idle_in = session.last_activity + settings.idle_close_s - now
                if idle_in <= 0 and not session.sequencer.busy:
                    log.info("%s: closing the idle session %s", self.ctx.robot_id, session.session_id)
                    self._wanted, self._idle = False, True
                    return
                wait_s = min(wait_s, max(idle_in, 0.05))
            await wait_first(stopping.wait(), self._wake.wait(), session.wait_ended(), within_s=wait_s)
            await self._write_info()

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
        session, _read_to = opened
        self._install(session)
        return True

    async def _open(self) -> tuple[RealtimeSession, str] | None:
        """A new session given the conversation so far, and the log id it was read up to."""
        if self.conversation_id is None:
            resumed = await self.ctx.conversation.resumable(RESUME_WINDOW_S) if self._may_resume else None
            self.conversation_id = resumed or new_conversation_id()
        self._may_resume = False
        session = RealtimeSession(self.ctx, self.conversation_id, self._schedule_info)
        try:
            await session.open()
            items, read_to = await self.ctx.conversation.items(self.conversation_id, self.ctx.settings.replay_max_items)
            replayed = session.replay(items)
        except (*OPEN_FAILURES, RedisError) as exc:
            self.last_error = f"opening a session failed: {str(exc) or repr(exc)}"
            log.warning("%s: %s", self.ctx.robot_id, self.last_error)
            await session.close()
            return None
        self.sessions_opened += 1
        log.info(
            "%s: session %s open (call %s), %d items replayed",
            self.ctx.robot_id,
            session.session_id,
            session.call_id,
            replayed,
        )
        return session, read_to

    def _install(self, session: RealtimeSession) -> None:
        for request in self._carried:
            session.sequencer.request(request)
        self._carried = []
        self.current = session
        self.ctx.audio.attach(session.peer)
        session.greet_clients()
        self._live.set()
        self._set_state(SessionState.LIVE)

    async def _retire(self, session: RealtimeSession, state: SessionState) -> None:
        """Take the session out of service; its unanswered response requests go to the next one."""
        self._live.clear()
        self._set_state(state)
        self._carried.extend(session.sequencer.take_pending())
        self.current = None
        self.ctx.audio.attach(None)
        await session.close()

    async def _recycle(self, old: RealtimeSession) -> None:
        """Make before break: the new session has the conversation before the old one goes."""
        self._set_state(SessionState.RECYCLING)
        quiet_wait_s = self.ctx.settings.recycle_quiet_wait_s
        await wait_first(old.sequencer.idle.wait(), old.wait_ended(), within_s=quiet_wait_s)
        opened = await self._open()
        if opened is None:
            if old.ended:
                await self._retire(old, SessionState.RECONNECTING)
            else:
                old.started_at = time.monotonic() - self.ctx.settings.session_max_s + 5.0  # try again in 5 s
                self._set_state(SessionState.LIVE)
            return
        new, read_to = opened
        await self._retire(old, SessionState.RECYCLING)
        assert self.conversation_id is not None
        late, _ = await self.ctx.conversation.items_after(self.conversation_id, read_to)
        new.replay(late)
        self._install(new)

    async def _close_current(self) -> None:
        if self.current is not None:
            await self._retire(self.current, self.state)

    # Inbox
    async def _on_inbox(self, _stream: str, _entry_id: str, fields: dict[str, str]) -> None:
        try:
            entry = InboxEntry.from_fields(fields)
        except EntryError as exc:
            raise PermanentError(str(exc)) from None
        if entry.robot_id != self.ctx.robot_id:
            raise PermanentError(f"entry for robot {entry.robot_id!r} on {self.ctx.robot_id!r}'s inbox")
        await self._deliver(entry)

    async def _on_inbox_dead_letter(self, _stream: str, fields: dict[str, str], reason: str) -> None:
        """A call's output given up on still answers the call (``inbox_letters``)."""
        for entry in outputs_in_place_of(fields, reason, self.ctx.robot_id):
            try:
                await self._deliver(entry)
                return
            except PermanentError as exc:
                log.warning("%s: output for call %s not given either: %s", self.ctx.robot_id, entry.call_id, exc)

    async def _deliver(self, entry: InboxEntry) -> None:
        if self._idle or (entry.open_session and not self._wanted):
            log.info("%s: opening the session for a %s from %s", self.ctx.robot_id, entry.kind.value, entry.source)
            self.start()
        while True:
            session = await self.wait_live()
            try:
                await session.deliver(entry)
                return
            except MessageTooLargeError as exc:  # nothing to cut: it could never be sent
                raise PermanentError(f"cannot be given to the model: {exc}") from None
            except PeerClosedError:
                if self.current is session:
                    self._live.clear()
                await session.wait_ended()

    # State
    def session_event(self) -> SessionEvent:
        """``robovox.session`` for clients: the session's state as it changes."""
        session_id = self.current.session_id if self.current else None
        return SessionEvent(robot_id=self.ctx.robot_id, state=self.state, session_id=session_id)

    def info(self) -> SessionInfo:
        session = self.current
        limits = session.rate_limits if session else {}
        max_s = timedelta(seconds=self.ctx.settings.session_max_s)
        return SessionInfo(
            robot_id=self.ctx.robot_id,
            state=self.state,
            since=self.since,
            gateway=self._consumer_name,
            session_id=session.session_id if session else None,
            provider_call_id=session.call_id if session else None,
            provider_calls=sorted(self.ctx.provider_calls),
            conversation_id=self.conversation_id,
            started_at=session.started_wall if session else None,
            recycle_at=session.started_wall + max_s if session else None,
            sessions_opened=self.sessions_opened,
            requests_remaining=limits["requests"].remaining if "requests" in limits else None,
            requests_limit=limits["requests"].limit if "requests" in limits else None,
            tokens_remaining=limits["tokens"].remaining if "tokens" in limits else None,
            tokens_limit=limits["tokens"].limit if "tokens" in limits else None,
            rate_limits_at=session.rate_limits_at if session and limits else None,
            last_error=(session.last_error if session and session.last_error else self.last_error),
        )

    def _set_state(self, state: SessionState) -> None:
        if state is not self.state:
            self.state = state
            self.since = utc_now()
            log.debug("%s: session %s", self.ctx.robot_id, state.value)
            if len(self.ctx.clients):
                self.ctx.clients.broadcast(self.session_event())
            self._schedule_info()

    def _schedule_info(self) -> None:
        task = asyncio.ensure_future(self._write_info())
        task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    async def _write_info(self) -> None:
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(self._keys.session)
                pipe.hset(self._keys.session, mapping=self.info().to_fields())  # type: ignore[arg-type]
                pipe.expire(self._keys.session, INFO_TTL_S)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            log.debug("%s: session state not written: %s", self.ctx.robot_id, exc)

    async def _wait_for_wake(self, stopping: asyncio.Event, timeout_s: float) -> None:
        await wait_first(stopping.wait(), self._wake.wait(), within_s=timeout_s)
