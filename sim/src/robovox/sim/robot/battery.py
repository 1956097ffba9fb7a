"""Battery model: linear drain (piecewise, rate set by the robot) plus optional noise."""

from __future__ import annotations

import math
import random
from collections.abc import Callable


class Battery:
    """Voltage drains linearly at ``drain`` volts per sim second; clamped at ``min_voltage``."""

    def __init__(
        self,
        clock: Callable[[], float],
        voltage: float,
        drain: float,
        noise_std: float = 0.0,
        seed: int | None = None,
        min_voltage: float = 0.0,
    ) -> None:
        self._clock = clock
        self._v_ref = float(voltage)
        self._t_ref = clock()
        self._drain = float(drain)
        self.noise_std = noise_std
        self.min_voltage = min_voltage
        self._rng = random.Random(seed)

    @property
    def voltage(self) -> float:
        """True (noise-free) voltage now."""
        v = self._v_ref - self._drain * (self._clock() - self._t_ref)
        return max(self.min_voltage, v)

    @voltage.setter
    def voltage(self, value: float) -> None:
        self._v_ref = float(value)
        self._t_ref = self._clock()

    @property
    def drain(self) -> float:
        return self._drain

    @drain.setter
    def drain(self, volts_per_second: float) -> None:
        self.voltage = self.voltage  # integrate up to now at the old rate
        self._drain = float(volts_per_second)

    def measured(self) -> float:
        """Voltage as a sensor reports it: true voltage plus gaussian noise."""
        v = self.voltage
        if self.noise_std > 0:
            v += self._rng.gauss(0.0, self.noise_std)
        return v

    def seconds_until(self, threshold: float) -> float:
        """Sim seconds until the true voltage reaches ``threshold`` at the current drain.

        0.0 if already at/below it; ``math.inf`` if it is never reached.
        """
        v = self.voltage
        if v <= threshold:
            return 0.0
        if self._drain <= 0 or threshold < self.min_voltage:
            return math.inf
        return (v - threshold) / self._drain
