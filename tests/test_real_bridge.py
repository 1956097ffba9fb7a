"""What a real rosbridge does that a friendly one would not, in both dialects: the robot is checked
at connect, publishes are only "sent" unless telemetry confirms them, ROS 1 actions go over
actionlib, a stalled bridge is found within a second and never handed a command to run late,
and a robot whose telemetry stopped is unreachable with its websocket up.

Every test runs against the simulator playing ROS 1 (rosbridge_suite 0.11 on Noetic: ``/msg/``
names dropped without a word, no action ops, errors only in its own log) and ROS 2."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from robovox.executor.service import ToolExecutor
from robovox.ros_adapter.service import RosAdapter
from robovox.shared.link import LinkInfo, LinkState, RobotCheck
from robovox.shared.messages import Outcome
from robovox.shared.testing.streams import add_tool_call, wait_for_output
from robovox.sim.robot import Dialect, RobotSimulator

from .conftest import KEYS, ROBOT, SHIPPED_PROFILE, telemetry_seen, write_profiles

MOVE = "/robot_navigator/move_to_corner"


@pytest.fixture(params=[Dialect.ROS1, Dialect.ROS2], ids=["ros1", "ros2"])
async def sim(request: pytest.FixtureRequest) -> AsyncIterator[RobotSimulator]:
    simulator = RobotSimulator(port=0, battery_rate_hz=20, state_rate_hz=10, dialect=request.param)
    await simulator.start()
    yield simulator
    await simulator.stop()


def quick_silence(text: str) -> str:
    """The shipped profile with a 1 s max silence (and its silence alert agreeing)."""
    return text.replace("max_silence_s: 5", "max_silence_s: 1").replace("missing_for_s: 5 ", "missing_for_s: 1 ")


@pytest.fixture
def profiles_dir(tmp_path: Path, sim: RobotSimulator, request: pytest.FixtureRequest) -> Path:
    edit = getattr(request, "param", None) or (lambda text: text)
    return write_profiles(tmp_path, sim, **{ROBOT: edit(SHIPPED_PROFILE.read_text())})


async def link_info(redis: Redis, *, until: object, timeout_s: float = 10.0) -> LinkInfo:
    """The robot's link hash, once ``until(info)`` holds."""
    async with asyncio.timeout(timeout_s):
        while True:
            info = LinkInfo.from_hash_or_none(await redis.hgetall(KEYS.link_state), ROBOT)  # type: ignore[misc]
            if info is not None and until(info):  # type: ignore[operator]
                return info
            await asyncio.sleep(0.02)


def misfit(text: str) -> str:
    """A profile that does not fit the robot: a service it lacks, a topic type it does not have."""
    return text.replace("name: /robot_navigator/start_cleaning", "name: /robot_navigator/start_cleaning_now").replace(
        "  - topic: /vacuum_pads/state\n    type: std_msgs/msg/String",
        "  - topic: /vacuum_pads/state\n    type: std_msgs/msg/Bool",
    )


@pytest.mark.parametrize("profiles_dir", [misfit], indirect=True)
async def test_a_profile_that_does_not_fit_the_robot_is_found_at_connect_and_never_succeeds(
    redis: Redis, sim: RobotSimulator, adapter: RosAdapter, executor: ToolExecutor, caplog: pytest.LogCaptureFixture
) -> None:
    info = await link_info(redis, until=lambda i: i.check is not RobotCheck.PENDING)
    assert info.check is RobotCheck.PROBLEMS and info.ros_version == (1 if sim.dialect is Dialect.ROS1 else 2)
    pads_type = "std_msgs/String" if sim.dialect is Dialect.ROS1 else "std_msgs/msg/String"
    missing = "the robot has no service /robot_navigator/start_cleaning_now"
    wrong = f"/vacuum_pads/state is {pads_type} on the robot; the profile says std_msgs/msg/Bool"
    assert missing in info.problems and wrong in info.problems
    logged = [r.getMessage() for r in caplog.get_records("setup") + caplog.records]
    assert f"robot {ROBOT}: {missing}" in logged and f"robot {ROBOT}: {wrong}" in logged
    unavailable = info.unavailable_tools()
    assert unavailable["start_cleaning"] == missing  # its service is missing (and its precondition reads the pads)
    assert unavailable["move_to_corner"] == wrong  # its precondition reads the pads
    assert "stop_cleaning" not in unavailable

    call = await add_tool_call(redis, ROBOT, "start_cleaning", '{"option":"TurnLeft"}')
    entry = await wait_for_output(redis, ROBOT, call.call_id)
    assert entry.outcome is Outcome.REJECTED and entry.reason == "tool_unavailable"
    assert entry.text.startswith(f"start_cleaning is unavailable: {missing}.")
    assert sim.ops("call_service", "/robot_navigator/start_cleaning_now") == []


