"""The robot's own microphone and speaker: the profile's ``audio`` section, and the
devices feeding the robot's AudioHub (files here; a device is opened the same way)."""

from __future__ import annotations

import array
import asyncio
import json
import logging
import math
import os
import struct
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import cast

import av
import pytest
from av import AudioFrame

from robovox.gateway.audio.hub import AudioHub
from robovox.gateway.audio.robot_devices import MIC_NAME, SPEAKER_BACKLOG, SPEAKER_NAME, RobotAudioDevices
from robovox.gateway.realtime.peer import RealtimePeer
from robovox.shared.profile import AudioDevice, AudioFileSink, AudioFileSource, ProfileError, RobotAudio, parse_profile

PROFILE = (Path(__file__).resolve().parents[4] / "deploy" / "profiles" / "cleaner-1.yaml").read_text()
ROBOT = "cleaner-1"
RATE = 48_000
FRAME = 960  # 20 ms
NO_DEVICE = "hw:99,0"  # no machine has a 100th sound card


def with_audio(section: str) -> str:
    return PROFILE.rstrip("\n") + "\n" + section


def tone(frames: int, amplitude: int, channels: int = 1, hz: int = 300) -> bytes:
    """``frames`` times 20 ms of a sine tone, interleaved s16."""
    values = (round(amplitude * math.sin(2 * math.pi * hz * n / RATE)) for n in range(frames * FRAME))
    return b"".join(struct.pack("<h", v) * channels for v in values)


