"""A minimal WebRTC client of the emulator, for tests and benches (not the RoboVox gateway).

It does what a browser does: creates the ``oai-events`` channel and a microphone
track (silent unless told otherwise) before ``createOffer``, sends the offer, applies
the answer, and waits for the channel. Server events are parsed with the ``openai``
models. ``Microphone`` is a synthetic microphone whose ``speak`` the emulator's VAD hears.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import av
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, MediaStreamTrack

from robovox.shared.webrtc import rtc_configuration

from .audio import FRAME_MS, PacedTrack, tone
from .events import SERVER_EVENTS
from .waiting import Signal

MICROPHONE_HZ = 300
MICROPHONE_AMPLITUDE = 12_000  # about -12 dBFS RMS: speech at any VAD threshold


class Microphone(PacedTrack):
    """A synthetic microphone: silence, except a loud tone for as long as ``speak`` asks."""

    def __init__(self, amplitude: int = MICROPHONE_AMPLITUDE) -> None:
        super().__init__()
        self._tone = tone(MICROPHONE_HZ, amplitude)
        self._loud_frames_left = 0
        self.loud_frames_sent = 0

    @property
    def speaking(self) -> bool:
        return self._loud_frames_left > 0

    def speak(self, seconds: float = 0.6) -> None:
        """Send ``seconds`` of tone from the next frame on (after any speech already queued), then silence."""
        self._loud_frames_left += max(1, round(seconds * 1000 / FRAME_MS))

    def next_pcm(self) -> bytes:
        if self._loud_frames_left <= 0:
            return super().next_pcm()
        self._loud_frames_left -= 1
        self.loud_frames_sent += 1
        return self._tone


class EmulatorClient:
    def __init__(self, microphone: MediaStreamTrack | None = None) -> None:
        self.pc = RTCPeerConnection(rtc_configuration())
        self.channel = self.pc.createDataChannel("oai-events")
        self.microphone = microphone if microphone is not None else AudioStreamTrack()
        self.pc.addTrack(self.microphone)
        self.events: list[dict[str, Any]] = []
        self.parse_errors: list[str] = []
        self.audio_frames = 0
        self.loud_frames = 0  # frames with any sample above the noise floor: the model speaking
        self._opened = asyncio.Event()
        self._signal = Signal()
        self._tasks: list[asyncio.Task[None]] = []
        self.channel.on("open", self._opened.set)
        self.channel.on("message", self._on_message)
        self.channel.on("close", self._signal.notify)
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._signal.notify)

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def answer(self, sdp: str, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Apply the SDP answer and wait until the ``oai-events`` channel is open."""
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        await asyncio.wait_for(self._opened.wait(), timeout)

    def send(self, event: dict[str, Any]) -> None:
        self.channel.send(json.dumps(event))

    def send_raw(self, text: str) -> None:
        self.channel.send(text)

    async def wait_for(
        self,
        type: str,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109
        after: int = 0,
    ) -> dict[str, Any]:
        """The first server event of ``type`` at index >= ``after`` matching ``predicate``."""

        def find() -> dict[str, Any] | None:
            for event in self.events[after:]:
                if event.get("type") == type and (predicate is None or predicate(event)):
                    return event
            return None

        return await self._signal.wait_for(find, timeout, f"server event {type}")

    async def wait_for_loud_frames(self, count: int, timeout: float = 10.0) -> int:  # noqa: ASYNC109
        start = self.loud_frames
        return await self._signal.wait_for(
            lambda: self.loud_frames if self.loud_frames >= start + count else None, timeout, "audio"
        )

    async def wait_closed(self, timeout: float = 10.0) -> str:  # noqa: ASYNC109
        """Wait until the data channel closes (the server hung up); returns the connection state."""
        return await self._signal.wait_for(
            lambda: self.pc.connectionState if self.channel.readyState == "closed" else None, timeout, "close"
        )

    def types(self, after: int = 0) -> list[str]:
        return [str(event.get("type")) for event in self.events[after:]]

    async def close(self) -> None:
        await self.pc.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _on_message(self, message: str | bytes) -> None:
        try:
            SERVER_EVENTS.validate_json(message)
        except ValueError as exc:
            self.parse_errors.append(str(exc))
        self.events.append(json.loads(message))
        self._signal.notify()

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio":
            self._tasks.append(asyncio.get_running_loop().create_task(self._listen(track)))

    async def _listen(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if not isinstance(frame, av.AudioFrame):
                    continue
                samples = array.array("h", bytes(frame.planes[0]))
                self.audio_frames += 1
                if samples and max(abs(min(samples)), max(samples)) > 200:
                    self.loud_frames += 1
                self._signal.notify()
