"""A consumer loop that fails for a reason it does not handle takes its process down,
non-zero and with the reason, so a supervisor restarts it: never a robot left unserved
while the process looks alive."""

from __future__ import annotations

import asyncio
import sys

from redis.asyncio import Redis

from .conftest import KEYS


async def test_a_failed_consumer_stops_the_process_with_the_reason(
    redis: Redis, executor_process_env: dict[str, str]
) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "robovox.executor",
        env={**executor_process_env, "ROBOVOX_CONSUMER_NAME": "executor-doomed"},
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    log: list[str] = []
    try:
        async with asyncio.timeout(30):
            while b"tool-executor serving cleaner-1" not in (line := await proc.stderr.readline()):
                assert line, "the executor exited before serving"
                log.append(line.decode())
            # Something outside RoboVox replaces the robot's stream with a string: every read now fails.
            async with redis.pipeline(transaction=True) as pipe:
                pipe.delete(KEYS.tool_calls)
                pipe.set(KEYS.tool_calls, "not a stream")
                await pipe.execute()
            log.append((await proc.stderr.read()).decode())
            code = await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert code == 1
    assert "tool-executor stopped: cleaner-1 tool-call consumer ended: ResponseError: WRONGTYPE" in "".join(log)
