"""A page's ``response.create`` options reach the model as the page gave them (through the robot's
response sequencer), or are refused with an OpenAI-shaped error naming them; and after a session
expiry the page sees no replayed item and no ``session_expired``, only ``robovox.session``."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from openai.types.realtime import RealtimeErrorEvent, ResponseCreatedEvent, ResponseDoneEvent

from robovox.gateway.service import SessionGateway
from robovox.sim.realtime import RealtimeEmulator
from tests.conftest import ROBOT
from tests.test_clients import join, typed
from tests.test_gateway import live_session


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    return {"seconds_per_word": 0.0}


def user_message(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def of_response(events: list[dict[str, Any]], response_id: str) -> list[str]:
    return [str(e["type"]) for e in events if e.get("response_id") == response_id]


async def test_an_out_of_band_text_response_is_the_pages_own_and_leaves_the_conversation_alone(
    gateway: SessionGateway, emulator: RealtimeEmulator, api: httpx2.AsyncClient
) -> None:
    session = await live_session(gateway, emulator)
    client, _ = await join(api)
    try:
        await client.wait_for("robovox.client")
        before = len(session.conversation)
        client.send({
            "type": "response.create",
            "event_id": "evt_page_oob",
            "response": {
                "conversation": "none", "output_modalities": ["text"], "metadata": {"topic": "summary"},
                "input": [user_message("summarise the morning")], "instructions": "Answer in one line.",
            },
        })  # fmt: skip
        done = await client.wait_for("response.done", lambda e: (e["response"].get("metadata") or {}) != {})
        response = ResponseDoneEvent.model_validate(done).response
        assert response.metadata == {"topic": "summary"}
        assert response.conversation_id is None and response.output_modalities == ["text"]
        (message,) = response.output
        assert message.content and message.content[0].type == "output_text"
        assert message.content[0].text == "You said: summarise the morning"
        created = await client.wait_for("response.created", lambda e: e["response"]["id"] == response.id)
        assert ResponseCreatedEvent.model_validate(created).response.metadata == {"topic": "summary"}
        assert "response.output_text.done" in of_response(client.events, str(response.id))
        assert "output_audio_buffer.started" not in of_response(client.events, str(response.id))
        assert len(session.conversation) == before  # nothing written to the conversation
        persona = gateway.robots[ROBOT].profile.persona()
        assert session.response_instructions[-1] == f"{persona}\n\nAnswer in one line."
    finally:
        await client.close()


async def test_an_out_of_band_response_never_calls_the_robots_tools(
    gateway: SessionGateway, emulator: RealtimeEmulator, api: httpx2.AsyncClient
) -> None:
    session = await live_session(gateway, emulator)
    client, _ = await join(api)
    try:
        await client.wait_for("robovox.client")
        client.send({
            "type": "response.create",
            "response": {"conversation": "none", "metadata": {"ask": "oob"},
                         "input": [user_message("start cleaning, turn left")]},
        })  # fmt: skip
        done = await client.wait_for("response.done", lambda e: (e["response"].get("metadata") or {}) != {})
        response = ResponseDoneEvent.model_validate(done).response
        assert [item.type for item in response.output] == ["message"]
        assert not [e for e in client.events if e["type"] == "robovox.tool_call"]
        assert session.function_call_done_at == {}
    finally:
        await client.close()


async def test_a_text_only_response_in_the_conversation_and_the_robots_responses_carry_no_metadata(
    gateway: SessionGateway, emulator: RealtimeEmulator, api: httpx2.AsyncClient
) -> None:
    session = await live_session(gateway, emulator)
    client, _ = await join(api)
    try:
        await client.wait_for("robovox.client")
        item, _plain = typed("hello robot")
        client.send(item)
        client.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
        done = await client.wait_for("response.done")
        response = ResponseDoneEvent.model_validate(done).response
        assert response.output_modalities == ["text"] and response.metadata is None
        assert response.conversation_id is not None
        assert "output_audio_buffer.started" not in of_response(client.events, str(response.id))
        assert any(i.get("id") == response.output[0].id for i in session.conversation)
        for event in client.events:
            if event["type"] in ("response.created", "response.done"):
                assert "robovox_request" not in (event["response"].get("metadata") or {})
    finally:
        await client.close()


async def test_an_option_the_gateway_does_not_take_is_refused_by_name(
    gateway: SessionGateway, emulator: RealtimeEmulator, api: httpx2.AsyncClient
) -> None:
    session = await live_session(gateway, emulator)
    client, _ = await join(api)
    try:
        await client.wait_for("robovox.client")
        responses = len(session.response_instructions)
        client.send({"type": "response.create", "event_id": "evt_page_tools", "response": {"tools": []}})
        refused = RealtimeErrorEvent.model_validate(await client.wait_for("error"))
        assert refused.error.event_id == "evt_page_tools" and refused.error.param == "response.tools"
        assert refused.error.code == "unsupported_parameter" and refused.event_id.startswith("event_")
        client.send({"type": "session.update", "event_id": "evt_page_su", "session": {"type": "realtime"}})
        other = RealtimeErrorEvent.model_validate(
            await client.wait_for("error", lambda e: e["error"]["event_id"] == "evt_page_su")
        )
        assert other.error.code == "not_allowed_for_clients"
        assert len(session.response_instructions) == responses  # nothing reached the model
    finally:
        await client.close()


async def test_after_an_expiry_the_page_sees_no_replayed_item_and_no_session_expired(
    gateway: SessionGateway, emulator: RealtimeEmulator, api: httpx2.AsyncClient
) -> None:
    first = await live_session(gateway, emulator)
    client, _ = await join(api)
    try:
        await client.wait_for("robovox.client")
        for event in typed("good morning robot"):
            client.send(event)
        await client.wait_for("response.done")
        expiring_at = len(client.events)
        old_session_id = gateway.robots[ROBOT].live_session.session_id  # type: ignore[union-attr]
        await first.expire()
        second = await emulator.wait_for_session(1)
        live = await client.wait_for(
            "robovox.session",
            lambda e: e["state"] == "live" and e["session_id"] not in (None, old_session_id),
            after=expiring_at,
            timeout=15,
        )
        assert any(i.get("role") == "user" for i in second.conversation)  # the conversation was replayed
        # A new turn after the swap: every echo of the replay has come through before its answer.
        mark = len(client.events)
        for event in typed("are you still there"):
            client.send(event)
        await client.wait_for("response.done", after=mark)
        after = client.events[expiring_at:]
        states = [e["state"] for e in after if e["type"] == "robovox.session"]
        assert "reconnecting" in states and live in after
        assert not [e for e in after if e["type"] == "error"]
        added = [e["item"] for e in after if e["type"] in ("conversation.item.added", "conversation.item.done")]
        replayed = {i["id"] for i in second.conversation if str(i["id"]).startswith("item_rv")}
        assert replayed and not [i for i in added if i["id"] in replayed]
        assert any(i.get("role") == "user" for i in added)  # the new turn's item is shown
    finally:
        await client.close()
