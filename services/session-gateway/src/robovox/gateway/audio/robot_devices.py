"""The robot's own microphone and speaker, as its profile's ``audio`` section names them.

The microphone is read with aiortc's ``MediaPlayer`` (an ALSA or PulseAudio
device, or a file played in real time) and every frame goes to the robot's
``AudioHub``, which passes it to the model whenever the robot's microphone holds
it, that is whenever no client does. It is read even when it does not hold it:
an unread player grows its buffers.

The speaker gets each frame of the model's audio the hub decodes, written as it
comes: a file holds only what the model sent (no silence between responses), a
device plays it live. PyAV writes in a thread of the speaker's own, so a sound
card's blocking writes never stall the event loop.

A device or file that cannot be opened is logged and left out: the robot works
on without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame

from robovox.gateway.audio.device_io import SpeakerOutput, open_player, restamped
from robovox.gateway.audio.hub import AudioHub
from robovox.shared.profile.audio import AudioDevice, AudioFileSink, AudioFileSource, RobotAudio, describe

log = logging.getLogger(__name__)

MIC_NAME = "robot-microphone"
"""The robot's microphone in its ``AudioHub`` (and as ``mic_holder`` clients are told)."""
SPEAKER_NAME = "robot-speaker"
SPEAKER_BACKLOG = 50
"""Frames (1 s) the speaker may fall behind before the oldest are dropped."""
OPEN_TIMEOUT_S = 5.0
ALSA_HINT = "the ALSA library in PyAV's wheels finds the system's devices only with ALSA_CONFIG_DIR=/usr/share/alsa"
DRAIN_TIMEOUT_S = 2.0

T = TypeVar("T")


