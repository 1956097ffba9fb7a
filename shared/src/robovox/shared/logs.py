"""Logging set-up shared by the services' entry points."""

from __future__ import annotations

import logging


def configure_logging(level: str, service: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format=f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s",
    )
    # roslibpy logs every reconnect attempt at INFO, and autobahn is chatty at DEBUG.
    logging.getLogger("roslibpy").setLevel(max(logging.WARNING, logging.getLogger().level))
