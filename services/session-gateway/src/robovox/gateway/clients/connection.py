"""One client joined to a robot over WebRTC: a console or any page written for
the Realtime API (see ``docs/console.md``).

The gateway answers the client's offer itself. The client hears the model
(through the robot's ``AudioHub``), speaks to it when it holds the microphone,
and sees the session's events on its ``oai-events`` channel. What it sends there
is checked and carried out by its ``ClientRequests`` (``requests.py``). A client
whose peer is gone (its data channel or DTLS closed, or no answer to the consent
checks of ``liveness.py``) is closed, and loses its place and the microphone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aiortc import MediaStreamTrack, RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame

from robovox.gateway.audio.hub import copy_frame
from robovox.gateway.clients.liveness import watch_peer
from robovox.gateway.clients.requests import ClientRequests
from robovox.gateway.errors import GatewayError
from robovox.gateway.realtime.peer import EVENTS_CHANNEL, AudioOutbox
from robovox.shared.aio import TaskSet
from robovox.shared.webrtc import IceServer, rtc_configuration

if TYPE_CHECKING:
    from robovox.gateway.robot.voice import RobotVoice

log = logging.getLogger(__name__)


class OfferError(GatewayError):
    """The client's SDP offer cannot be answered."""


class ClientConnection:
    def __init__(
        self, robot: RobotVoice, operator: str, ice_servers: Sequence[IceServer], peer_timeout_s: float = 3.0
    ) -> None:
        self.robot = robot
        self.operator = operator
        self.client_id = f"cli_{secrets.token_hex(6)}"
        self.client_call_id = f"rtc_rv_{secrets.token_hex(12)}"
        """The client's call on this gateway (``/v1/realtime/calls/<id>``), named ``call_id`` there."""
        self.closed = asyncio.Event()
        self.joined = asyncio.Event()
        """Set when the client's ``oai-events`` channel is open."""
        self._peer_timeout_s = peer_timeout_s
        self._pc = RTCPeerConnection(rtc_configuration(ice_servers))
        self._outbox = AudioOutbox()
        self._channel: RTCDataChannel | None = None
        self._requests = ClientRequests(robot, self.client_id, operator, self.send_text)
        self._tasks = TaskSet(self.client_id, "a client task")
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
            channel.on("close", lambda: self._tasks.spawn(self.close()))
            self._join()

        @pc.on("track")
        def _track(track: MediaStreamTrack) -> None:
            if track.kind == "audio":
                self._tasks.spawn(self._read_microphone(track))

        @pc.on("connectionstatechange")
        def _state() -> None:
            if pc.connectionState in ("failed", "closed"):
                self._tasks.spawn(self.close())

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
        self._tasks.spawn(self._requests.run())
        self._tasks.spawn(self._watch_peer())
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
        await self._tasks.cancel(1.0)
        log.info("%s: client %s left", self.robot_id, self.client_id)

    async def _watch_peer(self) -> None:
        silent_s = await watch_peer(self._pc, self._peer_timeout_s)
        log.info("%s: client %s answered no consent check for %.1f s: gone", self.robot_id, self.client_id, silent_s)
        await self.close()  # it cancels every task of the connection but this one

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

    def _on_message(self, message: str | bytes) -> None:
        self._requests.put(message if isinstance(message, str) else message.decode(errors="replace"))
