"""Energy-based voice activity detection: the emulator's stand-in for the API's server VAD."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

MIN_SPEECH_MS = 60  # loud audio must last this long before it counts as speech
# The API's documented server_vad defaults, used for fields a session leaves out.
DEFAULT_THRESHOLD = 0.5
DEFAULT_PREFIX_PADDING_MS = 300
DEFAULT_SILENCE_DURATION_MS = 500
# semantic_vad has no thresholds; its eagerness sets how long a pause ends a turn.
SEMANTIC_SILENCE_MS = {"low": 1000, "medium": 500, "auto": 500, "high": 250}

Change = Literal["started", "stopped"]


def threshold_level(threshold: float) -> float:
    """The RMS level (fraction of full scale) that counts as speech for a VAD ``threshold`` in 0..1:
    0 is -45 dBFS, the default 0.5 is -30 dBFS (above the emulator's own voice), 1 is -15 dBFS."""
    clamped = min(1.0, max(0.0, threshold))
    return float(10 ** ((-45 + 30 * clamped) / 20))


@dataclass(frozen=True)
class TurnDetection:
    """``audio.input.turn_detection`` as the detector uses it; ``enabled`` is False for ``null``."""

    enabled: bool = True
    level: float = threshold_level(DEFAULT_THRESHOLD)
    prefix_padding_ms: int = DEFAULT_PREFIX_PADDING_MS
    silence_duration_ms: int = DEFAULT_SILENCE_DURATION_MS
    create_response: bool = True
    interrupt_response: bool = True

    @classmethod
    def from_session(cls, config: dict[str, Any]) -> TurnDetection:
        audio_input = (config.get("audio") or {}).get("input") or {}
        if "turn_detection" not in audio_input:
            return cls()
        raw = audio_input["turn_detection"]
        if not isinstance(raw, dict):
            return cls(enabled=False)
        silence: float
        if raw.get("type") == "semantic_vad":
            silence = SEMANTIC_SILENCE_MS.get(str(raw.get("eagerness") or "auto"), DEFAULT_SILENCE_DURATION_MS)
        else:
            silence = _number(raw.get("silence_duration_ms"), DEFAULT_SILENCE_DURATION_MS)
        return cls(
            enabled=True,
            level=threshold_level(_number(raw.get("threshold"), DEFAULT_THRESHOLD)),
            prefix_padding_ms=int(_number(raw.get("prefix_padding_ms"), DEFAULT_PREFIX_PADDING_MS)),
            silence_duration_ms=int(silence),
            create_response=raw.get("create_response") is not False,
            interrupt_response=raw.get("interrupt_response") is not False,
        )


def _number(value: Any, default: float) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


class SpeechDetector:
    """Speech starts once frames stay at or above the level for ``MIN_SPEECH_MS`` and stops after
    ``silence_ms`` below it. Times are milliseconds of audio received."""

    def __init__(self) -> None:
        self.speaking = False
        self.onset_ms = 0.0  # where the current (or last) speech began
        self._loud_since: float | None = None
        self._quiet_since: float | None = None

    def feed(self, loud: bool, start_ms: float, end_ms: float, silence_ms: float) -> Change | None:
        """One frame covering ``start_ms``..``end_ms``; returns the change it causes, if any."""
        if not self.speaking:
            if not loud:
                self._loud_since = None
                return None
            if self._loud_since is None:
                self._loud_since = start_ms
            if end_ms - self._loud_since < MIN_SPEECH_MS:
                return None
            self.speaking, self.onset_ms = True, self._loud_since
            self._loud_since = self._quiet_since = None
            return "started"
        if loud:
            self._quiet_since = None
            return None
        if self._quiet_since is None:
            self._quiet_since = start_ms
        if end_ms - self._quiet_since < silence_ms:
            return None
        self.reset()
        return "stopped"

    def reset(self) -> None:
        self.speaking = False
        self._loud_since = self._quiet_since = None
