"""One robot's voice in the gateway, as the HTTP API and the clients see it: the
facade over the robot's supervisor, inbox and session state, with what outlives
its Realtime sessions (its clients, its audio, the provider calls it holds).

``run`` is the robot's worker in the gateway process: it hangs up the provider
calls a killed predecessor left open, starts the robot's own audio devices and
the inbox consumer, and supervises the sessions until the process stops.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

from robovox.gateway.audio.hub import AudioHub
from robovox.gateway.audio.robot_devices import RobotAudioDevices
from robovox.gateway.audio.stop_word import StopWordListener
from robovox.gateway.clients.events import SessionEvent
from robovox.gateway.clients.roster import ClientRoster
from robovox.gateway.realtime.peer import PeerClosedError
from robovox.gateway.realtime.provider_calls import ProviderCalls
from robovox.gateway.realtime.sequencer import ResponseRequest
from robovox.gateway.realtime.server_events import RateLimit
from robovox.gateway.realtime.session import RealtimeSession
from robovox.gateway.realtime.signaling import RealtimeSignaling
from robovox.gateway.robot.inbox import RobotInbox
from robovox.gateway.robot.opener import SessionOpener
from robovox.gateway.robot.predecessor import hang_up_left_open, left_open
from robovox.gateway.robot.state import SessionStatePublisher
from robovox.gateway.robot.supervisor import SessionSupervisor
from robovox.shared.aio import supervise
from robovox.shared.messages import InboxEntry
from robovox.shared.profile import RobotProfile
from robovox.shared.session import SessionInfo, SessionState
from robovox.shared.streams import RobotKeys


class RobotVoice:
    def __init__(
        self,
        profile: RobotProfile,
        *,
        redis: Redis,
        signaling: RealtimeSignaling,
        supervisor: SessionSupervisor,
        opener: SessionOpener,
        inbox: RobotInbox,
        publisher: SessionStatePublisher,
        clients: ClientRoster,
        audio: AudioHub,
        devices: RobotAudioDevices,
        provider_calls: ProviderCalls,
        stop_word: StopWordListener | None = None,
    ) -> None:
        self.profile = profile
        self.robot_id = profile.robot_id
        self._redis = redis
        self._signaling = signaling
        self._supervisor = supervisor
        self._opener = opener
        self._inbox = inbox
        self._publisher = publisher
        self.clients = clients
        """Consoles and Realtime pages joined to the robot."""
        self.audio = audio
        """Who hears the model and whose microphone it hears; outlives the sessions."""
        self._devices = devices
        self.provider_calls = provider_calls
        self.stop_word = stop_word
        """The local stop word's listener, if the profile asks for one."""

    # State
    @property
    def ready(self) -> asyncio.Event:
        return self._supervisor.ready

    @property
    def redis(self) -> Redis:
        """The robot's Redis (its emergency stop is written there by the API)."""
        return self._redis

    @property
    def display_name(self) -> str:
        return self.profile.display_name or self.robot_id

    @property
    def state(self) -> SessionState:
        return self._supervisor.state

    @property
    def since(self) -> datetime:
        return self._supervisor.since

    @property
    def current(self) -> RealtimeSession | None:
        """The Realtime session being served or replaced, if any (``live_session``: only once live)."""
        return self._supervisor.current

    @property
    def live_session(self) -> RealtimeSession | None:
        return self._supervisor.live_session

    @property
    def conversation_id(self) -> str | None:
        return self._supervisor.conversation_id

    @property
    def sessions_opened(self) -> int:
        return self._opener.sessions_opened

    @property
    def last_error(self) -> str | None:
        """Why the last attempt to open a session failed."""
        return self._opener.last_error

    @property
    def wanted(self) -> bool:
        return self._supervisor.wanted

    @property
    def rate_limits(self) -> list[RateLimit]:
        """The live session's latest rate limits, as the provider names them."""
        current = self._supervisor.current
        return list(current.rate_limits.values()) if current else []

    def info(self) -> SessionInfo:
        return self._publisher.info(self._supervisor)

    def session_event(self) -> SessionEvent:
        return self._publisher.event(self._supervisor)

    async def wait_live(self) -> RealtimeSession:
        return await self._supervisor.wait_live()

    # Control (API)
    def start(self) -> None:
        self._supervisor.start()

    def stop(self) -> None:
        self._supervisor.stop()

    def restart(self, fresh: bool = False) -> None:
        self._supervisor.restart(fresh)

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
        if not self.wanted:
            self.start()
        return False

    async def enqueue(self, entry: InboxEntry) -> str:
        return await self._inbox.enqueue(entry)

    def request_response(self, request: ResponseRequest) -> None:
        self._supervisor.request_response(request)

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

    # The worker
    async def run(self, stopping: asyncio.Event) -> None:
        robot = self.robot_id
        # Before this process writes the session hash: the calls a killed predecessor left open,
        # hung up while this one opens its own.
        found = await left_open(self._redis, RobotKeys.of(robot).session)
        hang_ups = asyncio.create_task(hang_up_left_open(self._signaling, robot, found))
        consumer = asyncio.create_task(self._inbox.run(), name=f"{robot} inbox consumer")
        try:
            if self.stop_word is not None:  # the robot's own microphone is listened to from its first frame
                await self.stop_word.start(1 if self.profile.audio and self.profile.audio.microphone else 0)
            await self._devices.start()  # the robot's own microphone and speaker, if its profile names them
            ready = asyncio.ensure_future(self._inbox.ready.wait())
            await asyncio.wait([ready, consumer], return_when=asyncio.FIRST_COMPLETED)
            ready.cancel()
            if not self.wanted:
                self.ready.set()
            supervisor = asyncio.create_task(self._supervisor.run(stopping), name=f"{robot} session supervisor")
            await supervise(stopping, [consumer, supervisor])  # a dead inbox consumer stops the process
            await supervisor
        finally:
            self._inbox.stop()
            self._supervisor.take_offline()
            await self.clients.close_all()
            await self._supervisor.close()
            await asyncio.wait([consumer])
            await self._publisher.write(self._supervisor)
            await self._publisher.close()
            await self._devices.stop()
            if self.stop_word is not None:
                await self.stop_word.close()
            await hang_ups
