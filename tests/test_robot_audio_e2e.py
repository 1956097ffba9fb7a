"""A robot with a microphone and a speaker of its own, end to end: the gateway plays
the robot's microphone (a WAV file) to the Realtime emulator over real WebRTC, the
emulator hears speech in it, transcribes it and answers with its voice, and the
answer lands in the robot's speaker (a WAV file)."""

from __future__ import annotations

import array
import asyncio
import math
import struct
from pathlib import Path
from typing import Any

import av
import pytest
from av import AudioFrame
from redis.asyncio import Redis

from robovox.gateway.audio.robot_devices import MIC_NAME
from robovox.gateway.service import SessionGateway
from robovox.shared.session import ConversationItem, ItemKind
from robovox.shared.testing.streams import LOOK_MS
from robovox.sim.realtime import RealtimeEmulator
from tests.conftest import KEYS, ROBOT, gateway_settings, serving

HEARD = "is the floor clean yet"
RATE = 48_000
LOUD = 200  # a sample above this is the model speaking (its voice is a quiet tone; silence is 0)
CHUNK = 960 * 2 * 2  # 20 ms of 48 kHz 16-bit stereo


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    return {"heard_text": HEARD}


def write_speech(path: Path) -> None:
    """0.5 s of silence, 0.6 s of a loud 300 Hz tone (speech to an energy VAD), 2.4 s of silence."""
    loud = (round(12_000 * math.sin(2 * math.pi * 300 * n / RATE)) for n in range(int(0.6 * RATE)))
    pcm = bytes(RATE) + struct.pack(f"<{int(0.6 * RATE)}h", *loud) + bytes(int(2.4 * RATE) * 2)
    with av.open(str(path), "w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=RATE, layout="mono")
        frame = AudioFrame(format="s16", layout="mono", samples=len(pcm) // 2)
        frame.planes[0].update(pcm)
        frame.sample_rate = RATE
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)


@pytest.fixture
def profiles_dir(profiles_dir: Path, tmp_path: Path) -> Path:
    """The cleaning robot's profile with a file microphone (looped: heard once the session is up) and speaker."""
    write_speech(tmp_path / "robot-mic.wav")
    profile = profiles_dir / "cleaner-1.yaml"
    profile.write_text(
        profile.read_text().rstrip("\n") + "\n"
        "audio:\n"
        f"  microphone: {{kind: file, path: {tmp_path}/robot-mic.wav, loop: true}}\n"
        f"  speaker: {{kind: file, path: {tmp_path}/out/robot-speaker.wav}}\n"
    )
    return profiles_dir


def peak(pcm: bytes) -> int:
    samples = array.array("h", pcm)
    return max((abs(s) for s in samples), default=0)


class Ear:
    """Another listener on the robot's audio hub: knows when a spoken reply has gone by."""

    def __init__(self) -> None:
        self.loud = 0
        self.quiet_after_loud = 0
        self.heard_reply = asyncio.Event()

    def __call__(self, frame: AudioFrame) -> None:
        if peak(bytes(frame.planes[0])[: frame.samples * 4]) > LOUD:
            self.loud += 1
            self.quiet_after_loud = 0
        elif self.loud:
            self.quiet_after_loud += 1
        if self.loud >= 10 and self.quiet_after_loud >= 10:
            self.heard_reply.set()


async def user_speech_logged(redis: Redis, timeout_s: float = 10.0) -> ConversationItem:
    """The first user message in the robot's conversation log, once written."""
    last = "0-0"
    async with asyncio.timeout(timeout_s):
        while True:
            reply: Any = await redis.xread({KEYS.conversation: last}, block=LOOK_MS)
            for _stream, entries in reply or []:
                for entry_id, fields in entries:
                    last = entry_id
                    item = ConversationItem.from_fields(fields)
                    if item.kind is ItemKind.USER_MESSAGE:
                        return item


async def test_the_robots_microphone_is_heard_and_the_answer_plays_on_its_speaker(
    redis_url: str, redis: Redis, profiles_dir: Path, tmp_path: Path, emulator: RealtimeEmulator
) -> None:
    ear = Ear()
    settings = gateway_settings(redis_url, profiles_dir, emulator.base_url)
    async with serving(SessionGateway(settings), stop_within_s=15) as gateway:
        robot = gateway.robots[ROBOT]
        robot.audio.add_speaker("test-ear", ear)

        session = await emulator.wait_for_session(0)
        turn = await session.wait_for_speech_turn(0, timeout=15)
        assert robot.audio.mic_holder == MIC_NAME  # no client: the robot's own microphone
        types = [e["type"] for e in session.sent]
        started = types.index("input_audio_buffer.speech_started")
        assert types[started : started + 3] == [
            "input_audio_buffer.speech_started",
            "input_audio_buffer.speech_stopped",
            "input_audio_buffer.committed",
        ]
        transcribed = await session.wait_for_server_event("conversation.item.input_audio_transcription.completed")
        assert (transcribed["item_id"], transcribed["transcript"], turn.transcript) == (turn.item_id, HEARD, HEARD)
        assert turn.response_id is not None
        done = await session.wait_for_server_event("response.done", lambda e: e["response"]["id"] == turn.response_id)
        assert done["response"]["output"][0]["content"][0]["transcript"] == f"You said: {HEARD}"

        logged = await user_speech_logged(redis)
        assert (logged.text, logged.source) == (HEARD, "speech")
        await asyncio.wait_for(ear.heard_reply.wait(), 10)
        heard_loud = ear.loud
    # The gateway has stopped: the robot's speaker file is closed.

    with av.open(str(tmp_path / "out" / "robot-speaker.wav")) as played:
        stream = played.streams.audio[0]
        assert (stream.rate, stream.channels) == (RATE, 2)
        pcm = b"".join(bytes(f.planes[0])[: f.samples * 4] for f in played.decode(stream))
    chunks = [pcm[i : i + CHUNK] for i in range(0, len(pcm), CHUNK)]
    loud = [peak(chunk) for chunk in chunks if peak(chunk) > LOUD]
    assert len(loud) >= heard_loud >= 10  # every frame of the reply the hub got, and more from before the ear
    assert 500 < max(loud) < 2_000  # the emulator's voice: a 1000-amplitude tone through Opus
