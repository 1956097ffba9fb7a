"""A service process with ``ROBOVOX_LOG_FORMAT=json`` writes one JSON object a line, naming the
robot and the call a line is about."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import pytest
from redis.asyncio import Redis

from tests.conftest import KEYS, ROBOT

pytestmark = pytest.mark.process


async def next_line(stream: asyncio.StreamReader, wanted: str, seen: list[dict[str, Any]]) -> dict[str, Any]:
    """The next log line whose message holds ``wanted``; every line read on the way must be JSON."""
    while True:
        raw = await stream.readline()
        assert raw, f"the process ended before logging {wanted!r}"
        line = json.loads(raw)  # every line is one JSON object
        seen.append(line)
        if wanted in line["message"]:
            return line


async def test_the_executor_logs_json_lines_with_the_robot_and_the_call(
    redis: Redis, executor_process_env: dict[str, str]
) -> None:
    env = {**executor_process_env, "ROBOVOX_LOG_FORMAT": "json", "ROBOVOX_CONSUMER_NAME": "tool-executor@json"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "robovox.executor", env=env, stderr=asyncio.subprocess.PIPE
    )
    seen: list[dict[str, Any]] = []
    try:
        assert process.stderr is not None
        serving = await asyncio.wait_for(next_line(process.stderr, "serving", seen), 30)
        assert serving["service"] == "tool-executor" and serving["level"] == "INFO" and "robot_id" not in serving
        # An entry the executor cannot read: it is dead-lettered, and the line says whose call it was.
        await redis.xadd(KEYS.tool_calls, {"call_id": "call_json_1", "robot_id": ROBOT, "name": ""})
        dead = await asyncio.wait_for(next_line(process.stderr, "dead-lettering", seen), 30)
    finally:
        process.kill()
        await process.wait()
    assert (dead["robot_id"], dead["call_id"], dead["level"]) == (ROBOT, "call_json_1", "ERROR")
    assert dead["logger"] == "robovox.shared.consumer.loop" and "not a valid ToolCall entry" in dead["message"]
    assert all({"at", "level", "service", "logger", "message"} <= set(line) for line in seen)
