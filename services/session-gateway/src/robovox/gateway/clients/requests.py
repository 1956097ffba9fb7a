"""What a client may send on its ``oai-events`` channel, checked and carried out in the
order sent (an item is in the conversation before its response):

- ``conversation.item.create`` with a user message: told to the model;
- ``response.create``: through the robot's sequencer, with the robot's own instructions and
  the page's options honoured or refused by name (``response_options.py``);
- ``response.cancel``;
- ``input_audio_buffer.commit`` / ``clear``: from the microphone holder only;
- ``robovox.mic.take`` / ``robovox.mic.release``.

Anything else is refused (``not_allowed_for_clients``): a client can never change
the robot's session, tools or instructions. A refused event gets an ``error``
event naming it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from robovox.gateway.audio.hub import MicRefusedError
from robovox.gateway.clients.response_options import response_options
from robovox.gateway.clients.roster import event_text
from robovox.gateway.errors import ApiError, ApiErrorCode
from robovox.gateway.realtime.sequencer import REQUEST_METADATA_KEY, ResponseRequest
from robovox.shared.messages import InboxEntry, InboxKind

if TYPE_CHECKING:
    from robovox.gateway.robot.voice import RobotVoice

log = logging.getLogger(__name__)

MIC_ONLY_EVENTS = frozenset({"input_audio_buffer.commit", "input_audio_buffer.clear"})
MAX_TEXT = 4000


class ClientRequests:
    def __init__(self, robot: RobotVoice, client_id: str, operator: str, send_text: Callable[[str], None]) -> None:
        self._robot = robot
        self.client_id = client_id
        self.operator = operator
        self._send_text = send_text
        self._events: asyncio.Queue[str] = asyncio.Queue()
        self._item_queued_to_speak = False

    def put(self, raw: str) -> None:
        """A message the client sent; handled in turn by ``run``."""
        self._events.put_nowait(raw)

    def _send_error(self, error: ApiError, event_id: str | None) -> None:
        self._send_text(event_text(error.event(event_id)))

    async def run(self) -> None:
        """One at a time, in the order sent: an item is in the conversation before its response."""
        while True:
            raw = await self._events.get()
            event_id: str | None = None
            try:
                event = json.loads(raw)
                if not isinstance(event, dict):
                    raise ApiError(ApiErrorCode.INVALID_EVENT, "a client event is a JSON object")
                event_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
                await self._handle(event)
            except json.JSONDecodeError:
                self._send_error(ApiError(ApiErrorCode.INVALID_JSON, "the message is not JSON"), None)
            except ApiError as exc:
                self._send_error(exc, event_id)
            except Exception:
                log.exception("%s: client %s event failed", self._robot.robot_id, self.client_id)
                self._send_error(
                    ApiError(ApiErrorCode.SERVER_ERROR, "the gateway could not handle this event"), event_id
                )

    async def _handle(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        queued_to_speak, self._item_queued_to_speak = self._item_queued_to_speak, False
        if kind == "conversation.item.create":
            await self._user_text(event)
        elif kind == "response.create":
            options = response_options(event.get("response"), REQUEST_METADATA_KEY)
            instructions = options.pop("instructions", None)
            if options or instructions or not queued_to_speak:  # a queued item already asks for a plain answer
                client_event_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
                request = ResponseRequest(
                    instructions=instructions, source=self._source, options=options, client_event_id=client_event_id
                )
                self._robot.request_response(request)
        elif kind == "response.cancel":
            self._robot.cancel_response()
        elif kind in MIC_ONLY_EVENTS:
            if self._robot.audio.mic_holder != self.client_id:
                raise ApiError(
                    ApiErrorCode.NOT_MIC_HOLDER, "only the client holding the microphone controls its buffer"
                )
            if not self._robot.send_to_model({"type": kind}):
                raise ApiError(ApiErrorCode.SESSION_NOT_LIVE, "the robot's session is not live")
        elif kind == "robovox.mic.take":
            try:
                self._robot.audio.take_mic(self.client_id)
            except MicRefusedError as exc:
                raise ApiError(ApiErrorCode.MIC_HELD, str(exc)) from None
        elif kind == "robovox.mic.release":
            self._robot.audio.release_mic(self.client_id)
        else:
            raise ApiError(
                ApiErrorCode.NOT_ALLOWED_FOR_CLIENTS,
                f"{kind!r} is not accepted from clients: the gateway owns the robot's session",
            )

    @property
    def _source(self) -> str:
        return f"operator:{self.operator}"

    async def _user_text(self, event: dict[str, Any]) -> None:
        text = _user_message_text(event.get("item"))
        entry = InboxEntry(
            kind=InboxKind.USER_MESSAGE, robot_id=self._robot.robot_id, text=text, speak=False, source=self._source
        )
        if self._robot.live_session is None:
            # Queued for the next session: it asks for its own answer, so that the
            # answer cannot come before the item.
            entry = entry.model_copy(update={"speak": True})
            self._item_queued_to_speak = True
        await self._robot.tell(entry)


def _user_message_text(item: Any) -> str:
    if not isinstance(item, dict) or item.get("type") != "message" or item.get("role") != "user":
        raise ApiError(ApiErrorCode.NOT_ALLOWED_FOR_CLIENTS, "clients may add only user messages to the conversation")
    parts = item.get("content")
    texts = [
        p["text"]
        for p in parts or []
        if isinstance(p, dict) and p.get("type") == "input_text" and isinstance(p.get("text"), str)
    ]
    text = " ".join(t.strip() for t in texts if t.strip())
    if not text:
        raise ApiError(ApiErrorCode.INVALID_ITEM, "a user message needs input_text content")
    if len(text) > MAX_TEXT:
        raise ApiError(ApiErrorCode.INVALID_ITEM, f"a user message is at most {MAX_TEXT} characters")
    return text
