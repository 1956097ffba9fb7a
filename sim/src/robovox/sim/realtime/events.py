"""Client event validation, server event checks, ids, and builders for server event payloads."""

from __future__ import annotations

import json
import math
import secrets
import typing
from typing import Any

from openai.types.realtime import RealtimeClientEvent, RealtimeServerEvent, RealtimeSessionCreateResponse
from pydantic import BaseModel, TypeAdapter, ValidationError

from robovox.sim.errors import SimError

from .errors import RealtimeApiError, api_error_from, unknown_parameter_error

CLIENT_EVENTS: TypeAdapter[RealtimeClientEvent] = TypeAdapter(RealtimeClientEvent)
SERVER_EVENTS: TypeAdapter[RealtimeServerEvent] = TypeAdapter(RealtimeServerEvent)
_SESSION_RESPONSE = TypeAdapter(RealtimeSessionCreateResponse)
# session.created/updated carry the session as the API shows it (id, object, expires_at),
# which the event models type as the *request* shape.
_SESSION_EXTRAS = frozenset({"session.id", "session.object", "session.expires_at"})
REQUESTS_LIMIT = 5000
TOKENS_LIMIT = 40000


def new_id(prefix: str, nbytes: int = 10) -> str:
    return f"{prefix}_{secrets.token_hex(nbytes)}"


def _members_by_type(union: Any) -> dict[str, type[BaseModel]]:
    members: dict[str, type[BaseModel]] = {}
    for cls in typing.get_args(typing.get_args(union)[0]):
        for literal in typing.get_args(cls.model_fields["type"].annotation):
            members[literal] = cls
    return members


CLIENT_EVENT_TYPES = _members_by_type(RealtimeClientEvent)
SERVER_EVENT_TYPES = _members_by_type(RealtimeServerEvent)


class InvalidClientEventError(SimError):
    def __init__(self, error: RealtimeApiError, event_id: str | None, event_type: str | None) -> None:
        super().__init__(error.message)
        self.error = error
        self.event_id = event_id
        self.event_type = event_type


class InvalidServerEventError(SimError):
    """The emulator built an event the ``openai`` models reject: a bug in the emulator."""