def write_wav(path: Path, pcm: bytes) -> None:
    """A 48 kHz mono WAV of ``pcm``."""
    with av.open(str(path), "w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=RATE, layout="mono")
        frame = AudioFrame(format="s16", layout="mono", samples=len(pcm) // 2)
        frame.planes[0].update(pcm)
        frame.sample_rate = RATE
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def read_wav(path: Path) -> tuple[int, int, bytes]:
    """Sample rate, channels and the interleaved s16 samples of a WAV file."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        pcm = b"".join(bytes(frame.planes[0])[: frame.samples * 4] for frame in container.decode(stream))
        return stream.rate, stream.channels, pcm


def peak(frame: AudioFrame) -> int:
    samples = array.array("h", bytes(frame.planes[0])[: frame.samples * 2 * len(frame.layout.channels)])
    return max((abs(s) for s in samples), default=0)


def stereo_frame(pcm: bytes, pts: int) -> AudioFrame:
    """A decoded 20 ms frame as aiortc's Opus decoder makes them."""
    frame = AudioFrame(format="s16", layout="stereo", samples=FRAME)
    frame.planes[0].update(pcm)
    frame.sample_rate = RATE
    frame.pts = pts
    return frame


class StubPeer:
    """The parts of a RealtimePeer the hub uses: frames the model would get are kept."""

    def __init__(self) -> None:
        self.to_model: list[AudioFrame] = []
        self.on_audio: Callable[[AudioFrame], None] | None = None
        self.listening = False
        self.is_open = True
        self.audio_out = self

    def put(self, frame: AudioFrame) -> None:
        self.to_model.append(frame)

    def listen(self, on: bool) -> None:
        self.listening = on

    def model_says(self, frame: AudioFrame) -> None:
        assert self.on_audio is not None, "nobody listens to the model"
        self.on_audio(frame)


@pytest.fixture
def peer() -> StubPeer:
    return StubPeer()


@pytest.fixture
def hub(peer: StubPeer) -> AudioHub:
    hub = AudioHub(ROBOT)
    hub.attach(cast(RealtimePeer, peer))
    return hub


@pytest.fixture
async def devices(hub: AudioHub) -> AsyncIterator[Callable[[RobotAudio], RobotAudioDevices]]:
    made: list[RobotAudioDevices] = []

    def make(config: RobotAudio) -> RobotAudioDevices:
        made.append(RobotAudioDevices(hub, config, ROBOT))
        return made[-1]

    yield make
    for each in made:
        await each.stop()


# ---------------------------------------------------------------- profile
def test_the_audio_section_is_optional_and_names_a_device_or_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_profile(PROFILE).audio is None
    monkeypatch.setenv("ROBOVOX_AUDIO_DIR", "/var/lib/robovox")
    profile = parse_profile(
        with_audio(
            "audio:\n"
            "  microphone: {kind: device, format: alsa, device: 'plughw:1,0', options: {channels: '1'}}\n"
            "  speaker: {kind: file, path: '${ROBOVOX_AUDIO_DIR}/cleaner-1-out.wav'}\n"
        )
    )
    assert profile.audio is not None
    assert profile.audio.microphone == AudioDevice(
        kind="device", format="alsa", device="plughw:1,0", options={"channels": "1"}
    )
    assert profile.audio.speaker == AudioFileSink(kind="file", path="/var/lib/robovox/cleaner-1-out.wav")
    pulse = parse_profile(with_audio("audio:\n  microphone: {kind: device, format: pulse}\n  speaker: null\n"))
    assert pulse.audio == RobotAudio(microphone=AudioDevice(kind="device", format="pulse", device="default"))
    looped = parse_profile(with_audio("audio:\n  microphone: {kind: file, path: /tmp/in.wav, loop: true}\n"))
    assert looped.audio is not None and looped.audio.microphone == AudioFileSource(
        kind="file", path="/tmp/in.wav", loop=True
    )


KIND = "give kind: device (with format and device) or kind: file"


@pytest.mark.parametrize(
    ("section", "error"),
    [
        ("microphone: {kind: file}", "audio.microphone.file.path: Field required"),
        ("microphone: {kind: device, format: oss}", "audio.microphone.device.format: Input should be 'alsa' or"),
        ("microphone: {kind: device, format: alsa, device: ''}", "audio.microphone.device.device: String should"),
        ("microphone: {format: alsa}", f"audio.microphone: {KIND}"),
        ("speaker: {kind: usb}", f"audio.speaker: {KIND}"),
        ("speaker: {kind: file, path: /tmp/out.mp3}", "audio.speaker.file.path: Value error, the speaker is written"),
        ("speaker: {kind: file, path: /tmp/out.wav, loop: true}", "audio.speaker.file.loop: Extra inputs are not"),
        ("speakers: {kind: file, path: /tmp/out.wav}", "audio.speakers: Extra inputs are not permitted"),
    ],
)
def test_a_wrong_audio_section_is_refused_with_its_line_and_field(section: str, error: str) -> None:
    text = with_audio(f"audio:\n  {section}\n")
    line = text.count("\n")  # the section's last line: where the faulty entry is
    with pytest.raises(ProfileError) as refused:
        parse_profile(text, "cleaner-1.yaml")
    assert f"cleaner-1.yaml:{line}: {error}" in str(refused.value)


# ------------------------------------------------------------- microphone
async def test_a_file_microphone_is_fed_to_the_model_frame_by_frame_in_real_time(
    tmp_path: Path, hub: AudioHub, peer: StubPeer, devices: Callable[[RobotAudio], RobotAudioDevices]
) -> None:
    recording = tmp_path / "in.wav"
    write_wav(recording, tone(5, 0) + tone(10, 12_000))  # 100 ms of silence, then 200 ms of speech
    mic = devices(RobotAudio(microphone=AudioFileSource(kind="file", path=str(recording))))
    await mic.start()
    assert mic.microphone_open and hub.mic_holder == MIC_NAME
    started = asyncio.get_running_loop().time()
    await mic.wait_for(lambda d: not d.microphone_open)  # the end of the file
    assert asyncio.get_running_loop().time() - started >= 0.2  # paced, not read in one go

    assert mic.frames_in == len(peer.to_model) == hub.frames_to_model == 15
    assert {(f.samples, f.sample_rate) for f in peer.to_model} == {(FRAME, RATE)}
    levels = [peak(f) for f in peer.to_model]
    assert max(levels[:4]) == 0 and min(levels[6:]) > 8_000  # mono spread on two channels: -3 dB
    assert hub.mic_holder is None  # an ended microphone holds nothing


async def test_the_microphone_is_always_read_but_reaches_the_model_only_while_it_holds_it(
    tmp_path: Path, hub: AudioHub, peer: StubPeer, devices: Callable[[RobotAudio], RobotAudioDevices]
) -> None:
    recording = tmp_path / "loop.wav"
    write_wav(recording, tone(5, 12_000))
    hub.take_mic("cli_operator")
    mic = devices(RobotAudio(microphone=AudioFileSource(kind="file", path=str(recording), loop=True)))
    await mic.start()
    assert hub.mic_holder == "cli_operator"
    await mic.wait_for(lambda d: d.frames_in >= 10)  # twice round the file
    assert peer.to_model == []

    hub.release_mic("cli_operator")
    assert hub.mic_holder == MIC_NAME
    read_before = mic.frames_in
    await mic.wait_for(lambda d: d.frames_in >= read_before + 5)
    assert len(peer.to_model) == mic.frames_in - read_before

    await mic.stop()
    assert hub.mic_holder is None and not mic.microphone_open
    fed = len(peer.to_model)
    hub.feed(MIC_NAME, stereo_frame(tone(1, 100, 2), 0))  # a late frame from a stopped microphone
    assert len(peer.to_model) == fed


# ---------------------------------------------------------------- speaker
async def test_a_file_speaker_gets_exactly_the_models_audio_as_a_wav(
    tmp_path: Path, hub: AudioHub, peer: StubPeer, devices: Callable[[RobotAudio], RobotAudioDevices]
) -> None:
    out = tmp_path / "out" / "cleaner-1.wav"  # the folder is made
    speaker = devices(RobotAudio(speaker=AudioFileSink(kind="file", path=str(out))))
    await speaker.start()
    assert hub.speakers == [SPEAKER_NAME] and peer.listening

    pcm = tone(25, 8_000, channels=2)
    chunk = FRAME * 4
    frames = [stereo_frame(pcm[i * chunk : (i + 1) * chunk], pts=7_000_000 + i * FRAME) for i in range(25)]
    for frame in frames[:10]:
        peer.model_says(frame)
    await speaker.wait_for(lambda d: d.frames_out == 10)
    for frame in frames[10:]:  # after a pause, and from a new session: pts start over
        frame.pts = (frame.pts or 0) - 7_000_000
        peer.model_says(frame)
    await speaker.wait_for(lambda d: d.frames_out == 25)
    assert frames[0].pts == 7_000_000  # the hub's frames are left as they were

    await speaker.stop()
    assert hub.speakers == [] and not peer.listening
    assert read_wav(out) == (RATE, 2, pcm)  # 500 ms, sample for sample


async def test_a_speaker_that_falls_behind_drops_the_oldest_audio(
    tmp_path: Path, peer: StubPeer, devices: Callable[[RobotAudio], RobotAudioDevices]
) -> None:
    out = tmp_path / "out.wav"
    speaker = devices(RobotAudio(speaker=AudioFileSink(kind="file", path=str(out))))
    await speaker.start()
    pushed = SPEAKER_BACKLOG + 30
    frames = [stereo_frame(tone(1, 100 * (i + 1), channels=2), pts=i * FRAME) for i in range(pushed)]
    for frame in frames:  # all in one go: the writer gets no chance to keep up
        peer.model_says(frame)
    assert speaker.frames_dropped == 30
    await speaker.wait_for(lambda d: d.frames_out == SPEAKER_BACKLOG)
    await speaker.stop()
    _rate, _channels, pcm = read_wav(out)
    assert pcm == b"".join(bytes(f.planes[0])[: FRAME * 4] for f in frames[30:])


# ------------------------------------------------------------ failures
async def test_devices_that_cannot_open_are_logged_and_the_robot_goes_on_without_them(
    tmp_path: Path, hub: AudioHub, caplog: pytest.LogCaptureFixture,
    devices: Callable[[RobotAudio], RobotAudioDevices],
) -> None:  # fmt: skip
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    config = RobotAudio(
        microphone=AudioDevice(kind="device", format="alsa", device=NO_DEVICE),
        speaker=AudioFileSink(kind="file", path=str(blocker / "out.wav")),
    )
    caplog.set_level(logging.ERROR, "robovox.gateway.audio.robot_devices")
    broken = devices(config)
    await broken.start()
    assert not broken.microphone_open and not broken.speaker_open
    assert hub.mic_holder is None and hub.speakers == []
    mic_error, speaker_error = (r.getMessage() for r in caplog.records)
    assert mic_error.startswith(f"{ROBOT}: cannot open the robot microphone alsa:{NO_DEVICE}: ")
    assert mic_error.endswith("; the robot goes on without it") and NO_DEVICE in mic_error.split(": ", 2)[2]
    assert speaker_error.startswith(f"{ROBOT}: cannot open the robot speaker file:{blocker}/out.wav: ")

    caplog.clear()
    missing = devices(RobotAudio(microphone=AudioFileSource(kind="file", path=str(tmp_path / "none.wav"))))
    speaker = devices(RobotAudio(speaker=AudioDevice(kind="device", format="alsa", device=NO_DEVICE)))
    await missing.start()
    await speaker.start()
    assert [r.getMessage().split(": ")[1] for r in caplog.records] == [
        f"cannot open the robot microphone file:{tmp_path}/none.wav",
        f"cannot open the robot speaker alsa:{NO_DEVICE}",
    ]
    assert "No such file" in caplog.records[0].getMessage()
    assert hub.mic_holder is None and hub.speakers == []


ALSA_CONFIG = Path("/usr/share/alsa")
NULL_DEVICE_RUN = """
import asyncio, importlib.util, json, sys
from robovox.gateway.audio.hub import AudioHub
from robovox.gateway.audio.robot_devices import RobotAudioDevices
from robovox.shared.profile import AudioDevice, RobotAudio

spec = importlib.util.spec_from_file_location("test_robot_audio", sys.argv[1])
tests = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tests)
StubPeer, stereo_frame, tone = tests.StubPeer, tests.stereo_frame, tests.tone

async def main() -> None:
    hub, peer = AudioHub("cleaner-1"), StubPeer()
    hub.attach(peer)
    null = AudioDevice(kind="device", format="alsa", device="null")
    devices = RobotAudioDevices(hub, RobotAudio(microphone=null, speaker=null), "cleaner-1")
    await devices.start()
    opened = [devices.microphone_open, devices.speaker_open, hub.mic_holder, hub.speakers]
    for i in range(20):
        peer.model_says(stereo_frame(tone(1, 5_000, channels=2), i * 960))
    await devices.wait_for(lambda d: d.frames_out == 20 and d.frames_in >= 20)
    await devices.stop()
    print(json.dumps({"opened": opened, "to_model": len(peer.to_model) > 0, "holder": hub.mic_holder}))

asyncio.run(main())
"""


@pytest.mark.process
@pytest.mark.skipif(
    "alsa" not in av.formats_available or not (ALSA_CONFIG / "alsa.conf").is_file(), reason="no ALSA configuration"
)
def test_an_alsa_device_is_read_and_written_like_a_file() -> None:
    """ALSA's null device, in a process of its own: ALSA reads its configuration once per process."""
    env = {**os.environ, "ALSA_CONFIG_DIR": str(ALSA_CONFIG)}
    command = [sys.executable, "-c", NULL_DEVICE_RUN, __file__]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result == {"opened": [True, True, MIC_NAME, [SPEAKER_NAME]], "to_model": True, "holder": None}


@pytest.mark.skipif("pulse" in av.formats_available, reason="this FFmpeg has PulseAudio")
async def test_pulse_without_pulseaudio_in_ffmpeg_points_to_alsas_pulse_plugin(
    hub: AudioHub, caplog: pytest.LogCaptureFixture, devices: Callable[[RobotAudio], RobotAudioDevices]
) -> None:
    caplog.set_level(logging.ERROR, "robovox.gateway.audio.robot_devices")
    pulse = devices(RobotAudio(microphone=AudioDevice(kind="device", format="pulse")))
    await pulse.start()
    (record,) = caplog.records
    assert (
        "pulse:default: this FFmpeg build has no pulse device (use format: alsa, device: pulse" in record.getMessage()
    )
    assert hub.mic_holder is None


async def test_without_an_audio_section_nothing_is_opened(hub: AudioHub) -> None:
    devices = RobotAudioDevices(hub, None, ROBOT)
    await devices.start()
    assert not devices.microphone_open and not devices.speaker_open
    assert hub.mic_holder is None and hub.speakers == []
    await devices.stop()
