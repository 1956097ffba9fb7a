"""A function call travels the backbone: tool-call stream -> executor -> ROS adapter
-> rosbridge (the simulator, over a real websocket, through roslibpy) -> result ->
inbox. Real Redis, real processes or tasks, nothing mocked."""

from __future__ import annotations

import json
import time

from redis.asyncio import Redis

from robovox.executor.outcome import FAILURE_INSTRUCTIONS, QUERY_INSTRUCTIONS
from robovox.shared.call_life import CallLife, CallState
from robovox.shared.messages import CommandStatus, InboxKind, Outcome
from robovox.shared.testing.streams import add_tool_call, inbox_entries, wait_for_output
from robovox.sim.robot import RobotSimulator

from .conftest import KEYS, ROBOT, telemetry_seen

START = "/robot_navigator/start_cleaning"


async def test_start_cleaning_reaches_the_robot_and_its_output_comes_back(
    redis: Redis, sim: RobotSimulator, robot_online: str
) -> None:
    call = await add_tool_call(redis, ROBOT, "start_cleaning", '{"option":"TurnRight"}')
    [op] = await sim.wait_for_op("call_service", START)
    assert op.message["args"] == {"option": "TurnRight"}
    assert op.message["type"] == "cleaning_robot_interfaces/srv/StartCleaning"
    entry = await wait_for_output(redis, ROBOT, call.call_id)
    assert entry.kind is InboxKind.FUNCTION_CALL_OUTPUT and entry.outcome is Outcome.SUCCEEDED
    assert entry.text.startswith("start_cleaning succeeded: ")
    assert entry.speak is False, "a robot that silently does what it is told is nicer to use"
    assert sim.robot.status == "cleaning"
    record = await CallLife(redis).read(KEYS, call.call_id)
    assert record.state is CallState.DONE and record.result is not None
    assert record.result.status is CommandStatus.SUCCEEDED
    assert record.published_at and record.dispatched_at and record.started_at and record.result_at and record.done_at


async def test_with_the_pads_down_the_call_never_reaches_the_robot(
    redis: Redis, sim: RobotSimulator, robot_online: str
) -> None:
    sim.robot.vacuum_pads = "down"
    await telemetry_seen(redis, "/vacuum_pads/state", "data", "down")
    call = await add_tool_call(redis, ROBOT, "start_cleaning", '{"option":"TurnRight"}')
    entry = await wait_for_output(redis, ROBOT, call.call_id)
    assert entry.outcome is Outcome.REJECTED and entry.reason == "precondition_failed"
    assert entry.text == (
        "I failed to start cleaning. Please make sure the vacuum pads are raised. If the vacuum pads are down, "
        "please use the 'release vacuum' command first."
    )
    assert entry.speak is True and entry.instructions == FAILURE_INSTRUCTIONS
    assert sim.ops("call_service", START) == []
    assert await redis.xlen(KEYS.commands) == 0


async def test_release_vacuum_then_start_cleaning_is_the_way_out(
    redis: Redis, sim: RobotSimulator, robot_online: str
) -> None:
    sim.robot.vacuum_pads = "down"
    await telemetry_seen(redis, "/vacuum_pads/state", "data", "down")
    release = await add_tool_call(redis, ROBOT, "release_vacuum")
    assert (await wait_for_output(redis, ROBOT, release.call_id)).outcome is Outcome.SUCCEEDED
    await telemetry_seen(redis, "/vacuum_pads/state", "data", "up")
    start = await add_tool_call(redis, ROBOT, "start_cleaning", '{"option":"TurnLeft"}')
    assert (await wait_for_output(redis, ROBOT, start.call_id)).outcome is Outcome.SUCCEEDED
    assert [op.message["args"] for op in sim.ops("call_service", START)] == [{"option": "TurnLeft"}]


async def test_move_to_corner_runs_as_an_action_and_speaks_on_arrival(
    redis: Redis, sim: RobotSimulator, robot_online: str
) -> None:
    call = await add_tool_call(redis, ROBOT, "move_to_corner", {"corner": "rear_left"})
    [goal] = await sim.wait_for_op("send_action_goal", "/robot_navigator/move_to_corner")
    assert goal.message["args"] == {"corner": "rear_left"}
    assert goal.message["action_type"] == "cleaning_robot_interfaces/action/MoveToCorner"
    entry = await wait_for_output(redis, ROBOT, call.call_id, timeout_s=15)
    assert entry.outcome is Outcome.SUCCEEDED
    assert entry.speak is True and entry.instructions == "Say briefly that you have arrived at the corner."


