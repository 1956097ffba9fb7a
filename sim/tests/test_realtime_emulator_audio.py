"""The Realtime emulator hears speech in the incoming WebRTC audio (energy VAD) and speaks back,
driven by a real aiortc client on loopback."""

from __future__ import annotations

import math
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import av
import pytest
from openai import AsyncOpenAI

from robovox.sim.realtime import EmulatedSession, RealtimeEmulator
from robovox.sim.realtime.audio import FRAME_SAMPLES, SAMPLE_RATE, TONE_AMPLITUDE, TONE_HZ, frame_level, tone
from robovox.sim.realtime.client import MICROPHONE_AMPLITUDE, MICROPHONE_HZ, EmulatorClient, Microphone
from robovox.sim.realtime.vad import MIN_SPEECH_MS, SpeechDetector, TurnDetection, threshold_level

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
]
VAD: dict[str, Any] = {"type": "server_vad", "silence_duration_ms": 200, "prefix_padding_ms": 300}
LONG_TEXT = "please tell me a long story about the robots that clean the floors of the old station every night"
TURN_EVENTS = [
    "input_audio_buffer.speech_started",
    "input_audio_buffer.speech_stopped",
    "input_audio_buffer.committed",
    "conversation.item.added",
    "conversation.item.done",
    "conversation.item.input_audio_transcription.completed",
    "response.created",
]


def session_config(turn_detection: dict[str, Any] | None = VAD, **extra: Any) -> dict[str, Any]:
    audio_input = {"transcription": {"model": "gpt-4o-transcribe"}, "turn_detection": turn_detection}
    return {"type": "realtime", "tools": TOOLS, "audio": {"input": audio_input}, **extra}


Connect = Callable[..., Awaitable[tuple[EmulatorClient, EmulatedSession, Microphone]]]


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    return {}


@pytest.fixture
async def emu(emulator_options: dict[str, Any]) -> AsyncIterator[RealtimeEmulator]:
    async with RealtimeEmulator("127.0.0.1", 0, api_key=API_KEY, **emulator_options) as emulator:
        yield emulator
    assert emulator.validation_errors == []


@pytest.fixture
async def connect(emu: RealtimeEmulator) -> AsyncIterator[Connect]:
    """Start a call whose microphone is a ``Microphone`` (silent until told to speak)."""
    made: list[EmulatorClient] = []

    async def start(session: dict[str, Any] | None = None) -> tuple[EmulatorClient, EmulatedSession, Microphone]:
        microphone = Microphone()
        client = EmulatorClient(microphone)
        made.append(client)
        async with AsyncOpenAI(base_url=emu.base_url, api_key=API_KEY, max_retries=0) as oai:
            raw = await oai.realtime.calls.with_raw_response.create(
                sdp=await client.offer(),
                session=session or session_config(),  # type: ignore[arg-type]
            )
        await client.answer(raw.text)
        emulated = await emu.wait_for_session(len(emu.sessions) - 1)
        await client.wait_for("session.created")
        return client, emulated, microphone

    yield start
    for client in made:
        assert client.parse_errors == []
        await client.close()


def user_text(text: str) -> dict[str, Any]:
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    return {"type": "conversation.item.create", "item": item}


def index_of(client: EmulatorClient, event: dict[str, Any]) -> int:
    return next(i for i, e in enumerate(client.events) if e is event)


# ------------------------------------------------------------ heard turns
@pytest.mark.parametrize("emulator_options", [{"heard_text": "good morning robot"}])
async def test_speech_in_the_incoming_audio_is_a_turn_with_the_apis_events_and_a_spoken_reply(
    connect: Connect,
) -> None:
    client, session, microphone = await connect()
    await session.wait_for_input_audio(lambda heard: heard.received_ms >= 400)  # room for the prefix padding
    microphone.speak(0.6)
    turn = await session.wait_for_speech_turn(0)
    started = await client.wait_for("input_audio_buffer.speech_started")
    begin = index_of(client, started)
    await client.wait_for("response.created", after=begin)
    assert client.types(begin)[: len(TURN_EVENTS)] == TURN_EVENTS
    stopped, committed, added, done, transcribed = client.events[begin + 1 : begin + 6]
    assert started["item_id"] == stopped["item_id"] == committed["item_id"] == added["item"]["id"] == turn.item_id
    assert transcribed["item_id"] == done["item"]["id"] == turn.item_id
    assert transcribed["transcript"] == done["item"]["content"][0]["transcript"] == "good morning robot"
    assert (started["audio_start_ms"], stopped["audio_end_ms"]) == (turn.audio_start_ms, turn.audio_end_ms)
    # 600 ms of tone, 300 ms of prefix padding before it, 200 ms of silence after it (20 ms frames).
    assert 900 <= turn.audio_end_ms - turn.audio_start_ms <= 1300
    assert (turn.transcript, turn.detected_by) == ("good morning robot", "server_vad")

    reply = await client.wait_for("response.done", lambda e: e["response"]["id"] == turn.response_id)
    assert reply["response"]["status"] == "completed"
    assert reply["response"]["output"][0]["content"][0]["transcript"] == "You said: good morning robot"
    assert session.speech_turns == [turn]


