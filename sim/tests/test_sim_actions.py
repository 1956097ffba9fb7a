"""The move_to_corner action through roslibpy's ActionClient (ROS 2 actions)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import roslibpy
from roslibpy.core import GoalStatus

from robovox.sim.robot import RobotConfig, RobotSimulator

ACTION = "/robot_navigator/move_to_corner"
ACTION_TYPE = "cleaning_robot_interfaces/action/MoveToCorner"


class GoalWatcher:
    """Runs one goal; feedback/result/error callbacks land in the test's loop."""

    def __init__(self, ros: roslibpy.Ros, new_inbox: Any, action_type: str = ACTION_TYPE) -> None:
        self.client = roslibpy.ActionClient(ros, ACTION, action_type)
        self.feedback = new_inbox()
        self._loop = asyncio.get_running_loop()
        self.outcome: asyncio.Future[tuple[str, Any]] = self._loop.create_future()

    def send(self, corner: str) -> str:
        goal_id: str = self.client.send_goal(
            roslibpy.Goal({"corner": corner}),
            lambda result: self._settle("result", result),
            self.feedback,
            lambda error: self._settle("error", error),
        )
        return goal_id

    def _settle(self, kind: str, value: Any) -> None:
        def _set() -> None:
            if not self.outcome.done():
                self.outcome.set_result((kind, value))

        self._loop.call_soon_threadsafe(_set)

    async def wait(self, timeout_s: float = 5.0) -> tuple[str, Any]:
        return await asyncio.wait_for(asyncio.shield(self.outcome), timeout_s)


async def test_move_to_corner_sends_feedback_then_succeeds(
    sim: RobotSimulator, ros: roslibpy.Ros, new_inbox: Any
) -> None:
    watcher = GoalWatcher(ros, new_inbox)
    start = time.monotonic()
    goal_id = watcher.send("front_left")

    kind, result = await watcher.wait()
    elapsed = time.monotonic() - start
    assert kind == "result"
    assert result["status"] is GoalStatus.SUCCEEDED
    assert result["values"] == {"success": True, "message": "Reached front_left"}
    assert 1.8 < elapsed < 3.5, "default duration is 2 s of sim time"

    feedback = [m["distance_remaining"] for m in watcher.feedback.drain()]
    assert 15 <= len(feedback) <= 22, "about 10 Hz for 2 s"
    assert feedback == sorted(feedback, reverse=True)
    assert feedback[0] == pytest.approx(2.5, abs=0.05)  # centre (2, 1.5) to (0, 3)
    assert sim.robot.position == (0.0, 3.0)
    assert sim.robot.status == "idle"
    [record] = sim.ops("send_action_goal", ACTION)
    assert record.message["id"] == goal_id
    assert record.message["feedback"] is True


@pytest.mark.parametrize("sim_options", [{"time_scale": 4.0}])
async def test_time_scale_shortens_the_move(sim: RobotSimulator, ros: roslibpy.Ros, new_inbox: Any) -> None:
    watcher = GoalWatcher(ros, new_inbox)
    start = time.monotonic()
    watcher.send("rear_right")
    kind, result = await watcher.wait()
    assert kind == "result" and result["status"] is GoalStatus.SUCCEEDED
    assert time.monotonic() - start < 1.2  # 2 sim seconds at 4x = 0.5 s


async def test_status_is_moving_during_a_goal(sim: RobotSimulator, ros: roslibpy.Ros, new_inbox: Any) -> None:
    watcher = GoalWatcher(ros, new_inbox, "cleaning_robot_interfaces/MoveToCorner")  # ROS 1 style name
    watcher.send("front_right")
    await watcher.feedback.get()
    assert sim.robot.status == "moving"
    await watcher.wait()
    assert sim.robot.status == "idle"


@pytest.mark.parametrize("robot_config", [RobotConfig(move_duration_s=30.0)])
async def test_raw_cancel_op_ends_goal_as_canceled(sim: RobotSimulator, ros: roslibpy.Ros, new_inbox: Any) -> None:
    watcher = GoalWatcher(ros, new_inbox)
    goal_id = watcher.send("rear_left")
    await watcher.feedback.get()

    ros.send_on_ready(roslibpy.Message({"op": "cancel_action_goal", "action": ACTION, "id": goal_id}))

    kind, error = await watcher.wait()
    assert kind == "error", "canceled goals report result: false"
    assert error["status"] is GoalStatus.CANCELED
    assert error["values"]["success"] is False
    [cancel] = sim.ops("cancel_action_goal", ACTION)
    assert cancel.message["id"] == goal_id
    assert sim.robot.status == "idle"
    assert sim.robot.position != (0.0, 0.0), "stopped part way"


@pytest.mark.parametrize("robot_config", [RobotConfig(move_duration_s=30.0)])
async def test_emergency_stop_aborts_the_goal(sim: RobotSimulator, ros: roslibpy.Ros, new_inbox: Any) -> None:
    watcher = GoalWatcher(ros, new_inbox)
    watcher.send("front_left")
    await watcher.feedback.get()

    roslibpy.Topic(ros, "/emergency_stop", "std_msgs/msg/Bool").publish(roslibpy.Message({"data": True}))

    kind, error = await watcher.wait()
    assert kind == "error"
    assert error["status"] is GoalStatus.ABORTED
    assert error["values"] == {"success": False, "message": "Emergency stop activated"}
    assert sim.robot.status == "emergency_stop"

    again = GoalWatcher(ros, new_inbox)
    again.send("front_left")
    kind, error = await again.wait()
    assert error["status"] is GoalStatus.ABORTED, "goals are refused while latched"


async def test_invalid_corner_is_aborted(sim: RobotSimulator, ros: roslibpy.Ros, new_inbox: Any) -> None:
    watcher = GoalWatcher(ros, new_inbox)
    watcher.send("ceiling")
    kind, error = await watcher.wait()
    assert kind == "error"
    assert error["status"] is GoalStatus.ABORTED
    assert "ceiling" in error["values"]["message"]
    assert sim.robot.status == "idle"


async def test_unknown_action_fails_with_a_status(sim: RobotSimulator, ros: roslibpy.Ros) -> None:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    client = roslibpy.ActionClient(ros, "/no/such/action", ACTION_TYPE)
    client.send_goal(
        roslibpy.Goal({}),
        lambda r: loop.call_soon_threadsafe(future.set_result, ("result", r)),
        lambda f: None,
        lambda e: loop.call_soon_threadsafe(future.set_result, ("error", e)),
    )
    kind, error = await asyncio.wait_for(future, 5)
    assert kind == "error"
    assert error["status"] is GoalStatus.ABORTED
    assert "does not exist" in error["values"]
