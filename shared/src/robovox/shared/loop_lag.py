"""Process figures a service reports about itself: recent samples with their
percentiles, and event-loop lag (how late a timer fires; a service whose loop
lags answers everything late: the first number to read when one feels slow)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

from robovox.shared.metrics.series import LOOP_LAG


class RecentSamples:
    """The last ``window`` samples of one figure (milliseconds, say), for percentiles."""

    def __init__(self, window: int = 2000) -> None:
        self._values: deque[float] = deque(maxlen=window)

    def add(self, value: float) -> None:
        self._values.append(value)

    def percentile(self, fraction: float) -> float:
        """The value at ``fraction`` (0.99 for p99) of the window; 0 with no samples."""
        if not self._values:
            return 0.0
        ordered = sorted(self._values)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    @property
    def count(self) -> int:
        return len(self._values)

    def reset(self) -> None:
        self._values.clear()


class LoopLagMonitor(RecentSamples):
    """Samples, in ms, of how late a ``interval_s`` timer fired (also the ``robovox_loop_lag_seconds`` histogram)."""

    def __init__(self, interval_s: float = 0.05, window: int = 2000) -> None:
        super().__init__(window)
        self._interval_s = interval_s

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            expected = time.perf_counter() + self._interval_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self._interval_s)
            late_s = max(0.0, time.perf_counter() - expected)
            self.add(late_s * 1000)
            LOOP_LAG.observe(late_s)
