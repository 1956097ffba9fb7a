"""One robot's audio: who hears the model, and whose microphone it hears.

The hub outlives the robot's Realtime sessions (recycling, reconnects): clients
and the robot's own speaker stay subscribed, and the microphone stays held,
while the session behind them is replaced.

- Speakers (browser clients, the robot's loudspeaker) get every 20 ms frame of
  the model's audio. The model's track is decoded only while at least one
  speaker is attached.
- Microphones feed frames; only the holder's reach the model. The robot's own
  microphone, when it has one, is the default holder: it holds the microphone
  whenever no client does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from av import AudioFrame

from robovox.gateway.errors import GatewayError
from robovox.gateway.realtime.peer import RealtimePeer
from robovox.gateway.settings import MicPolicy

log = logging.getLogger(__name__)

AudioSink = Callable[[AudioFrame], None]
AudioSource = Callable[[str, AudioFrame], None]


def copy_frame(frame: AudioFrame) -> AudioFrame:
    """A frame of its own for one speaker: the hub hands the same frame to all of them,
    and outgoing tracks re-stamp what they send."""
    copy = AudioFrame(format=frame.format.name, layout=frame.layout.name, samples=frame.samples)
    for source, target in zip(frame.planes, copy.planes, strict=True):
        target.update(bytes(source)[: target.buffer_size])
    copy.sample_rate = frame.sample_rate
    return copy


class MicRefusedError(GatewayError):
    """Someone else holds the microphone and the policy keeps it with them."""


class AudioHub:
    def __init__(self, robot_id: str, policy: MicPolicy = MicPolicy.TAKEOVER) -> None:
        self.robot_id = robot_id
        self.policy = policy
        self._peer: RealtimePeer | None = None
        self._speakers: dict[str, AudioSink] = {}
        self._holder: str | None = None
        self._default_mic: str | None = None
        self._on_change: list[Callable[[], None]] = []
        self.frames_to_model = 0
        self.stop_word: AudioSource | None = None
        """The local stop word's listener: given the holder's and the robot microphone's frames."""

    # The model's side
    def attach(self, peer: RealtimePeer | None) -> None:
        """The live session's peer (None while there is none)."""
        if self._peer is not None and self._peer is not peer:
            self._peer.on_audio = None
        self._peer = peer
        if peer is not None:
            peer.on_audio = self._from_model
            peer.listen(bool(self._speakers))

    def _from_model(self, frame: AudioFrame) -> None:
        for name, sink in list(self._speakers.items()):
            try:
                sink(frame)
            except Exception:  # a broken sink must not silence the others
                log.exception("%s: audio sink %s failed; removed", self.robot_id, name)
                self.remove_speaker(name)

    # Speakers
    def add_speaker(self, name: str, sink: AudioSink) -> None:
        self._speakers[name] = sink
        if self._peer is not None:
            self._peer.listen(True)

    def remove_speaker(self, name: str) -> None:
        self._speakers.pop(name, None)
        if self._peer is not None and not self._speakers:
            self._peer.listen(False)

    @property
    def speakers(self) -> list[str]:
        return list(self._speakers)

    # Microphones
    def set_default_mic(self, name: str | None) -> None:
        """The robot's own microphone: holds the microphone whenever nobody else does."""
        previous = self._default_mic
        self._default_mic = name
        if self._holder is None or self._holder == previous:
            self._set_holder(name)

    @property
    def mic_holder(self) -> str | None:
        return self._holder

    def take_mic(self, name: str) -> None:
        """Give ``name`` the microphone; raises MicRefusedError under the exclusive policy."""
        if self._holder == name:
            return
        held_by_client = self._holder is not None and self._holder != self._default_mic
        if held_by_client and self.policy is MicPolicy.EXCLUSIVE:
            raise MicRefusedError(f"{self._holder} holds the microphone")
        self._set_holder(name)

    def offer_mic(self, name: str) -> bool:
        """Give ``name`` the microphone if no client holds it; True if it now does."""
        if self._holder is None or self._holder == self._default_mic:
            self._set_holder(name)
        return self._holder == name

    def release_mic(self, name: str) -> None:
        if self._holder == name and name != self._default_mic:
            self._set_holder(self._default_mic)

    def feed(self, name: str, frame: AudioFrame) -> None:
        """A microphone's frame: sent to the model if ``name`` holds the microphone; listened to for
        the stop word if it does or if it is the robot's own microphone."""
        if self.stop_word is not None and (name == self._holder or name == self._default_mic):
            self.stop_word(name, frame)
        if name == self._holder and self._peer is not None and self._peer.is_open:
            self._peer.audio_out.put(frame)
            self.frames_to_model += 1

    # Changes
    def on_change(self, callback: Callable[[], None]) -> None:
        self._on_change.append(callback)

    def _set_holder(self, name: str | None) -> None:
        if name == self._holder:
            return
        log.info("%s: microphone %s -> %s", self.robot_id, self._holder or "nobody", name or "nobody")
        self._holder = name
        for callback in list(self._on_change):
            callback()
