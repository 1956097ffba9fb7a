"""The emulated model's voice: 20 ms frames of 48 kHz mono audio, paced in real time."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import math
import struct
import time
from collections.abc import Callable

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

SAMPLE_RATE = 48_000
FRAME_SAMPLES = 960  # 20 ms
TONE_HZ = 400  # 120 samples per period: a whole number of periods per frame
TONE_AMPLITUDE = 1_600  # about -26 dBFS: quiet
_TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
_SILENCE = bytes(FRAME_SAMPLES * 2)
_TONE = struct.pack(
    f"<{FRAME_SAMPLES}h",
    *(round(TONE_AMPLITUDE * math.sin(2 * math.pi * TONE_HZ * n / SAMPLE_RATE)) for n in range(FRAME_SAMPLES)),
)


class VoiceTrack(MediaStreamTrack):
    """A quiet tone while any response is speaking, silence otherwise."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._speakers: set[str] = set()
        self.spoken = False
        self._start: float | None = None
        self._pts = 0
        self.frames_sent = 0
        self.speech_frames_sent = 0

    @property
    def speaking(self) -> bool:
        return bool(self._speakers)

    def start_speaking(self, speaker: str) -> None:
        self._speakers.add(speaker)
        self.spoken = True

    def stop_speaking(self, speaker: str) -> None:
        self._speakers.discard(speaker)

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            self._pts += FRAME_SAMPLES
            delay = self._start + self._pts / SAMPLE_RATE - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        speaking = self.speaking
        frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME_SAMPLES)
        frame.planes[0].update(_TONE if speaking else _SILENCE)
        frame.pts = self._pts
        frame.sample_rate = SAMPLE_RATE
        frame.time_base = _TIME_BASE
        self.frames_sent += 1
        self.speech_frames_sent += speaking
        return frame


async def drain(track: MediaStreamTrack, on_frame: Callable[[], None]) -> None:
    """Read and drop every frame of an incoming track until it ends (aiortc buffers unread frames)."""
    with contextlib.suppress(MediaStreamError):
        while True:
            await track.recv()
            on_frame()
