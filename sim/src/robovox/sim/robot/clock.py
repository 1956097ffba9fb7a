"""Simulation clock: sim time runs ``time_scale`` times faster than real time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class SimClock:
    """Monotonic simulation time in seconds since the clock was created.

    ``time_scale`` > 1 makes sim time run faster than real time: one real
    second is ``time_scale`` sim seconds.
    """

    def __init__(
        self,
        time_scale: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        if not time_scale > 0:
            raise ValueError("time_scale must be > 0")
        self.time_scale = float(time_scale)
        self._monotonic = monotonic
        self._start = monotonic()
        self._wall_start = wall()

    def now(self) -> float:
        """Sim seconds elapsed since the clock started."""
        return (self._monotonic() - self._start) * self.time_scale

    def to_real(self, sim_seconds: float) -> float:
        """Convert a sim-time duration to real seconds."""
        return sim_seconds / self.time_scale

    def ros_time(self) -> tuple[int, int]:
        """Sim time as ROS ``builtin_interfaces/Time`` (sec, nanosec) since the epoch."""
        t = self._wall_start + self.now()
        sec = int(t)
        return sec, int((t - sec) * 1e9)

    async def sleep(self, sim_seconds: float) -> None:
        await asyncio.sleep(max(0.0, self.to_real(sim_seconds)))
