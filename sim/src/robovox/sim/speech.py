"""Synthetic speech for the stop word's tests and bench: espeak-ng's voices, resampled by sox
to WebRTC's 48 kHz mono s16, with noise added on request, and a microphone track that plays it.

espeak-ng and sox are Debian packages (``make speech-deps`` installs them).
"""

from __future__ import annotations

import array
import functools
import random
import shutil
import subprocess
import time

from robovox.sim.realtime.audio import FRAME_SAMPLES, SAMPLE_RATE, PacedTrack

_SILENCE = bytes(FRAME_SAMPLES * 2)


def speech_tools() -> str | None:
    """What is missing for synthetic speech, or None."""
    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    return f"{' and '.join(missing)} not installed (make speech-deps)" if missing else None


def say(text: str, voice: str = "en-us", speed: int = 175, rate: int = SAMPLE_RATE) -> bytes:
    """``text`` spoken by espeak-ng: s16 mono samples at ``rate``."""
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text], capture_output=True, check=True
    ).stdout
    sox = ["sox", "-t", "wav", "-", "-t", "raw", "-r", str(rate), "-c", "1", "-b", "16", "-e", "signed-integer", "-"]
    sox += [
        "silence",
        "1",
        "0.01",
        "0.5%",
        "reverse",
        "silence",
        "1",
        "0.01",
        "0.5%",
        "reverse",
    ]  # no silence around it
    return subprocess.run(sox, input=wav, capture_output=True, check=True).stdout


@functools.cache
def _noise(amplitude: float, seed: int) -> array.array[int]:
    noise = random.Random(seed)
    return array.array("h", (round(noise.gauss(0.0, amplitude)) for _ in range(SAMPLE_RATE * 4)))


def with_noise(pcm: bytes, amplitude: float, seed: int) -> bytes:
    """White noise of standard deviation ``amplitude`` (of 32767) added to s16 samples (4 s of
    noise per amplitude, taken from an offset given by ``seed``)."""
    noise = _noise(amplitude, 0)
    offset = seed % len(noise)
    samples = array.array("h", pcm)
    mixed = (max(-32768, min(32767, v + noise[(offset + i) % len(noise)])) for i, v in enumerate(samples))
    return array.array("h", mixed).tobytes()


class SpeakingMicrophone(PacedTrack):
    """A client's microphone: silence, except what ``speak`` queues, paced in real time.

    ``ended`` is ``time.monotonic()`` when the last frame of the latest speech was handed to
    WebRTC: the end of the phrase as the gateway could first hear it."""

    def __init__(self) -> None:
        super().__init__()
        self._queued: list[bytes] = []
        self.ended: float | None = None
        self.speaking = False

    def speak(self, pcm: bytes) -> None:
        """Queue 48 kHz s16 mono samples, after anything already queued."""
        frame = FRAME_SAMPLES * 2
        pcm += bytes(-len(pcm) % frame)
        self._queued.extend(pcm[i : i + frame] for i in range(0, len(pcm), frame))
        self.ended = None
        self.speaking = True

    def next_pcm(self) -> bytes:
        if not self._queued:
            return _SILENCE
        pcm = self._queued.pop(0)
        if not self._queued:
            self.ended = time.monotonic()
            self.speaking = False
        return pcm
