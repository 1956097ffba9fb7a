"""What the server's events make the gateway do: function calls are published
when complete, never from a cancelled or incomplete response, once per call_id."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from robovox.gateway.realtime.session import RealtimeSession
from robovox.gateway.robot.opener import NewSession
from robovox.shared.entry import format_time, utc_now
from robovox.shared.messages import InboxEntry, InboxKind, ToolCall, Urgency
from robovox.shared.session import ConversationItem, ItemKind
from robovox.shared.streams import RobotKeys

KEYS = RobotKeys.of("cleaner-1")


@pytest.fixture
async def session(new_session: NewSession) -> AsyncIterator[RealtimeSession]:
    session = new_session("conv_test")
    session.session_id = "sess_test"
    yield session
    await session.close()


def call_item(call_id: str, status: str = "completed") -> dict[str, Any]:
    return {
        "id": f"item_{call_id}",
        "type": "function_call",
        "status": status,
        "call_id": call_id,
        "name": "start_cleaning",
        "arguments": '{"option":"TurnRight"}',
    }


def output_item_done(call_id: str, status: str = "completed") -> dict[str, Any]:
    return {
        "type": "response.output_item.done",
        "event_id": "event_1",
        "response_id": "resp_1",
        "output_index": 0,
        "item": call_item(call_id, status),
    }


def response_done(status: str, *items: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "response.done",
        "event_id": "event_2",
        "response": {"id": "resp_1", "status": status, "output": list(items)},
    }


async def feed(session: RealtimeSession, *events: dict[str, Any]) -> None:
    for event in events:
        session.router.on_message(json.dumps(event))
    await session.router.settled(10)


async def tool_calls(redis: Redis) -> list[ToolCall]:
    raw: Any = await redis.xrange(KEYS.tool_calls)
    return [ToolCall.from_fields(fields) for _id, fields in raw]


async def test_a_completed_function_call_is_published_with_session_and_deadline(
    session: RealtimeSession, redis: Redis
) -> None:
    await feed(session, output_item_done("call_a"))
    (call,) = await tool_calls(redis)
    assert (call.call_id, call.name, call.arguments) == ("call_a", "start_cleaning", '{"option":"TurnRight"}')
    assert call.session_id == "sess_test"
    assert (call.deadline - call.issued_at).total_seconds() == pytest.approx(10.0)
    raw: Any = await redis.xrange(KEYS.conversation)
    item = ConversationItem.from_fields(raw[0][1])
    assert (item.kind, item.call_id, item.conversation_id) == (ItemKind.FUNCTION_CALL, "call_a", "conv_test")


async def test_the_same_call_in_output_item_done_and_response_done_is_published_once(
    session: RealtimeSession, redis: Redis
) -> None:
    await feed(session, output_item_done("call_b"), response_done("completed", call_item("call_b")))
    assert [c.call_id for c in await tool_calls(redis)] == ["call_b"]


async def test_a_call_id_published_by_another_session_or_gateway_is_not_published_again(
    new_session: NewSession, session: RealtimeSession, redis: Redis
) -> None:
    await feed(session, output_item_done("call_c"))
    other = new_session("conv_test")
    await feed(other, output_item_done("call_c"))
    await other.close()
    assert [c.call_id for c in await tool_calls(redis)] == ["call_c"]


async def test_an_incomplete_item_or_a_cancelled_response_publishes_nothing(
    session: RealtimeSession, redis: Redis
) -> None:
    await feed(
        session,
        output_item_done("call_d", status="incomplete"),
        response_done("cancelled", call_item("call_d", status="incomplete")),
        response_done("cancelled", call_item("call_e")),
        response_done("incomplete", call_item("call_f")),
    )
    assert await tool_calls(redis) == []


async def test_a_call_seen_only_in_a_completed_response_done_is_published(
    session: RealtimeSession, redis: Redis
) -> None:
    await feed(session, response_done("completed", call_item("call_g")))
    assert [c.call_id for c in await tool_calls(redis)] == ["call_g"]


async def test_rate_limits_and_session_expiry_are_recorded(session: RealtimeSession) -> None:
    await feed(
        session,
        {
            "type": "rate_limits.updated",
            "event_id": "event_3",
            "rate_limits": [
                {"name": "requests", "limit": 1000, "remaining": 999, "reset_seconds": 60.0},
                {"name": "tokens", "limit": 50000, "remaining": 49000, "reset_seconds": 1.5},
            ],
        },
        {
            "type": "error",
            "event_id": "event_4",
            "error": {
                "type": "invalid_request_error",
                "code": "session_expired",
                "message": "Your session hit the maximum duration of 60 minutes.",
            },
        },
    )
    assert session.rate_limits["requests"].remaining == 999
    assert session.rate_limits["tokens"].limit == 50000
    assert session.expired.is_set() and session.ended


async def test_a_malformed_event_is_logged_and_skipped(session: RealtimeSession, redis: Redis) -> None:
    await feed(session, {"type": "response.output_item.done", "item": "not an object"})
    session.router.on_message("not json")
    assert await tool_calls(redis) == []


async def test_an_entry_that_waited_for_a_session_is_told_with_its_age_and_never_preempts(
    session: RealtimeSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[dict[str, Any]] = []

    def capture(event: dict[str, Any]) -> str:
        sent.append(event)
        return json.dumps(event)

    monkeypatch.setattr(session.peer, "send", capture)
    raised = utc_now() - timedelta(minutes=10)
    entry = InboxEntry(
        kind=InboxKind.SYSTEM_MESSAGE, robot_id="cleaner-1", text="CRITICAL WARNING (battery_critical): low.",
        speak=True, source="alert-monitor", urgency=Urgency.URGENT, created_at=raised,
    )  # fmt: skip
    await session.deliver(entry)
    assert [e["type"] for e in sent] == ["conversation.item.create", "response.create"]  # no cancel, no clear
    text = sent[0]["item"]["content"][0]["text"]
    assert text == f"(From {format_time(raised)}, 10 minutes ago.) CRITICAL WARNING (battery_critical): low."
