"""The Realtime API emulator, driven by a real aiortc client and the ``openai`` package, on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx2
import openai
import pytest
from openai import AsyncOpenAI

from robovox.sim.realtime import EmulatedSession, FunctionCall, RealtimeEmulator, Reply, decide
from robovox.sim.realtime.client import EmulatorClient
from robovox.sim.realtime.events import InvalidServerEventError, check_server_event, expiry_message

pytestmark = pytest.mark.webrtc

API_KEY = "sk-test"
TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "start_cleaning",
        "description": "Start a cleaning run.",
        "parameters": {
            "type": "object",
            "properties": {"option": {"type": "string", "enum": ["TurnLeft", "TurnRight"]}},
            "required": ["option"],
        },
    },
    {
        "type": "function",
        "name": "get_battery_voltage",
        "description": "Read the battery voltage.",
        "parameters": {"type": "object", "properties": {}},
    },
]
SESSION: dict[str, Any] = {"type": "realtime", "instructions": "You operate a cleaning robot.", "tools": TOOLS}
FUNCTION_CALL_SEQUENCE = [
    "response.created",
    "rate_limits.updated",
    "response.output_item.added",
    "conversation.item.added",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.output_item.done",
    "conversation.item.done",
    "response.done",
]
Connect = Callable[..., Awaitable[tuple[EmulatorClient, EmulatedSession]]]


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    return {}


@pytest.fixture
async def emu(emulator_options: dict[str, Any]) -> AsyncIterator[RealtimeEmulator]:
    async with RealtimeEmulator("127.0.0.1", 0, api_key=API_KEY, **emulator_options) as emulator:
        yield emulator


@pytest.fixture
async def oai(emu: RealtimeEmulator) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(base_url=emu.base_url, api_key=API_KEY, max_retries=0) as client:
        yield client


@pytest.fixture
async def clients() -> AsyncIterator[list[EmulatorClient]]:
    made: list[EmulatorClient] = []
    yield made
    for client in made:
        await client.close()


@pytest.fixture
async def connect(emu: RealtimeEmulator, oai: AsyncOpenAI, clients: list[EmulatorClient]) -> Connect:
    """Start a call the one-step way (multipart, API key); wait for ``session.created``."""

    async def start(session: dict[str, Any] | None = None) -> tuple[EmulatorClient, EmulatedSession]:
        client = EmulatorClient()
        clients.append(client)
        raw = await oai.realtime.calls.with_raw_response.create(sdp=await client.offer(), session=session or SESSION)  # type: ignore[arg-type]
        await client.answer(raw.text)
        emulated = await emu.wait_for_session(len(emu.sessions) - 1)
        await client.wait_for("session.created")
        return client, emulated

    return start


def user_text(text: str, event_id: str = "evt_item") -> dict[str, Any]:
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    return {"type": "conversation.item.create", "event_id": event_id, "item": item}


def transcript(client: EmulatorClient, response_id: str) -> str:
    done = [
        e
        for e in client.events
        if e["type"] == "response.output_audio_transcript.done" and e["response_id"] == response_id
    ]
    return str(done[0]["transcript"])


# ------------------------------------------------------------------ signaling
async def test_multipart_call_answers_201_with_location_and_starts_the_session(
    emu: RealtimeEmulator, oai: AsyncOpenAI, clients: list[EmulatorClient]
) -> None:
    client = EmulatorClient()
    clients.append(client)
    raw = await oai.realtime.calls.with_raw_response.create(sdp=await client.offer(), session=SESSION)  # type: ignore[arg-type]
    assert raw.status_code == 201
    assert raw.headers["content-type"].startswith("application/sdp")
    assert re.fullmatch(r"/v1/realtime/calls/rtc_[0-9a-f]+", raw.headers["location"])
    assert "a=setup:active" in raw.text and "webrtc-datachannel" in raw.text
    await client.answer(raw.text)
    session = await emu.wait_for_session(0)
    created = await client.wait_for("session.created")
    assert raw.headers["location"].endswith(session.call_id)
    assert created["session"]["id"] == session.session_id
    assert [t["name"] for t in created["session"]["tools"]] == ["start_cleaning", "get_battery_voltage"]
    assert session.config["instructions"] == SESSION["instructions"]
    assert emu.calls_created == 1
    assert client.parse_errors == [] and emu.validation_errors == []


async def test_client_secret_then_raw_sdp_runs_with_the_secrets_session(
    emu: RealtimeEmulator, oai: AsyncOpenAI, clients: list[EmulatorClient]
) -> None:
    secret = await oai.realtime.client_secrets.create(
        expires_after={"anchor": "created_at", "seconds": 600},
        session={"type": "realtime", "instructions": "From the secret.", "output_modalities": ["text"]},
    )
    assert secret.value.startswith("ek_") and secret.expires_at > time.time()
    assert secret.session.type == "realtime" and secret.session.instructions == "From the secret."
    client = EmulatorClient()
    clients.append(client)
    async with httpx2.AsyncClient() as http:
        reply = await http.post(
            f"{emu.base_url}/realtime/calls",
            content=await client.offer(),
            headers={"Authorization": f"Bearer {secret.value}", "Content-Type": "application/sdp"},
        )
    assert reply.status_code == 201, reply.text
    await client.answer(reply.text)
    session = await emu.wait_for_session(0)
    assert session.config["instructions"] == "From the secret."
    assert session.config["output_modalities"] == ["text"]
    assert emu.secrets_issued == 1 and emu.calls_created == 1


async def test_azure_prefix_takes_the_api_key_header_and_hangs_up(
    emu: RealtimeEmulator, clients: list[EmulatorClient]
) -> None:
    client = EmulatorClient()
    clients.append(client)
    async with httpx2.AsyncClient(base_url=emu.azure_base_url) as http:
        minted = await http.post(
            "/realtime/client_secrets",
            json={"session": {"type": "realtime", "model": "my-deployment"}},
            headers={"api-key": API_KEY},
        )
        assert minted.status_code == 200, minted.text
        ephemeral = minted.json()["value"]
        call = await http.post(
            "/realtime/calls",
            content=await client.offer(),
            headers={"Authorization": f"Bearer {ephemeral}", "Content-Type": "application/sdp"},
        )
        assert call.status_code == 201, call.text
        assert call.headers["location"].startswith("/openai/v1/realtime/calls/rtc_")
        await client.answer(call.text)
        session = await emu.wait_for_session(0)
        assert session.config["model"] == "my-deployment"
        origin = emu.base_url.removesuffix("/v1")
        hangup = await http.post(f"{origin}{call.headers['location']}/hangup", headers={"api-key": API_KEY})
        assert hangup.status_code == 200
        assert session.closed
        unknown = await http.post("/realtime/calls/rtc_nope/hangup", headers={"api-key": API_KEY})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["type"] == "invalid_request_error"
    assert await client.wait_closed() in ("connected", "closed", "failed")


async def test_wrong_missing_or_expired_keys_get_401(emu: RealtimeEmulator, oai: AsyncOpenAI) -> None:
    async with AsyncOpenAI(base_url=emu.base_url, api_key="sk-wrong", max_retries=0) as wrong:
        with pytest.raises(openai.AuthenticationError) as refused:
            await wrong.realtime.client_secrets.create(session={"type": "realtime"})
        with pytest.raises(openai.AuthenticationError):
            await wrong.realtime.calls.create(sdp="v=0\r\n")
    assert refused.value.code == "invalid_api_key"
    secret = await oai.realtime.client_secrets.create(session={"type": "realtime"})
    stored = emu.client_secrets[secret.value]
    emu.client_secrets[secret.value] = dataclasses.replace(stored, expires_at=time.time() - 1)
    async with httpx2.AsyncClient(base_url=emu.base_url) as http:
        expired = await http.post(
            "/realtime/calls",
            content="v=0\r\n",
            headers={"Authorization": f"Bearer {secret.value}", "Content-Type": "application/sdp"},
        )
        anonymous = await http.post("/realtime/client_secrets", json={"session": {"type": "realtime"}})
    assert expired.status_code == 401 and expired.json()["error"]["code"] == "invalid_api_key"
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "invalid_api_key"
    assert emu.calls_created == 0


@pytest.mark.parametrize(
    ("session", "code", "param"),
    [
        ({"type": "transcription"}, "invalid_value", "session.type"),
        ({"type": "realtime", "modalities": ["text"]}, "unknown_parameter", "session.modalities"),
        ({"type": "realtime", "instructions": 7}, "invalid_type", "session.instructions"),
        ({"instructions": "hi"}, "missing_required_parameter", "session.type"),
    ],
)
async def test_invalid_session_config_gets_400(
    oai: AsyncOpenAI, clients: list[EmulatorClient], session: dict[str, Any], code: str, param: str
) -> None:
    client = EmulatorClient()
    clients.append(client)
    with pytest.raises(openai.BadRequestError) as refused:
        await oai.realtime.client_secrets.create(session=session)  # type: ignore[arg-type]
    assert (refused.value.code, refused.value.param) == (code, param)
    with pytest.raises(openai.BadRequestError) as refused_call:
        await oai.realtime.calls.create(sdp=await client.offer(), session=session)  # type: ignore[arg-type]
    assert (refused_call.value.code, refused_call.value.param) == (code, param)


async def test_bad_sdp_gets_400(oai: AsyncOpenAI, emu: RealtimeEmulator) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        await oai.realtime.calls.create(sdp="hello", session={"type": "realtime"})
    assert refused.value.param == "sdp"
    with pytest.raises(openai.BadRequestError):
        await oai.realtime.calls.create(sdp="v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n", session={"type": "realtime"})
    assert emu.sessions == []


# -------------------------------------------------------------------- model
async def test_tool_named_in_user_text_gets_the_full_function_call_sequence(
    emu: RealtimeEmulator, connect: Connect
) -> None:
    client, session = await connect()
    start = len(client.events)
    client.send(user_text("start cleaning, turn right"))
    client.send({"type": "response.create", "event_id": "evt_go"})
    done = await client.wait_for("response.done")
    assert client.types(start)[:2] == ["conversation.item.added", "conversation.item.done"]
    assert client.types(start + 2) == FUNCTION_CALL_SEQUENCE
    [call] = done["response"]["output"]
    assert done["response"]["status"] == "completed"
    assert (call["type"], call["name"], call["status"]) == ("function_call", "start_cleaning", "completed")
    assert call["arguments"] == '{"option": "TurnRight"}'
    deltas = [e["delta"] for e in client.events if e["type"] == "response.function_call_arguments.delta"]
    assert "".join(deltas) == call["arguments"]
    assert call["call_id"] in session.function_call_done_at
    assert done["response"]["usage"]["total_tokens"] > 0
    assert [item["type"] for item in session.conversation] == ["message", "function_call"]

    after = len(client.events)
    output = {"type": "function_call_output", "call_id": call["call_id"], "output": "cleaning started"}
    client.send({"type": "conversation.item.create", "item": output})
    client.send({"type": "response.create"})
    spoken = await client.wait_for("response.done", after=after)
    assert transcript(client, spoken["response"]["id"]) == "Done: cleaning started"
    assert client.parse_errors == [] and emu.validation_errors == []


async def test_spoken_reply_sequence_and_audio_reach_the_client(emu: RealtimeEmulator, connect: Connect) -> None:
    client, session = await connect()
    response_id = session.say_as_user("please tell me a rather long story about robots that clean floors")
    await client.wait_for_loud_frames(3)
    done = await client.wait_for("output_audio_buffer.stopped")
    assert done["response_id"] == response_id
    types = client.types(client.types().index("response.created"))
    assert types[:7] == [
        "response.created",
        "rate_limits.updated",
        "response.output_item.added",
        "conversation.item.added",
        "response.content_part.added",
        "output_audio_buffer.started",
        "response.output_audio_transcript.delta",
    ]
    assert types[-7:] == [
        "response.output_audio.done",
        "response.output_audio_transcript.done",
        "response.content_part.done",
        "response.output_item.done",
        "conversation.item.done",
        "response.done",
        "output_audio_buffer.stopped",
    ]
    assert transcript(client, response_id).startswith("You said: please tell me")
    assert session.speech_frames_sent > 0 and session.audio_frames_sent >= session.speech_frames_sent
    assert client.types()[1:4] == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
    ]
    assert emu.validation_errors == []


async def test_text_modality_replies_with_output_text(connect: Connect) -> None:
    client, _ = await connect({**SESSION, "output_modalities": ["text"]})
    client.send(user_text("hello there"))
    client.send({"type": "response.create"})
    done = await client.wait_for("response.done")
    text = await client.wait_for("response.output_text.done")
    assert text["text"] == "You said: hello there"
    assert done["response"]["output"][0]["content"] == [{"type": "output_text", "text": "You said: hello there"}]
    assert not [t for t in client.types() if t.startswith(("output_audio_buffer", "response.output_audio"))]


async def test_second_response_create_while_one_is_active_is_refused(emu: RealtimeEmulator, connect: Connect) -> None:
    client, session = await connect()
    client.send(user_text("hello there, how are you today? I hope the floors are clean and the battery is full"))
    client.send({"type": "response.create", "event_id": "evt_first"})
    created = await client.wait_for("response.created")
    client.send({"type": "response.create", "event_id": "evt_second"})
    error = await client.wait_for("error")
    first_id = created["response"]["id"]
    assert error["error"]["code"] == "conversation_already_has_active_response"
    assert error["error"]["event_id"] == "evt_second"
    assert error["error"]["message"] == (
        f"Conversation already has an active response in progress: {first_id}. "
        "Wait until the response is finished before creating a new one."
    )
    done = await client.wait_for("response.done")
    assert (done["response"]["id"], done["response"]["status"]) == (first_id, "completed")
    assert session.active_response_id is None
    after = len(client.events)
    client.send({"type": "response.create", "event_id": "evt_third"})
    again = await client.wait_for("response.done", after=after)
    assert again["response"]["status"] == "completed"
    assert len(session.response_instructions) == 2
    assert emu.validation_errors == []


async def test_response_cancel_stops_at_once_and_cancel_without_one_is_an_error(connect: Connect) -> None:
    client, session = await connect()
    client.send(user_text("a long sentence that takes the emulated model quite some time to speak aloud"))
    client.send({"type": "response.create"})
    await client.wait_for("response.output_audio_transcript.delta")
    client.send({"type": "response.cancel", "event_id": "evt_cancel"})
    done = await client.wait_for("response.done")
    assert done["response"]["status"] == "cancelled"
    assert done["response"]["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}
    assert [item["status"] for item in done["response"]["output"]] == ["incomplete"]
    stopped = await client.wait_for("output_audio_buffer.stopped")
    assert session.active_response_id is None
    client.send({"type": "response.cancel", "event_id": "evt_again"})
    error = await client.wait_for("error")
    assert (error["error"]["code"], error["error"]["event_id"]) == ("response_cancel_not_active", "evt_again")
    index = client.events.index(stopped)
    assert "response.output_audio_transcript.delta" not in client.types(index)
    assert "response.output_audio_transcript.done" not in client.types()


@pytest.mark.parametrize("emulator_options", [{"function_call_delay_s": 5.0}])
async def test_cancelled_function_call_is_never_completed(connect: Connect) -> None:
    client, session = await connect()
    call_id = session.call_tool("get_battery_voltage", {})
    await client.wait_for("response.output_item.added")
    queued = session.call_tool("get_battery_voltage", {})  # waits for the active response
    assert session.queued_calls == 1
    client.send({"type": "response.cancel"})
    done = await client.wait_for("response.done")
    assert done["response"]["status"] == "cancelled"
    assert done["response"]["output"][0]["status"] == "incomplete"
    assert "response.output_item.done" not in client.types()
    assert "response.function_call_arguments.done" not in client.types()
    assert call_id not in session.function_call_done_at
    mark = client.events.index(done)
    added = await client.wait_for("response.output_item.added", after=mark)
    assert added["item"]["call_id"] == queued and session.queued_calls == 0


async def test_calls_asked_for_while_a_response_is_active_follow_it_in_order(connect: Connect) -> None:
    """A busy test or bench may ask for calls faster than responses finish: they queue, as a real
    client would have to wait for the active response, instead of failing."""
    client, session = await connect()
    calls = [session.call_tool("get_battery_voltage", {}) for _ in range(3)]
    assert session.queued_calls == 2
    done: list[dict[str, Any]] = []
    for _ in calls:
        after = client.events.index(done[-1]) + 1 if done else 0
        done.append(await client.wait_for("response.done", after=after))
    assert [d["response"]["output"][0]["call_id"] for d in done] == calls
    assert [d["response"]["status"] for d in done] == ["completed"] * 3
    assert sorted(session.function_call_done_at) == sorted(calls)


async def test_call_tool_hook_makes_exactly_that_call(connect: Connect) -> None:
    client, session = await connect()
    call_id = session.call_tool("start_cleaning", {"option": "TurnLeft"})
    done = await client.wait_for("response.done")
    [call] = done["response"]["output"]
    assert (call["call_id"], call["name"], call["arguments"]) == (call_id, "start_cleaning", '{"option": "TurnLeft"}')


async def test_instructions_per_response_override_the_sessions(emu: RealtimeEmulator, connect: Connect) -> None:
    client, session = await connect()
    client.send({"type": "response.create", "response": {"instructions": "Say goodbye."}})
    await client.wait_for("response.done")
    mark = len(client.events)
    client.send(
        {"type": "session.update", "event_id": "evt_update", "session": {"type": "realtime", "instructions": "New."}}
    )
    updated = await client.wait_for("session.updated", after=mark)
    assert updated["session"]["instructions"] == "New."
    assert updated["session"]["tools"] == TOOLS
    client.send({"type": "response.create"})
    await client.wait_for("response.done", after=mark)
    assert session.response_instructions == ["Say goodbye.", "New."]
    assert emu.validation_errors == []


@pytest.mark.parametrize(
    ("event", "code", "param"),
    [
        (
            {"type": "conversation.item.create", "item": {"type": "function_call_output", "output": "x"}},
            "missing_required_parameter",
            "item.call_id",
        ),
        (
            {"type": "session.update", "session": {"type": "realtime", "modalities": ["text"]}},
            "unknown_parameter",
            "session.modalities",
        ),
        (
            {"type": "response.create", "response": {"output_modalities": ["video"]}},
            "invalid_value",
            "response.output_modalities[0]",
        ),
        ({"type": "conversation.item.make"}, "invalid_value", "type"),
        (
            {
                "type": "conversation.item.create",
                "item": {"type": "message", "role": "user", "content": [{"type": "text", "text": "hi"}]},
            },
            "invalid_value",
            "item.content[0].type",
        ),
    ],
)
async def test_invalid_client_event_gets_the_apis_error(
    emu: RealtimeEmulator, connect: Connect, event: dict[str, Any], code: str, param: str
) -> None:
    client, _ = await connect()
    client.send({**event, "event_id": "evt_bad"})
    error = await client.wait_for("error")
    assert error["error"]["type"] == "invalid_request_error"
    assert (error["error"]["code"], error["error"]["param"], error["error"]["event_id"]) == (code, param, "evt_bad")
    assert len(emu.validation_errors) == 1 and error["error"]["message"] in emu.validation_errors[0]


async def test_conversation_and_input_buffer_events_get_minimal_replies(
    emu: RealtimeEmulator, connect: Connect
) -> None:
    client, session = await connect({**SESSION, "output_modalities": ["text"]})
    client.send(user_text("hello"))
    client.send({"type": "response.create"})
    done = await client.wait_for("response.done")
    user_id, assistant_id = session.conversation[0]["id"], done["response"]["output"][0]["id"]
    client.send({"type": "conversation.item.retrieve", "item_id": user_id})
    client.send({"type": "conversation.item.truncate", "item_id": assistant_id, "content_index": 0, "audio_end_ms": 10})
    client.send({"type": "conversation.item.delete", "item_id": user_id})
    client.send({"type": "input_audio_buffer.commit"})
    client.send({"type": "input_audio_buffer.clear"})
    client.send({"type": "conversation.item.delete", "event_id": "evt_gone", "item_id": user_id})
    error = await client.wait_for("error")
    assert (error["error"]["event_id"], error["error"]["param"]) == ("evt_gone", "item_id")
    retrieved = await client.wait_for("conversation.item.retrieved")
    assert retrieved["item"]["content"] == [{"type": "input_text", "text": "hello"}]
    assert (await client.wait_for("conversation.item.truncated"))["audio_end_ms"] == 10
    assert (await client.wait_for("conversation.item.deleted"))["item_id"] == user_id
    committed = await client.wait_for("input_audio_buffer.committed")
    await client.wait_for("input_audio_buffer.cleared")
    assert [item["id"] for item in session.conversation] == [assistant_id, committed["item_id"]]
    assert emu.validation_errors == []


def test_expiry_message_names_minutes_like_the_real_one() -> None:
    assert expiry_message(3600) == "Your session hit the maximum duration of 60 minutes."
    assert expiry_message(90) == "Your session hit the maximum duration of 90 seconds."


async def test_function_call_output_for_an_unknown_call_is_refused(emu: RealtimeEmulator, connect: Connect) -> None:
    client, session = await connect()
    output = {"type": "function_call_output", "call_id": "call_unknown", "output": "x"}
    client.send({"type": "conversation.item.create", "event_id": "evt_out", "item": output})
    error = await client.wait_for("error")
    assert (error["error"]["code"], error["error"]["param"]) == ("invalid_tool_call_id", "item.call_id")
    assert session.conversation == [] and emu.validation_errors == []


@pytest.mark.parametrize("emulator_options", [{"max_session_s": 1.0}])
async def test_session_expires_with_session_expired_then_closes(connect: Connect) -> None:
    client, session = await connect()
    error = await client.wait_for("error", timeout=5.0)
    assert error["error"]["type"] == "invalid_request_error"
    assert error["error"]["code"] == "session_expired"
    assert error["error"]["message"] == "Your session hit the maximum duration of 1 second."
    await client.wait_closed()
    await asyncio.wait_for(session.closed_event.wait(), 5.0)
    assert session.closed


async def test_client_hanging_up_closes_the_session(connect: Connect) -> None:
    client, session = await connect()
    await client.pc.close()
    await asyncio.wait_for(session.closed_event.wait(), 10.0)
    assert session.closed


async def test_stop_closes_active_sessions_and_leaves_no_tasks_behind(connect: Connect, emu: RealtimeEmulator) -> None:
    client, session = await connect()
    session.say_as_user("keep talking for a while so that a response is active at stop")
    await client.wait_for("response.output_audio_transcript.delta")
    await emu.stop()
    assert session.closed and session.active_response_id is None
    await client.close()
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


async def test_out_of_band_response_leaves_the_conversation_alone(connect: Connect) -> None:
    client, session = await connect()
    client.send(user_text("hello"))
    await client.wait_for("conversation.item.done")
    params = {"conversation": "none", "metadata": {"topic": "summary"}, "output_modalities": ["text"]}
    client.send({"type": "response.create", "response": params})
    done = await client.wait_for("response.done")
    assert done["response"]["conversation_id"] is None
    assert done["response"]["metadata"] == {"topic": "summary"}
    assert len(session.conversation) == 1
    assert client.types().count("conversation.item.added") == 1


async def test_output_audio_buffer_clear_cuts_the_spoken_response(connect: Connect) -> None:
    client, session = await connect()
    response_id = session.say_as_user("a sentence long enough to still be speaking when the buffer is cleared")
    await client.wait_for("response.output_audio_transcript.delta")
    client.send({"type": "output_audio_buffer.clear", "event_id": "evt_clear"})
    cleared = await client.wait_for("output_audio_buffer.cleared")
    done = await client.wait_for("response.done")
    assert cleared["response_id"] == done["response"]["id"] == response_id
    assert done["response"]["status"] == "cancelled"
    assert "output_audio_buffer.stopped" not in client.types()


def test_server_events_are_checked_strictly() -> None:
    check_server_event({"type": "output_audio_buffer.started", "event_id": "event_1", "response_id": "resp_1"})
    with pytest.raises(InvalidServerEventError, match="response_id"):
        check_server_event({"type": "output_audio_buffer.started", "event_id": "event_1"})
    with pytest.raises(InvalidServerEventError, match=re.escape("Unknown parameter: 'response.colour'")):
        check_server_event({"type": "response.created", "event_id": "event_1", "response": {"colour": "red"}})


# ------------------------------------------------------- deterministic model
def test_model_prefers_the_longest_tool_name_and_reads_arguments() -> None:
    tools = [
        {"type": "function", "name": "start"},
        *TOOLS,
        {"type": "function", "name": "move", "parameters": {"properties": {"metres": {"type": "number"}}}},
    ]

    def said(text: str) -> FunctionCall | Reply:
        return decide([{"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}], tools)

    assert said("Start cleaning, turn left") == FunctionCall("start_cleaning", {"option": "TurnLeft"})
    assert said("what is the battery voltage?") == FunctionCall("get_battery_voltage", {})
    assert said("move 2.5 metres") == FunctionCall("move", {"metres": 2.5})
    assert said("good morning") == Reply("You said: good morning")
    assert decide(
        [{"type": "message", "role": "system", "content": [{"type": "input_text", "text": "Low battery."}]}], tools
    ) == Reply("Noted: Low battery.")
