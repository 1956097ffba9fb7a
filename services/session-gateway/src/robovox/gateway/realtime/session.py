"""One Realtime session of one robot: the peer, its response sequencer, and what
the server's events mean for the robot.

- A completed function call (``response.output_item.done``, or in the output
  of a completed ``response.done``) is published once per call_id.
- Inbox entries become conversation items, then a response when asked.
- ``session_expired`` ends the session; the robot's supervisor replaces it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from robovox.gateway.audio.hub import AudioHub
from robovox.gateway.calls.publisher import CallPublisher
from robovox.gateway.clients.events import InboxEvent, ToolCallEvent
from robovox.gateway.clients.roster import ClientRoster
from robovox.gateway.realtime.conversation import ConversationLog
from robovox.gateway.realtime.event_log import EventLog
from robovox.gateway.realtime.fit import MessageTooLargeError, fit_event
from robovox.gateway.realtime.peer import RealtimePeer
from robovox.gateway.realtime.sequencer import ResponseRequest, ResponseSequencer, new_event_id
from robovox.gateway.realtime.server_events import (
    ErrorEvent,
    OutputItem,
    OutputItemDone,
    RateLimit,
    RateLimitsUpdated,
    ResponseEvent,
    SessionCreated,
    TranscriptionCompleted,
)
from robovox.gateway.realtime.session_config import session_config
from robovox.gateway.realtime.signaling import RealtimeSignaling
from robovox.gateway.settings import GatewaySettings
from robovox.shared.aio import wait_first
from robovox.shared.entry import format_time, utc_now
from robovox.shared.limits import cut_text
from robovox.shared.messages import InboxEntry, InboxKind, Urgency
from robovox.shared.profile import RobotProfile
from robovox.shared.session import ConversationItem, ItemKind

log = logging.getLogger(__name__)

SESSION_EXPIRED = "session_expired"


@dataclass(frozen=True, slots=True)
class RobotContext:
    """What every session of one robot shares."""

    profile: RobotProfile
    settings: GatewaySettings
    signaling: RealtimeSignaling
    calls: CallPublisher
    conversation: ConversationLog
    events: EventLog
    audio: AudioHub = field(init=False)
    """Who hears the model and whose microphone it hears; outlives the sessions."""
    clients: ClientRoster = field(init=False)
    """Consoles and Realtime pages joined to the robot."""
    provider_calls: set[str] = field(init=False, default_factory=set)
    """The provider's calls this process holds open for the robot, from its answer until hung up."""

    def __post_init__(self) -> None:
        robot_id = self.profile.robot_id
        audio = AudioHub(robot_id, self.settings.mic_policy)
        clients = ClientRoster(robot_id, self.settings.clients_per_robot)
        audio.on_change(lambda: clients.announce(audio.mic_holder))
        object.__setattr__(self, "audio", audio)
        object.__setattr__(self, "clients", clients)

    @property
    def robot_id(self) -> str:
        return self.profile.robot_id


