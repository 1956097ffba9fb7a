"""One WebRTC peer connection to the Realtime API: an audio track each way and
the ``oai-events`` data channel.

The outgoing audio track sends only when there is something to send (a client's
or the robot's microphone): an idle robot costs no encoder time.

The model's audio is dropped until something listens (``listen(True)``: a
client or the robot's own speaker, through the robot's ``AudioHub``): at the
socket by the ``RtpGate``, and any packet let through by aiortc's own switch
before its jitter buffer and Opus decoder. aiortc decodes every received track
in a thread of its own and hands each 20 ms frame to the event loop: fifty
voices nobody hears would cost a core and tens of milliseconds of loop lag.
Decoded frames that are produced are always read; an unread track grows
aiortc's buffers without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any

from aiortc import MediaStreamTrack, RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame

from robovox.gateway.errors import GatewayError
from robovox.gateway.realtime.fit import MessageTooLargeError, encoded
from robovox.gateway.realtime.rtp_gate import RtpGate
from robovox.gateway.realtime.signaling import CallAnswer, RealtimeSignaling
from robovox.shared.aio import wait_first
from robovox.shared.webrtc import IceServer, rtc_configuration

log = logging.getLogger(__name__)

EVENTS_CHANNEL = "oai-events"
SAMPLE_RATE = 48_000
DEFAULT_MAX_MESSAGE_SIZE = 65_536
"""What SCTP for WebRTC allows when the remote SDP names no ``a=max-message-size``."""
ECHO_ROOM = 1024
"""Bytes kept free below the provider's message size for its echo of the item."""


