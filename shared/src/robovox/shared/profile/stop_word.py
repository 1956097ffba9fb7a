"""The local stop word: phrases the gateway listens for in the audio it receives, and stops the
robot itself when it hears one (``emergency_stop.stop_word``).

The spotter is PocketSphinx's keyphrase search: a phrase is heard when its path through the
acoustic model beats a free loop of phones by the phrase's ``threshold``; ``phone_loop_penalty``
weighs that loop (smaller: the phrase wins more easily). Both are probabilities, written as
``1e-30``; smaller thresholds hear more, and more falsely.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from robovox.shared.profile.ros import Strict

Phrase = Annotated[str, Field(min_length=2, max_length=60, pattern=r"^[a-z']+( [a-z']+){0,5}$")]
"""Lower-case English words (one to six), each in the spotter's dictionary (checked by the gateway)."""


class StopPhrase(Strict):
    phrase: Phrase
    threshold: float = Field(default=1e-30, gt=0, le=1)
    """How far the phrase must beat the phone loop to count (smaller hears more)."""

    @field_validator("threshold")
    @classmethod
    def _not_too_small(cls, value: float) -> float:
        if value < 1e-80:
            raise ValueError("must be at least 1e-80 (smaller would hear the phrase in anything)")
        return value


class StopWord(Strict):
    enabled: bool = True
    phrases: list[StopPhrase] = Field(min_length=1, max_length=10)
    phone_loop_penalty: float = Field(default=1e-10, gt=0, le=1)
    """PocketSphinx's ``kws_plp``: the free phone loop's penalty (smaller: phrases are heard more easily)."""
    cooldown_s: float = Field(default=2.0, ge=0, le=60)
    """After a phrase is heard, further hits within this long are not new stops."""

    @model_validator(mode="after")
    def _unique(self) -> StopWord:
        seen = [p.phrase for p in self.phrases]
        for phrase in seen:
            if seen.count(phrase) > 1:
                raise ValueError(f"phrase {phrase!r} is given twice")
        return self