class RealtimeSession:
    def __init__(
        self, ctx: RobotContext, conversation_id: str, on_calls_changed: Callable[[], None] = lambda: None
    ) -> None:
        self.ctx = ctx
        self.conversation_id = conversation_id
        self._on_calls_changed = on_calls_changed
        """Told when a provider call is added to or taken from ``ctx.provider_calls``."""
        self.peer = RealtimePeer(self._on_message, ctx.settings.stun_urls)
        self.sequencer = ResponseSequencer(self.send, ctx.profile.persona(), ctx.settings.response_timeout_s)
        self.session_id: str | None = None
        self.started_at = time.monotonic()
        self.started_wall = utc_now()
        self.rate_limits: dict[str, RateLimit] = {}
        self.rate_limits_at = utc_now()
        self.created = asyncio.Event()
        self.expired = asyncio.Event()
        self.last_activity = time.monotonic()
        self.last_error: str | None = None
        self.created_text: str | None = None
        self.rate_limits_text: str | None = None
        """The raw ``session.created`` and latest ``rate_limits.updated``, for clients that join later."""
        self.serving_clients = False
        """Clients see this session's events from when it is installed as the robot's live session
        (``greet_clients``), not while it is being opened or given the conversation."""
        self.known_calls: set[str] = set()
        """Call ids in this session's conversation: an output may only refer to one of them."""
        self._tasks: set[asyncio.Task[Any]] = set()
        self._received_at = time.perf_counter()
        """When the event being handled came off the data channel."""
        self._handlers: dict[str, Callable[[dict[str, Any]], None]] = {
            "session.created": self._session_created,
            "response.created": self._response_created,
            "response.output_item.done": self._output_item_done,
            "response.done": self._response_done,
            "rate_limits.updated": self._rate_limits_updated,
            "error": self._error,
            "conversation.item.input_audio_transcription.completed": self._user_transcript,
            "input_audio_buffer.speech_started": self._activity,
        }

    @property
    def call_id(self) -> str:
        return self.peer.call_id

    @property
    def ended(self) -> bool:
        return self.peer.closed.is_set() or self.expired.is_set()

    @property
    def end_reason(self) -> str:
        """Why the session ended (once ``ended``)."""
        return "expired" if self.expired.is_set() else str(self.peer.close_reason)

    async def wait_ended(self) -> None:
        """Wait until the session can no longer be used."""
        await wait_first(self.peer.closed.wait(), self.expired.wait())

    async def open(self) -> None:
        settings = self.ctx.settings
        config = session_config(self.ctx.profile, settings)
        await self.peer.open(self.ctx.signaling, config, settings.connect_timeout_s, self._call_started)
        async with asyncio.timeout(settings.connect_timeout_s):
            await self.created.wait()
        self.started_at = time.monotonic()
        self.started_wall = utc_now()

    async def close(self) -> None:
        call_id = self.call_id
        await self.peer.close()
        await self.ctx.calls.settled(2.0)
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2.0)
        if call_id and not self.expired.is_set():
            await self.ctx.signaling.hang_up(call_id)
        if call_id in self.ctx.provider_calls:
            self.ctx.provider_calls.discard(call_id)
            self._on_calls_changed()

    def _call_started(self, call_id: str) -> None:
        self.ctx.provider_calls.add(call_id)
        self._on_calls_changed()

    # Client events
    def send(self, event: dict[str, Any]) -> str:
        """Send a client event, its longest text cut if it is over the provider's message size.
        Raises PeerClosedError, or MessageTooLargeError when there is no text to cut."""
        event.setdefault("event_id", new_event_id())
        try:
            text = self.peer.send(event)
        except MessageTooLargeError as exc:
            event, text = fit_event(event, self.peer.message_budget)
            log.warning("%s: %s; sent with its text cut to %d bytes", self.ctx.robot_id, exc, len(text.encode()))
            self.peer.send_text(text, str(event.get("type")))
        self.ctx.events.add(self.ctx.robot_id, "client", event, text, self.session_id)
        return str(event["event_id"])

    def replay(self, items: Iterable[ConversationItem]) -> int:
        """Give this session earlier items of its conversation; nothing is executed again."""
        count = 0
        for item in items:
            if item.kind is ItemKind.FUNCTION_CALL_OUTPUT and item.call_id not in self.known_calls:
                continue
            try:
                self.send({"type": "conversation.item.create", "item": item.realtime_item()})
            except MessageTooLargeError as exc:
                log.warning("%s: an item of the conversation left out of the replay: %s", self.ctx.robot_id, exc)
                continue
            if item.kind is ItemKind.FUNCTION_CALL and item.call_id:
                self.known_calls.add(item.call_id)
            count += 1
        return count

    async def deliver(self, entry: InboxEntry) -> None:
        """Put an inbox entry into the conversation, and ask for a response if it says so."""
        self.last_activity = time.monotonic()
        age_s = (utc_now() - entry.created_at).total_seconds()
        stale = age_s > self.ctx.settings.inbox_stale_s
        urgent = entry.urgency is Urgency.URGENT and not stale
        if urgent:
            self.sequencer.preempt()
        limit = self.ctx.settings.limits.output_chars
        text = cut_text(entry.text, limit)
        instructions = cut_text(entry.instructions, limit) if entry.instructions else None
        if stale:
            # It waited for a session: old news, told as such, never a reason to interrupt.
            text = f"(From {format_time(entry.created_at)}, {age_s / 60:.0f} minutes ago.) {text}"
        item = self._item_for(entry, text)
        self.send({"type": "conversation.item.create", "item": item.realtime_item()})
        if entry.speak:
            self.sequencer.request(ResponseRequest(instructions, urgent=urgent, source=entry.source))
        self._tell_clients(entry, item)
        await self.ctx.conversation.append(item)

    def greet_clients(self) -> None:
        """Start serving the robot's clients: they get this session's ``session.created`` and rate
        limits now (a client joining later gets them on joining), then its events as they come."""
        self.serving_clients = True
        for text in (self.created_text, self.rate_limits_text):
            if text and len(self.ctx.clients):
                self.ctx.clients.broadcast_text(text)

    def _tell_clients(self, entry: InboxEntry, item: ConversationItem) -> None:
        if not len(self.ctx.clients):
            return
        self.ctx.clients.broadcast(InboxEvent.of(entry, item.text))

    def _item_for(self, entry: InboxEntry, text: str) -> ConversationItem:
        kind = {
            InboxKind.FUNCTION_CALL_OUTPUT: ItemKind.FUNCTION_CALL_OUTPUT,
            InboxKind.SYSTEM_MESSAGE: ItemKind.SYSTEM_MESSAGE,
            InboxKind.USER_MESSAGE: ItemKind.USER_MESSAGE,
        }[entry.kind]
        if kind is ItemKind.FUNCTION_CALL_OUTPUT and entry.call_id not in self.known_calls:
            # The call belongs to an earlier conversation (the session was stopped and
            # started afresh): an output would be refused, a notice is not.
            kind = ItemKind.SYSTEM_MESSAGE
            text = f"Result of an earlier request ({entry.tool or 'a tool'}): {text}"
        return ConversationItem(
            conversation_id=self.conversation_id,
            robot_id=self.ctx.robot_id,
            kind=kind,
            text=text,
            call_id=entry.call_id if kind is ItemKind.FUNCTION_CALL_OUTPUT else None,
            source=entry.source,
            session_id=self.session_id,
        )

    # Server events
    def _on_message(self, raw: str) -> None:
        self._received_at = time.perf_counter()
        try:
            event = json.loads(raw)
        except json.JSONDecodeError:
            log.warning("%s: data channel message is not JSON: %.200s", self.ctx.robot_id, raw)
            return
        if not isinstance(event, dict):
            return
        self.ctx.events.add(self.ctx.robot_id, "server", event, raw, self.session_id)
        kind = event.get("type")
        if kind == "session.created":
            self.created_text = raw
        elif kind == "rate_limits.updated":
            self.rate_limits_text = raw
        if self.serving_clients and len(self.ctx.clients):
            self.ctx.clients.broadcast_text(raw)
        handler = self._handlers.get(str(kind))
        if handler is None:
            return
        try:
            handler(event)
        except ValidationError as exc:
            log.warning("%s: unexpected %s event: %s", self.ctx.robot_id, event.get("type"), exc.errors()[:3])

    def _session_created(self, event: dict[str, Any]) -> None:
        self.session_id = parse(SessionCreated, event).session.id
        self.created.set()

    def _activity(self, _event: dict[str, Any]) -> None:
        self.last_activity = time.monotonic()

    def _response_created(self, event: dict[str, Any]) -> None:
        response = parse(ResponseEvent, event).response
        self.last_activity = time.monotonic()
        self.sequencer.on_response_created(response.id, response.metadata)

    def _output_item_done(self, event: dict[str, Any]) -> None:
        item = parse(OutputItemDone, event).item
        if item.is_completed_function_call:
            self._publish(item)

    def _response_done(self, event: dict[str, Any]) -> None:
        response = parse(ResponseEvent, event).response
        if response.status == "completed":
            for item in response.output:
                if item.is_completed_function_call:
                    self._publish(item)
        for item in response.output:
            if item.type == "message" and item.text:
                self._log_item(ItemKind.ASSISTANT_MESSAGE, item.text, "model")
        self.sequencer.on_response_done(response.id)

    def _rate_limits_updated(self, event: dict[str, Any]) -> None:
        for limit in parse(RateLimitsUpdated, event).rate_limits:
            self.rate_limits[limit.name] = limit
        self.rate_limits_at = utc_now()

    def _error(self, event: dict[str, Any]) -> None:
        error = parse(ErrorEvent, event).error
        if self.sequencer.on_error(error.code, error.event_id):
            return
        self.last_error = f"{error.code or error.type}: {error.message}"
        if error.code == SESSION_EXPIRED:
            log.info("%s: session %s expired: %s", self.ctx.robot_id, self.session_id, error.message)
            self.expired.set()
            return
        log.warning("%s: Realtime error for event %s: %s", self.ctx.robot_id, error.event_id, self.last_error)

    def _user_transcript(self, event: dict[str, Any]) -> None:
        transcript = parse(TranscriptionCompleted, event).transcript.strip()
        if transcript:
            self.last_activity = time.monotonic()
            self._log_item(ItemKind.USER_MESSAGE, transcript, "speech")

    # Effects
    def _publish(self, item: OutputItem) -> None:
        assert item.call_id and item.name
        if item.call_id in self.known_calls:
            return
        self.known_calls.add(item.call_id)
        self.ctx.calls.publish(
            item.call_id,
            item.name,
            item.arguments or "",
            self.session_id or "",
            self.conversation_id,
            self._received_at,
        )
        self._tell_clients_of_call(item)

    def _tell_clients_of_call(self, item: OutputItem) -> None:
        if not len(self.ctx.clients):  # on the dispatch path: nothing built for nobody
            return
        assert item.call_id and item.name
        event = ToolCallEvent(
            call_id=item.call_id, name=item.name, arguments=item.arguments or "", session_id=self.session_id
        )
        self.ctx.clients.broadcast(event)

    def _log_item(self, kind: ItemKind, text: str, source: str) -> None:
        item = ConversationItem(
            conversation_id=self.conversation_id,
            robot_id=self.ctx.robot_id,
            kind=kind,
            text=text,
            source=source,
            session_id=self.session_id,
        )
        self._spawn(self.ctx.conversation.append(item))

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("%s: writing to Redis failed: %r", self.ctx.robot_id, exc)


ModelT = TypeVar("ModelT", bound=BaseModel)


def parse(model: type[ModelT], event: dict[str, Any]) -> ModelT:
    return model.model_validate(event)