async def test_the_model_sends_its_voice_while_it_speaks_a_heard_turns_reply(connect: Connect) -> None:
    client, session, microphone = await connect()
    session.heard_text = LONG_TEXT
    microphone.speak(0.3)
    turn = await session.wait_for_speech_turn(0)
    await client.wait_for("output_audio_buffer.started", lambda e: e["response_id"] == turn.response_id)
    await client.wait_for_loud_frames(5)
    await client.wait_for("output_audio_buffer.stopped", lambda e: e["response_id"] == turn.response_id)
    assert session.speech_frames_sent >= 5
    assert session.audio_frames_sent > session.speech_frames_sent


async def test_a_heard_transcript_naming_a_tool_gets_the_same_function_call_as_say_as_user(
    connect: Connect,
) -> None:
    client, session, microphone = await connect()
    session.hear_next("start cleaning, turn left")
    microphone.speak(0.4)
    turn = await session.wait_for_speech_turn(0)
    done = await client.wait_for("response.done", lambda e: e["response"]["id"] == turn.response_id)
    [call] = done["response"]["output"]
    assert (call["type"], call["name"]) == ("function_call", "start_cleaning")
    assert call["arguments"] == '{"option": "TurnLeft"}'

    microphone.speak(0.4)  # the queue is used up: back to heard_text
    second = await session.wait_for_speech_turn(1)
    assert [t.transcript for t in session.speech_turns] == ["start cleaning, turn left", "hello"]
    assert second.audio_start_ms > turn.audio_end_ms - 300


async def test_silence_alone_is_never_a_turn(connect: Connect) -> None:
    client, session, microphone = await connect()
    await session.wait_for_input_audio(lambda heard: heard.received_ms >= 1500)
    assert not session.input_audio.speech_heard and session.speech_turns == []
    assert [e["type"] for e in session.sent] == ["session.created"]

    microphone.speak(0.3)
    turn = await session.wait_for_speech_turn(0)
    started = await client.wait_for("input_audio_buffer.speech_started")
    assert started["audio_start_ms"] == turn.audio_start_ms >= 1500 - 300


async def test_speech_during_a_response_cancels_it_and_starts_the_next(connect: Connect) -> None:
    client, session, microphone = await connect()
    session.heard_text = "stop"
    client.send(user_text(LONG_TEXT))
    client.send({"type": "response.create"})
    created = await client.wait_for("response.created")
    await client.wait_for("response.output_audio_transcript.delta")
    microphone.speak(0.3)
    started = await client.wait_for("input_audio_buffer.speech_started")
    cancelled = await client.wait_for("response.done", lambda e: e["response"]["id"] == created["response"]["id"])
    cleared = await client.wait_for("output_audio_buffer.cleared")
    assert cancelled["response"]["status_details"] == {"type": "cancelled", "reason": "turn_detected"}
    assert index_of(client, started) < index_of(client, cancelled) < index_of(client, cleared)
    turn = await session.wait_for_speech_turn(0)
    assert turn.response_id is not None and turn.response_id != created["response"]["id"]
    reply = await client.wait_for("response.done", lambda e: e["response"]["id"] == turn.response_id)
    assert reply["response"]["output"][0]["content"][0]["transcript"] == "You said: stop"


async def test_without_interrupt_or_create_response_a_turn_is_only_committed(connect: Connect) -> None:
    vad = {**VAD, "interrupt_response": False, "create_response": False}
    client, session, microphone = await connect(session_config(vad))
    client.send(user_text(LONG_TEXT))
    client.send({"type": "response.create"})
    created = await client.wait_for("response.created")
    await client.wait_for("response.output_audio_transcript.delta")
    microphone.speak(0.3)
    started = await client.wait_for("input_audio_buffer.speech_started")
    done = await client.wait_for("response.done")
    assert done["response"]["status"] == "completed" and index_of(client, started) < index_of(client, done)
    turn = await session.wait_for_speech_turn(0)
    assert turn.response_id is None and session.active_response_id is None
    assert [e["response"]["id"] for e in client.events if e["type"] == "response.created"] == [
        created["response"]["id"]
    ]