def parse_client_event(raw: str | bytes) -> tuple[BaseModel, dict[str, Any]]:
    """Validate one data channel message: the model and the plain dict, or ``InvalidClientEventError``."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        error = RealtimeApiError(f"Invalid JSON in client event: {exc}.", "invalid_json")
        raise InvalidClientEventError(error, None, None) from None
    if not isinstance(data, dict):
        error = RealtimeApiError(
            f"Invalid type for event: expected an object, but got {type(data).__name__}.", "invalid_type"
        )
        raise InvalidClientEventError(error, None, None)
    event_id = data.get("event_id") if isinstance(data.get("event_id"), str) else None
    event_type = data.get("type")
    if "type" not in data:
        raise InvalidClientEventError(
            RealtimeApiError("Missing required parameter: 'type'.", "missing_required_parameter", "type"),
            event_id,
            None,
        )
    if event_type not in CLIENT_EVENT_TYPES:
        supported = ", ".join(f"'{name}'" for name in CLIENT_EVENT_TYPES)
        error = RealtimeApiError(
            f"Invalid value: '{event_type}'. Supported values are: {supported}.", "invalid_value", "type"
        )
        raise InvalidClientEventError(error, event_id, None)
    try:
        model = CLIENT_EVENTS.validate_json(raw)
    except ValidationError:
        # Re-validate against the one member this type names, for errors without union noise.
        try:
            TypeAdapter(CLIENT_EVENT_TYPES[event_type]).validate_python(data)
        except ValidationError as exc:
            raise InvalidClientEventError(api_error_from(exc), event_id, event_type) from None
        raise
    unknown = unknown_parameter_error(model)
    if unknown is not None:
        raise InvalidClientEventError(unknown, event_id, event_type)
    return model, data


def check_server_event(event: dict[str, Any]) -> None:
    """Raise ``InvalidServerEventError`` unless ``event`` validates against the ``openai`` server event models."""
    event_type = event.get("type")
    cls = SERVER_EVENT_TYPES.get(event_type) if isinstance(event_type, str) else None
    if cls is None:
        raise InvalidServerEventError(f"unknown server event type {event_type!r}")
    try:
        model = SERVER_EVENTS.validate_python(event)
        if not isinstance(model, cls):
            raise InvalidServerEventError(f"{event_type} validated as {type(model).__name__}")
        allowed: frozenset[str] = frozenset()
        if event_type in ("session.created", "session.updated"):
            _SESSION_RESPONSE.validate_python(event["session"])
            allowed = _SESSION_EXTRAS
    except ValidationError as exc:
        raise InvalidServerEventError(f"{event_type}: {api_error_from(exc).message}") from exc
    unknown = unknown_parameter_error(model, allowed=allowed)
    if unknown is not None:
        raise InvalidServerEventError(f"{event_type}: {unknown.message}")


def as_record(message: str | bytes) -> dict[str, Any]:
    """A received message for the record, even when it is not a valid event."""
    try:
        data = json.loads(message)
    except ValueError:
        return {"type": None, "raw": message if isinstance(message, str) else message.decode(errors="replace")}
    return data if isinstance(data, dict) else {"type": None, "raw": data}


# ------------------------------------------------------------------ builders
def expiry_message(max_session_s: float) -> str:
    if max_session_s >= 60 and max_session_s % 60 == 0:
        minutes = int(max_session_s // 60)
        return f"Your session hit the maximum duration of {minutes} minute{'s' if minutes != 1 else ''}."
    seconds = f"{max_session_s:g}"
    return f"Your session hit the maximum duration of {seconds} second{'s' if seconds != '1' else ''}."


def error_event(error: RealtimeApiError, client_event_id: str | None) -> dict[str, Any]:
    return {"type": "error", "error": error.body(client_event_id)}


def item_object(item: dict[str, Any]) -> dict[str, Any]:
    """A conversation item as the server shows it."""
    return {"object": "realtime.item", **item}


def assistant_message(item_id: str, status: str, content: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": item_id, "type": "message", "status": status, "role": "assistant", "content": content}


def function_call(item_id: str, call_id: str, name: str, arguments: str, status: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "function_call",
        "status": status,
        "name": name,
        "call_id": call_id,
        "arguments": arguments,
    }


def response_object(
    response_id: str,
    status: str,
    *,
    output: list[dict[str, Any]],
    modalities: list[str],
    conversation_id: str | None,
    audio_output: dict[str, Any],
    max_output_tokens: int | str,
    metadata: dict[str, str] | None,
    usage: dict[str, Any] | None = None,
    status_details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "object": "realtime.response",
        "id": response_id,
        "status": status,
        "status_details": status_details,
        "output": [item_object(item) for item in output],
        "conversation_id": conversation_id,
        "output_modalities": modalities,
        "max_output_tokens": max_output_tokens,
        "audio": {"output": audio_output},
        "usage": usage,
        "metadata": metadata,
    }


def count_tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4)


def usage(input_tokens: int, output_tokens: int, audio: bool) -> dict[str, Any]:
    audio_out = output_tokens * 3 if audio else 0
    total_out = output_tokens + audio_out
    return {
        "total_tokens": input_tokens + total_out,
        "input_tokens": input_tokens,
        "output_tokens": total_out,
        "input_token_details": {
            "text_tokens": input_tokens,
            "audio_tokens": 0,
            "image_tokens": 0,
            "cached_tokens": 0,
            "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0},
        },
        "output_token_details": {"text_tokens": output_tokens, "audio_tokens": audio_out},
    }


def transcription_usage(model: Any, audio_seconds: float, transcript: str) -> dict[str, Any]:
    """Usage of one input audio transcription: by duration for ``whisper-1``, by tokens otherwise."""
    if model == "whisper-1":
        return {"type": "duration", "seconds": round(audio_seconds, 3)}
    audio_tokens = max(1, math.ceil(audio_seconds * 10))
    output_tokens = count_tokens(transcript)
    return {
        "type": "tokens",
        "input_tokens": audio_tokens,
        "output_tokens": output_tokens,
        "total_tokens": audio_tokens + output_tokens,
        "input_token_details": {"text_tokens": 0, "audio_tokens": audio_tokens},
    }


def rate_limits(requests_remaining: int, tokens_remaining: int) -> list[dict[str, Any]]:
    return [
        {"name": "requests", "limit": REQUESTS_LIMIT, "remaining": requests_remaining, "reset_seconds": 0.012},
        {"name": "tokens", "limit": TOKENS_LIMIT, "remaining": tokens_remaining, "reset_seconds": 0.3},
    ]