class AudioOutbox(MediaStreamTrack):
    """Audio for the model; ``recv`` waits until a frame is queued."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._frames: asyncio.Queue[AudioFrame] = asyncio.Queue(maxsize=50)
        self._pts = 0

    def put(self, frame: AudioFrame) -> None:
        """Queue a frame; the oldest is dropped when the model falls a second behind."""
        if self._frames.full():
            self._frames.get_nowait()
        self._frames.put_nowait(frame)

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        frame = await self._frames.get()
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        self._pts += frame.samples
        return frame


class PeerCloseReason(StrEnum):
    CHANNEL_CLOSED = "data channel closed"
    CONNECTION_FAILED = "connection failed"
    CONNECTION_CLOSED = "connection closed"
    BY_GATEWAY = "closed by the gateway"


class PeerClosedError(GatewayError):
    """The peer connection or its data channel is gone (``reason`` None: the channel never opened)."""

    def __init__(self, reason: PeerCloseReason | None) -> None:
        super().__init__(reason.value if reason else "data channel not open")
        self.reason = reason


class RealtimePeer:
    """Open with ``open()``; events arrive through ``on_message``; ``closed`` is set
    when the connection fails or ends, with ``close_reason``."""

    def __init__(self, on_message: Callable[[str], None], ice_servers: Sequence[IceServer]) -> None:
        self._on_message = on_message
        self._pc = RTCPeerConnection(rtc_configuration(ice_servers))
        self.audio_out = AudioOutbox()
        self._pc.addTrack(self.audio_out)
        self._channel: RTCDataChannel = self._pc.createDataChannel(EVENTS_CHANNEL)
        self._channel_open = asyncio.Event()
        self.closed = asyncio.Event()
        self.close_reason: PeerCloseReason | None = None
        self.provider_call_id = ""
        self.listening = False
        self.rtp_gate = RtpGate()
        self.on_audio: Callable[[AudioFrame], None] | None = None
        """Receives each decoded frame of the model's audio while listening (the robot's AudioHub)."""
        self._drains: set[asyncio.Task[None]] = set()
        self._wire()

    def _wire(self) -> None:
        channel = self._channel

        @channel.on("open")
        def _open() -> None:
            self._channel_open.set()

        @channel.on("message")
        def _message(message: str | bytes) -> None:
            self._on_message(message if isinstance(message, str) else message.decode())

        @channel.on("close")
        def _close() -> None:
            self._mark_closed(PeerCloseReason.CHANNEL_CLOSED)

        @self._pc.on("connectionstatechange")
        def _state() -> None:
            if self._pc.connectionState == "failed":
                self._mark_closed(PeerCloseReason.CONNECTION_FAILED)
            elif self._pc.connectionState == "closed":
                self._mark_closed(PeerCloseReason.CONNECTION_CLOSED)

        @self._pc.on("track")
        def _track(track: MediaStreamTrack) -> None:
            if track.kind == "audio":
                task = asyncio.create_task(self._drain(track))
                self._drains.add(task)
                task.add_done_callback(self._drains.discard)

    def _mark_closed(self, reason: PeerCloseReason) -> None:
        if not self.closed.is_set():
            self.close_reason = reason
            self.closed.set()

    async def _drain(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if self.on_audio is not None and isinstance(frame, AudioFrame):
                    self.on_audio(frame)

    async def open(
        self,
        signaling: RealtimeSignaling,
        session: dict[str, Any],
        timeout_s: float,
        on_answer: Callable[[str], None] | None = None,
    ) -> CallAnswer:
        """Offer, post it, apply the answer, and wait for the data channel to open. ``on_answer``
        is given the provider call's id as soon as the call exists (before ICE and DTLS)."""
        async with asyncio.timeout(timeout_s):
            await self._pc.setLocalDescription(await self._pc.createOffer())
            self.rtp_gate.install(self._pc)
            answer = await signaling.start_call(self._pc.localDescription.sdp, session)
            self.provider_call_id = answer.provider_call_id
            if on_answer is not None:
                on_answer(answer.provider_call_id)
            await self._pc.setRemoteDescription(RTCSessionDescription(sdp=answer.sdp, type="answer"))
            self.listen(self.listening)
            await wait_first(self._channel_open.wait(), self.closed.wait())
            if not self._channel_open.is_set():
                raise PeerClosedError(self.close_reason)
        return answer

    def listen(self, on: bool) -> None:
        """Decode the model's audio (on), or drop its packets unread (off)."""
        self.listening = on
        self.rtp_gate.open = on
        for receiver in self._pc.getReceivers():
            if receiver.track is not None and receiver.track.kind == "audio":
                # aiortc's own switch for a receiver the local side does not want (as for
                # "sendonly"): packets are dropped before the jitter buffer and the decoder.
                receiver._enabled = on

    @property
    def is_open(self) -> bool:
        return self._channel.readyState == "open" and not self.closed.is_set()

    @property
    def max_message_size(self) -> int:
        """The largest message the provider accepts (its SDP's ``a=max-message-size``)."""
        size = getattr(self._pc.sctp, "_remote_max_message_size", 0)  # aiortc keeps it private
        return int(size) or DEFAULT_MAX_MESSAGE_SIZE

    def send(self, event: dict[str, Any]) -> str:
        """Send a client event; returns its JSON text. Raises PeerClosedError when the channel is gone,
        MessageTooLargeError when the event is over the provider's message size."""
        text = encoded(event)
        self.send_text(text, str(event.get("type")))
        return text

    @property
    def message_budget(self) -> int:
        """The largest client event sent: the provider echoes each item back
        (``conversation.item.added`` / ``done``) with a few hundred bytes more around it."""
        return self.max_message_size - ECHO_ROOM

    def send_text(self, text: str, event_type: str = "event") -> None:
        if not self.is_open:
            raise PeerClosedError(self.close_reason)
        budget = self.message_budget
        if len(text) * 4 > budget and (size := len(text.encode())) > budget:  # at most 4 bytes a character
            raise MessageTooLargeError(event_type, size, budget)
        self._channel.send(text)

    async def close(self) -> None:
        self._mark_closed(self.close_reason or PeerCloseReason.BY_GATEWAY)
        self.audio_out.stop()
        await self._pc.close()
        for task in list(self._drains):
            task.cancel()
        if self._drains:
            await asyncio.wait(list(self._drains), timeout=1.0)
