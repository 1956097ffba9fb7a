"""Limits at the door, and answers that say what the call record knows: arguments too
large, too deep or too long are refused without echoing them; a call nobody started is
answered "not run" and can never start later; a dead-lettered call is answered once, on
its own robot's inbox only."""

from __future__ import annotations

import json
from datetime import timedelta

from redis.asyncio import Redis

from robovox.shared.call_life import CallLife, CallState, Started
from robovox.shared.entry import format_time, utc_now
from robovox.shared.messages import DeadLetter, Outcome
from robovox.shared.streams import RobotKeys
from robovox.shared.testing.streams import add_tool_call, inbox_entries, new_call_id, wait_for_output

ROBOT = "cleaner-1"
KEYS = RobotKeys.of(ROBOT)


async def test_a_megabyte_of_arguments_is_refused_without_echoing_it(redis: Redis, robot: str) -> None:
    call = await add_tool_call(redis, ROBOT, "start_cleaning", json.dumps({"option": "x" * 100_000}))
    entry = await wait_for_output(redis, ROBOT, call.call_id)
    assert entry.outcome is Outcome.REJECTED and entry.reason == "arguments_too_large"
    assert entry.text.startswith("The arguments for start_cleaning are 100014 bytes long; RoboVox takes at most 16384.")
    assert len(entry.text) < 400
    assert await redis.xlen(KEYS.commands) == 0


async def test_a_long_value_inside_valid_arguments_never_reaches_the_robot(redis: Redis, robot: str) -> None:
    call = await add_tool_call(redis, ROBOT, "start_cleaning", json.dumps({"option": "TurnLeft" + " " * 5000}))
    entry = await wait_for_output(redis, ROBOT, call.call_id)
    assert entry.reason == "value_too_long"
    assert entry.text.startswith('Argument "option" of start_cleaning is 5008 characters long; RoboVox takes at most')
    assert await redis.xlen(KEYS.commands) == 0


async def test_arguments_nested_100000_deep_are_refused_at_once(redis: Redis, robot: str) -> None:
    deep = '{"a":' * 2000 + "1" + "}" * 2000
    call = await add_tool_call(redis, ROBOT, "start_cleaning", deep)
    entry = await wait_for_output(redis, ROBOT, call.call_id)
    assert entry.reason == "arguments_too_deep"
    assert "nested more than 16 levels deep" in entry.text
    deeper = "[" * 100_000 + "]" * 100_000  # over the size limit as well: refused before any parsing
    call = await add_tool_call(redis, ROBOT, "start_cleaning", deeper)
    assert (await wait_for_output(redis, ROBOT, call.call_id)).reason == "arguments_too_large"


async def test_a_wrong_value_is_quoted_cut_short(redis: Redis, robot: str) -> None:
    call = await add_tool_call(redis, ROBOT, "start_cleaning", json.dumps({"option": "Turn" * 400}))
    entry = await wait_for_output(redis, ROBOT, call.call_id)
    assert entry.reason == "not_an_option"
    assert "more characters]" in entry.text and len(entry.text) < 300


async def test_a_command_the_adapter_never_started_is_answered_not_run_and_never_starts(
    redis: Redis, robot: str
) -> None:
    # No ROS adapter runs here: the command is dispatched and nobody takes it up.
    call = await add_tool_call(redis, ROBOT, "stop_cleaning", deadline_in_s=0.3)
    entry = await wait_for_output(redis, ROBOT, call.call_id, timeout_s=5)
    assert entry.outcome is Outcome.FAILED and entry.reason == "not_started"
    assert entry.text.startswith("stop_cleaning was not run:") and "nothing was done" in entry.text
    assert await redis.xlen(KEYS.commands) == 1, "it was dispatched"
    record = await CallLife(redis).read(KEYS, call.call_id)
    assert record.state is CallState.DONE and record.abandoned_at is not None and record.started_at is None
    started = await CallLife(redis).start(KEYS, call.call_id)
    assert started is Started.NEVER, "an adapter arriving late never starts it"


