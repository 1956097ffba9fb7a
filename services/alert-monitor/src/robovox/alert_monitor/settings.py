"""Alert monitor settings (``ROBOVOX_*``; see the README's table)."""

from __future__ import annotations

from pydantic import Field

from robovox.shared.settings import ServiceSettings


class MonitorSettings(ServiceSettings):
    tick_s: float = Field(
        default=0.5,
        gt=0,
        le=10,
        description="How often rules are re-evaluated without new samples (for_s, clear_for_s, missing topics) "
        "and the robot's session state is read.",
    )
    resume_window_s: float = Field(
        default=30.0,
        ge=0,
        description="A restarted monitor evaluates the telemetry it missed if it stopped less than this long ago; "
        "otherwise it starts from the newest sample.",
    )
    monitor_metrics_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Port of the alert monitor's `/metrics` listener (0: off).",
    )

    @property
    def metrics_port(self) -> int:
        return self.monitor_metrics_port
