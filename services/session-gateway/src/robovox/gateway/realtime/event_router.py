"""What the provider's server events make the gateway do, for one Realtime session.

- Every event is logged (the robot's events stream) and, once the session serves
  the robot's clients, relayed to them as it came (``client_relay.py``), except
  the echoes of the replayed conversation and the model's ``session_expired``
  (clients get ``robovox.session`` instead), and with the gateway's own key taken
  out of a response's metadata.
- A completed function call (``response.output_item.done``, or in the output of
  a completed ``response.done``) is published once per call_id.
- ``response.created`` / ``response.done`` and collision errors go to the
  session's response sequencer.
- ``session_expired`` marks the session expired; the robot's supervisor replaces it.
- What the model said and what people said to it are appended to the conversation.

Events are parsed leniently (``server_events.py``); one that does not parse is
logged and skipped.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from robovox.gateway.calls.publisher import CallPublisher
from robovox.gateway.clients.events import ToolCallEvent
from robovox.gateway.clients.roster import ClientRoster
from robovox.gateway.realtime.client_relay import for_clients
from robovox.gateway.realtime.conversation import ConversationLog
from robovox.gateway.realtime.event_log import EventLog
from robovox.gateway.realtime.server_events import (
    ErrorEvent,
    OutputItem,
    OutputItemDone,
    RateLimitsUpdated,
    ResponseEvent,
    SessionCreated,
    TranscriptionCompleted,
)
from robovox.shared.aio import TaskSet
from robovox.shared.entry import utc_now
from robovox.shared.session import ConversationItem, ItemKind

if TYPE_CHECKING:
    from robovox.gateway.realtime.session import RealtimeSession

log = logging.getLogger(__name__)

SESSION_EXPIRED = "session_expired"

ModelT = TypeVar("ModelT", bound=BaseModel)


def parse(model: type[ModelT], event: dict[str, Any]) -> ModelT:
    return model.model_validate(event)


class ServerEventRouter:
    def __init__(
        self,
        session: RealtimeSession,
        *,
        publisher: CallPublisher,
        conversation: ConversationLog,
        event_log: EventLog,
        clients: ClientRoster,
    ) -> None:
        self._session = session
        self._robot_id = session.robot_id
        self._publisher = publisher
        self._conversation = conversation
        self._event_log = event_log
        self._clients = clients
        self._writes = TaskSet(self._robot_id, "writing to Redis")
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

    async def settled(self, timeout_s: float) -> None:
        """Wait (up to ``timeout_s`` each) for function calls still being published and items being logged."""
        await self._publisher.settled(timeout_s)
        await self._writes.wait(timeout_s)

    def on_message(self, raw: str) -> None:
        session = self._session
        self._received_at = time.perf_counter()
        try:
            event = json.loads(raw)
        except json.JSONDecodeError:
            log.warning("%s: data channel message is not JSON: %.200s", self._robot_id, raw)
            return
        if not isinstance(event, dict):
            return
        self._event_log.add(self._robot_id, "server", event, raw, session.session_id)
        kind = event.get("type")
        if kind == "session.created":
            session.created_text = raw
        elif kind == "rate_limits.updated":
            session.rate_limits_text = raw
        if session.serving_clients and len(self._clients):
            relayed = for_clients(event, raw, session.replayed_ids, session.sequencer.client_event_ids)
            if relayed is not None:
                self._clients.broadcast_text(relayed)
        handler = self._handlers.get(str(kind))
        if handler is None:
            return
        try:
            handler(event)
        except ValidationError as exc:
            log.warning("%s: unexpected %s event: %s", self._robot_id, event.get("type"), exc.errors()[:3])

    def _session_created(self, event: dict[str, Any]) -> None:
        self._session.session_id = parse(SessionCreated, event).session.id
        self._session.created.set()

    def _activity(self, _event: dict[str, Any]) -> None:
        self._session.last_activity = time.monotonic()

    def _response_created(self, event: dict[str, Any]) -> None:
        response = parse(ResponseEvent, event).response
        self._session.last_activity = time.monotonic()
        self._session.sequencer.on_response_created(response.id, response.metadata)

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
        self._session.sequencer.on_response_done(response.id)

    def _rate_limits_updated(self, event: dict[str, Any]) -> None:
        for limit in parse(RateLimitsUpdated, event).rate_limits:
            self._session.rate_limits[limit.name] = limit
        self._session.rate_limits_at = utc_now()

    def _error(self, event: dict[str, Any]) -> None:
        session = self._session
        error = parse(ErrorEvent, event).error
        if session.sequencer.on_error(error.code, error.event_id):
            return
        session.last_error = f"{error.code or error.type}: {error.message}"
        if error.code == SESSION_EXPIRED:
            log.info("%s: session %s expired: %s", self._robot_id, session.session_id, error.message)
            session.expired.set()
            return
        log.warning("%s: Realtime error for event %s: %s", self._robot_id, error.event_id, session.last_error)

    def _user_transcript(self, event: dict[str, Any]) -> None:
        transcript = parse(TranscriptionCompleted, event).transcript.strip()
        if transcript:
            self._session.last_activity = time.monotonic()
            self._log_item(ItemKind.USER_MESSAGE, transcript, "speech")

    # Effects
    def _publish(self, item: OutputItem) -> None:
        session = self._session
        assert item.call_id and item.name
        if item.call_id in session.known_calls:
            return
        session.known_calls.add(item.call_id)
        self._publisher.publish(
            item.call_id,
            item.name,
            item.arguments or "",
            session.session_id or "",
            session.conversation_id,
            self._received_at,
        )
        if len(self._clients):  # on the dispatch path: nothing built for nobody
            event = ToolCallEvent(
                call_id=item.call_id, name=item.name, arguments=item.arguments or "", session_id=session.session_id
            )
            self._clients.broadcast(event)

    def _log_item(self, kind: ItemKind, text: str, source: str) -> None:
        session = self._session
        item = ConversationItem(
            conversation_id=session.conversation_id,
            robot_id=self._robot_id,
            kind=kind,
            text=text,
            source=source,
            session_id=session.session_id,
        )
        self._writes.spawn(self._conversation.append(item))
