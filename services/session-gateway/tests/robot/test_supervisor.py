"""The session supervisor against fake Realtime sessions (no WebRTC, no Redis): a wanted
session is opened with the conversation and goes live; one that ends is replaced, its
unanswered response requests carried over; a failed open is retried; recycling is make
before break; stop and a fresh restart end the conversation."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import pytest

from robovox.gateway.audio.hub import AudioHub
from robovox.gateway.clients.roster import ClientRoster
from robovox.gateway.realtime.conversation import ConversationLog
from robovox.gateway.realtime.peer import PeerCloseReason
from robovox.gateway.realtime.sequencer import ResponseRequest, ResponseSequencer
from robovox.gateway.realtime.session import RealtimeSession
from robovox.gateway.realtime.signaling import SignalingError
from robovox.gateway.robot.opener import SessionOpener
from robovox.gateway.robot.state import SessionStatePublisher
from robovox.gateway.robot.supervisor import SessionSupervisor
from robovox.gateway.settings import GatewaySettings
from robovox.shared.entry import utc_now
from robovox.shared.session import ConversationItem, ItemKind, SessionState

ROBOT = "cleaner-1"


class FakePeer:
    def __init__(self) -> None:
        self.closed = asyncio.Event()
        self.close_reason: PeerCloseReason | None = None
        self.on_audio: Any = None
        self.listening = False
        self.is_open = True

    def listen(self, on: bool) -> None:
        self.listening = on


class FakeSession:
    """What the supervisor uses of a RealtimeSession."""

    def __init__(self, name: str, conversation_id: str, events: list[str], fail: bool) -> None:
        self.name = name
        self.conversation_id = conversation_id
        self.session_id = f"sess_{name}"
        self.provider_call_id = f"rtc_{name}"
        self.peer = FakePeer()
        self.sent: list[dict[str, Any]] = []
        self.sequencer = ResponseSequencer(self._send, "persona", 120.0)
        self.started_at = time.monotonic()
        self.started_wall = utc_now()
        self.rate_limits: dict[str, Any] = {}
        self.rate_limits_at = utc_now()
        self.last_error: str | None = None
        self.last_activity = time.monotonic()
        self.replayed: list[ConversationItem] = []
        self.greeted = False
        self._events = events
        self._fail = fail

    def _send(self, event: dict[str, Any]) -> str:
        self.sent.append(event)
        return str(event.get("event_id", "evt"))

    @property
    def ended(self) -> bool:  # these fakes never expire: only their connection ends
        return self.peer.closed.is_set()

    end_reason = "connection failed"

    async def wait_ended(self) -> None:
        await self.peer.closed.wait()

    async def open(self) -> None:
        self._events.append(f"open {self.name}")
        if self._fail:
            raise SignalingError("503: try later")

    async def close(self) -> None:
        self._events.append(f"close {self.name}")
        self.peer.closed.set()

    def replay(self, items: list[ConversationItem]) -> int:
        self.replayed.extend(items)
        return len(items)

    def greet_clients(self) -> None:
        self.greeted = True

    def end(self) -> None:
        self.peer.close_reason = PeerCloseReason.CONNECTION_FAILED
        self.peer.closed.set()


def item(text: str, conversation_id: str = "conv_old") -> ConversationItem:
    return ConversationItem(
        conversation_id=conversation_id, robot_id=ROBOT, kind=ItemKind.USER_MESSAGE, text=text, source="speech"
    )


class FakeConversation:
    def __init__(self) -> None:
        self.history = [item("hello")]
        self.late: list[ConversationItem] = []
        self.resume: str | None = None

    async def resumable(self, _window_s: float) -> str | None:
        return self.resume

    async def items(self, _conversation_id: str, _max_items: int) -> tuple[list[ConversationItem], str]:
        return list(self.history), "1-0"

    async def items_after(self, _conversation_id: str, after: str) -> tuple[list[ConversationItem], str]:
        return list(self.late), after


class FakeState:
    """The state publisher, without Redis: the states the supervisor went through."""

    def __init__(self) -> None:
        self.states: list[SessionState] = []

    def state_changed(self, view: SessionSupervisor) -> None:
        self.states.append(view.state)

    def schedule(self, _view: SessionSupervisor) -> None:
        pass

    async def write(self, _view: SessionSupervisor) -> None:
        pass


class Rig:
    def __init__(self, **settings: Any) -> None:
        self.settings = GatewaySettings(
            redis_url="redis://unused", openai_api_key="sk-unit", api_enabled=False,
            session_retry_initial_s=0.01, session_retry_max_s=0.05, recycle_quiet_wait_s=0, **settings,
        )  # fmt: skip
        self.events: list[str] = []
        self.sessions: list[FakeSession] = []
        self.failures = 0
        self.conversation = FakeConversation()
        self.state = FakeState()
        self.audio = AudioHub(ROBOT)
        self.opener = opener = SessionOpener(
            ROBOT, self.settings, new_session=self._new_session, conversation=cast(ConversationLog, self.conversation)
        )
        self.supervisor = SessionSupervisor(
            ROBOT, self.settings, opener=opener, audio=self.audio, clients=ClientRoster(ROBOT, 8),
            publisher=cast(SessionStatePublisher, self.state),
        )  # fmt: skip

    def _new_session(self, conversation_id: str) -> RealtimeSession:
        fail = self.failures > 0
        self.failures -= fail
        session = FakeSession(f"s{len(self.sessions) + 1}", conversation_id, self.events, fail)
        self.sessions.append(session)
        return cast(RealtimeSession, session)

    async def live(self, name: str) -> FakeSession:
        async with asyncio.timeout(5):
            while (session := cast(FakeSession | None, self.supervisor.live_session)) is None or session.name != name:  # noqa: ASYNC110
                await asyncio.sleep(0.005)  # polled: the supervisor has no event for each session
        return session

    async def until(self, check: Callable[[], bool]) -> None:
        async with asyncio.timeout(5):
            while not check():  # noqa: ASYNC110
                await asyncio.sleep(0.005)


@contextlib.asynccontextmanager
async def running(rig: Rig) -> AsyncIterator[Rig]:
    stopping = asyncio.Event()
    task = asyncio.create_task(rig.supervisor.run(stopping))
    try:
        yield rig
    finally:
        stopping.set()
        await asyncio.wait_for(task, 5)
        await rig.supervisor.close()


async def test_a_wanted_session_is_opened_given_the_conversation_and_goes_live() -> None:
    async with running(Rig()) as rig:
        session = await rig.live("s1")
        assert rig.supervisor.ready.is_set() and rig.supervisor.state is SessionState.LIVE
        assert [i.text for i in session.replayed] == ["hello"] and session.greeted
        assert session.peer.on_audio is not None  # the robot's audio hub follows the live session
        assert rig.state.states == [SessionState.CONNECTING, SessionState.LIVE]
        assert rig.supervisor.conversation_id == session.conversation_id
        assert rig.supervisor.conversation_id.startswith("conv_")  # nothing recent to resume: a new one


async def test_the_first_session_continues_a_recent_conversation() -> None:
    rig = Rig()
    rig.conversation.resume = "conv_old"
    async with running(rig):
        assert (await rig.live("s1")).conversation_id == "conv_old"


async def test_a_session_that_ends_is_replaced_and_its_unanswered_requests_carried() -> None:
    async with running(Rig()) as rig:
        first = await rig.live("s1")
        rig.supervisor.request_response(ResponseRequest("Report the result.", source="tool-executor"))
        assert [e["type"] for e in first.sent] == ["response.create"]  # sent, never answered
        first.end()
        second = await rig.live("s2")
        assert rig.events == ["open s1", "close s1", "open s2"]
        assert second.conversation_id == first.conversation_id
        (create,) = second.sent
        assert create["type"] == "response.create" and "Report the result." in create["response"]["instructions"]
        assert SessionState.RECONNECTING in rig.state.states and rig.opener.sessions_opened == 2


async def test_a_failed_open_is_retried_and_its_error_kept() -> None:
    rig = Rig()
    rig.failures = 2
    async with running(rig):
        await rig.live("s3")
        assert rig.events == ["open s1", "close s1", "open s2", "close s2", "open s3"]
        assert rig.opener.sessions_opened == 1
        assert rig.opener.last_error == "opening a session failed: 503: try later"
        assert rig.state.states == [SessionState.CONNECTING, SessionState.RECONNECTING, SessionState.LIVE]


async def test_recycling_opens_the_new_session_before_the_old_one_goes() -> None:
    rig = Rig(session_max_s=0.2)
    async with running(rig):
        await rig.live("s1")
        rig.conversation.late = [item("said during the swap", "conv_x")]
        second = await rig.live("s2")
        assert rig.events[:3] == ["open s1", "open s2", "close s1"]  # make before break
        assert [i.text for i in second.replayed] == ["hello", "said during the swap"]
        assert rig.state.states[:4] == [
            SessionState.CONNECTING, SessionState.LIVE, SessionState.RECYCLING, SessionState.LIVE,
        ]  # fmt: skip


async def test_stop_closes_the_session_and_ends_the_conversation_and_a_fresh_restart_starts_another() -> None:
    async with running(Rig()) as rig:
        first = await rig.live("s1")
        rig.supervisor.stop()
        await rig.until(lambda: rig.supervisor.state is SessionState.STOPPED)
        assert rig.events == ["open s1", "close s1"] and rig.supervisor.conversation_id is None
        assert rig.supervisor.live_session is None and not rig.supervisor.wanted
        rig.supervisor.start()
        second = await rig.live("s2")
        rig.supervisor.restart(fresh=True)
        third = await rig.live("s3")
        assert len({first.conversation_id, second.conversation_id, third.conversation_id}) == 3


async def test_an_idle_session_is_closed_and_reopened_on_demand() -> None:
    async with running(Rig(idle_close_s=0.1)) as rig:
        await rig.live("s1")
        await rig.until(lambda: rig.supervisor.state is SessionState.IDLE)
        assert rig.supervisor.idle and rig.supervisor.conversation_id is not None  # kept for the reopening
        conversation = rig.supervisor.conversation_id
        rig.supervisor.start()
        assert (await rig.live("s2")).conversation_id == conversation


@pytest.mark.parametrize("fresh", [False, True])
async def test_a_restart_replaces_the_session(fresh: bool) -> None:
    async with running(Rig()) as rig:
        first = await rig.live("s1")
        rig.supervisor.restart(fresh=fresh)
        second = await rig.live("s2")
        assert (second.conversation_id == first.conversation_id) is not fresh
