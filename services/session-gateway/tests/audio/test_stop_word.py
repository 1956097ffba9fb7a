"""The stop word's spotter on synthesized speech: it hears the profile's stop phrase in WebRTC's
48 kHz stereo frames and not an ordinary command; the listener stops from its own thread."""

from __future__ import annotations

import asyncio
import threading

import pytest
from av import AudioFrame

from robovox.gateway.audio.spotter import RawFrame, Spotter, StopWordError
from robovox.gateway.audio.stop_word import Heard, StopWordListener
from robovox.shared.profile.stop_word import StopPhrase, StopWord
from robovox.sim.realtime.audio import FRAME_SAMPLES, SAMPLE_RATE
from robovox.sim.speech import say, speech_tools, with_noise

pytestmark = pytest.mark.skipif(speech_tools() is not None, reason=speech_tools() or "")

CONFIG = StopWord(phrases=[StopPhrase(phrase="emergency stop", threshold=1e-18)], phone_loop_penalty=1e-8)


def frames(pcm: bytes, pad_s: float = 0.5) -> list[AudioFrame]:
    """Mono 48 kHz samples as aiortc's Opus decoder hands them over: 20 ms s16 stereo frames."""
    pad = bytes(int(SAMPLE_RATE * pad_s) * 2)
    pcm = pad + pcm + pad
    pcm += bytes(-len(pcm) % (FRAME_SAMPLES * 2))
    out = []
    for start in range(0, len(pcm), FRAME_SAMPLES * 2):
        mono = pcm[start : start + FRAME_SAMPLES * 2]
        stereo = b"".join(mono[i : i + 2] * 2 for i in range(0, len(mono), 2))
        frame = AudioFrame(format="s16", layout="stereo", samples=FRAME_SAMPLES)
        frame.planes[0].update(stereo)
        frame.sample_rate = SAMPLE_RATE
        out.append(frame)
    return out


def heard(spotter: Spotter, text: str, voice: str = "en-us") -> list[str]:
    hits = [spotter.process(spotter.resample(RawFrame.of(f, 0.0))) for f in frames(say(text, voice))]
    return [hit.phrase for hit in hits if hit is not None]


def test_the_spotter_hears_the_stop_phrase_and_not_an_ordinary_command() -> None:
    spotter = Spotter(CONFIG)
    assert heard(spotter, "emergency stop") == ["emergency stop"]
    assert heard(spotter, "emergency stop", voice="en-gb") == ["emergency stop"]
    assert heard(spotter, "start cleaning and turn right") == []
    assert heard(spotter, "stop cleaning") == []


def test_a_reset_spotter_starts_from_the_models_cepstral_mean_whoever_spoke_before() -> None:
    """The pool hands a spotter from stream to stream: the last stream's speaker, microphone and
    noise (the cepstral mean its decoder learnt) must not be where the next stream starts."""
    initial = Spotter(CONFIG)._decoder.get_cmn(False)
    reused = Spotter(CONFIG)
    noisy = with_noise(say("the robot is stuck near the door", "en-gb-scotland"), 3000.0, 1)
    for frame in frames(noisy) + frames(say("emergency stop")):
        reused.process(reused.resample(RawFrame.of(frame, 0.0)))
    assert reused._decoder.get_cmn(False) != initial  # it did learn from them
    reused.reset()
    assert reused._decoder.get_cmn(False) == initial
    assert heard(reused, "emergency stop") == ["emergency stop"]


def test_the_resampler_turns_48_khz_stereo_into_16_khz_mono() -> None:
    spotter = Spotter(CONFIG)
    out = b"".join(spotter.resample(RawFrame.of(f, 0.0)) for f in frames(bytes(SAMPLE_RATE * 2), pad_s=0))
    assert abs(len(out) - 16_000 * 2) <= 2 * 64, "one second of audio is 16000 samples (the filter's delay aside)"


def test_a_word_outside_the_dictionary_is_named() -> None:
    with pytest.raises(StopWordError, match="not in the spotter's English dictionary: xyzzyq"):
        Spotter(StopWord(phrases=[StopPhrase(phrase="xyzzyq stop")]))


async def test_the_listener_hears_in_its_thread_and_stops_from_it() -> None:
    stops: asyncio.Queue[Heard] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    stopped_in: list[str] = []

    def stop(heard: Heard) -> None:  # the stop is not made to wait for the loop
        stopped_in.append(threading.current_thread().name)
        loop.call_soon_threadsafe(stops.put_nowait, heard)

    listener = StopWordListener("r1", CONFIG, stop)
    await listener.start(1)
    try:
        for frame in frames(say("emergency stop")):
            listener.feed("client-1", frame)
        first = await asyncio.wait_for(stops.get(), 20)
        assert first.phrase == "emergency stop" and first.stream == "client-1" and 0 < first.score <= 1
        assert first.describe().startswith("'emergency stop' score ") and first.heard_at >= first.frame_received
        stats = listener.stats["client-1"]
        assert stats.frames > 50 and stats.dropped == 0 and stats.cpu_s < stats.audio_s
        assert stopped_in == ["stop word client-1"], "stopped from the stream's own thread"
    finally:
        await listener.close()
