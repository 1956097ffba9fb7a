"""One emulated Realtime session: an aiortc answerer, the ``oai-events`` channel, and its state."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import av
from aiortc import RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from robovox.shared.webrtc import rtc_configuration

from . import events
from .audio import VoiceTrack, drain, frame_level, frame_ms
from .config import merged, session_object
from .conversation import Conversation
from .errors import RealtimeApiError
from .handlers import handle
from .input_audio import DEFAULT_HEARD_TEXT, InputAudioBuffer, SpeechTurn
from .model import Decision, FunctionCall
from .response import ResponseRun, build_spec, stop_all
from .waiting import Signal, first_event

LOG = logging.getLogger("robovox.sim.realtime")
EVENTS_CHANNEL = "oai-events"


@dataclass(frozen=True)
class SessionSettings:
    max_session_s: float = 3600.0
    seconds_per_word: float = 0.05
    function_call_delay_s: float = 0.0
    heard_text: str = DEFAULT_HEARD_TEXT
    answers_speech: bool = True
    """False: turn detection commits what it hears but never starts a response of its own (a model
    that is slow, recycling or rate-limited, as the emergency-stop bench needs)."""


class EmulatedSession:
    def __init__(
        self,
        call_id: str,
        config: dict[str, Any],
        settings: SessionSettings,
        validation_errors: list[str],
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.call_id = call_id
        self.session_id = events.new_id("sess")
        self.conversation_id = events.new_id("conv")
        self.config = config
        self.settings = settings
        self.started_at = time.time()
        self.expires_at = int(self.started_at + settings.max_session_s)
        self.closed = False
        self.closed_event = asyncio.Event()
        self.channel_open = False
        self.received: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self.response_instructions: list[str] = []
        self.function_call_done_at: dict[str, float] = {}
        self.audio_frames_received = 0
        self.voice = VoiceTrack()
        self.store = Conversation()
        self.last_response_id: str | None = None
        self.input_audio = InputAudioBuffer(self, settings.heard_text)
        self._validation_errors = validation_errors
        self._on_change = on_change
        self._pc = RTCPeerConnection(rtc_configuration())
        self._channel: RTCDataChannel | None = None
        self._active: ResponseRun | None = None
        self._queued_calls: deque[tuple[FunctionCall, str]] = deque()
        self._runs: list[ResponseRun] = []
        self._requests_remaining = events.REQUESTS_LIMIT
        self._tokens_remaining = events.TOKENS_LIMIT
        self._tasks: set[asyncio.Task[Any]] = set()
        self._close_task: asyncio.Task[None] | None = None
        self._received_signal = Signal()
        self._sent_signal = Signal()

    # ------------------------------------------------------------- state
    @property
    def conversation(self) -> list[dict[str, Any]]:
        return self.store.items

    @property
    def active_response_id(self) -> str | None:
        return self._active.id if self._active is not None else None

    @property
    def audio_spoken(self) -> bool:
        """Whether the model has spoken yet (the voice is fixed from then on)."""
        return self.voice.spoken

    @property
    def audio_frames_sent(self) -> int:
        return self.voice.frames_sent

    @property
    def speech_frames_sent(self) -> int:
        """Frames of the tone (the model speaking), a subset of ``audio_frames_sent``."""
        return self.voice.speech_frames_sent

    @property
    def heard_text(self) -> str:
        """What every turn heard in the incoming audio is transcribed as (unless one is queued)."""
        return self.input_audio.heard_text

    @heard_text.setter
    def heard_text(self, text: str) -> None:
        self.input_audio.heard_text = text

    def hear_next(self, *texts: str) -> None:
        """Transcripts for the next turns heard, in order; then ``heard_text`` again."""
        self.input_audio.queued_texts.extend(texts)

    @property
    def speech_turns(self) -> list[SpeechTurn]:
        """Turns heard in the incoming audio and committed (server VAD or ``input_audio_buffer.commit``)."""
        return self.input_audio.turns

    async def wait_for_speech_turn(self, index: int = 0, timeout: float = 10.0) -> SpeechTurn:  # noqa: ASYNC109
        """Turn number ``index`` (0 is the first) heard in the incoming audio, once committed."""
        return await self.input_audio.wait_for_turn(index, timeout)

    async def wait_for_input_audio(
        self,
        predicate: Callable[[InputAudioBuffer], bool],
        timeout: float = 10.0,  # noqa: ASYNC109 - public API, mirrors asyncio.wait_for
    ) -> None:
        """Until ``predicate(session.input_audio)`` holds; checked after each incoming frame and commit."""
        await self.input_audio.wait_until(predicate, timeout)

    async def wait_for_client_event(
        self,
        type: str,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - public API, mirrors asyncio.wait_for
        after: int = 0,
    ) -> dict[str, Any]:
        """The first received event of ``type`` at index >= ``after`` matching ``predicate``."""
        return await self._received_signal.wait_for(
            lambda: first_event(self.received, type, predicate, after), timeout, f"client event {type}"
        )

    async def wait_for_server_event(
        self,
        type: str,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - public API, mirrors asyncio.wait_for
        after: int = 0,
    ) -> dict[str, Any]:
        """The first sent event of ``type`` at index >= ``after`` matching ``predicate``."""
        return await self._sent_signal.wait_for(
            lambda: first_event(self.sent, type, predicate, after), timeout, f"server event {type}"
        )

    # ------------------------------------------------------------ test hooks
    def call_tool(self, name: str, arguments: dict[str, Any] | str) -> str:
        """Start a response that calls ``name`` (as if the model chose to); return its call_id.

        While a response is active the call waits for it to finish (one response at a time, as
        the API), then starts before anything asked for later; calls still waiting when the
        session closes never start.
        """
        if self._close_task is not None:
            raise RuntimeError(f"session {self.call_id} is closed")
        if isinstance(arguments, str):
            decision = FunctionCall(name, raw_arguments=arguments)
        else:
            decision = FunctionCall(name, arguments)
        call_id = events.new_id("call")
        self._queued_calls.append((decision, call_id))
        self._start_queued_call()
        return call_id

    @property
    def queued_calls(self) -> int:
        """``call_tool`` calls waiting for the active response to finish."""
        return len(self._queued_calls)

    def _start_queued_call(self) -> None:
        if self._active is not None or not self._queued_calls or self._close_task is not None:
            return
        decision, call_id = self._queued_calls.popleft()
        self.start_response({}, decision, call_id=call_id)

    def say_as_user(self, text: str) -> str:
        """The user said ``text`` (whatever the incoming audio holds): server VAD events, a user audio
        item with that transcript, and a new response (an active one is cancelled once speech starts,
        as ``interrupt_response`` does). Returns the new response id."""
        item_id = events.new_id("item")
        end_ms = int((time.time() - self.started_at) * 1000)
        start_ms = max(0, end_ms - 1000)
        self.input_audio.start_turn(item_id, start_ms, interrupt=True)
        self.input_audio.stop_turn(item_id, start_ms, end_ms, text)
        return self.start_response({}).id

    async def expire(self) -> None:
        """End the session as the provider does at its maximum duration."""
        error = RealtimeApiError(events.expiry_message(self.settings.max_session_s), "session_expired")
        with contextlib.suppress(Exception):
            self.send(events.error_event(error, None))
            await self._flush()
        await self.close()

    # ------------------------------------------------------------- responses
    def start_response(
        self, params: dict[str, Any], decision: Decision | None = None, *, call_id: str | None = None
    ) -> ResponseRun:
        """Start a response for ``response.create``'s ``response`` params (or a forced decision)."""
        if self._close_task is not None:
            raise RuntimeError(f"session {self.call_id} is closed")
        out_of_band = params.get("conversation") == "none"
        spec = build_spec(
            params,
            self.config,
            self.conversation,
            conversation_id=None if out_of_band else self.conversation_id,
            seconds_per_word=self.settings.seconds_per_word,
            function_call_delay_s=self.settings.function_call_delay_s,
            decision=decision,
        )
        run = ResponseRun(self, spec, call_id)
        self.response_instructions.append(spec.instructions)
        self._runs.append(run)
        self.last_response_id = run.id
        if not out_of_band:
            self._active = run
        try:
            run.start()
        except Exception:
            self.response_finished(run)
            raise
        return run

    def response_finished(self, run: ResponseRun) -> None:
        with contextlib.suppress(ValueError):
            self._runs.remove(run)
        if self._active is run:
            self._active = None
            if self._queued_calls:
                # A turn of the loop later: whatever finished this response (a cancel for speech,
                # ``say_as_user``) may start its own first; the call then waits for that one.
                asyncio.get_running_loop().call_soon(self._start_queued_call)

    def running_response(self, response_id: str | None) -> ResponseRun | None:
        """The response with this id if it is still running; by default the active one."""
        if response_id is None:
            return self._active
        return next((run for run in self._runs if run.id == response_id), None)

    def next_rate_limits(self, tokens: int) -> list[dict[str, Any]]:
        self._requests_remaining = max(0, self._requests_remaining - 1)
        self._tokens_remaining = max(0, self._tokens_remaining - tokens)
        return events.rate_limits(self._requests_remaining, self._tokens_remaining)

    def function_call_sent(self, call_id: str) -> None:
        self.function_call_done_at[call_id] = time.time()

    def add_item(self, item: dict[str, Any], previous_item_id: str | None = None) -> str | None:
        previous = self.store.insert(item, previous_item_id)
        self.send({"type": "conversation.item.added", "item": events.item_object(item), "previous_item_id": previous})
        return previous

    # ---------------------------------------------------------------- wire
    def send(self, event: dict[str, Any]) -> dict[str, Any]:
        """Validate, send and record one server event (dropped if the channel is not open)."""
        event = {"event_id": events.new_id("event"), **event}
        try:
            events.check_server_event(event)
        except events.InvalidServerEventError as exc:
            self._validation_errors.append(f"server event {event.get('type')}: {exc}")
            raise
        channel = self._channel
        if channel is None or channel.readyState != "open":
            LOG.debug("[%s] channel not open, dropping %s", self.call_id, event["type"])
            return event
        payload = json.dumps(event)
        channel.send(payload)
        self.sent.append(json.loads(payload))
        self._sent_signal.notify()
        return event

    def _on_message(self, message: str | bytes) -> None:
        try:
            self._handle_message(message)
        except Exception:  # a bug here must not reach aiortc's SCTP loop
            LOG.exception("[%s] failed to handle client event %.200r", self.call_id, message)

    def _handle_message(self, message: str | bytes) -> None:
        try:
            _, data = events.parse_client_event(message)
        except events.InvalidClientEventError as exc:
            self._validation_errors.append(f"client event {exc.event_type or '?'}: {exc.error.message}")
            self.received.append(events.as_record(message))
            self._received_signal.notify()
            self.send(events.error_event(exc.error, exc.event_id))
            return
        self.received.append(data)
        self._received_signal.notify()
        try:
            handle(self, data)
        except RealtimeApiError as error:
            self.send(events.error_event(error, data.get("event_id")))

    # ------------------------------------------------------------ lifecycle
    async def accept(self, offer_sdp: str) -> str:
        """Answer the client's offer; raises ``RealtimeApiError`` (400) for an SDP aiortc cannot use."""
        pc = self._pc
        pc.on("datachannel", self._on_datachannel)
        pc.on("track", self._on_track)
        pc.on("connectionstatechange", self._on_connection_state)
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            pc.addTrack(self.voice)
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:
            await self.close()
            raise RealtimeApiError(f"Invalid SDP offer: {exc}", "invalid_offer", "sdp") from None
        self._spawn(self._expire_after(self.settings.max_session_s))
        return pc.localDescription.sdp

    def schedule_close(self) -> None:
        if self._close_task is None:
            self._close_task = asyncio.get_running_loop().create_task(self._close())

    async def close(self) -> None:
        """Close the peer connection (idempotent); the session is then ``closed``."""
        self.schedule_close()
        assert self._close_task is not None
        if self._close_task is not asyncio.current_task():
            await asyncio.shield(self._close_task)

    async def _close(self) -> None:
        self._active = None
        await stop_all(list(self._runs))
        current = asyncio.current_task()
        tasks = [task for task in self._tasks if task is not current]
        for task in tasks:
            task.cancel()
        await self._pc.close()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.closed = True
        self.closed_event.set()
        self._received_signal.notify()
        self._sent_signal.notify()
        self._on_change()
        LOG.info("[%s] session closed", self.call_id)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _expire_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await self.expire()

    async def _flush(self, timeout: float = 1.0) -> None:  # noqa: ASYNC109
        channel = self._channel
        if channel is None or channel.readyState != "open" or channel.bufferedAmount == 0:
            return
        drained = asyncio.Event()
        channel.once("bufferedamountlow", drained.set)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(drained.wait(), timeout)

    def _on_datachannel(self, channel: RTCDataChannel) -> None:
        if channel.label != EVENTS_CHANNEL or self._channel is not None:
            LOG.warning("[%s] ignoring data channel %r", self.call_id, channel.label)
            return
        self._channel = channel
        channel.on("message", self._on_message)
        channel.on("close", self.schedule_close)
        self.channel_open = True
        try:
            self.send({"type": "session.created", "session": self.session_object()})
        except Exception:
            LOG.exception("[%s] failed to send session.created", self.call_id)
        self._on_change()

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio":
            self._spawn(drain(track, self._on_frame))

    def _on_frame(self, frame: av.AudioFrame) -> None:
        self.audio_frames_received += 1
        if self._close_task is not None:
            return
        try:
            self.input_audio.receive(frame_level(frame), frame_ms(frame))
        except Exception:  # a bug here must not stop the track being read
            LOG.exception("[%s] failed to handle an incoming audio frame", self.call_id)

    def _on_connection_state(self) -> None:
        if self._pc.connectionState in ("failed", "closed"):
            self.schedule_close()

    def session_object(self) -> dict[str, Any]:
        return session_object(self.session_id, self.config, self.expires_at)

    def update_config(self, update: dict[str, Any]) -> None:
        self.config = merged(self.config, update)
        self.input_audio.configure(self.config)
