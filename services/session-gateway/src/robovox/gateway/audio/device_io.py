"""Opening the robot's audio devices with aiortc and PyAV (every call here blocks: the
robot's devices run them in threads): the microphone as a ``MediaPlayer``, the
speaker as a PyAV output of 16-bit stereo PCM (a WAV file or a sound device)."""

from __future__ import annotations

import contextlib
import fractions
from pathlib import Path

import av
from aiortc.contrib.media import MediaPlayer
from av import AudioFrame

from robovox.gateway.audio.hub import copy_frame
from robovox.gateway.errors import GatewayError
from robovox.shared.profile.audio import AudioDevice, AudioFileSink, AudioFileSource

SPEAKER_RATE = 48_000


class AudioDeviceError(GatewayError):
    """A microphone or speaker that cannot be used as configured."""


def require_format(device: AudioDevice) -> None:
    if device.format not in av.formats_available:
        hint = " (use format: alsa, device: pulse: ALSA's PulseAudio plugin)" if device.format == "pulse" else ""
        raise AudioDeviceError(f"this FFmpeg build has no {device.format} device{hint}")


def open_player(config: AudioDevice | AudioFileSource) -> MediaPlayer:
    """Open the microphone (blocking: run it in a thread)."""
    if isinstance(config, AudioFileSource):
        player = MediaPlayer(config.path, loop=config.loop)
    else:
        require_format(config)
        player = MediaPlayer(config.device, format=config.format, options=dict(config.options))
    if player.audio is None:
        raise AudioDeviceError("it has no audio stream")
    return player


def restamped(frame: AudioFrame, pts: int) -> AudioFrame:
    copy = copy_frame(frame)
    copy.pts = pts
    copy.time_base = fractions.Fraction(1, frame.sample_rate)
    return copy


class SpeakerOutput:
    """A PyAV output (WAV file or sound device) of 16-bit stereo PCM; every call blocks."""

    def __init__(self, config: AudioDevice | AudioFileSink) -> None:
        if isinstance(config, AudioFileSink):
            Path(config.path).parent.mkdir(parents=True, exist_ok=True)
            self._container = av.open(config.path, "w", format="wav")
        else:
            require_format(config)
            self._container = av.open(config.device, "w", format=config.format, options=dict(config.options))
        try:
            self._stream = self._container.add_stream("pcm_s16le", rate=SPEAKER_RATE, layout="stereo")
            self._container.start_encoding()  # a device opens here, not at the first frame
        except BaseException:
            with contextlib.suppress(Exception):
                self._container.close()
            raise

    def write(self, frame: AudioFrame) -> None:
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self) -> None:
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
        finally:
            self._container.close()  # a WAV file's header gets its length here
