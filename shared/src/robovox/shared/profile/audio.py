"""The ``audio`` section of a robot profile: the robot's own microphone and speaker.

For robots with a microphone and a loudspeaker of their own, the session gateway
captures the microphone (it holds the model's ear whenever no client does) and
plays the model's voice on the speaker. Each is a sound device (ALSA, or
PulseAudio where FFmpeg has it) or a file, for tests and demos::

    audio:
      microphone: {kind: device, format: alsa, device: "plughw:1,0"}
      speaker: {kind: file, path: /var/lib/robovox/cleaner-1-out.wav}
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AudioDevice(_Strict):
    """A sound device, opened through FFmpeg's device layer."""

    kind: Literal["device"]
    format: Literal["alsa", "pulse"]
    """FFmpeg's input/output device: ``alsa`` (``default``, ``hw:1,0``, ``plughw:1,0``, ``pulse``) or ``pulse``."""
    device: str = Field(default="default", min_length=1)
    options: dict[str, str] = Field(default_factory=dict)
    """FFmpeg device options, e.g. ``{sample_rate: "16000", channels: "1"}`` for a microphone."""


class AudioFileSource(_Strict):
    """A recording played as the microphone, in real time (any format FFmpeg reads)."""

    kind: Literal["file"]
    path: str = Field(min_length=1)
    loop: bool = False
    """Start over at the end (otherwise the microphone falls silent)."""


class AudioFileSink(_Strict):
    """A WAV file the model's voice is written to (only the audio received: no silence in between)."""

    kind: Literal["file"]
    path: str = Field(min_length=1)

    @field_validator("path")
    @classmethod
    def _wav(cls, path: str) -> str:
        if not path.lower().endswith(".wav"):
            raise ValueError("the speaker is written as WAV: give a path ending in .wav")
        return path


def _kind(value: Any) -> Any:
    return value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)


_KIND = Discriminator(
    _kind,
    custom_error_type="audio_kind",
    custom_error_message="give kind: device (with format and device) or kind: file (with path)",
)
Microphone = Annotated[Annotated[AudioDevice, Tag("device")] | Annotated[AudioFileSource, Tag("file")], _KIND]
Speaker = Annotated[Annotated[AudioDevice, Tag("device")] | Annotated[AudioFileSink, Tag("file")], _KIND]


class RobotAudio(_Strict):
    microphone: Microphone | None = None
    """Heard by the model whenever no client holds the microphone."""
    speaker: Speaker | None = None
    """Plays everything the model says."""


def describe(source: AudioDevice | AudioFileSource | AudioFileSink) -> str:
    """How logs name a device or file: ``alsa:plughw:1,0``, ``file:/tmp/in.wav``."""
    if isinstance(source, AudioDevice):
        return f"{source.format}:{source.device}"
    return f"file:{source.path}"
