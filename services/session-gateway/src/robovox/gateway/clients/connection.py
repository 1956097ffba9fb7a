"""One client joined to a robot over WebRTC: a console or any page written for
the Realtime API (see ``docs/console.md``).

The gateway answers the client's offer itself. The client hears the model
(through the robot's ``AudioHub``), speaks to it when it holds the microphone,
and sees the session's events on its ``oai-events`` channel. What it sends is
checked here: user text, ``response.create`` (through the robot's sequencer,
with the robot's own instructions), ``response.cancel``, input buffer control
from the microphone holder, and the ``robovox.mic.*`` requests. It can never
change the robot's session, tools or instructions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from typing import TYPE_CHECKING, Any

from aiortc import MediaStreamTrack, RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame

from robovox.gateway.audio.hub import MicRefusedError, copy_frame
from robovox.gateway.clients.roster import event_text
from robovox.gateway.errors import ApiError, ApiErrorCode, GatewayError
from robovox.gateway.realtime.peer import EVENTS_CHANNEL, AudioOutbox
from robovox.gateway.realtime.sequencer import ResponseRequest
from robovox.shared.messages import InboxEntry, InboxKind
from robovox.shared.webrtc import rtc_configuration

if TYPE_CHECKING:
    from robovox.gateway.robot.voice import RobotVoice

log = logging.getLogger(__name__)

MIC_ONLY_EVENTS = frozenset({"input_audio_buffer.commit", "input_audio_buffer.clear"})
MAX_TEXT = 4000


class OfferError(GatewayError):
    """The client's SDP offer cannot be answered."""


