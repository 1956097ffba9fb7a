"""ROS 1 actions over actionlib topics, against the simulator playing a ROS 1 bridge (which has no
action ops at all), and the link's smaller truths: advertise keyed by type, the URL kept whole."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from robovox.ros_adapter.link import RosbridgeLink, configure_reconnect
from robovox.ros_adapter.link.actions import GOAL_SUCCEEDED, Ros1ActionGoals
from robovox.shared.link import LinkState
from robovox.sim.robot import Dialect, RobotSimulator

MOVE = "/robot_navigator/move_to_corner"
MOVE_TYPE = "cleaning_robot_interfaces/action/MoveToCorner"


@pytest.fixture
async def sim() -> AsyncIterator[RobotSimulator]:
    simulator = RobotSimulator(port=0, dialect=Dialect.ROS1, time_scale=4.0)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def link(sim: RobotSimulator) -> AsyncIterator[RosbridgeLink]:
    configure_reconnect(0.1, 0.5)
    robot_link = RosbridgeLink("r1", sim.url + "/")
    robot_link.start()
    await robot_link.wait_state(LinkState.UP, 10)
    yield robot_link
    await robot_link.close()


async def test_a_goal_runs_over_actionlib_topics_with_feedback(link: RosbridgeLink, sim: RobotSimulator) -> None:
    feedback: list[dict[str, object]] = []
    reply = await Ros1ActionGoals(link).send_goal(
        MOVE, MOVE_TYPE, {"corner": "front_left"}, deadline=time.time() + 5, timeout_s=30, on_feedback=feedback.append
    )
    assert reply.ok and reply.status == GOAL_SUCCEEDED
    assert sim.ops("send_action_goal") == []
    [advertise] = sim.ops("advertise", f"{MOVE}/goal")
    assert advertise.message["type"] == "cleaning_robot_interfaces/MoveToCornerActionGoal"
    [goal] = sim.ops("publish", f"{MOVE}/goal")
    assert goal.message["msg"]["goal"] == {"corner": "front_left"} and goal.message["msg"]["goal_id"]["id"]
    assert feedback and "distance_remaining" in feedback[0]


async def test_a_goal_that_overruns_is_canceled_by_its_id(link: RosbridgeLink, sim: RobotSimulator) -> None:
    goals = Ros1ActionGoals(link)
    with pytest.raises(TimeoutError):
        await goals.send_goal(MOVE, MOVE_TYPE, {"corner": "rear_right"}, deadline=time.time() + 5, timeout_s=0.3)
    [goal] = sim.ops("publish", f"{MOVE}/goal")
    [cancel] = await sim.wait_for_op("publish", f"{MOVE}/cancel")
    assert cancel.message["msg"]["id"] == goal.message["msg"]["goal_id"]["id"]
    [advertise] = sim.ops("advertise", f"{MOVE}/cancel")
    assert advertise.message["type"] == "actionlib_msgs/GoalID"
    stood_still = asyncio.Event()  # the robot preempts the goal and stands still
    sim.robot.add_listener(lambda _topic: stood_still.set() if sim.robot.status != "moving" else None)
    if sim.robot.status == "moving":
        await asyncio.wait_for(stood_still.wait(), 5)
    assert sim.robot.status == "idle"


async def test_a_topic_is_advertised_again_for_another_type(link: RosbridgeLink, sim: RobotSimulator) -> None:
    await link.publish("/emergency_stop", "std_msgs/Bool", {"data": False}, deadline=time.time() + 5)
    await link.publish("/emergency_stop", "std_msgs/Bool", {"data": False}, deadline=time.time() + 5)
    await link.publish("/emergency_stop", "std_msgs/String", {"data": "no"}, deadline=time.time() + 5)
    advertised = [op.message["type"] for op in sim.ops("advertise", "/emergency_stop")]
    assert advertised == ["std_msgs/Bool", "std_msgs/String"]
    assert link.url.endswith("/"), "the URL is kept whole, path included"
