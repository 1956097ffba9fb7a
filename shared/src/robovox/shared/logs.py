"""Logging set-up shared by the services' entry points.

``ROBOVOX_LOG_FORMAT=text`` (the default) writes the familiar one-line text; ``json`` writes one
JSON object a line for log shippers, with the robot and the call the line is about when they are
known. Those come from context variables: ``RobotService`` binds each robot's worker task to its
robot (``bind_log_context(robot_id=...)`` in the task's own context, so every task it starts
inherits it), and the consumer loop binds each entry's task to the entry's ``call_id``. A log call
may also name them itself: ``log.info(..., extra={"robot_id": ..., "call_id": ...})``.
"""

from __future__ import annotations

import contextvars
import json
import logging
import traceback
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

ROBOT_ID: Final[contextvars.ContextVar[str | None]] = contextvars.ContextVar("robovox_robot_id", default=None)
CALL_ID: Final[contextvars.ContextVar[str | None]] = contextvars.ContextVar("robovox_call_id", default=None)


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def bind_log_context(*, robot_id: str | None = None, call_id: str | None = None) -> None:
    """Name the robot and / or the call of everything the current task (and what it starts) logs."""
    if robot_id is not None:
        ROBOT_ID.set(robot_id)
    if call_id is not None:
        CALL_ID.set(call_id)


def robot_context(robot_id: str) -> contextvars.Context:
    """A copy of the current context bound to ``robot_id``: ``asyncio.create_task(..., context=it)``."""
    context = contextvars.copy_context()
    context.run(bind_log_context, robot_id=robot_id)
    return context


class ContextFilter(logging.Filter):
    """Puts ``robot_id`` and ``call_id`` on every record (from ``extra``, else the context, else None)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "robot_id", None) is None:
            record.robot_id = ROBOT_ID.get()
        if getattr(record, "call_id", None) is None:
            record.call_id = CALL_ID.get()
        return True


_STANDARD: Final = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``at``, ``level``, ``service``, ``logger``, ``message``, then
    ``robot_id`` and ``call_id`` when known, any other ``extra`` field, and ``exception``."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        line: dict[str, Any] = {
            "at": at, "level": record.levelname, "service": self.service, "logger": record.name,
            "message": record.getMessage(),
        }  # fmt: skip
        for name, value in record.__dict__.items():
            if name not in _STANDARD and value is not None and not name.startswith("_"):
                line[name] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: str, service: str, log_format: LogFormat = LogFormat.TEXT) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    if log_format is LogFormat.JSON:
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(logging.Formatter(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler])
    # roslibpy logs every reconnect attempt at INFO, and autobahn is chatty at DEBUG.
    logging.getLogger("roslibpy").setLevel(max(logging.WARNING, logging.getLogger().level))