class ClientLink:
    def __init__(self, robot: RobotVoice, operator: str, stun_urls: list[str]) -> None:
        self.robot = robot
        self.operator = operator
        self.client_id = f"cli_{secrets.token_hex(6)}"
        self.call_id = f"rtc_rv_{secrets.token_hex(12)}"
        self.closed = asyncio.Event()
        self.joined = asyncio.Event()
        """Set when the client's ``oai-events`` channel is open."""
        self._pc = RTCPeerConnection(rtc_configuration(stun_urls))
        self._outbox = AudioOutbox()
        self._channel: RTCDataChannel | None = None
        self._events: asyncio.Queue[str] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._item_queued_to_speak = False
        self._wire()

    @property
    def robot_id(self) -> str:
        return self.robot.robot_id

    def _wire(self) -> None:
        pc = self._pc

        @pc.on("datachannel")
        def _channel(channel: RTCDataChannel) -> None:
            if channel.label != EVENTS_CHANNEL or self._channel is not None:
                return
            self._channel = channel
            channel.on("message", self._on_message)
            channel.on("close", lambda: self._spawn(self.close()))
            self._join()

        @pc.on("track")
        def _track(track: MediaStreamTrack) -> None:
            if track.kind == "audio":
                self._spawn(self._read_microphone(track))

        @pc.on("connectionstatechange")
        def _state() -> None:
            if pc.connectionState in ("failed", "closed"):
                self._spawn(self.close())

    async def answer(self, offer_sdp: str) -> str:
        """Apply the client's offer and return the answer (with its ICE candidates)."""
        if "m=application" not in offer_sdp:
            raise OfferError("the offer has no data channel: create the 'oai-events' channel before the offer")
        try:
            await self._pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        except ValueError as exc:
            raise OfferError(f"the offer cannot be applied: {exc}") from None
        if any(t.kind == "audio" for t in self._pc.getTransceivers()):
            self._pc.addTrack(self._outbox)
        await self._pc.setLocalDescription(await self._pc.createAnswer())
        return str(self._pc.localDescription.sdp)

    # Joining and leaving
    def _join(self) -> None:
        if self.joined.is_set() or self.closed.is_set():
            return
        self.joined.set()
        hub = self.robot.audio
        hub.add_speaker(self.client_id, self._play)
        session = self.robot.live_session
        if session is not None:
            for text in (session.created_text, session.rate_limits_text):
                if text:
                    self.send_text(text)
        self.send_text(self.robot.session_event().encoded())
        if not hub.offer_mic(self.client_id):
            self.robot.clients.announce(hub.mic_holder)  # offer_mic announced it otherwise
        self._spawn(self._handle_events())
        log.info("%s: client %s (%s) joined", self.robot_id, self.client_id, self.operator)

    async def close(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        robot = self.robot
        robot.clients.remove(self.client_id)
        robot.audio.remove_speaker(self.client_id)
        holder = robot.audio.mic_holder
        robot.audio.release_mic(self.client_id)
        if robot.audio.mic_holder == holder:  # a moved microphone has been announced already
            robot.clients.announce(holder)
        self._outbox.stop()
        await self._pc.close()
        current = asyncio.current_task()
        others = [t for t in self._tasks if t is not current]
        for task in others:
            task.cancel()
        if others:
            await asyncio.wait(others, timeout=1.0)
        log.info("%s: client %s left", self.robot_id, self.client_id)

    # Audio
    def _play(self, frame: AudioFrame) -> None:
        self._outbox.put(copy_frame(frame))

    async def _read_microphone(self, track: MediaStreamTrack) -> None:
        """Always read the client's audio (unread tracks grow aiortc's buffers); the hub decides."""
        hub = self.robot.audio
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if isinstance(frame, AudioFrame):
                    hub.feed(self.client_id, frame)

    # Events
    def send_text(self, text: str) -> None:
        channel = self._channel
        if channel is not None and channel.readyState == "open":
            channel.send(text)

    def _send_error(self, error: ApiError, event_id: str | None) -> None:
        self.send_text(event_text(error.event(event_id)))

    def _on_message(self, message: str | bytes) -> None:
        self._events.put_nowait(message if isinstance(message, str) else message.decode(errors="replace"))

    async def _handle_events(self) -> None:
        """One at a time, in the order sent: an item is in the conversation before its response."""
        while True:
            raw = await self._events.get()
            event_id: str | None = None
            try:
                event = json.loads(raw)
                if not isinstance(event, dict):
                    raise ApiError(ApiErrorCode.INVALID_EVENT, "a client event is a JSON object")
                event_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
                await self._handle(event)
            except json.JSONDecodeError:
                self._send_error(ApiError(ApiErrorCode.INVALID_JSON, "the message is not JSON"), None)
            except ApiError as exc:
                self._send_error(exc, event_id)
            except Exception:
                log.exception("%s: client %s event failed", self.robot_id, self.client_id)
                self._send_error(
                    ApiError(ApiErrorCode.SERVER_ERROR, "the gateway could not handle this event"), event_id
                )

    async def _handle(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        queued_to_speak, self._item_queued_to_speak = self._item_queued_to_speak, False
        if kind == "conversation.item.create":
            await self._user_text(event)
        elif kind == "response.create":
            if not queued_to_speak:  # the queued item already asks for its answer
                self.robot.request_response(ResponseRequest(source=self._source))
        elif kind == "response.cancel":
            self.robot.cancel_response()
        elif kind in MIC_ONLY_EVENTS:
            if self.robot.audio.mic_holder != self.client_id:
                raise ApiError(
                    ApiErrorCode.NOT_MIC_HOLDER, "only the client holding the microphone controls its buffer"
                )
            if not self.robot.send_to_model({"type": kind}):
                raise ApiError(ApiErrorCode.SESSION_NOT_LIVE, "the robot's session is not live")
        elif kind == "robovox.mic.take":
            try:
                self.robot.audio.take_mic(self.client_id)
            except MicRefusedError as exc:
                raise ApiError(ApiErrorCode.MIC_HELD, str(exc)) from None
        elif kind == "robovox.mic.release":
            self.robot.audio.release_mic(self.client_id)
        else:
            raise ApiError(
                ApiErrorCode.NOT_ALLOWED_FOR_CLIENTS,
                f"{kind!r} is not accepted from clients: the gateway owns the robot's session",
            )

    @property
    def _source(self) -> str:
        return f"operator:{self.operator}"

    async def _user_text(self, event: dict[str, Any]) -> None:
        text = _user_message_text(event.get("item"))
        entry = InboxEntry(
            kind=InboxKind.USER_MESSAGE, robot_id=self.robot_id, text=text, speak=False, source=self._source
        )
        if self.robot.live_session is None:
            # Queued for the next session: it asks for its own answer, so that the
            # answer cannot come before the item.
            entry = entry.model_copy(update={"speak": True})
            self._item_queued_to_speak = True
        await self.robot.tell(entry)

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _user_message_text(item: Any) -> str:
    if not isinstance(item, dict) or item.get("type") != "message" or item.get("role") != "user":
        raise ApiError(ApiErrorCode.NOT_ALLOWED_FOR_CLIENTS, "clients may add only user messages to the conversation")
    parts = item.get("content")
    texts = [
        p["text"]
        for p in parts or []
        if isinstance(p, dict) and p.get("type") == "input_text" and isinstance(p.get("text"), str)
    ]
    text = " ".join(t.strip() for t in texts if t.strip())
    if not text:
        raise ApiError(ApiErrorCode.INVALID_ITEM, "a user message needs input_text content")
    if len(text) > MAX_TEXT:
        raise ApiError(ApiErrorCode.INVALID_ITEM, f"a user message is at most {MAX_TEXT} characters")
    return text