async def test_emergency_stop_is_published_and_halts_the_robot(
    redis: Redis, sim: RobotSimulator, robot_online: str
) -> None:
    start = await add_tool_call(redis, ROBOT, "start_cleaning", '{"option":"TurnLeft"}')
    await wait_for_output(redis, ROBOT, start.call_id)
    call = await add_tool_call(redis, ROBOT, "emergency_stop")
    [published] = await sim.wait_for_op("publish", "/emergency_stop")
    assert published.message["msg"] == {"data": True}
    entry = await wait_for_output(redis, ROBOT, call.call_id)
    assert entry.outcome is Outcome.SUCCEEDED and entry.speak is True
    assert sim.robot.emergency_stop is True
    assert sim.ops("advertise", "/emergency_stop"), "a topic is advertised before its first publish"


async def test_battery_query_is_answered_from_telemetry_without_a_robot_round_trip(
    redis: Redis, sim: RobotSimulator, robot_online: str
) -> None:
    ops_before = len(sim.ops("call_service"))
    call = await add_tool_call(redis, ROBOT, "get_battery_voltage")
    entry = await wait_for_output(redis, ROBOT, call.call_id)
    assert entry.outcome is Outcome.SUCCEEDED and entry.speak is True and entry.instructions == QUERY_INSTRUCTIONS
    assert entry.text.startswith("battery voltage: ") and " V (measured " in entry.text
    volts = float(entry.text.split()[2])
    assert abs(volts - sim.robot.battery_voltage) < 0.05
    assert len(sim.ops("call_service")) == ops_before


async def test_digital_io_query_names_the_line(redis: Redis, sim: RobotSimulator, robot_online: str) -> None:
    sim.robot.camera_led = True
    await telemetry_seen(redis, "/digital_io/state", "camera_led", "true")
    call = await add_tool_call(redis, ROBOT, "read_digital_io", {"name": "camera_led"})
    entry = await wait_for_output(redis, ROBOT, call.call_id)
    assert entry.text.startswith("camera_led: on (true) (measured ")


async def test_robot_side_failure_is_spoken_with_the_robots_own_words(
    redis: Redis, sim: RobotSimulator, robot_online: str
) -> None:
    sim.failures.service_error["/vacuum_pads/lower"] = "pad actuator jammed"
    call = await add_tool_call(redis, ROBOT, "lower_vacuum_pads")
    entry = await wait_for_output(redis, ROBOT, call.call_id)
    assert entry.outcome is Outcome.FAILED and entry.speak is True
    assert entry.text == "lower_vacuum_pads failed: /vacuum_pads/lower failed: pad actuator jammed."


async def test_slow_service_past_its_timeout_is_reported_as_unknown(
    redis: Redis, sim: RobotSimulator, robot_online: str
) -> None:
    sim.failures.slow_service["/robot_navigator/stop"] = 6.0  # the tool's timeout is 3 s
    started = time.monotonic()
    call = await add_tool_call(redis, ROBOT, "stop_cleaning")
    entry = await wait_for_output(redis, ROBOT, call.call_id)
    assert 2.9 < time.monotonic() - started < 5.0
    assert entry.outcome is Outcome.UNKNOWN and entry.reason == "timed_out"
    assert "did not finish in time (no answer from /robot_navigator/stop within 3 s" in entry.text


async def test_a_call_delivered_twice_runs_once_and_is_answered_once(
    redis: Redis, sim: RobotSimulator, robot_online: str
) -> None:
    call = await add_tool_call(redis, ROBOT, "lower_vacuum_pads")
    await wait_for_output(redis, ROBOT, call.call_id)
    # The same call_id again, as a gateway retry after a lost XADD reply would send it.
    await redis.xadd(KEYS.tool_calls, call.to_fields())  # type: ignore[arg-type]
    marker = await add_tool_call(redis, ROBOT, "get_battery_voltage")
    await wait_for_output(redis, ROBOT, marker.call_id)  # handled after the duplicate
    assert len(sim.ops("call_service", "/vacuum_pads/lower")) == 1
    assert len(await inbox_entries(redis, ROBOT, call.call_id)) == 1
    assert json.loads((await redis.xrange(KEYS.commands))[0][1]["payload"]) == {}