def late_topic(text: str) -> str:
    """The emergency stop on a topic the robot gets only after the adapter connected."""
    return text.replace("topic: /emergency_stop\n", "topic: /emergency_stop_late\n")


@pytest.mark.parametrize("profiles_dir", [late_topic], indirect=True)
async def test_a_node_started_after_the_connect_is_found_without_a_reconnect(
    redis: Redis, sim: RobotSimulator, adapter: RosAdapter, executor: ToolExecutor
) -> None:
    info = await link_info(redis, until=lambda i: i.check is not RobotCheck.PENDING)
    assert info.unavailable_tools() == {"emergency_stop": "the robot has no topic /emergency_stop_late"}
    bool_type = "std_msgs/Bool" if sim.dialect is Dialect.ROS1 else "std_msgs/msg/Bool"
    sim.publish("/emergency_stop_late", {"data": False}, bool_type)  # its node comes up
    info = await link_info(redis, until=lambda i: i.check is RobotCheck.PASSED)
    assert info.unavailable_tools() == {} and info.connects == 1


async def test_the_shipped_profile_fits_both_dialects_end_to_end(
    redis: Redis, sim: RobotSimulator, robot_online: str
) -> None:
    info = await link_info(redis, until=lambda i: i.check is not RobotCheck.PENDING)
    assert (info.check, info.problems, info.unavailable_tools()) == (RobotCheck.PASSED, "", {})
    battery = await add_tool_call(redis, ROBOT, "get_battery_voltage")
    assert (await wait_for_output(redis, ROBOT, battery.call_id)).outcome is Outcome.SUCCEEDED
    start = await add_tool_call(redis, ROBOT, "start_cleaning", '{"option":"TurnRight"}')
    assert (await wait_for_output(redis, ROBOT, start.call_id)).outcome is Outcome.SUCCEEDED
    assert sim.robot.status == "cleaning"
    stop = await add_tool_call(redis, ROBOT, "stop_cleaning")
    assert (await wait_for_output(redis, ROBOT, stop.call_id)).outcome is Outcome.SUCCEEDED
    move = await add_tool_call(redis, ROBOT, "move_to_corner", '{"corner":"rear_left"}')
    moved = await wait_for_output(redis, ROBOT, move.call_id, timeout_s=30)
    assert moved.outcome is Outcome.SUCCEEDED, moved.text
    if sim.dialect is Dialect.ROS1:
        assert sim.ops("send_action_goal") == [], "ROS 1 has no action ops"
        [goal] = sim.ops("publish", f"{MOVE}/goal")
        assert goal.message["msg"]["goal"] == {"corner": "rear_left"}
    else:
        assert len(sim.ops("send_action_goal", MOVE)) == 1


async def test_a_publish_is_confirmed_from_telemetry_or_said_to_be_unconfirmed(
    redis: Redis, sim: RobotSimulator, robot_online: str
) -> None:
    stop = await add_tool_call(redis, ROBOT, "emergency_stop")
    entry = await wait_for_output(redis, ROBOT, stop.call_id)
    assert entry.outcome is Outcome.SUCCEEDED and sim.robot.emergency_stop
    sim.robot.reset_emergency_stop()
    await telemetry_seen(redis, "/robot_navigator/status", "data", "idle")
    sim.silence_topics()  # as after a ROS master restart: the publish goes nowhere, no telemetry comes
    again = await add_tool_call(redis, ROBOT, "emergency_stop")
    entry = await wait_for_output(redis, ROBOT, again.call_id)
    assert entry.outcome is Outcome.UNKNOWN and entry.reason == "unconfirmed"
    assert "no message showed /robot_navigator/status data equals 'emergency_stop' within 1 s" in entry.text
    assert not sim.robot.emergency_stop


