"""Audio on the wire: paced 20 ms frames of 48 kHz mono out (the model's voice), levels in."""

from __future__ import annotations

import array
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
FRAME_MS = 1000 * FRAME_SAMPLES / SAMPLE_RATE
TONE_HZ = 400  # 120 samples per period: a whole number of periods per frame
TONE_AMPLITUDE = 1_000  # about -33 dBFS RMS: quiet, below the default VAD threshold if echoed back
LEVEL_STRIDE = 4  # measure every 4th sample: plenty for an energy estimate, a quarter of the work
_TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
_SILENCE = bytes(FRAME_SAMPLES * 2)
# Sample type code and full scale of the formats aiortc's decoders (s16) and others produce.
_SAMPLE_FORMATS = {"s16": ("h", 32768.0), "s16p": ("h", 32768.0), "flt": ("f", 1.0), "fltp": ("f", 1.0)}


def tone(hz: int, amplitude: int) -> bytes:
    """One frame of a sine tone as s16 mono (a multiple of 50 Hz fits whole periods in a frame)."""
    return struct.pack(
        f"<{FRAME_SAMPLES}h",
        *(round(amplitude * math.sin(2 * math.pi * hz * n / SAMPLE_RATE)) for n in range(FRAME_SAMPLES)),
    )


_TONE = tone(TONE_HZ, TONE_AMPLITUDE)


def frame_level(frame: av.AudioFrame) -> float:
    """RMS level of a frame as a fraction of full scale (0.0 for formats it does not read)."""
    kind = _SAMPLE_FORMATS.get(frame.format.name)
    if kind is None:
        return 0.0
    samples = array.array(kind[0])
    samples.frombytes(memoryview(frame.planes[0]))
    picked = samples[::LEVEL_STRIDE]
    if not picked:
        return 0.0
    return math.hypot(*picked) / math.sqrt(len(picked)) / kind[1]


def frame_ms(frame: av.AudioFrame) -> float:
    return 1000 * frame.samples / frame.sample_rate if frame.sample_rate else FRAME_MS


class PacedTrack(MediaStreamTrack):
    """An outgoing audio track of 20 ms s16 mono frames paced in real time; ``next_pcm`` fills them."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._start: float | None = None
        self._pts = 0
        self.frames_sent = 0

    def next_pcm(self) -> bytes:
        """The next frame's samples (``FRAME_SAMPLES`` s16 values)."""
        return _SILENCE

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
        frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME_SAMPLES)
        frame.planes[0].update(self.next_pcm())
        frame.pts = self._pts
        frame.sample_rate = SAMPLE_RATE
        frame.time_base = _TIME_BASE
        self.frames_sent += 1
        return frame


class VoiceTrack(PacedTrack):
    """A quiet tone while any response is speaking, silence otherwise."""

    def __init__(self) -> None:
        super().__init__()
        self._speakers: set[str] = set()
        self.spoken = False
        self.speech_frames_sent = 0

    @property
    def speaking(self) -> bool:
        return bool(self._speakers)

    def start_speaking(self, speaker: str) -> None:
        self._speakers.add(speaker)
        self.spoken = True

    def stop_speaking(self, speaker: str) -> None:
        self._speakers.discard(speaker)

    def next_pcm(self) -> bytes:
        if not self._speakers:
            return _SILENCE
        self.speech_frames_sent += 1
        return _TONE


async def drain(track: MediaStreamTrack, on_frame: Callable[[av.AudioFrame], None]) -> None:
    """Read every frame of an incoming track until it ends (aiortc buffers unread frames)."""
    with contextlib.suppress(MediaStreamError):
        while True:
            frame = await track.recv()
            if isinstance(frame, av.AudioFrame):
                on_frame(frame)
