"""The stop word's corpus: ordinary commands and the profile's stop phrases, generated at run time
with espeak-ng (several voices, speeds, added noise), through the gateway's own spotter.

Each utterance is one stream's worth of WebRTC audio (48 kHz frames of 20 ms, half a second of
silence either side) given to ``robovox.gateway.audio.spotter.Spotter``, the code the gateway runs
in each stream's thread; utterances run on two threads, as two streams would. A command heard as
a stop phrase is a false stop; a stop phrase not heard is a miss. CPU per stream is the spotter
threads' CPU time over the audio's length. The commands are two corpora of 480 utterances each:
``COMMANDS``, on which the shipped phrase and thresholds were chosen, and ``HELD_OUT``, which
played no part in that choice (its false stops are printed apart, and counted in the total).

    python bench/stop_word_corpus.py [--profile deploy/profiles/cleaner-1.yaml]
"""

from __future__ import annotations

import argparse
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from av import AudioFrame

from robovox.gateway.audio.spotter import RawFrame, Spotter
from robovox.shared.profile import load_profiles
from robovox.shared.profile.stop_word import StopWord
from robovox.sim.realtime.audio import FRAME_SAMPLES, SAMPLE_RATE
from robovox.sim.speech import say, with_noise

VOICES = ["en-us", "en-gb", "en-gb-scotland", "en-029", "en-us+f3", "en-gb-x-rp"]
NOISE = (0.0, 300.0)
"""White noise's standard deviation in s16 units (300: about 30 dB below espeak-ng's peaks)."""
COMMANDS = [
    "start cleaning", "start cleaning and turn right", "turn left", "stop cleaning", "please stop the brush",
    "what is the battery voltage", "how long will the battery last", "raise the vacuum pads",
    "release vacuum", "lower the vacuum pads", "move to the corner", "go to the charging station",
    "read the digital inputs", "clean the kitchen floor", "is the floor wet", "what are you doing now",
    "stop the music", "emergency exit is on the left", "move forward two meters", "wait here for a moment",
]  # fmt: skip
HELD_OUT = [
    "robot go to the dock", "stop the vacuum now", "the robot is stuck near the door", "clean the hallway next",
    "what is your status", "now turn around", "pause for a minute", "show me the map", "robot start mopping",
    "stop mopping the floor", "how full is the dust bin", "go back to the start", "lift the brush",
    "is the battery charged", "drive slowly please", "now return to base", "report your position",
    "robots stop at the red line", "keep cleaning until noon", "open the tool cover",
]  # fmt: skip
"""Commands the shipped phrase and thresholds were not chosen on (``COMMANDS`` were): the false
stops they give say whether the choice holds beyond the utterances it was tuned to."""
COMMAND_SPEEDS = (150, 200)
STOP_SPEEDS = (140, 175, 210)


@dataclass
class Outcome:
    false_stops: list[str]
    """Every command heard as a stop, from both corpora."""
    held_out_false_stops: list[str]
    """Those of ``false_stops`` from ``HELD_OUT``."""
    heard: int
    stops: int
    misses: list[str]
    commands: int
    held_out: int
    """How many of the ``commands`` are ``HELD_OUT``'s."""
    audio_s: float
    cpu_s: float

    @property
    def detection_pct(self) -> float:
        return 100.0 * self.heard / self.stops if self.stops else 0.0


def frames(pcm: bytes) -> list[AudioFrame]:
    pad = bytes(SAMPLE_RATE)  # half a second of s16 silence
    pcm = pad + pcm + pad
    pcm += bytes(-len(pcm) % (FRAME_SAMPLES * 2))
    out = []
    for start in range(0, len(pcm), FRAME_SAMPLES * 2):
        frame = AudioFrame(format="s16", layout="mono", samples=FRAME_SAMPLES)
        frame.planes[0].update(pcm[start : start + FRAME_SAMPLES * 2])
        frame.sample_rate = SAMPLE_RATE
        out.append(frame)
    return out


def utterances(texts: list[str], speeds: tuple[int, ...]) -> list[tuple[str, bytes]]:
    jobs = [(t, v, s, n) for v in VOICES for s in speeds for t in texts for n in NOISE]

    def make(job: tuple[str, str, int, float]) -> tuple[str, bytes]:
        text, voice, speed, noise = job
        pcm = say(text, voice, speed)
        seed = zlib.crc32(repr(job).encode())  # the same noise every run (``hash`` is salted per process)
        return f"{text!r} ({voice}, {speed} wpm, noise {noise:g})", with_noise(pcm, noise, seed) if noise else pcm

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(make, jobs))


def evaluate(config: StopWord, threads: int = 2) -> Outcome:
    phrases = [p.phrase for p in config.phrases]
    tuned, held_out = utterances(COMMANDS, COMMAND_SPEEDS), utterances(HELD_OUT, COMMAND_SPEEDS)
    commands, stops = tuned + held_out, utterances(phrases, STOP_SPEEDS)
    spotters = [Spotter(config) for _ in range(threads)]

    def run(part: int) -> tuple[list[int], list[str], float, float]:
        spotter, false_stops, misses, audio_s = spotters[part], [], [], 0.0
        began = time.thread_time()
        for index, (name, pcm) in enumerate(commands + stops):
            if index % threads != part:
                continue
            spotter.reset()
            hits = [spotter.process(spotter.resample(RawFrame.of(f, 0.0))) for f in frames(pcm)]
            audio_s += len(pcm) / 2 / SAMPLE_RATE + 1.0
            heard = any(hit is not None for hit in hits)
            if index < len(commands) and heard:
                false_stops.append(index)
            if index >= len(commands) and not heard:
                misses.append(name)
        return false_stops, misses, audio_s, time.thread_time() - began

    with ThreadPoolExecutor(threads) as pool:
        parts = list(pool.map(run, range(threads)))
    false_stops = sorted(i for p in parts for i in p[0])
    misses = [n for p in parts for n in p[1]]
    return Outcome(
        [commands[i][0] for i in false_stops], [commands[i][0] for i in false_stops if i >= len(tuned)],
        len(stops) - len(misses), len(stops), misses, len(commands), len(held_out),
        sum(p[2] for p in parts), sum(p[3] for p in parts),
    )  # fmt: skip


def report(outcome: Outcome) -> None:
    print(
        f"stop word corpus: {outcome.commands} commands ({outcome.held_out} held out), {outcome.stops} stop phrases, "
        f"{outcome.audio_s:.0f} s of audio"
    )
    held_out = outcome.held_out_false_stops
    for name in outcome.false_stops:
        print(f"  false stop{' (held out)' if name in held_out else ''}: {name}")
    print(f"false stops: {len(outcome.false_stops) - len(held_out)} tuned on, {len(held_out)} held out")
    for name in outcome.misses:
        print(f"  missed: {name}")
    print(
        f"spotter CPU per stream: {100 * outcome.cpu_s / outcome.audio_s:.1f} % of one core "
        f"({outcome.cpu_s:.1f} s CPU for {outcome.audio_s:.0f} s of audio)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--profile", type=Path, default=Path("deploy/profiles/cleaner-1.yaml"))
    args = parser.parse_args()
    profile = next(iter(load_profiles(args.profile.parent).values()))
    assert profile.emergency_stop is not None and profile.emergency_stop.stop_word is not None
    outcome = evaluate(profile.emergency_stop.stop_word)
    report(outcome)
    print(f"false_stops={len(outcome.false_stops)} stop_detection_pct={outcome.detection_pct:.1f}")


if __name__ == "__main__":
    main()
