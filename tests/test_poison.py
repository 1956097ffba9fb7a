"""Poison on every stream a service reads: entries with fields missing, binary junk, values of a
megabyte, JSON nested thousands deep, unknown and foreign robot ids. Each malformed entry is
dead-lettered with a reason, a call with a usable call_id is answered once, nothing reaches the
robot, and afterwards the robot still answers a probe call through the gateway and its alerts
still fire."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from robovox.alert_monitor.service import AlertMonitor
from robovox.gateway.service import SessionGateway
from robovox.shared.consumer import decode_lossy
from robovox.shared.entry import utc_now
from robovox.shared.messages import (
    AlertStatus,
    CommandKind,
    CommandResult,
    CommandStatus,
    DeadLetter,
    InboxEntry,
    InboxKind,
    RosCommand,
    TelemetrySample,
    ToolCall,
)
from robovox.shared.redis_client import open_redis
from robovox.shared.session import ConversationItem, ItemKind
from robovox.shared.testing.streams import new_call_id
from robovox.sim.realtime import EmulatedSession, RealtimeEmulator
from robovox.sim.robot import RobotSimulator
from tests.conftest import KEYS, ROBOT
from tests.test_alerts import hold_battery, next_alert
from tests.test_gateway import is_output, live_session

RawFields = dict[bytes, bytes]
MEGABYTE = "x" * 1_000_000
DEEP = '{"a":' * 5000 + "1" + "}" * 5000


def raw(fields: dict[str, str]) -> RawFields:
    return {k.encode(): v.encode() for k, v in fields.items()}


def variants(valid: dict[str, str], *, big: str, deep: str | None) -> dict[str, RawFields]:
    """The ways one stream's entry can be poisoned, from a valid entry of that stream."""
    missing = dict(valid)
    missing.pop(next(k for k in valid if k not in ("call_id", "robot_id")))
    found = {
        "missing field": raw(missing),
        "binary junk": {b"\xff\xfe": b"\x00\x81\xc3(", b"more": b"\xde\xad\xbe\xef"},
        "binary value": {**raw(valid), big.encode(): b"\xc3(\xff"},
        "1 MB value": raw({**valid, big: MEGABYTE}),
        "unknown robot": raw({**valid, "robot_id": "nobody"}),
        "foreign robot": raw({**valid, "robot_id": "cleaner-2"}),
    }
    if deep is not None:
        found["deep nesting"] = raw({**valid, deep: DEEP})
    return found


def valid_entries(conversation_id: str) -> dict[str, tuple[str, dict[str, str], str, str | None]]:
    """Per stream: its key, a valid entry with a fresh call id, the big field, the JSON field."""
    deadline = utc_now() + timedelta(seconds=10)
    call = ToolCall(
        call_id=new_call_id(), robot_id=ROBOT, name="stop_cleaning", arguments="{}", deadline=deadline
    ).to_fields()
    command = RosCommand(
        call_id=new_call_id(), robot_id=ROBOT, tool="stop_cleaning", kind=CommandKind.SERVICE,
        target="/robot_navigator/stop", ros_type="std_srvs/srv/Trigger", payload="{}", deadline=deadline, timeout_s=5,
    ).to_fields()  # fmt: skip
    result = CommandResult(
        call_id=new_call_id(), robot_id=ROBOT, status=CommandStatus.SUCCEEDED, sent_to_robot=True
    ).to_fields()
    inbox = InboxEntry(
        kind=InboxKind.SYSTEM_MESSAGE, robot_id=ROBOT, text="poison notice", speak=False, source="poison"
    ).to_fields()
    item = ConversationItem(
        conversation_id=conversation_id, robot_id=ROBOT, kind=ItemKind.USER_MESSAGE, text="poison", source="poison"
    ).to_fields()
    sample = TelemetrySample(
        robot_id=ROBOT, topic="/battery/voltage", ros_type="std_msgs/msg/Float32", msg='{"data": 24.0}'
    ).to_fields()
    return {
        "tool_calls": (KEYS.tool_calls, call, "arguments", "arguments"),
        "commands": (KEYS.commands, command, "payload", "payload"),
        "command_results": (KEYS.command_results, result, "message", "values"),
        "inbox": (KEYS.inbox, inbox, "text", None),
        "telemetry": (KEYS.telemetry, sample, "msg", "msg"),
        "conversation": (KEYS.conversation, item, "text", None),
    }


async def dead_letters(binary: Redis) -> list[DeadLetter]:
    entries: Any = await binary.xrange(KEYS.dead_letters)
    return [DeadLetter.from_fields(decode_lossy(fields)) for _id, fields in entries]


async def inbox_outputs(binary: Redis, call_id: str) -> list[dict[str, str]]:
    entries: Any = await binary.xrange(KEYS.inbox)
    found = [decode_lossy(fields) for _id, fields in entries]
    return [f for f in found if f.get("call_id") == call_id and f.get("kind") == "function_call_output"]


@pytest.fixture
async def binary(redis_url: str) -> Any:
    client: Redis = open_redis(redis_url, decode_responses=False)  # bytes in, bytes out
    yield client
    await client.aclose()


