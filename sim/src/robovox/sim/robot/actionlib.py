"""ROS 1 actions: an ``ActionServer`` served over actionlib topics.

For the action ``/robot_navigator/move_to_corner`` (``cleaning_robot_interfaces/
MoveToCorner``) the robot subscribes to ``<name>/goal`` (``...ActionGoal``)
and ``<name>/cancel`` (``actionlib_msgs/GoalID``) and publishes
``<name>/status`` (``actionlib_msgs/GoalStatusArray``, periodically and on
change), ``<name>/feedback`` and ``<name>/result`` (``...ActionFeedback``,
``...ActionResult``), as actionlib's ``ActionServer`` does.  A goal goes
ACTIVE at once; a cancel makes it PREEMPTING, then PREEMPTED; the robot's
refusals (a bad corner, the emergency stop) end it ABORTED with a text.
Goals outlive the client that sent them; finished ones stay in the status
list for ``STATUS_KEEP_S`` seconds.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from dataclasses import dataclass
from typing import Any

from .actions import STATUS_CANCELED, STATUS_SUCCEEDED, ActionServer, GoalContext
from .clock import SimClock
from .ros1_interfaces import ROS1, actionlib_types, ros1_name
from .topics import TopicBus

LOG = logging.getLogger("robovox.sim.robot")

# actionlib_msgs/GoalStatus
PENDING, ACTIVE, PREEMPTED, SUCCEEDED, ABORTED, REJECTED, PREEMPTING, RECALLING, RECALLED, LOST = range(10)
STATUS_KEEP_S = 5.0
_ids = itertools.count(1)


def _stamp_key(stamp: dict[str, Any]) -> tuple[int, int]:
    return int(stamp.get("secs", 0)), int(stamp.get("nsecs", 0))


@dataclass
class _Goal:
    goal_id: dict[str, Any]  # actionlib_msgs/GoalID: {stamp: {secs, nsecs}, id}
    ctx: GoalContext
    status: int = ACTIVE
    text: str = ""
    ended_at: float | None = None  # time.monotonic() once terminal

    def status_msg(self) -> dict[str, Any]:
        return {"goal_id": self.goal_id, "status": self.status, "text": self.text}


class ActionlibServer:
    def __init__(self, server: ActionServer, bus: TopicBus, clock: SimClock) -> None:
        self.server = server
        self.name = server.name
        self._bus = bus
        self._clock = clock
        self._action = ros1_name(server.type)
        self.types = actionlib_types(self._action)
        self.topics = {suffix: f"{server.name}/{suffix}" for suffix in self.types}
        self._goals: dict[str, _Goal] = {}
        self._seq = dict.fromkeys(("status", "feedback", "result"), 0)
        self._last_cancel = (0, 0)
        self._tasks: set[asyncio.Task[None]] = set()
        for suffix in ("status", "feedback", "result"):
            bus.declare(self.topics[suffix], self.types[suffix])
        bus.listen(self.topics["goal"], self.types["goal"], self._on_goal)
        bus.listen(self.topics["cancel"], self.types["cancel"], self._on_cancel)

    @property
    def status_topic(self) -> str:
        return self.topics["status"]

    def _header(self, suffix: str) -> dict[str, Any]:
        self._seq[suffix] += 1
        secs, nsecs = self._clock.ros_time()
        return {"seq": self._seq[suffix], "stamp": {"secs": secs, "nsecs": nsecs}, "frame_id": ""}

    def status_message(self) -> dict[str, Any]:
        """The ``GoalStatusArray`` now (finished goals are forgotten after ``STATUS_KEEP_S``)."""
        now = time.monotonic()
        for key in [k for k, g in self._goals.items() if g.ended_at is not None and now - g.ended_at > STATUS_KEEP_S]:
            del self._goals[key]
        return {"header": self._header("status"), "status_list": [g.status_msg() for g in self._goals.values()]}

    def _publish_status(self) -> None:
        if self._bus.has_subscribers(self.status_topic):
            self._bus.publish(self.status_topic, self.status_message())

    # ------------------------------------------------------------- incoming
    def _on_goal(self, msg: dict[str, Any]) -> None:
        goal_id = dict(msg["goal_id"])
        if _stamp_key(goal_id["stamp"]) == (0, 0):
            secs, nsecs = self._clock.ros_time()
            goal_id["stamp"] = {"secs": secs, "nsecs": nsecs}
        if not goal_id["id"]:
            goal_id["id"] = f"{self.name}-{next(_ids)}-{goal_id['stamp']['secs']}.{goal_id['stamp']['nsecs']}"
        key = goal_id["id"]
        if key in self._goals:
            LOG.debug("actionlib %s: goal %s is already known, ignored", self.name, key)
            return
        goal = _Goal(goal_id, GoalContext())
        self._goals[key] = goal
        if _stamp_key(goal_id["stamp"]) <= self._last_cancel:  # canceled before it arrived
            self._finish(goal, RECALLED, "Canceled before it was accepted")
            return
        task = asyncio.get_running_loop().create_task(self._run(goal, msg["goal"]))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._publish_status()

    def _on_cancel(self, msg: dict[str, Any]) -> None:
        wanted, stamp = msg["id"], _stamp_key(msg["stamp"])
        changed = False
        for goal in self._goals.values():
            if goal.status != ACTIVE:
                continue
            if (
                (not wanted and stamp == (0, 0))
                or goal.goal_id["id"] == wanted
                or _stamp_key(goal.goal_id["stamp"]) <= stamp
            ):
                goal.status = PREEMPTING
                goal.ctx.request_cancel()
                changed = True
        self._last_cancel = max(self._last_cancel, stamp)
        if changed:
            self._publish_status()

    # ------------------------------------------------------------ execution
    async def _run(self, goal: _Goal, values: dict[str, Any]) -> None:
        feedback_topic = self.topics["feedback"]

        def feedback(fields: dict[str, Any]) -> None:
            if self._bus.has_subscribers(feedback_topic):
                msg = {"header": self._header("feedback"), "status": goal.status_msg(), "feedback": fields}
                self._bus.publish(feedback_topic, msg)

        try:
            outcome = await self.server.execute(values, goal.ctx, feedback)
        except Exception as exc:
            LOG.exception("actionlib %s: goal %s failed", self.name, goal.goal_id["id"])
            self._finish(goal, ABORTED, f"{type(exc).__name__}: {exc}")
            return
        status = {STATUS_SUCCEEDED: SUCCEEDED, STATUS_CANCELED: PREEMPTED}.get(outcome.status, ABORTED)
        self._finish(goal, status, str(outcome.values.get("message", "")), outcome.values)

    def _finish(self, goal: _Goal, status: int, text: str, result: dict[str, Any] | None = None) -> None:
        goal.status, goal.text, goal.ended_at = status, text, time.monotonic()
        if result is None:
            result = ROS1.populate(ROS1.actions[self._action][1], {})
        self._bus.publish(
            self.topics["result"], {"header": self._header("result"), "status": goal.status_msg(), "result": result}
        )
        self._publish_status()

    async def aclose(self) -> None:
        """Cancel the running goals (the bridge is stopping)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
