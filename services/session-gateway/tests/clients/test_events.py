"""The ``robovox.*`` events as clients receive them (``docs/console.md``): the fields in order, times
as ISO 8601 with their offset, enums as their values."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from robovox.gateway.clients.events import ClientEvent, ClientListed, InboxEvent, SessionEvent, ToolCallEvent
from robovox.shared.messages import InboxEntry, InboxKind, Outcome
from robovox.shared.session import SessionState

AT = datetime(2025, 5, 1, 12, 0, 0, 250000, tzinfo=UTC)


def compact(event: dict[str, object]) -> str:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def test_an_inbox_event_carries_the_entry_as_the_model_was_told_it() -> None:
    entry = InboxEntry(
        kind=InboxKind.FUNCTION_CALL_OUTPUT, robot_id="cleaner-1", text="Fertig – the dock.", speak=True,
        source="tool-executor", call_id="call_1", tool="dock", outcome=Outcome.SUCCEEDED, created_at=AT,
    )  # fmt: skip
    event = InboxEvent.of(entry, "Done: docked.").model_copy(update={"at": AT})
    assert event.encoded() == compact(
        {
            "type": "robovox.inbox", "kind": "function_call_output", "source": "tool-executor",
            "text": "Done: docked.", "call_id": "call_1", "tool": "dock", "outcome": "succeeded", "reason": None,
            "urgency": "normal", "severity": None, "speak": True, "created_at": AT.isoformat(),
            "at": AT.isoformat(),
        }
    )  # fmt: skip


def test_session_tool_call_and_client_events_have_the_documented_fields() -> None:
    session = SessionEvent(robot_id="cleaner-1", state=SessionState.LIVE, session_id="sess_1")
    assert json.loads(session.encoded()) == {
        "type": "robovox.session", "robot_id": "cleaner-1", "state": "live", "session_id": "sess_1",
    }  # fmt: skip
    call = ToolCallEvent(call_id="call_1", name="dock", arguments="{}", session_id="sess_1", at=AT)
    assert list(json.loads(call.encoded())) == ["type", "call_id", "name", "arguments", "session_id", "at"]
    assert json.loads(call.encoded())["at"] == "2025-05-01T12:00:00.250000+00:00"
    client = ClientEvent(
        robot_id="cleaner-1", client_id="cli_a", mic_holder="cli_a", you_hold_mic=True,
        clients=[ClientListed(client_id="cli_a", operator="ana")],
    )  # fmt: skip
    assert json.loads(client.encoded()) == {
        "type": "robovox.client", "robot_id": "cleaner-1", "client_id": "cli_a", "mic_holder": "cli_a",
        "you_hold_mic": True, "clients": [{"client_id": "cli_a", "operator": "ana"}],
    }  # fmt: skip
