"""Prometheus metrics of every RoboVox service (``/metrics``): the series (``series``),
the stream figures read from Redis at scrape time (``streams``), and the exposition
with its small listener (``exposition``)."""

from robovox.shared.metrics.exposition import CONTENT_TYPE, MetricsListener, MetricsListenError, render, sample_loop_lag
from robovox.shared.metrics.series import UNKNOWN_TOOL, Stage, set_state
from robovox.shared.metrics.streams import STREAMS_BY_SERVICE, StreamFigures

__all__ = [
    "CONTENT_TYPE",
    "STREAMS_BY_SERVICE",
    "UNKNOWN_TOOL",
    "MetricsListenError",
    "MetricsListener",
    "Stage",
    "StreamFigures",
    "render",
    "sample_loop_lag",
    "set_state",
]