async def test_a_call_the_adapter_started_and_never_reported_is_answered_unconfirmed(redis: Redis, robot: str) -> None:
    call = await add_tool_call(redis, ROBOT, "stop_cleaning", deadline_in_s=0.3)
    await redis.xread({KEYS.commands: "0"}, block=5000)
    # An adapter took it up, then died before reporting.
    assert await CallLife(redis).start(KEYS, call.call_id) is Started.NOW
    entry = await wait_for_output(redis, ROBOT, call.call_id, timeout_s=15)
    assert entry.outcome is Outcome.UNKNOWN and entry.reason == "no_result"
    assert entry.text.startswith("RoboVox sent stop_cleaning to the robot but got no confirmation")


async def _dead_letters(redis: Redis, count: int) -> list[DeadLetter]:
    last = "0-0"
    while await redis.xlen(KEYS.dead_letters) < count:
        await redis.xread({KEYS.dead_letters: last}, block=5000)
        last = "$"
    return [DeadLetter.from_fields(f) for _id, f in await redis.xrange(KEYS.dead_letters)]


async def test_a_call_with_a_bad_field_is_dead_lettered_and_answered_once(redis: Redis, robot: str) -> None:
    call_id = new_call_id()
    fields = {"call_id": call_id, "robot_id": ROBOT, "name": "stop_cleaning", "arguments": "{}"}
    await redis.xadd(KEYS.tool_calls, {**fields, "deadline": "2026-12-01T10:00:00"})  # no time zone
    entry = await wait_for_output(redis, ROBOT, call_id)
    assert entry.outcome is Outcome.REJECTED and entry.reason == "not_processed"
    assert entry.text.startswith("RoboVox could not process the call to stop_cleaning (not a valid ToolCall entry")
    assert "nothing was sent to the robot" in entry.text
    letters = await _dead_letters(redis, 1)
    assert "deadline: Input should have timezone info" in letters[0].reason
    assert len(await inbox_entries(redis, ROBOT, call_id)) == 1
    assert await redis.xlen(KEYS.commands) == 0


async def test_a_call_for_another_robot_is_answered_on_nobody_s_inbox(redis: Redis, robot: str) -> None:
    call_id = new_call_id()
    deadline = format_time(utc_now() + timedelta(seconds=10))
    fields = {"call_id": call_id, "robot_id": "cleaner-2", "name": "stop_cleaning", "deadline": deadline}
    await redis.xadd(KEYS.tool_calls, fields)
    letters = await _dead_letters(redis, 1)
    assert "call for robot 'cleaner-2' on 'cleaner-1''s stream" in letters[0].reason
    probe = await add_tool_call(redis, ROBOT, "get_battery_voltage")
    await wait_for_output(redis, ROBOT, probe.call_id)  # later entries are answered, in order
    assert await inbox_entries(redis, ROBOT, call_id) == []
    assert await redis.exists(RobotKeys.of("cleaner-2").inbox) == 0


async def test_a_call_whose_record_cannot_be_read_is_dead_lettered_and_answered_with_care(
    redis: Redis, robot: str
) -> None:
    call_id = new_call_id()
    await redis.hset(KEYS.call_record(call_id), mapping={"state": "bogus", "published_at": "yesterday"})
    deadline = format_time(utc_now() + timedelta(seconds=10))
    fields = {"call_id": call_id, "robot_id": ROBOT, "name": "stop_cleaning", "arguments": "{}", "deadline": deadline}
    await redis.xadd(KEYS.tool_calls, fields)
    entry = await wait_for_output(redis, ROBOT, call_id)
    # Nothing can be told of what was sent: neither "nothing was done" nor "sent" is claimed.
    assert entry.outcome is Outcome.UNKNOWN and entry.reason == "record_unreadable"
    assert entry.text.startswith("RoboVox lost track of stop_cleaning (its call record cannot be read")
    assert "cannot tell whether it reached the robot" in entry.text
    letters = await _dead_letters(redis, 1)
    assert "its call record cannot be read" in letters[0].reason and "state" in letters[0].reason
    assert len(await inbox_entries(redis, ROBOT, call_id)) == 1
    assert await redis.xlen(KEYS.commands) == 0