@pytest.mark.parametrize("profiles_dir", [quick_silence], indirect=True)
async def test_a_robot_heard_from_no_more_is_unreachable_and_not_moved(
    redis: Redis, sim: RobotSimulator, robot_online: str
) -> None:
    await link_info(redis, until=lambda i: i.state is LinkState.UP)
    sim.silence_topics()
    silenced = time.monotonic()
    info = await link_info(redis, until=lambda i: i.state is LinkState.UNREACHABLE)
    assert time.monotonic() - silenced < 1.0 + 0.5, "unreachable within its max silence (1 s) and a tick"
    move = await add_tool_call(redis, ROBOT, "move_to_corner", '{"corner":"rear_left"}')
    entry = await wait_for_output(redis, ROBOT, move.call_id)
    assert entry.outcome is Outcome.REJECTED and entry.reason == "robot_unreachable"
    assert "although its ROS bridge is connected" in entry.text and info.last_heard is not None
    assert sim.ops("send_action_goal") == [] and sim.ops("publish", f"{MOVE}/goal") == []
    sim.restore_topics()
    await link_info(redis, until=lambda i: i.state is LinkState.UP)


async def test_a_stalled_bridge_is_found_within_a_second_and_runs_nothing_late(
    redis: Redis, sim: RobotSimulator, adapter: RosAdapter, robot_online: str
) -> None:
    link = adapter.robots[ROBOT].link
    await link_info(redis, until=lambda i: i.check is not RobotCheck.PENDING)
    sim.freeze()  # SIGSTOP: the socket stays open, nothing is read or answered
    frozen = time.monotonic()
    # A call with seconds to spare arrives in the stall: it must not wait in the bridge's buffer.
    during = await add_tool_call(redis, ROBOT, "stop_cleaning", deadline_in_s=5)
    await link.wait_state(LinkState.DOWN, 2)
    found_s = time.monotonic() - frozen
    assert found_s < 1.0, f"the stall was found after {found_s:.2f} s"
    after = await add_tool_call(redis, ROBOT, "stop_cleaning", deadline_in_s=0.02)
    await asyncio.sleep(max(0.0, 1.5 - (time.monotonic() - frozen)))  # shorter than the old 3 s watchdog
    sim.thaw()
    await link.wait_state(LinkState.UP, 10)
    for call in (during, after):
        entry = await wait_for_output(redis, ROBOT, call.call_id)
        assert entry.outcome in (Outcome.FAILED, Outcome.REJECTED), entry.text
        assert "nothing was done" in entry.text or "was not" in entry.text or "not sent" in entry.text, entry.text
    assert sim.ops("call_service", "/robot_navigator/stop") == [], "nothing was written into the stall"
    await link_info(redis, until=lambda i: i.up and i.stalls == 1)
    fresh = await add_tool_call(redis, ROBOT, "stop_cleaning")
    assert (await wait_for_output(redis, ROBOT, fresh.call_id)).outcome is Outcome.SUCCEEDED


async def test_a_bridge_that_stalled_with_motion_in_flight_is_stopped_first_when_it_returns(
    redis: Redis, sim: RobotSimulator, adapter: RosAdapter, robot_online: str
) -> None:
    link = adapter.robots[ROBOT].link
    move = await add_tool_call(redis, ROBOT, "move_to_corner", '{"corner":"front_right"}')
    goal_op = "publish" if sim.dialect is Dialect.ROS1 else "send_action_goal"
    goal_name = f"{MOVE}/goal" if sim.dialect is Dialect.ROS1 else MOVE
    await sim.wait_for_op(goal_op, goal_name)
    sim.freeze()
    entry = await wait_for_output(redis, ROBOT, move.call_id)
    assert entry.outcome is Outcome.UNKNOWN and entry.reason == "stalled"
    assert "the robot may still run it, late, when the bridge resumes" in entry.text
    reconnects = link.connects
    sim.thaw()
    await link.wait_state(LinkState.UP, 10)
    assert link.connects == reconnects + 1
    [stop] = await sim.wait_for_op("call_service", "/robot_navigator/stop")
    on_new_link = [
        op
        for op in sim.ops()
        if op.conn == stop.conn
        and op.op in ("call_service", "publish", "send_action_goal")
        and not (op.name or "").startswith("/rosapi")
    ]
    assert on_new_link[0] == stop, "the stop is the first command on the new link"
