"""Every way a call is refused before touching the robot: the exact sentence the
model hears, spoken now, and no command sent."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from robovox.executor.outcome import FAILURE_INSTRUCTIONS
from robovox.executor.service import ToolExecutor
from robovox.shared.link import LinkState
from robovox.shared.messages import InboxEntry, InboxKind, Outcome
from robovox.shared.streams import RobotKeys
from robovox.shared.testing.streams import add_tool_call, set_link, set_telemetry, wait_for_output

ROBOT = "cleaner-1"
KEYS = RobotKeys.of(ROBOT)


async def refused(redis: Redis, name: str, arguments: str, **kw: float) -> InboxEntry:
    call = await add_tool_call(redis, ROBOT, name, arguments, **kw)
    entry = await wait_for_output(redis, ROBOT, call.call_id)
    assert entry.kind is InboxKind.FUNCTION_CALL_OUTPUT
    assert entry.outcome is Outcome.REJECTED
    assert entry.speak is True
    assert entry.instructions == FAILURE_INSTRUCTIONS
    assert entry.tool == name and entry.source == "tool-executor"
    assert await redis.xlen(KEYS.commands) == 0, "a refused call must not reach the ROS adapter"
    return entry


async def test_unknown_tool_is_refused_with_the_available_functions(redis: Redis, robot: str) -> None:
    entry = await refused(redis, "fly_away", "{}")
    assert entry.reason == "unknown_tool"
    assert entry.text == (
        'There is no function named "fly_away". The available functions are: start_cleaning, move_to_corner, '
        "stop_cleaning, lower_vacuum_pads, release_vacuum, get_battery_voltage, get_battery_status, read_digital_io, "
        "emergency_stop. "
        "Tell the user what you can do instead."
    )


async def test_arguments_that_are_not_json_are_refused_with_an_example(redis: Redis, robot: str) -> None:
    entry = await refused(redis, "start_cleaning", "{option: TurnRight")
    assert entry.reason == "invalid_json"
    assert entry.text == (
        "The arguments for start_cleaning were not valid JSON (Expecting property name enclosed in double "
        'quotes at character 1). Call start_cleaning again with a JSON object such as {"option": "TurnLeft"}.'
    )


async def test_arguments_that_are_not_an_object_are_refused(redis: Redis, robot: str) -> None:
    entry = await refused(redis, "start_cleaning", '["TurnRight"]')
    assert entry.reason == "invalid_json"
    assert entry.text == (
        'The arguments for start_cleaning must be a JSON object such as {"option": "TurnLeft"}, not list.'
    )


async def test_wrong_type_is_refused(redis: Redis, robot: str) -> None:
    entry = await refused(redis, "read_digital_io", '{"name": 3}')
    assert entry.reason == "wrong_type"
    assert entry.text == 'Argument "name" of read_digital_io must be a string, not 3. Call it again with a valid value.'


async def test_value_outside_the_enum_is_refused_with_the_options(redis: Redis, robot: str) -> None:
    entry = await refused(redis, "start_cleaning", '{"option": "TurnUp"}')
    assert entry.reason == "not_an_option"
    assert entry.text == (
        'Argument "option" of start_cleaning must be one of TurnLeft, TurnRight; got "TurnUp". '
        "Ask the user which one they mean."
    )


async def test_missing_direction_makes_the_model_ask_for_it(redis: Redis, robot: str) -> None:
    entry = await refused(redis, "start_cleaning", "{}")
    assert entry.reason == "missing_argument"
    assert entry.text == (
        'start_cleaning needs the argument "option" (one of TurnLeft, TurnRight). Ask the user for it, then call again.'
    )


async def test_extra_argument_is_refused(redis: Redis, robot: str) -> None:
    entry = await refused(redis, "start_cleaning", '{"option": "TurnLeft", "speed": 2}')
    assert entry.reason == "unexpected_argument"
    assert entry.text == "start_cleaning does not take 'speed'; it takes: option. Call it again without them."


async def test_value_out_of_range_is_refused(redis: Redis, robot: str, executor: ToolExecutor) -> None:
    # The shipped profile has no numeric argument: give the robot one for this test.
    profile = executor.profiles[ROBOT]
    tool = profile.tool("stop_cleaning")
    assert tool is not None
    bounded = tool.model_copy(
        update={
            "name": "set_brush_speed",
            "parameters": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"rpm": {"type": "integer", "minimum": 0, "maximum": 300}},
                "required": ["rpm"],
            },
        }
    )
    executor.robots[ROBOT].profile = profile.model_copy(update={"tools": [*profile.tools, bounded]})
    entry = await refused(redis, "set_brush_speed", '{"rpm": 900}')
    assert entry.reason == "out_of_range"
    assert (
        entry.text == 'Argument "rpm" of set_brush_speed must be at most 300; got 900. Tell the user the allowed range.'
    )


async def test_vacuum_pads_down_fails_the_precondition_with_the_prototype_sentence(redis: Redis, robot: str) -> None:
    await set_telemetry(redis, ROBOT, "/vacuum_pads/state", {"data": "down"})
    entry = await refused(redis, "start_cleaning", '{"option": "TurnRight"}')
    assert entry.reason == "precondition_failed"
    assert entry.text == (
        "I failed to start cleaning. Please make sure the vacuum pads are raised. If the vacuum pads are down, "
        "please use the 'release vacuum' command first."
    )


async def test_stale_telemetry_counts_as_unknown_and_is_refused(redis: Redis, robot: str) -> None:
    await set_telemetry(redis, ROBOT, "/vacuum_pads/state", {"data": "up"}, age_s=30)
    entry = await refused(redis, "start_cleaning", '{"option": "TurnRight"}')
    assert entry.reason == "precondition_unknown"
    assert entry.text == (
        "start_cleaning was not run because I cannot check that it is safe: /vacuum_pads/state is unknown "
        "(the last reading is 30 s old). Tell the user the robot's state is unknown and ask them to check it."
    )


@pytest.mark.parametrize(
    ("link_state", "why"),
    [
        (None, "no ROS adapter is connected to it"),
        (LinkState.DOWN, "its ROS bridge is not answering"),
        (LinkState.CONNECTING, "its ROS bridge is not answering"),
    ],
)
async def test_offline_robot_is_refused(redis: Redis, robot: str, link_state: LinkState | None, why: str) -> None:
    if link_state is None:
        await redis.delete(KEYS.link_state)
    else:
        await set_link(redis, ROBOT, link_state)
    entry = await refused(redis, "stop_cleaning", "{}")
    assert entry.reason == "robot_offline"
    assert entry.text == (
        f"Cleaning robot 1 is offline ({why}), so stop_cleaning was not sent. "
        "Tell the user to check that the robot is powered on and connected, then try again."
    )


async def test_call_past_its_deadline_is_not_run(redis: Redis, robot: str) -> None:
    entry = await refused(redis, "start_cleaning", '{"option": "TurnLeft"}', deadline_in_s=-2.0)
    assert entry.reason == "deadline_passed"
    assert entry.text.startswith("start_cleaning was not run: it reached the robot 2.")
    assert entry.text.endswith(
        " s after its deadline, and a late command could surprise someone. Ask the user whether it is still wanted."
    )


async def test_same_motion_twice_within_the_window_is_refused(redis: Redis, robot: str) -> None:
    first = await add_tool_call(redis, ROBOT, "start_cleaning", '{"option": "TurnLeft"}')
    # The first is dispatched (nobody answers it here); the second, identical, must be refused.
    await redis.xread({KEYS.commands: "0"}, block=5000)
    call = await add_tool_call(redis, ROBOT, "start_cleaning", '{"option": "TurnLeft"}')
    entry = await wait_for_output(redis, ROBOT, call.call_id)
    assert entry.outcome is Outcome.REJECTED and entry.reason == "repeated_motion"
    assert entry.text.startswith("start_cleaning with the same arguments was already sent ")
    assert entry.text.endswith(
        " s ago, so it was not sent again. If the user really wants it repeated, ask them to confirm and call it "
        "again after 5 seconds."
    )
    assert await redis.xlen(KEYS.commands) == 1
    commands = await redis.xrange(KEYS.commands)
    assert commands[0][1]["call_id"] == first.call_id


async def test_other_arguments_are_not_a_repeat(redis: Redis, robot: str) -> None:
    await add_tool_call(redis, ROBOT, "start_cleaning", '{"option": "TurnLeft"}')
    await add_tool_call(redis, ROBOT, "start_cleaning", '{"option": "TurnRight"}')
    seen: list[str] = []
    last = "0"
    while len(seen) < 2:
        reply = await redis.xread({KEYS.commands: last}, block=5000)
        assert reply, "both calls should be dispatched"
        for entry_id, fields in reply[0][1]:
            last = entry_id
            seen.append(fields["payload"])
    assert sorted(seen) == ['{"option": "TurnLeft"}', '{"option": "TurnRight"}']
