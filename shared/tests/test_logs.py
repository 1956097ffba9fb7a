"""``ROBOVOX_LOG_FORMAT=json``: one JSON object a line, naming the robot and the call where known."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from robovox.shared.logs import ContextFilter, JsonFormatter, LogFormat, bind_log_context, robot_context
from robovox.shared.settings import ServiceSettings


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """What the ``robovox.test`` logger writes, as a service's JSON handler writes it."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter("tool-executor"))
    logger = logging.getLogger("robovox.test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield out
    logger.removeHandler(handler)


def parsed(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


async def test_each_line_is_one_object_with_the_robot_and_call_of_the_task_that_logged_it(lines: io.StringIO) -> None:
    log = logging.getLogger("robovox.test")

    async def handle(call_id: str) -> None:
        bind_log_context(call_id=call_id)
        log.info("handling %s", call_id)

    async def worker() -> None:
        log.info("worker up")
        await asyncio.gather(asyncio.create_task(handle("call_1")), asyncio.create_task(handle("call_2")))
        log.warning("worker done")

    await asyncio.create_task(worker(), context=robot_context("cleaner-1"))
    log.info("outside any robot")
    got = parsed(lines)
    assert [(g["message"], g.get("robot_id"), g.get("call_id")) for g in got] == [
        ("worker up", "cleaner-1", None),
        ("handling call_1", "cleaner-1", "call_1"),
        ("handling call_2", "cleaner-1", "call_2"),
        ("worker done", "cleaner-1", None),  # the calls' own tasks bound them, not the worker
        ("outside any robot", None, None),
    ]
    assert {k for k in got[1]} == {"at", "level", "service", "logger", "message", "robot_id", "call_id"}
    assert got[1]["service"] == "tool-executor" and got[1]["logger"] == "robovox.test" and got[1]["level"] == "INFO"
    assert got[1]["at"].endswith("Z") and len(got[1]["at"]) == len("2026-12-02T14:00:00.000Z")


def test_extra_fields_and_exceptions_stay_on_the_one_line(lines: io.StringIO) -> None:
    log = logging.getLogger("robovox.test")
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        log.exception("failed", extra={"robot_id": "cleaner-2", "call_id": "call_9", "deliveries": 3})
    (line,) = lines.getvalue().splitlines()  # the traceback's newlines are escaped inside the object
    got = json.loads(line)
    assert (got["robot_id"], got["call_id"], got["deliveries"], got["level"]) == ("cleaner-2", "call_9", 3, "ERROR")
    assert got["exception"].startswith("Traceback") and got["exception"].endswith("ValueError: bad\nvalue")


def test_the_format_is_a_setting_text_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ServiceSettings().log_format is LogFormat.TEXT
    monkeypatch.setenv("ROBOVOX_LOG_FORMAT", "json")
    assert ServiceSettings().log_format is LogFormat.JSON
