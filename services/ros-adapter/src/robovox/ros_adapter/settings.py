"""ROS adapter settings (``ROBOVOX_*``; see the README's table)."""

from __future__ import annotations

from pydantic import Field

from robovox.shared.settings import ServiceSettings


class AdapterSettings(ServiceSettings):
    reconnect_initial_s: float = Field(default=0.5, gt=0, description="First rosbridge reconnect delay.")
    reconnect_max_s: float = Field(
        default=5.0, gt=0, description="Longest rosbridge reconnect delay (backoff is bounded by it)."
    )
    link_heartbeat_s: float = Field(
        default=1.0, gt=0, description="How often the adapter refreshes each robot's link state in Redis."
    )
    link_connect_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="A rosbridge link not up this long is given a fresh connection (an attempt can hang for good).",
    )
    link_ping_interval_s: float = Field(
        default=0.25, gt=0, description="Websocket ping interval on each idle rosbridge link (commands ping too)."
    )
    link_ping_timeout_s: float = Field(
        default=0.5,
        gt=0,
        description="A ping unanswered this long: the bridge has stalled; the link is dropped and nothing is sent.",
    )
    link_recheck_s: float = Field(
        default=10.0,
        gt=0,
        description="While the connect-time check finds problems, how often it is run again (a node started late).",
    )
    link_check_timeout_s: float = Field(
        default=2.0, gt=0, description="How long each rosapi question of the connect-time robot check may take."
    )
    telemetry_maxlen: int = Field(default=100_000, ge=100, description="Approximate MAXLEN of telemetry streams.")
    adapter_metrics_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Port of the ROS adapter's `/metrics` listener (0: off).",
    )

    @property
    def metrics_port(self) -> int:
        return self.adapter_metrics_port
