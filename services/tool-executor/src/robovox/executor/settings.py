"""Tool executor settings (``ROBOVOX_*``; see the README's table)."""

from __future__ import annotations

from pydantic import Field

from robovox.shared.settings import ServiceSettings


class ExecutorSettings(ServiceSettings):
    motion_repeat_window_s: float = Field(
        default=5.0,
        ge=0,
        description="A motion command repeated with the same arguments within this window is refused (0: off).",
    )
    result_grace_s: float = Field(
        default=2.0,
        gt=0,
        description="How long past a command's deadline plus timeout the executor waits for the adapter's result.",
    )
    start_grace_s: float = Field(
        default=0.5,
        gt=0,
        description="How long past a call's deadline the adapter may take to start it; then the executor abandons "
        "it in the call record (the adapter never starts it) and tells the model it was not run.",
    )
    executor_metrics_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Port of the tool executor's `/metrics` listener (0: off).",
    )

    @property
    def metrics_port(self) -> int:
        return self.executor_metrics_port
