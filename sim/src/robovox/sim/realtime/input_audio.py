"""The session's input audio buffer: incoming audio levels become server VAD turns and commits.

The emulator recognises no words: each turn it hears is transcribed as a fixed text set by the
test (``heard_text``, or the next of ``queued_texts``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from . import events
from .vad import SpeechDetector, TurnDetection
from .waiting import Signal

if TYPE_CHECKING:
    from .session import EmulatedSession

DEFAULT_HEARD_TEXT = "hello"


@dataclass(frozen=True)
class SpeechTurn:
    """A user turn heard in the incoming audio and committed to the conversation."""

    item_id: str
    transcript: str
    audio_start_ms: int
    audio_end_ms: int
    detected_by: Literal["server_vad", "commit"]
    response_id: str | None  # the response the turn started, if any


class InputAudioBuffer:
    def __init__(self, session: EmulatedSession, heard_text: str = DEFAULT_HEARD_TEXT) -> None:
        self.heard_text = heard_text
        self.queued_texts: deque[str] = deque()
        self.turns: list[SpeechTurn] = []
        self.received_ms = 0.0  # incoming audio so far: the clock of audio_start_ms/audio_end_ms
        self.speech_heard = False  # the buffer holds speech (since the last commit or clear)
        self.detection = TurnDetection.from_session(session.config)
        self._session = session
        self._detector = SpeechDetector()
        self._item_id: str | None = None  # the user item the speech under way will become (server VAD)
        self._heard_from_ms = 0.0
        self._changed = Signal()

    @property
    def speaking(self) -> bool:
        """Whether the detector hears speech right now (in either turn detection mode)."""
        return self._detector.speaking

    def configure(self, config: dict[str, Any]) -> None:
        detection = TurnDetection.from_session(config)
        if detection.enabled != self.detection.enabled:
            self._detector.reset()
            self._item_id = None
        self.detection = detection

    async def wait_for_turn(self, index: int, timeout: float) -> SpeechTurn:  # noqa: ASYNC109
        return await self._changed.wait_for(
            lambda: self.turns[index] if index < len(self.turns) else None, timeout, f"speech turn #{index}"
        )

    async def wait_until(self, check: Callable[[InputAudioBuffer], bool], timeout: float) -> None:  # noqa: ASYNC109
        await self._changed.wait_for(lambda: True if check(self) else None, timeout, "input audio")

    # ---------------------------------------------------------------- audio
    def receive(self, level: float, duration_ms: float) -> None:
        """One incoming frame of ``duration_ms`` at RMS ``level`` (fraction of full scale)."""
        start = self.received_ms
        end = self.received_ms = start + duration_ms
        detection = self.detection
        change = self._detector.feed(level >= detection.level, start, end, detection.silence_duration_ms)
        if change == "started":
            if not self.speech_heard:
                self.speech_heard, self._heard_from_ms = True, self._detector.onset_ms
            if detection.enabled:
                self._item_id = events.new_id("item")
                onset = self._audio_start_ms(self._detector.onset_ms)
                self.start_turn(self._item_id, onset, interrupt=detection.interrupt_response)
        elif change == "stopped" and detection.enabled and self._item_id is not None:
            self._end_detected_turn(int(end))
        self._changed.notify()

    def _end_detected_turn(self, end_ms: int) -> None:
        item_id, start_ms, transcript = self._item_id, self._audio_start_ms(self._heard_from_ms), self._next_text()
        assert item_id is not None
        self._item_id, self.speech_heard = None, False
        self.stop_turn(item_id, start_ms, end_ms, transcript)
        session = self._session
        response_id = None
        if self.detection.create_response and session.settings.answers_speech and session.active_response_id is None:
            response_id = session.start_response({}).id
        self.turns.append(SpeechTurn(item_id, transcript, start_ms, end_ms, "server_vad", response_id))

    # ---------------------------------------------------------------- turns
    def start_turn(self, item_id: str, audio_start_ms: int, *, interrupt: bool) -> None:
        """``speech_started``; then, if ``interrupt``, the active response is cancelled (``turn_detected``)."""
        session = self._session
        started = {"audio_start_ms": audio_start_ms, "item_id": item_id}
        session.send({"type": "input_audio_buffer.speech_started", **started})
        active = session.running_response(None)
        if interrupt and active is not None:
            active.cancel("turn_detected", audio_end="cleared")

    def stop_turn(self, item_id: str, audio_start_ms: int, audio_end_ms: int, transcript: str) -> None:
        """``speech_stopped``, then the buffer is committed as a user audio item saying ``transcript``."""
        stopped = {"audio_end_ms": audio_end_ms, "item_id": item_id}
        self._session.send({"type": "input_audio_buffer.speech_stopped", **stopped})
        self._commit(item_id, transcript, audio_end_ms - audio_start_ms)

    def commit(self) -> None:
        """``input_audio_buffer.commit``: a user audio item, transcribed as the heard text if the buffer
        holds speech (and without a transcript otherwise). Never starts a response."""
        item_id = self._item_id or events.new_id("item")
        transcript = self._next_text() if self.speech_heard else None
        start_ms, end_ms = self._audio_start_ms(self._heard_from_ms), int(self.received_ms)
        self._empty()
        self._commit(item_id, transcript, end_ms - start_ms)
        if transcript is not None:
            self.turns.append(SpeechTurn(item_id, transcript, start_ms, end_ms, "commit", None))
            self._changed.notify()

    def clear(self) -> None:
        """``input_audio_buffer.clear``: whatever was heard is dropped."""
        self._empty()
        self._session.send({"type": "input_audio_buffer.cleared"})

    # ------------------------------------------------------------ internals
    def _empty(self) -> None:
        self._detector.reset()
        self._item_id, self.speech_heard = None, False

    def _next_text(self) -> str:
        return self.queued_texts.popleft() if self.queued_texts else self.heard_text

    def _audio_start_ms(self, onset_ms: float) -> int:
        return max(0, int(onset_ms) - self.detection.prefix_padding_ms)

    def _commit(self, item_id: str, transcript: str | None, audio_ms: int) -> None:
        session = self._session
        commit_user_audio(session, item_id, transcript)
        transcription = ((session.config.get("audio") or {}).get("input") or {}).get("transcription")
        if transcript is not None and isinstance(transcription, dict):
            usage = events.transcription_usage(transcription.get("model"), audio_ms / 1000, transcript)
            done = {"item_id": item_id, "content_index": 0, "transcript": transcript, "usage": usage}
            session.send({"type": "conversation.item.input_audio_transcription.completed", **done})


def commit_user_audio(session: EmulatedSession, item_id: str, transcript: str | None) -> None:
    """The input buffer becomes a user audio item: ``committed``, then the item ``added`` and ``done``."""
    previous = session.conversation[-1]["id"] if session.conversation else None
    session.send({"type": "input_audio_buffer.committed", "item_id": item_id, "previous_item_id": previous})
    content: list[dict[str, Any]] = [{"type": "input_audio", "transcript": transcript}]
    item = {"id": item_id, "type": "message", "status": "completed", "role": "user", "content": content}
    session.add_item(item)
    session.send({"type": "conversation.item.done", "item": events.item_object(item), "previous_item_id": previous})
