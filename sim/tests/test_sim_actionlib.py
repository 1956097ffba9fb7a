"""ROS 1 actions: move_to_corner as actionlib topics, through roslibpy's ROS 1 ActionClient
and through raw websocket ops."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
import roslibpy
from roslibpy.ros1.actionlib import ActionClient, Goal, GoalStatus
from websockets.asyncio.client import ClientConnection, connect

from robovox.sim.robot import Dialect, RobotConfig, RobotSimulator

ACTION = "/robot_navigator/move_to_corner"
ACTION_MSG = "cleaning_robot_interfaces/MoveToCornerAction"
SLOW = RobotConfig(move_duration_s=30.0)


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"dialect": Dialect.ROS1}


class Watched:
    """One goal sent by roslibpy's actionlib client, its events landing in the test's loop.

    ``results`` sees every message on ``<action>/result`` (header, status, result), as sent.
    """

    def __init__(self, client: ActionClient, ros: roslibpy.Ros, new_inbox: Any, corner: str) -> None:
        self.feedback, self.status, self.results = new_inbox(), new_inbox(), new_inbox()
        roslibpy.Topic(ros, f"{ACTION}/result", f"{ACTION_MSG}Result").subscribe(self.results)
        self.goal = Goal(client, roslibpy.Message({"corner": corner}))
        self.goal.on("feedback", self.feedback)
        self.goal.on("status", self.status)

    async def result(self) -> dict[str, Any]:
        """The ``ActionResult`` of this goal."""
        message: dict[str, Any] = await self.results.wait_for(
            lambda m: m["status"]["goal_id"]["id"] == self.goal.goal_id, timeout_s=10
        )
        return message


async def action_client(ros: roslibpy.Ros) -> ActionClient:
    """Blocks until the first status message arrives (2 Hz), so it is built in a thread."""
    client: ActionClient = await asyncio.to_thread(ActionClient, ros, ACTION, ACTION_MSG)
    return client


async def test_goal_runs_with_feedback_and_succeeds(sim: RobotSimulator, ros: roslibpy.Ros, new_inbox: Any) -> None:
    client = await action_client(ros)
    watched = Watched(client, ros, new_inbox, "front_left")
    await sim.wait_for_op("subscribe", f"{ACTION}/result", count=2)  # the client's and ours
    watched.goal.send()

    first = await watched.feedback.get()
    assert first["distance_remaining"] == pytest.approx(2.5, abs=0.05)
    assert sim.robot.status == "moving"
    message = await watched.result()
    assert message["status"]["status"] == GoalStatus.SUCCEEDED
    assert message["status"]["text"] == "Reached front_left"
    assert message["result"] == {"success": True, "message": "Reached front_left"}
    assert set(message["header"]) == {"seq", "stamp", "frame_id"}
    assert set(message["header"]["stamp"]) == {"secs", "nsecs"}
    await watched.status.wait_for(lambda s: s["status"] == GoalStatus.SUCCEEDED)

    distances = [first["distance_remaining"]] + [m["distance_remaining"] for m in watched.feedback.drain()]
    assert len(distances) >= 10, "about 10 Hz for 2 s"
    assert distances == sorted(distances, reverse=True)
    assert sim.robot.position == (0.0, 3.0) and sim.robot.status == "idle"
    [published] = sim.ops("publish", f"{ACTION}/goal")
    assert published.message["msg"]["goal_id"]["id"] == watched.goal.goal_id
    assert sim.ops("send_action_goal") == []


@pytest.mark.parametrize("robot_config", [SLOW])
async def test_cancel_preempts_the_goal(sim: RobotSimulator, ros: roslibpy.Ros, new_inbox: Any) -> None:
    client = await action_client(ros)
    watched = Watched(client, ros, new_inbox, "rear_left")
    await sim.wait_for_op("subscribe", f"{ACTION}/result", count=2)  # the client's and ours
    watched.goal.send()
    await watched.feedback.get()

    watched.goal.cancel()
    message = await watched.result()
    assert message["status"]["status"] == GoalStatus.PREEMPTED
    assert message["result"]["success"] is False
    [cancel] = sim.ops("publish", f"{ACTION}/cancel")
    assert cancel.message["msg"] == {"id": watched.goal.goal_id}
    assert sim.robot.status == "idle"
    assert sim.robot.position != (0.0, 0.0), "stopped part way"


async def test_an_invalid_corner_is_aborted_with_a_text(sim: RobotSimulator, ros: roslibpy.Ros, new_inbox: Any) -> None:
    client = await action_client(ros)
    watched = Watched(client, ros, new_inbox, "ceiling")
    await sim.wait_for_op("subscribe", f"{ACTION}/result", count=2)  # the client's and ours
    watched.goal.send()
    message = await watched.result()
    assert message["status"]["status"] == GoalStatus.ABORTED
    assert "ceiling" in message["status"]["text"]
    assert message["result"]["success"] is False
    assert sim.robot.status == "idle"


@pytest.mark.parametrize("robot_config", [SLOW])
async def test_an_empty_cancel_cancels_every_goal(sim: RobotSimulator) -> None:
    async with connect(sim.url) as ws:
        await _send(
            ws,
            {"op": "subscribe", "topic": f"{ACTION}/result", "type": f"{ACTION_MSG}Result"},
            {"op": "advertise", "topic": f"{ACTION}/goal", "type": f"{ACTION_MSG}Goal"},
            {"op": "advertise", "topic": f"{ACTION}/cancel", "type": "actionlib_msgs/GoalID"},
            {
                "op": "publish",
                "topic": f"{ACTION}/goal",
                "msg": {"goal_id": {"id": "g1"}, "goal": {"corner": "rear_left"}},
            },
        )
        await sim.wait_for_op("publish", f"{ACTION}/goal")
        await _send(ws, {"op": "publish", "topic": f"{ACTION}/cancel", "msg": {}})
        result = await _next(ws, f"{ACTION}/result")
    assert result["status"]["goal_id"]["id"] == "g1"
    assert result["status"]["status"] == GoalStatus.PREEMPTED


async def test_a_goal_on_a_wrongly_typed_goal_topic_is_dropped(sim: RobotSimulator) -> None:
    goal = {"goal_id": {"id": "g1"}, "goal": {"corner": "front_left"}}
    async with connect(sim.url) as ws:
        await _send(
            ws,
            {"op": "subscribe", "topic": f"{ACTION}/status", "type": "actionlib_msgs/GoalStatusArray"},
            {"op": "advertise", "topic": f"{ACTION}/goal", "type": "cleaning_robot_interfaces/action/MoveToCorner"},
            {"op": "publish", "topic": f"{ACTION}/goal", "msg": goal},
        )
        await sim.wait_for_op("publish", f"{ACTION}/goal")
        # Status goes out at 2 Hz and on every change: two in a row without the goal show it never arrived.
        for _ in range(2):
            assert (await _next(ws, f"{ACTION}/status"))["status_list"] == []
        assert sim.robot.status == "idle"

        await _send(
            ws,
            {"op": "unadvertise", "topic": f"{ACTION}/goal"},
            {"op": "advertise", "topic": f"{ACTION}/goal", "type": f"{ACTION_MSG}Goal"},
            {"op": "publish", "topic": f"{ACTION}/goal", "msg": goal},
        )
        status = await _next(ws, f"{ACTION}/status", lambda m: bool(m["status_list"]))
    assert [s["goal_id"]["id"] for s in status["status_list"]] == ["g1"]
    assert status["status_list"][0]["status"] == GoalStatus.ACTIVE


async def test_a_goal_with_a_field_of_the_wrong_type_is_dropped_by_the_bridge(sim: RobotSimulator) -> None:
    async with connect(sim.url) as ws:
        await _send(
            ws,
            {"op": "advertise", "topic": f"{ACTION}/goal", "type": f"{ACTION_MSG}Goal"},
            {"op": "publish", "topic": f"{ACTION}/goal", "msg": {"goal": {"corner": 7}}},
            {"op": "call_service", "service": "/rosapi/get_ros_version", "id": "after"},
        )
        reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert reply["id"] == "after", "the dropped publish was not answered"
    assert sim.robot.active_goal is None and sim.robot.status == "idle"


async def _send(ws: ClientConnection, *ops: dict[str, Any]) -> None:
    for op in ops:
        await ws.send(json.dumps(op))


async def _next(
    ws: ClientConnection, topic: str, predicate: Callable[[dict[str, Any]], bool] = lambda _: True
) -> dict[str, Any]:
    """The next message published on ``topic`` that satisfies ``predicate`` (others are skipped)."""
    async with asyncio.timeout(5):
        while True:
            message = json.loads(await ws.recv())
            if message.get("op") == "publish" and message["topic"] == topic and predicate(message["msg"]):
                msg: dict[str, Any] = message["msg"]
                return msg
