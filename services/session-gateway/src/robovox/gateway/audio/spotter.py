"""One audio stream's keyword spotter: 48 kHz WebRTC frames in, the profile's stop phrases out.

PocketSphinx 5's keyphrase search with the English model its wheel ships (no download): every
phrase is searched at once, each against a free loop of phones with its own threshold
(``robovox.shared.profile.stop_word``). Frames are resampled to the model's 16 kHz mono by
libswresample (PyAV's ``AudioResampler``: filtered, not decimated).

A spotter is used by one thread at a time (``stop_word.StopWordListener`` runs each stream's
in a thread of its own, off the event loop).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from av import AudioFrame
from av.audio.resampler import AudioResampler
from pocketsphinx import Decoder

from robovox.gateway.errors import GatewayError
from robovox.shared.profile.stop_word import StopWord

MODEL_RATE = 16_000
"""The English model's sample rate."""
TOP_GAUSSIANS = 32
"""PocketSphinx's ``topn``: how many of each senone's Gaussians are scored per frame (its default,
4, approximates the acoustic score with the best few). On the corpus bench (penalty 1e-12,
threshold 1e-20), 4 heard "emergency stop" in 80.6 % of espeak-ng's voices, speeds and noise, 8
in 91.7 %, 16 in 97.2 %, for 2.2 to 3.5 % of a core per stream; at 32 (penalty 1e-8, threshold
1e-18) every phrase, with no false stop, for 4.1 to 4.7 %."""


class StopWordError(GatewayError):
    """A stop word the spotter cannot listen for (a word outside its dictionary)."""


@dataclass(frozen=True)
class RawFrame:
    """A frame's samples, copied on the event loop (the hub's frame goes on to the model)."""

    pcm: bytes
    format: str
    layout: str
    samples: int
    sample_rate: int
    received: float
    """``time.monotonic()`` when the frame reached the hub."""

    @classmethod
    def of(cls, frame: AudioFrame, received: float) -> RawFrame:
        size = frame.samples * frame.format.bytes * (len(frame.layout.channels) if not frame.format.is_planar else 1)
        pcm = b"".join(bytes(plane)[:size] for plane in frame.planes)
        return cls(pcm, frame.format.name, frame.layout.name, frame.samples, frame.sample_rate, received)


@dataclass(frozen=True)
class Hit:
    phrase: str
    score: float
    """PocketSphinx's acoustic score of the phrase's segment, as a probability (higher: surer)."""


def keyphrase_file(config: StopWord, folder: Path) -> Path:
    path = folder / "stop_words.kws"
    path.write_text("".join(f"{p.phrase} /{p.threshold:g}/\n" for p in config.phrases))
    return path


def new_decoder(config: StopWord) -> Decoder:
    """A decoder listening for ``config``'s phrases; StopWordError names a word it does not know."""
    with tempfile.TemporaryDirectory(prefix="robovox-kws-") as folder:
        decoder = Decoder(
            samprate=MODEL_RATE,
            loglevel="FATAL",
            kws=str(keyphrase_file(config, Path(folder))),
            kws_plp=config.phone_loop_penalty,
            topn=TOP_GAUSSIANS,
        )
    unknown = sorted({w for p in config.phrases for w in p.phrase.split() if decoder.lookup_word(w) is None})
    if unknown:
        raise StopWordError(f"emergency_stop.stop_word: not in the spotter's English dictionary: {', '.join(unknown)}")
    return decoder


class Spotter:
    """One stream's resampler and decoder; ``reset`` between streams when reused.

    The decoder's cepstral mean (live CMN: the channel's and speaker's average spectrum, which
    PocketSphinx learns from the audio it hears) is put back to the model's own at ``reset``: a
    pooled spotter would otherwise start its next stream normalised for the last one's speaker,
    microphone and noise, and hear the same phrase or not depending on who spoke before (on the
    corpus bench, whose spotters are reset between utterances, that alone moved the false stops from
    10 to 0 and the detection from 83 to 69 %). Some other state still carries over: a reset
    spotter's scores differ from a new one's in the second decimal.
    """

    def __init__(self, config: StopWord) -> None:
        self._decoder = new_decoder(config)
        self._initial_cmn = self._decoder.get_cmn(False)
        self._resampler = AudioResampler(format="s16", layout="mono", rate=MODEL_RATE)
        self._pts = 0
        self._decoder.start_utt()

    def reset(self) -> None:
        self._decoder.end_utt()
        self._decoder.set_cmn(self._initial_cmn)
        self._decoder.start_utt()
        self._resampler = AudioResampler(format="s16", layout="mono", rate=MODEL_RATE)
        self._pts = 0

    def resample(self, raw: RawFrame) -> bytes:
        frame = AudioFrame(format=raw.format, layout=raw.layout, samples=raw.samples)
        planes = frame.planes
        size = len(raw.pcm) // len(planes)
        for index, plane in enumerate(planes):
            plane.update(raw.pcm[index * size : (index + 1) * size])
        frame.sample_rate = raw.sample_rate
        frame.pts = self._pts
        self._pts += raw.samples
        return b"".join(bytes(out.planes[0])[: out.samples * 2] for out in self._resampler.resample(frame))

    def process(self, pcm16k: bytes) -> Hit | None:
        """16 kHz s16 mono samples; a phrase if one ended in them (the search then starts afresh)."""
        if not pcm16k:
            return None
        self._decoder.process_raw(pcm16k, False, False)
        hyp = self._decoder.hyp()
        if hyp is None:
            return None
        segments = list(self._decoder.seg())
        score = segments[-1].ascore if segments else 0.0
        self._decoder.end_utt()
        self._decoder.start_utt()
        return Hit(hyp.hypstr.strip(), float(score))
