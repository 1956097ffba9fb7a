"""One call end to end through a running compose stack (``make test-docker``).

An operator's message through the gateway API ("start cleaning") -> the Realtime emulator's
model calls ``start_cleaning`` -> the gateway publishes it -> the tool executor -> the ROS
adapter -> the robot simulator -> the result back to the model. Checked on the way: the
gateway's ``/health`` is ``ok``, the tool call the gateway published, the call's record
(``done``, the robot's answer ``succeeded``) and the output the model was given. Every wait
is a blocking read of a stream, bounded by one deadline.

    python -m tests.docker.e2e_call --api-url https://127.0.0.1:8700 --token-file T \
        --redis-url redis://127.0.0.1:6390/0 --redis-password-file P --ca-file C
"""

from __future__ import annotations

import argparse
import asyncio
import ssl
import sys
import time
from pathlib import Path
from typing import Any

import httpx2
from redis.asyncio import Redis

from robovox.shared.call_life import CallRecord, CallState
from robovox.shared.messages import CommandStatus, ToolCall
from robovox.shared.session import ConversationItem, ItemKind
from robovox.shared.streams import RobotKeys

TOOL = "start_cleaning"


class E2eError(AssertionError):
    """The call did not go through as it should."""


async def next_entry(redis: Redis, stream: str, after: str, deadline: float) -> tuple[str, dict[str, str]]:
    """The first entry of ``stream`` after ``after``, waiting for it until ``deadline``."""
    left_ms = int((deadline - time.monotonic()) * 1000)
    if left_ms <= 0:
        raise E2eError(f"nothing new on {stream} in time")
    reply: Any = await redis.xread({stream: after}, count=1, block=left_ms)
    if not reply:
        raise E2eError(f"nothing new on {stream} in time")
    ((_stream, ((entry_id, fields),)),) = reply
    return str(entry_id), dict(fields)


async def published_call(redis: Redis, keys: RobotKeys, deadline: float) -> ToolCall:
    after = "0-0"
    while True:
        after, fields = await next_entry(redis, keys.tool_calls, after, deadline)
        call = ToolCall.from_fields(fields)
        if call.name == TOOL:
            return call


async def output_given(redis: Redis, keys: RobotKeys, call_id: str, deadline: float) -> ConversationItem:
    after = "0-0"
    while True:
        after, fields = await next_entry(redis, keys.conversation, after, deadline)
        item = ConversationItem.from_fields(fields)
        if item.kind is ItemKind.FUNCTION_CALL_OUTPUT and item.call_id == call_id:
            return item


async def drive(args: argparse.Namespace) -> None:
    deadline = time.monotonic() + args.timeout_s
    keys = RobotKeys.of(args.robot)
    token = args.token_file.read_text().strip()
    # The gateway's own certificate is the only one trusted: it must be valid for the address used.
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=args.ca_file) if args.ca_file else True
    async with httpx2.AsyncClient(
        base_url=args.api_url, headers={"Authorization": f"Bearer {token}"}, verify=verify, timeout=10
    ) as api:
        health = await api.get("/health")
        print(f"GET /health -> {health.status_code} {health.text}")
        if health.status_code != 200 or health.json()["status"] != "ok":
            raise E2eError("the gateway is not ready")
        reply = await api.post(f"/v1/robots/{args.robot}/messages", json={"text": "start cleaning, turn right"})
        print(f"POST /v1/robots/{args.robot}/messages 'start cleaning, turn right' -> {reply.status_code}")
        if reply.status_code != 202:
            raise E2eError(f"the message was refused: {reply.text}")
    redis = Redis.from_url(args.redis_url, password=args.redis_password_file.read_text().strip(), decode_responses=True)
    try:
        call = await published_call(redis, keys, deadline)
        print(f"tool call published: {call.name} {call.arguments} ({call.call_id})")
        item = await output_given(redis, keys, call.call_id, deadline)
        print(f"output given to the model: {item.text}")
        fields: dict[Any, Any] = await redis.hgetall(keys.call_record(call.call_id))
        record = CallRecord.from_record(fields)
    finally:
        await redis.aclose()
    if record.state is not CallState.DONE or record.result is None:
        raise E2eError(f"the call's record is {record.state}, not done with a result")
    if record.result.status is not CommandStatus.SUCCEEDED or not record.result.sent_to_robot:
        raise E2eError(f"the robot's answer is {record.result.status}: {record.result.message}")
    print(f"call record: {record.state.value}, robot answered {record.result.status.value} in "
          f"{record.result.duration_ms:.0f} ms")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--token-file", type=Path, required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--redis-password-file", type=Path, required=True)
    parser.add_argument("--ca-file", help="the gateway's certificate (PEM), to trust for HTTPS")
    parser.add_argument("--robot", default="cleaner-1")
    parser.add_argument("--timeout-s", type=float, default=60.0)
    args = parser.parse_args(argv)
    try:
        asyncio.run(drive(args))
    except E2eError as exc:
        print(f"end-to-end call FAILED: {exc}")
        return 1
    print("end-to-end call passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
