"""A robot's local stop word: the audio the gateway already receives, listened to for the
profile's stop phrases, off the event loop.

The hub hands the listener every frame of the microphone holder and of the robot's own
microphone (``AudioHub.feed``). Each stream gets a thread of its own with a spotter
(``spotter.Spotter``: resampling to 16 kHz and PocketSphinx's keyphrase search); the loop only
copies the frame's samples into the stream's queue. A phrase heard stops the robot from the
thread that heard it, through ``on_heard``: the same script as the API's stop, with trigger
``stop_word``, on a blocking Redis client of its own, so a stop never waits for the loop and the
twenty sessions' audio it serves (it waited 4 to 66 ms there at p50 under the soak's load). The
loop is told afterwards (``call_soon_threadsafe``), for ``heard``. A stream silent for
``IDLE_S`` gives its thread up and its spotter back to the pool. A decoder takes about a second
to load: a stream's first frames wait in its queue meanwhile and are caught up on (the spotter
runs some 30 times faster than speech).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from av import AudioFrame
from redis import Redis as BlockingRedis

from robovox.gateway.audio.spotter import Hit, RawFrame, Spotter, StopWordError
from robovox.shared.consumer.config import REDIS_DOWN
from robovox.shared.emergency import BlockingEmergencyStops
from robovox.shared.messages import EmergencyAction, EmergencyTrigger
from robovox.shared.profile import RobotProfile
from robovox.shared.profile.stop_word import StopWord

log = logging.getLogger(__name__)

IDLE_S = 10.0
"""A stream that sent nothing this long gives up its thread (its spotter goes back to the pool)."""
MAX_BACKLOG = 100
"""Frames (2 s) a stream's thread may fall behind before new frames are dropped (and counted)."""


@dataclass(frozen=True)
class Heard:
    stream: str
    phrase: str
    score: float
    heard_at: float
    """``time.monotonic()`` when the spotter found it."""
    frame_received: float
    """When the frame that completed the phrase reached the gateway: ``heard_at`` minus this is
    the spotter's own delay."""

    within_cooldown: bool = False
    """Heard within ``cooldown_s`` of the last stop: no new stop."""

    def describe(self) -> str:
        return f"'{self.phrase}' score {self.score:.3f} on {self.stream}"


@dataclass
class StreamStats:
    frames: int = 0
    dropped: int = 0
    audio_s: float = 0.0
    cpu_s: float = 0.0
    """The stream's thread's CPU time (``time.thread_time``)."""
    busy: bool = field(default=False, repr=False)


class StopWordListener:
    """Start with ``start()`` (loads the first decoder), ``close()`` at the end."""

    def __init__(self, robot_id: str, config: StopWord, on_heard: Callable[[Heard], None]) -> None:
        """``on_heard`` stops the robot; it is called in the thread that heard the phrase."""
        self.robot_id = robot_id
        self.config = config
        self._on_heard = on_heard
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pool: list[Spotter] = []
        self._pool_lock = threading.Lock()
        self._queues: dict[str, queue.SimpleQueue[RawFrame | None]] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._last_heard = -1e9
        self._cooldown_lock = threading.Lock()
        self.stats: dict[str, StreamStats] = {}
        self.heard: list[Heard] = []

    async def start(self, streams: int = 0) -> None:
        """Load a spotter for each of ``streams`` expected at once (raises StopWordError for a
        phrase it cannot listen for); the others load in their stream's thread when it starts
        (about a second of CPU and 27 MB each, so a gateway with many robots loads none ahead)."""
        self._loop = asyncio.get_running_loop()
        try:
            spotters = await asyncio.gather(*(asyncio.to_thread(Spotter, self.config) for _ in range(streams)))
        except StopWordError as error:
            raise StopWordError(f"robot {self.robot_id}: {error}") from None
        with self._pool_lock:
            self._pool.extend(spotters)

    def feed(self, stream: str, frame: AudioFrame) -> None:
        """On the loop: one frame of ``stream``, queued for its thread."""
        if self._loop is None:
            return
        stats = self.stats.setdefault(stream, StreamStats())
        frames = self._queues.get(stream)
        thread = self._threads.get(stream)
        if frames is None or thread is None or not thread.is_alive():
            frames = self._queues[stream] = queue.SimpleQueue()
            thread = threading.Thread(target=self._listen, args=(stream, frames), name=f"stop word {stream}")
            thread.daemon = True
            self._threads[stream] = thread
            thread.start()
        if frames.qsize() >= MAX_BACKLOG:
            stats.dropped += 1
            return
        frames.put(RawFrame.of(frame, time.monotonic()))

    async def close(self) -> None:
        for frames in self._queues.values():
            frames.put(None)
        for thread in list(self._threads.values()):
            await asyncio.to_thread(thread.join, 2.0)
        self._loop = None

    # The stream's thread
    def _listen(self, stream: str, frames: queue.SimpleQueue[RawFrame | None]) -> None:
        with self._pool_lock:
            spotter = self._pool.pop() if self._pool else None
        try:
            if spotter is None:
                spotter = Spotter(self.config)
            stats = self.stats.setdefault(stream, StreamStats())
            began = time.thread_time()
            while True:
                try:
                    raw = frames.get(timeout=IDLE_S)
                except queue.Empty:
                    break
                if raw is None:
                    break
                hit = spotter.process(spotter.resample(raw))
                stats.frames += 1
                stats.audio_s += raw.samples / raw.sample_rate
                stats.cpu_s = time.thread_time() - began
                if hit is not None:
                    self._found(stream, hit, raw)
        except Exception:
            log.exception(
                "%s: the stop word's spotter on %s failed; it listens again from the next frame", self.robot_id, stream
            )
            spotter = None
        finally:
            if self._threads.get(stream) is threading.current_thread():
                self._threads.pop(stream, None)
            if spotter is not None:
                spotter.reset()
                with self._pool_lock:
                    self._pool.append(spotter)

    def _found(self, stream: str, hit: Hit, raw: RawFrame) -> None:
        now = time.monotonic()
        with self._cooldown_lock:  # two streams may hear the same shout at once
            within = now - self._last_heard < self.config.cooldown_s
            if not within:
                self._last_heard = now
        heard = Heard(stream, hit.phrase, hit.score, now, raw.received, within_cooldown=within)
        if within:
            log.info("%s: stop word %s within the cooldown: no new stop", self.robot_id, heard.describe())
        else:
            log.warning("%s: stop word %s heard: emergency stop", self.robot_id, heard.describe())
            try:
                self._on_heard(heard)
            except Exception:
                log.exception("%s: the stop word's emergency stop failed", self.robot_id)
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self.heard.append, heard)


def stop_on_hearing(redis: BlockingRedis, profile: RobotProfile) -> Callable[[Heard], None]:
    """The robot's emergency stop for a phrase heard, from the thread that heard it: the API's
    script, trigger ``stop_word``; tried again while Redis cannot be reached, until the stop's
    deadline (meanwhile the stream's frames wait in its queue)."""
    stops = BlockingEmergencyStops(redis)
    deadline_s = profile.emergency_stop.deadline_s if profile.emergency_stop is not None else 5.0

    def stop(heard: Heard) -> None:
        give_up = time.monotonic() + deadline_s
        delay = 0.05
        while True:
            try:
                stops.trigger(profile, EmergencyAction.STOP, EmergencyTrigger.STOP_WORD, heard.describe())
                return
            except REDIS_DOWN as exc:
                if time.monotonic() + delay > give_up:
                    raise
                log.warning("%s: the stop word's stop did not reach Redis (%s); again", profile.robot_id, exc)
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    return stop
