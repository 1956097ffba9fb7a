"""A consumer loop that fails for a reason it does not handle takes its process down,
non-zero and with the reason, so a supervisor restarts it: never a robot left unserved
while the process looks alive."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from redis.asyncio import Redis

from .conftest import KEYS


async def test_a_failed_consumer_stops_the_process_with_the_reason(
    redis: Redis, executor_process_env: dict[str, str]
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "robovox.executor"],
        env={**executor_process_env, "ROBOVOX_CONSUMER_NAME": "executor-doomed"},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        async with asyncio.timeout(20):
            while not await redis.exists(KEYS.tool_calls):
                await asyncio.sleep(0.05)  # the consumer creates its group (and the stream) when it starts
        # Something outside RoboVox replaces the robot's stream with a string: every read now fails.
        async with redis.pipeline(transaction=True) as pipe:
            pipe.delete(KEYS.tool_calls)
            pipe.set(KEYS.tool_calls, "not a stream")
            await pipe.execute()
        code = await asyncio.to_thread(proc.wait, 20)
        _, stderr = proc.communicate()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 1
    assert "tool-executor stopped: cleaner-1 tool-call consumer ended: ResponseError: WRONGTYPE" in stderr
