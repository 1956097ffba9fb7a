"""Battery forecast: the discharge rate by least squares over a sliding window
of voltage samples, and the minutes left until the swap threshold.

The fit is recomputed only when the forecast is published (once a second by
default); a sample costs an append and the window's trim.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

from robovox.shared.profile.alerts import BatteryForecast


@dataclass(frozen=True, slots=True)
class Forecast:
    voltage: float
    """The fitted voltage at the newest sample (less noisy than the sample itself)."""
    trend_v_per_min: float
    minutes_to_threshold: float | None
    """None when the voltage is not falling."""
    threshold_v: float
    confidence: float
    """0..1: one minus the half-width of the slope's ~95% interval, relative to the slope."""
    samples: int

    def summary(self) -> str:
        """What ``get_battery_status`` answers."""
        text = f"{self.voltage:.2f} V"
        if self.minutes_to_threshold is None:
            return f"{text}, not falling ({self.trend_v_per_min:+.3f} V per minute)"
        text += f", falling {-self.trend_v_per_min:.3f} V per minute, "
        if self.minutes_to_threshold <= 0:
            text += f"already at or below the swap threshold of {self.threshold_v:g} V"
        else:
            text += f"about {self.minutes_to_threshold:.0f} minutes until {self.threshold_v:g} V"
        return f"{text} (confidence {self.confidence:.2f}, from {self.samples} readings)"

    def spoken(self, min_confidence: float = 0.5) -> str:
        """For alert messages, a sentence: ``About 12 minutes until the battery needs swapping.``, or empty."""
        minutes = self.minutes_to_threshold
        if minutes is None or self.confidence < min_confidence:
            return ""
        if minutes <= 0:
            return "The battery needs swapping now."
        if minutes < 1.5:
            return "About a minute until the battery needs swapping."
        return f"About {minutes:.0f} minutes until the battery needs swapping."

    def message(self) -> dict[str, Any]:
        """The ``/robovox/battery_forecast`` message."""
        msg: dict[str, Any] = {
            "voltage": round(self.voltage, 4),
            "trend_v_per_min": round(self.trend_v_per_min, 5),
            "threshold_v": self.threshold_v,
            "confidence": self.confidence,
            "samples": self.samples,
            "summary": self.summary(),
        }
        if self.minutes_to_threshold is not None:
            msg["minutes_to_threshold"] = round(self.minutes_to_threshold, 2)
        return msg


class BatteryForecaster:
    def __init__(self, config: BatteryForecast) -> None:
        self.config = config
        self._window: deque[tuple[float, float]] = deque()
        self.published_at = -math.inf

    def add(self, at: float, volts: float) -> None:
        window = self._window
        if window and at < window[-1][0]:
            return  # out of order: the window stays sorted
        window.append((at, volts))
        horizon = at - self.config.window_s
        while window[0][0] < horizon:
            window.popleft()

    def due(self, at: float) -> bool:
        return at - self.published_at >= self.config.publish_every_s

    def early_message(self) -> dict[str, Any] | None:
        """Before there is a trend: the newest reading, and why there is no forecast yet."""
        if not self._window:
            return None
        volts = self._window[-1][1]
        n, needed = len(self._window), self.config.min_samples
        return {
            "voltage": round(volts, 4),
            "threshold_v": self.config.threshold_v,
            "samples": n,
            "summary": f"{volts:.2f} V; no trend yet ({n} of at least {needed} readings over a second or more)",
        }

    def forecast(self) -> Forecast | None:
        """The fit over the window; None until ``min_samples`` readings spanning a second or more."""
        window = self._window
        n = len(window)
        if n < self.config.min_samples:
            return None
        t_end = window[-1][0]
        span = t_end - window[0][0]
        if span < 1.0:
            return None
        ts = [t - t_end for t, _ in window]
        vs = [v for _, v in window]
        t_mean = sum(ts) / n
        v_mean = sum(vs) / n
        sxx = sum((t - t_mean) ** 2 for t in ts)
        sxy = sum((t - t_mean) * (v - v_mean) for t, v in zip(ts, vs, strict=True))
        slope = sxy / sxx  # volts per second
        intercept = v_mean - slope * t_mean  # the fit at t_end
        residual = sum((v - (intercept + slope * t)) ** 2 for t, v in zip(ts, vs, strict=True))
        slope_se = math.sqrt(residual / (n - 2) / sxx)
        relative_error = slope_se / abs(slope) if slope else math.inf
        confidence = round(max(0.0, 1.0 - 2.0 * relative_error), 2)
        threshold = self.config.threshold_v
        minutes: float | None = None
        if slope < 0:
            minutes = max(0.0, (intercept - threshold) / -slope / 60.0)
        return Forecast(intercept, slope * 60.0, minutes, threshold, confidence, n)