async def test_with_turn_detection_null_speech_waits_for_a_manual_commit(connect: Connect) -> None:
    client, session, microphone = await connect(session_config(None))
    session.hear_next("start cleaning, turn right")
    microphone.speak(0.3)
    await session.wait_for_input_audio(lambda heard: heard.speech_heard and not heard.speaking)
    assert not [e for e in session.sent if e["type"].startswith("input_audio_buffer.speech")]

    client.send({"type": "input_audio_buffer.commit"})
    committed = await client.wait_for("input_audio_buffer.committed")
    assert session.last_response_id is None  # a commit never starts a response
    transcribed = await client.wait_for("conversation.item.input_audio_transcription.completed")
    turn = await session.wait_for_speech_turn(0)
    assert committed["item_id"] == transcribed["item_id"] == turn.item_id
    assert (turn.transcript, turn.detected_by, turn.response_id) == ("start cleaning, turn right", "commit", None)
    assert session.conversation[-1]["content"] == [{"type": "input_audio", "transcript": turn.transcript}]

    microphone.speak(0.3)
    await session.wait_for_input_audio(lambda heard: heard.speech_heard and not heard.speaking)
    client.send({"type": "input_audio_buffer.clear"})
    await client.wait_for("input_audio_buffer.cleared")
    mark = len(client.events)
    client.send({"type": "input_audio_buffer.commit"})
    empty = await client.wait_for("input_audio_buffer.committed", after=mark)
    assert session.conversation[-1]["id"] == empty["item_id"]
    assert session.conversation[-1]["content"] == [{"type": "input_audio", "transcript": None}]
    assert len(session.speech_turns) == 1
    assert "conversation.item.input_audio_transcription.completed" not in client.types(mark)

    client.send(user_text("thanks"))  # the conversation goes on as usual: the client asks for a response
    client.send({"type": "response.create"})
    done = await client.wait_for("response.done")
    assert done["response"]["status"] == "completed" and session.last_response_id == done["response"]["id"]


# ------------------------------------------------------- detector and levels
def frame_of(pcm: bytes) -> av.AudioFrame:
    frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME_SAMPLES)
    frame.planes[0].update(pcm)
    frame.sample_rate = SAMPLE_RATE
    return frame


def test_frame_level_is_the_rms_as_a_fraction_of_full_scale() -> None:
    assert frame_level(frame_of(bytes(FRAME_SAMPLES * 2))) == 0.0
    assert frame_level(frame_of(tone(300, 8000))) == pytest.approx(8000 / math.sqrt(2) / 32768, rel=0.02)
    square = struct.pack(f"<{FRAME_SAMPLES}h", *([16384, -16384] * (FRAME_SAMPLES // 2)))
    assert frame_level(frame_of(square)) == pytest.approx(0.5)


def test_the_emulators_own_voice_is_below_the_default_threshold_and_the_test_microphone_above_any() -> None:
    assert frame_level(frame_of(tone(TONE_HZ, TONE_AMPLITUDE))) < TurnDetection().level
    assert frame_level(frame_of(tone(MICROPHONE_HZ, MICROPHONE_AMPLITUDE))) > threshold_level(1.0)


def test_detector_needs_sustained_loudness_to_start_and_silence_to_stop() -> None:
    detector = SpeechDetector()
    changes: list[tuple[str, float]] = []
    clock = [0.0]

    def feed(loud: bool, frames: int) -> None:
        for _ in range(frames):
            start = clock[0]
            clock[0] = end = start + 20
            change = detector.feed(loud, start, end, silence_ms=200)
            if change is not None:
                changes.append((change, end))

    feed(False, 10)
    feed(True, MIN_SPEECH_MS // 20 - 1)  # a click: too short
    feed(False, 5)
    assert changes == []
    onset = clock[0]
    feed(True, 20)
    assert changes == [("started", onset + MIN_SPEECH_MS)] and detector.onset_ms == onset
    feed(False, 9)  # a pause shorter than silence_duration_ms
    feed(True, 5)
    last_loud = clock[0]
    feed(False, 10)
    assert changes[1:] == [("stopped", last_loud + 200)]
    assert not detector.speaking


def test_turn_detection_reads_the_session_with_the_documented_defaults() -> None:
    default = TurnDetection.from_session({"audio": {"input": {"turn_detection": {"type": "server_vad"}}}})
    assert default == TurnDetection()
    assert (default.prefix_padding_ms, default.silence_duration_ms) == (300, 500)
    assert default.level == pytest.approx(threshold_level(0.5)) == pytest.approx(10 ** (-30 / 20))
    tuned = TurnDetection.from_session(
        {"audio": {"input": {"turn_detection": {**VAD, "threshold": 0.9, "create_response": False}}}}
    )
    assert (tuned.silence_duration_ms, tuned.create_response, tuned.interrupt_response) == (200, False, True)
    assert tuned.level > default.level
    semantic = {"audio": {"input": {"turn_detection": {"type": "semantic_vad", "eagerness": "high"}}}}
    assert TurnDetection.from_session(semantic).silence_duration_ms == 250
    assert not TurnDetection.from_session({"audio": {"input": {"turn_detection": None}}}).enabled
    assert TurnDetection.from_session({"type": "realtime"}).enabled
