"""What clients see of the provider's events: no replay echoes, no session_expired, their own metadata."""

from __future__ import annotations

import json
from typing import Any

from openai.types.realtime import RealtimeErrorEvent, ResponseCreatedEvent, ResponseDoneEvent

from robovox.gateway.realtime.client_relay import for_clients
from robovox.gateway.realtime.sequencer import REQUEST_METADATA_KEY


def relayed(event: dict[str, Any], replayed: set[str] | None = None) -> dict[str, Any] | None:
    raw = json.dumps(event)
    text = for_clients(event, raw, replayed or set())
    return None if text is None else json.loads(text)


def response(kind: str, metadata: dict[str, str] | None) -> dict[str, Any]:
    body = {"id": "resp_1", "object": "realtime.response", "status": "in_progress", "output": [],
            "metadata": metadata}  # fmt: skip
    return {"type": kind, "event_id": "event_1", "response": body}


def test_the_echoes_of_the_replayed_conversation_are_not_news() -> None:
    item = {"id": "item_rv1", "type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
    for kind in ("conversation.item.added", "conversation.item.done"):
        event = {"type": kind, "event_id": "event_2", "item": item, "previous_item_id": None}
        assert relayed(event, {"item_rv1"}) is None
        assert relayed(event, {"item_other"}) == event
    about_replay = {"type": "error", "event_id": "event_3", "error": {"type": "invalid_request_error",
                    "code": "invalid_tool_call_id", "message": "m", "param": None, "event_id": "rv_1"}}  # fmt: skip
    assert relayed(about_replay, {"rv_1"}) is None
    assert relayed(about_replay) == about_replay


def test_session_expired_is_the_gateways_business() -> None:
    expired = {"type": "error", "event_id": "event_4", "error": {"type": "invalid_request_error",
               "code": "session_expired", "message": "Your session hit the maximum duration of 60 minutes.",
               "param": None, "event_id": None}}  # fmt: skip
    assert relayed(expired) is None


def test_a_response_carries_the_pages_metadata_and_never_the_gateways_key() -> None:
    mine = relayed(response("response.created", {"topic": "battery", REQUEST_METADATA_KEY: "rv_1"}))
    assert mine is not None
    assert ResponseCreatedEvent.model_validate(mine).response.metadata == {"topic": "battery"}
    gateways = relayed(response("response.done", {REQUEST_METADATA_KEY: "rv_2"}))
    assert gateways is not None and ResponseDoneEvent.model_validate(gateways).response.metadata is None
    untouched = response("response.done", {"topic": "x"})
    assert relayed(untouched) == untouched


def error(code: str, about: str | None) -> dict[str, Any]:
    body = {"type": "invalid_request_error", "code": code, "message": "m", "param": None, "event_id": about}
    return {"type": "error", "event_id": "event_5", "error": body}


def test_the_sequencers_own_collisions_are_not_shown_and_a_pages_error_names_its_event() -> None:
    assert relayed(error("conversation_already_has_active_response", "rv_1")) is None
    assert relayed(error("response_cancel_not_active", "rv_2")) is None
    raw = json.dumps(error("invalid_value", "rv_3"))
    mapped = for_clients(json.loads(raw), raw, set(), {"rv_3": "evt_page_7"})
    assert mapped is not None
    parsed = RealtimeErrorEvent.model_validate_json(mapped)
    assert parsed.error.event_id == "evt_page_7" and parsed.event_id == "event_5"
    assert for_clients(json.loads(raw), raw, set(), {}) == raw