class RobotAudioDevices:
    """Start with ``start()`` when the robot's worker starts, ``stop()`` when it ends."""

    def __init__(self, hub: AudioHub, config: RobotAudio | None, robot_id: str) -> None:
        self._hub = hub
        self._config = config or RobotAudio()
        self.robot_id = robot_id
        self.frames_in = 0
        """Microphone frames read (all of them, held or not)."""
        self.frames_out = 0
        """Frames of the model's audio written to the speaker."""
        self.frames_dropped = 0
        """Frames the speaker fell too far behind to write."""
        self._changed = asyncio.Event()
        self._player: MediaPlayer | None = None
        self._reader: asyncio.Task[None] | None = None
        self._output: SpeakerOutput | None = None
        self._writer_thread: ThreadPoolExecutor | None = None
        self._writer: asyncio.Task[None] | None = None
        self._backlog: asyncio.Queue[AudioFrame | None] = asyncio.Queue()
        self._pts_out = 0

    @property
    def microphone_open(self) -> bool:
        return self._reader is not None and not self._reader.done()

    @property
    def speaker_open(self) -> bool:
        return self._writer is not None and not self._writer.done()

    async def start(self) -> None:
        mic, speaker = self._config.microphone, self._config.speaker
        if mic is not None:
            player = await self._open("microphone", mic, asyncio.to_thread(open_player, mic))
            if player is not None and player.audio is not None:
                self._player = player
                self._reader = asyncio.create_task(self._read(player.audio, mic))
                self._hub.set_default_mic(MIC_NAME)
                log.info("%s: robot microphone %s open", self.robot_id, describe(mic))
        if speaker is not None:
            thread = ThreadPoolExecutor(1, thread_name_prefix=f"speaker-{self.robot_id}")
            opening = asyncio.get_running_loop().run_in_executor(thread, SpeakerOutput, speaker)
            output = await self._open("speaker", speaker, opening)
            if output is None:
                thread.shutdown(wait=False)
                return
            self._output, self._writer_thread = output, thread
            self._writer = asyncio.create_task(self._write(output, thread, speaker))
            self._hub.add_speaker(SPEAKER_NAME, self._play)
            log.info("%s: robot speaker %s open", self.robot_id, describe(speaker))

    async def stop(self) -> None:
        if self._reader is not None:
            self._hub.set_default_mic(None)
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None
        if self._player is not None and self._player.audio is not None:
            await asyncio.to_thread(self._player.audio.stop)  # joins the player's thread
            self._player = None
        if self._writer is not None:
            self._hub.remove_speaker(SPEAKER_NAME)
            self._backlog.put_nowait(None)  # written up to here, then the writer ends
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._writer), DRAIN_TIMEOUT_S)
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
            self._writer = None
        if self._output is not None and self._writer_thread is not None:
            loop = asyncio.get_running_loop()
            try:
                await loop.run_in_executor(self._writer_thread, self._output.close)  # after any write under way
            except Exception as exc:
                log.error("%s: closing the robot speaker failed: %s", self.robot_id, _reason(exc))
            self._writer_thread.shutdown(wait=False)
            self._output = self._writer_thread = None

    async def wait_for(self, check: Callable[[RobotAudioDevices], bool], timeout_s: float = 10.0) -> None:
        """Until ``check(self)`` holds, re-checked on every frame in or out."""
        async with asyncio.timeout(timeout_s):
            while not check(self):
                self._changed.clear()
                await self._changed.wait()

    # Opening
    async def _open(
        self, what: str, config: AudioDevice | AudioFileSource | AudioFileSink, opening: Awaitable[T]
    ) -> T | None:
        try:
            return await asyncio.wait_for(opening, OPEN_TIMEOUT_S)
        except TimeoutError:
            reason = f"it did not open within {OPEN_TIMEOUT_S:g} s"
        except Exception as exc:
            reason = _reason(exc)
        if isinstance(config, AudioDevice) and config.format == "alsa" and "ALSA_CONFIG_DIR" not in os.environ:
            reason += f" ({ALSA_HINT})"
        log.error(
            "%s: cannot open the robot %s %s: %s; the robot goes on without it",
            self.robot_id, what, describe(config), reason,
        )  # fmt: skip
        return None

    # Microphone
    async def _read(self, track: MediaStreamTrack, config: AudioDevice | AudioFileSource) -> None:
        try:
            while True:
                frame = await track.recv()
                if isinstance(frame, AudioFrame):
                    self.frames_in += 1
                    self._hub.feed(MIC_NAME, frame)
                    self._changed.set()
        except MediaStreamError:
            if isinstance(config, AudioFileSource):
                log.info("%s: robot microphone %s: end of file", self.robot_id, describe(config))
            else:
                log.error("%s: robot microphone %s stopped delivering audio", self.robot_id, describe(config))
        except Exception:
            log.exception("%s: reading the robot microphone %s failed", self.robot_id, describe(config))
        self._hub.set_default_mic(None)
        self._changed.set()

    # Speaker
    def _play(self, frame: AudioFrame) -> None:
        if self._backlog.qsize() >= SPEAKER_BACKLOG:
            self._backlog.get_nowait()
            if not self.frames_dropped:
                log.warning("%s: the robot speaker falls behind; its oldest audio is dropped", self.robot_id)
            self.frames_dropped += 1
        self._backlog.put_nowait(restamped(frame, self._pts_out))
        self._pts_out += frame.samples

    async def _write(
        self, output: SpeakerOutput, thread: ThreadPoolExecutor, config: AudioDevice | AudioFileSink
    ) -> None:
        loop = asyncio.get_running_loop()
        try:
            while (frame := await self._backlog.get()) is not None:
                await loop.run_in_executor(thread, output.write, frame)
                self.frames_out += 1
                self._changed.set()
        except Exception as exc:
            self._hub.remove_speaker(SPEAKER_NAME)
            log.error(
                "%s: robot speaker %s failed: %s; the robot goes on without it",
                self.robot_id, describe(config), _reason(exc),
            )  # fmt: skip
        self._changed.set()


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