def is_action_result(event: dict[str, Any]) -> bool:
    item = event["item"]
    text = item["content"][0]["text"] if item.get("role") == "system" else ""
    return "(stop_cleaning): stop_cleaning succeeded" in text


async def test_poison_on_every_stream_is_dead_lettered_and_every_robot_part_goes_on(
    robot_online: str, monitor: AlertMonitor, gateway: SessionGateway, emulator: RealtimeEmulator,
    sim: RobotSimulator, redis: Redis, binary: Redis,
) -> None:  # fmt: skip
    session = await live_session(gateway, emulator)
    sim.clear_ops()
    # (stream key, entry id) -> (stream, variant): two streams can hand out the same entry id
    injected: dict[tuple[str, str], tuple[str, str]] = {}
    answered_calls: dict[str, str] = {}  # call id of a poisoned tool call -> variant
    conversation_id = gateway.robots[ROBOT].conversation_id
    assert conversation_id is not None
    for stream, (key, valid, big, deep) in valid_entries(conversation_id).items():
        for variant, fields in variants(valid, big=big, deep=deep).items():
            if b"call_id" in fields:
                fields[b"call_id"] = new_call_id().encode()  # each variant is a call of its own
            entry_id = (await binary.xadd(key, fields)).decode()  # type: ignore[arg-type]
            injected[(key, entry_id)] = (stream, variant)
            if stream == "tool_calls" and variant in ("missing field", "binary value", "1 MB value"):
                answered_calls[fields[b"call_id"].decode()] = variant

    # The session expires: the gateway opens the next one and replays the conversation, junk and all.
    await session.expire()
    session = await live_session(gateway, emulator, index=1)
    # Every part is still alive: a probe call runs on the robot and its output reaches the model.
    probe = await call_when_idle(session, "stop_cleaning")
    output = await session.wait_for_client_event("conversation.item.create", is_output(probe), timeout=20)
    assert output["item"]["output"].startswith("stop_cleaning succeeded")
    hold_battery(sim, 21.5)
    fired = await next_alert(redis, "battery_critical", AlertStatus.FIRING, timeout_s=20)
    assert float(fired.value) < 22.0, "the monitor evaluates real samples after the poisoned ones"
    # The rule's action (stop_cleaning) runs too; its outcome reaches the model as an earlier request's.
    assert fired.action == "stop_cleaning" and fired.action_call_id is not None
    await session.wait_for_client_event("conversation.item.create", is_action_result, timeout=20)

    letters = {(letter.stream, letter.entry_id): letter for letter in await dead_letters(binary)}
    expected_letters = {
        entry_id: where
        for entry_id, where in injected.items()
        # A well-formed call with deep arguments is refused as a call (answered), not dead-lettered;
        # a 1 MB sample is simply a sample, a 1 MB item is replayed cut.
        if where not in {("tool_calls", "deep nesting"), ("telemetry", "1 MB value"), ("conversation", "1 MB value")}
    }
    missing = {where for entry_id, where in expected_letters.items() if entry_id not in letters}
    assert missing == set(), f"not dead-lettered: {sorted(missing)}"
    for entry_id in expected_letters:
        assert letters[entry_id].reason, "every dead letter says why"
    assert "is not UTF-8 text" in letters[_id_of(injected, "inbox", "binary junk")].reason
    assert "over the limit of 262144 bytes" in letters[_id_of(injected, "commands", "1 MB value")].reason
    assert "nested too deeply" in letters[_id_of(injected, "commands", "deep nesting")].reason
    assert "cleaner-2" in letters[_id_of(injected, "inbox", "foreign robot")].reason

    for call_id, variant in answered_calls.items():
        outputs = await inbox_outputs(binary, call_id)
        assert len(outputs) == 1, f"{variant}: a call with a usable call_id is answered exactly once"
        assert outputs[0]["reason"] == "not_processed" and "nothing was sent" in outputs[0]["text"]
    for stream in ("tool_calls", "commands", "inbox"):
        key = getattr(KEYS, stream)
        group = {"tool_calls": "tool-executor", "commands": "ros-adapter", "inbox": "session-gateway"}[stream]
        assert (await redis.xpending(key, group))["pending"] == 0, f"{stream}: nothing left pending"
    robot_ops = [op for op in sim.ops() if op.op in ("call_service", "publish", "send_action_goal")]
    assert [op.name for op in robot_ops] == ["/robot_navigator/stop"] * 2, "only the probe and the action did"
    assert not [t for t in (monitor.robots[ROBOT].ready,) if not t.is_set()]
    assert json.dumps(output["item"]).count("poison") == 0


async def call_when_idle(session: EmulatedSession, name: str) -> str:
    """Make the model call ``name`` once the responses asking it to speak about the poison are done."""
    while True:
        if session.active_response_id is None:
            return session.call_tool(name, {})
        await session.wait_for_server_event("response.done", after=len(session.sent), timeout=20)


def _id_of(injected: dict[tuple[str, str], tuple[str, str]], stream: str, variant: str) -> tuple[str, str]:
    return next(entry for entry, where in injected.items() if where == (stream, variant))
