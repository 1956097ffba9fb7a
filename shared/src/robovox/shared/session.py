"""Contracts of the robot's Realtime session: its conversation log, its event
log, and its state hash. The session gateway writes all three; the alert
monitor, the console and people read them (``docs/streams.md``)."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, Literal, Self

from pydantic import AwareDatetime, Field, field_validator

from robovox.shared.entry import StreamEntry, utc_now
from robovox.shared.messages import CallId, RobotId

EVENT_JSON_LIMIT: Final = 4000
"""Characters of an event's JSON kept in its events-stream entry."""


class ItemKind(StrEnum):
    USER_MESSAGE = "user_message"
    ASSISTANT_MESSAGE = "assistant_message"
    SYSTEM_MESSAGE = "system_message"
    FUNCTION_CALL = "function_call"
    FUNCTION_CALL_OUTPUT = "function_call_output"


class ConversationItem(StreamEntry):
    """One item of a robot's conversation, kept so a new session can be given the
    conversation so far (the provider keeps nothing across sessions)."""

    conversation_id: str
    """Stays the same across reconnects and recycles; a fresh conversation gets a new one."""
    robot_id: RobotId
    kind: ItemKind
    text: str = ""
    """Message text (the transcript, for speech), or the function call's output."""
    call_id: CallId | None = None
    name: str | None = None
    arguments: str | None = None
    source: str = ""
    """``speech``, ``model``, ``operator``, ``tool-executor``, ``alert-monitor`` ..."""
    session_id: str | None = None
    at: AwareDatetime = Field(default_factory=utc_now)

    def realtime_item(self) -> dict[str, Any]:
        """The item as a ``conversation.item.create`` payload."""
        if self.kind is ItemKind.FUNCTION_CALL:
            return {"type": "function_call", "call_id": self.call_id, "name": self.name, "arguments": self.arguments}
        if self.kind is ItemKind.FUNCTION_CALL_OUTPUT:
            return {"type": "function_call_output", "call_id": self.call_id, "output": self.text}
        if self.kind is ItemKind.ASSISTANT_MESSAGE:
            return {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": self.text}]}
        role = "user" if self.kind is ItemKind.USER_MESSAGE else "system"
        return {"type": "message", "role": role, "content": [{"type": "input_text", "text": self.text}]}


class RealtimeEventEntry(StreamEntry):
    """One Realtime event, flattened for people: the fields worth a column, then
    the whole event as JSON (cut at ``EVENT_JSON_LIMIT`` characters)."""

    robot_id: RobotId
    direction: Literal["server", "client"]
    type: str
    session_id: str | None = None
    event_id: str | None = None
    response_id: str | None = None
    item_id: str | None = None
    call_id: str | None = None
    name: str | None = None
    status: str | None = None
    text: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    event: str
    """The whole event as JSON."""
    at: AwareDatetime = Field(default_factory=utc_now)

    @classmethod
    def of(
        cls,
        robot_id: str,
        direction: Literal["server", "client"],
        event: dict[str, Any],
        raw: str = "",
        *,
        session_id: str | None = None,
        at: datetime | None = None,
    ) -> Self:
        response, item, error = (_object(event.get(name)) for name in ("response", "item", "error"))
        text = event.get("transcript") or event.get("text") or event.get("delta") or _message_text(item)
        return cls(
            robot_id=robot_id,
            direction=direction,
            type=str(event.get("type", "")),
            event_id=_str(event.get("event_id")),
            response_id=_str(event.get("response_id") or response.get("id")),
            item_id=_str(event.get("item_id") or item.get("id")),
            call_id=_str(event.get("call_id") or item.get("call_id")),
            name=_str(event.get("name") or item.get("name")),
            status=_str(response.get("status") or item.get("status")),
            text=_str(text or item.get("output") or item.get("arguments")),
            error_code=_str(error.get("code")),
            error_message=_str(error.get("message")),
            event=(raw or json.dumps(event, separators=(",", ":"), ensure_ascii=False))[:EVENT_JSON_LIMIT],
            session_id=session_id,
            at=at or utc_now(),
        )


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _message_text(item: dict[str, Any]) -> str | None:
    for part in item.get("content") or []:
        if isinstance(part, dict) and (text := part.get("text") or part.get("transcript")):
            return str(text)
    return None


class SessionState(StrEnum):
    STOPPED = "stopped"
    """Not wanted: stopped by an operator, or autostart is off."""
    CONNECTING = "connecting"
    LIVE = "live"
    RECYCLING = "recycling"
    """Replacing the live session before it expires."""
    RECONNECTING = "reconnecting"
    """The link failed or the session ended; a new one is being opened, with backoff."""
    IDLE = "idle"
    """Closed after a quiet spell; reopened on demand."""


class SessionInfo(StreamEntry):
    """The ``session`` hash of a robot, as the gateway holding it writes it."""

    robot_id: RobotId
    state: SessionState
    since: AwareDatetime
    gateway: str
    session_id: str | None = None
    provider_call_id: str | None = None
    """The provider's WebRTC call (``rtc_...``) of the live session."""
    provider_calls: list[str] = Field(default_factory=list)
    """Every provider call the gateway holds open for the robot: the live one, one being opened
    (from the provider's answer on), one being retired. A restarted gateway hangs these up."""
    conversation_id: str | None = None
    started_at: AwareDatetime | None = None
    recycle_at: AwareDatetime | None = None
    sessions_opened: int = 0
    requests_remaining: int | None = None
    requests_limit: int | None = None
    tokens_remaining: int | None = None
    tokens_limit: int | None = None
    rate_limits_at: AwareDatetime | None = None
    last_error: str | None = None

    @field_validator("provider_calls", mode="before")
    @classmethod
    def _json_list(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) else value
