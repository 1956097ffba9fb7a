"""What the emulator does with each (already validated) client event."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import events
from .config import check_modalities, voice_of
from .errors import RealtimeApiError

if TYPE_CHECKING:
    from .session import EmulatedSession

Handler = Callable[["EmulatedSession", dict[str, Any]], None]


def handle(session: EmulatedSession, data: dict[str, Any]) -> None:
    """Act on one client event; an ``RealtimeApiError`` becomes an ``error`` event naming it."""
    HANDLERS[data["type"]](session, data)


def _session_update(session: EmulatedSession, data: dict[str, Any]) -> None:
    update = data["session"]
    if update.get("type") != "realtime":
        raise RealtimeApiError(
            f"Invalid value: '{update.get('type')}'. Supported values are: 'realtime'.", "invalid_value", "session.type"
        )
    check_modalities(update.get("output_modalities"), "session.output_modalities")
    voice = ((update.get("audio") or {}).get("output") or {}).get("voice")
    if voice is not None and voice != voice_of(session.config) and session.audio_spoken:
        raise RealtimeApiError(
            "Cannot update a conversation's voice if assistant audio is present.",
            "cannot_update_voice",
            "session.audio.output.voice",
        )
    session.update_config(update)
    session.send({"type": "session.updated", "session": session.session_object()})


def _item_create(session: EmulatedSession, data: dict[str, Any]) -> None:
    item = copy.deepcopy(data["item"])
    if item["type"] == "function_call_output" and not session.store.has_function_call(item["call_id"]):
        raise RealtimeApiError(
            f"Tool call ID '{item['call_id']}' not found in conversation.", "invalid_tool_call_id", "item.call_id"
        )
    if not item.get("id"):
        item["id"] = events.new_id("item")
    item["status"] = "completed"
    previous = session.add_item(item, data.get("previous_item_id"))
    session.send({"type": "conversation.item.done", "item": events.item_object(item), "previous_item_id": previous})


def _item_delete(session: EmulatedSession, data: dict[str, Any]) -> None:
    session.store.remove(data["item_id"])
    session.send({"type": "conversation.item.deleted", "item_id": data["item_id"]})


def _item_retrieve(session: EmulatedSession, data: dict[str, Any]) -> None:
    item = session.store.require(data["item_id"])
    session.send({"type": "conversation.item.retrieved", "item": events.item_object(item)})


def _item_truncate(session: EmulatedSession, data: dict[str, Any]) -> None:
    item = session.store.require(data["item_id"])
    if item.get("role") != "assistant":
        raise RealtimeApiError("Only assistant messages can be truncated.", "invalid_value", "item_id")
    content = item.get("content") or []
    if not 0 <= data["content_index"] < len(content):
        raise RealtimeApiError(f"Invalid content_index: {data['content_index']}.", "invalid_value", "content_index")
    fields = {key: data[key] for key in ("item_id", "content_index", "audio_end_ms")}
    session.send({"type": "conversation.item.truncated", **fields})


def _response_create(session: EmulatedSession, data: dict[str, Any]) -> None:
    params = data.get("response") or {}
    active = session.active_response_id
    if params.get("conversation") != "none" and active is not None:
        raise RealtimeApiError(
            f"Conversation already has an active response in progress: {active}. "
            "Wait until the response is finished before creating a new one.",
            "conversation_already_has_active_response",
        )
    check_modalities(params.get("output_modalities"), "response.output_modalities")
    session.start_response(params)


def _response_cancel(session: EmulatedSession, data: dict[str, Any]) -> None:
    run = session.running_response(data.get("response_id"))
    if run is None:
        raise RealtimeApiError("Cancellation failed: no active response found.", "response_cancel_not_active")
    run.cancel("client_cancelled")


def _output_audio_clear(session: EmulatedSession, data: dict[str, Any]) -> None:
    run = session.running_response(None)
    if run is not None and run.audio_started:
        run.cancel("client_cancelled", audio_end="cleared")
        return
    if session.last_response_id is None:
        raise RealtimeApiError(
            "Cannot clear the output audio buffer: no audio has been produced.", "output_audio_buffer_empty"
        )
    session.send({"type": "output_audio_buffer.cleared", "response_id": session.last_response_id})


def _input_audio_append(session: EmulatedSession, data: dict[str, Any]) -> None:
    """Accepted and ignored: the emulator listens to the WebRTC audio track only."""


def _input_audio_commit(session: EmulatedSession, data: dict[str, Any]) -> None:
    session.input_audio.commit()


def _input_audio_clear(session: EmulatedSession, data: dict[str, Any]) -> None:
    session.input_audio.clear()


HANDLERS: dict[str, Handler] = {
    "session.update": _session_update,
    "conversation.item.create": _item_create,
    "conversation.item.delete": _item_delete,
    "conversation.item.retrieve": _item_retrieve,
    "conversation.item.truncate": _item_truncate,
    "response.create": _response_create,
    "response.cancel": _response_cancel,
    "output_audio_buffer.clear": _output_audio_clear,
    "input_audio_buffer.append": _input_audio_append,
    "input_audio_buffer.commit": _input_audio_commit,
    "input_audio_buffer.clear": _input_audio_clear,
}
