"""Action goals in each dialect, on a robot's link.

ROS 2's rosbridge has action ops (``send_action_goal`` answered by
``action_feedback`` / ``action_result``). ROS 1's has none: it logs "Unknown
operation" and sends nothing back, so a goal sent that way waits for a reply
that can never come. A ROS 1 action is five actionlib topics instead: the
client publishes the goal with an id of its own on ``<action>/goal`` and hears
``<action>/feedback`` and ``<action>/result`` carrying that id; ``<action>/cancel``
takes a GoalID. The result and feedback subscriptions are opened once per
action and kept across reconnects, like telemetry.

Both report a ``Reply`` whose ``status`` is ROS 2's GoalStatus number, so the
rest of the adapter reads one meaning.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import roslibpy

from robovox.ros_adapter.errors import CommandNotSentError
from robovox.ros_adapter.link.connection import Reply
from robovox.ros_adapter.link.rosbridge import RosbridgeLink
from robovox.shared.ros_types import ActionlibPart, ActionlibStatus, InterfaceKind, RosTypeName

log = logging.getLogger(__name__)

GOAL_SUCCEEDED, GOAL_CANCELED, GOAL_ABORTED = 4, 5, 6
"""ROS 2 action_msgs/GoalStatus."""

_ids = itertools.count(1)

Feedback = Callable[[dict[str, Any]], None]

ROS2_STATUS = {
    ActionlibStatus.SUCCEEDED: GOAL_SUCCEEDED,
    ActionlibStatus.PREEMPTED: GOAL_CANCELED,
    ActionlibStatus.RECALLED: GOAL_CANCELED,
    ActionlibStatus.ABORTED: GOAL_ABORTED,
    ActionlibStatus.REJECTED: GOAL_ABORTED,
    ActionlibStatus.LOST: GOAL_ABORTED,
}


class ActionGoals(Protocol):
    async def send_goal(
        self,
        name: str,
        ros_type: str,
        goal: dict[str, Any],
        *,
        deadline: float,
        timeout_s: float,
        on_feedback: Feedback | None = None,
    ) -> Reply: ...


class Ros2ActionGoals:
    """``send_action_goal`` / ``cancel_action_goal`` ops (rosbridge on ROS 2)."""

    def __init__(self, link: RosbridgeLink) -> None:
        self._link = link

    async def send_goal(
        self,
        name: str,
        ros_type: str,
        goal: dict[str, Any],
        *,
        deadline: float,
        timeout_s: float,
        on_feedback: Feedback | None = None,
    ) -> Reply:
        link = self._link
        request_id = f"send_action_goal:{name}:{next(_ids)}"
        message = {
            "op": "send_action_goal",
            "id": request_id,
            "action": name,
            "action_type": ros_type,
            "args": goal,
            "feedback": True,
        }

        def feedback(values: Any) -> None:
            if on_feedback is not None:
                link.call_in_loop(on_feedback, dict(values))

        def result(ok: bool) -> Callable[[Any], None]:
            def handle(res: Any) -> None:
                status = res["status"]
                link.resolve(request_id, Reply(ok, dict(res["values"]), int(getattr(status, "value", status))))

            return handle

        def send(proto: Any) -> None:
            proto.send_ros_action_goal(roslibpy.Message(message), result(True), feedback, result(False))

        try:
            return await link.request(request_id, send, deadline, timeout_s)
        except TimeoutError:
            await self._cancel(name, request_id)
            raise

    async def _cancel(self, name: str, goal_id: str) -> None:
        message = {"op": "cancel_action_goal", "action": name, "id": goal_id}
        try:
            await self._link.send_now(lambda proto: proto.send_ros_message(roslibpy.Message(message)), None)
        except CommandNotSentError:
            log.warning("robot %s: could not cancel %s goal %s: the link is down", self._link.robot_id, name, goal_id)


class Ros1ActionGoals:
    """actionlib over topics (rosbridge on ROS 1)."""

    def __init__(self, link: RosbridgeLink) -> None:
        self._link = link
        self._watched: set[str] = set()
        self._feedback: dict[str, Feedback] = {}

    def watch(self, name: str, ros_type: str) -> None:
        """Subscribe the action's result and feedback topics (once; kept across reconnects)."""
        if name in self._watched:
            return
        self._watched.add(name)
        action = RosTypeName.parse(ros_type, InterfaceKind.ACTION)
        for part, callback in ((ActionlibPart.RESULT, self._on_result), (ActionlibPart.FEEDBACK, self._on_feedback)):
            self._link.subscribe(f"{name}/{part}", action.actionlib(part), 0, callback)

    async def send_goal(
        self,
        name: str,
        ros_type: str,
        goal: dict[str, Any],
        *,
        deadline: float,
        timeout_s: float,
        on_feedback: Feedback | None = None,
    ) -> Reply:
        action = RosTypeName.parse(ros_type, InterfaceKind.ACTION)
        self.watch(name, ros_type)
        link = self._link
        goal_id = f"robovox-{link.robot_id}-{next(_ids)}-{time.time():.3f}"
        now = time.time()
        message = {
            "header": {"seq": 0, "stamp": {"secs": 0, "nsecs": 0}, "frame_id": ""},
            "goal_id": {"stamp": {"secs": int(now), "nsecs": int(now % 1 * 1e9)}, "id": goal_id},
            "goal": goal,
        }
        if on_feedback is not None:
            self._feedback[goal_id] = on_feedback
        topic, topic_type = f"{name}/{ActionlibPart.GOAL}", action.actionlib(ActionlibPart.GOAL)
        try:
            return await link.request(
                goal_id, lambda proto: link.publish_frames(proto, topic, topic_type, message), deadline, timeout_s
            )
        except TimeoutError:
            await self._cancel(name, goal_id)
            raise
        finally:
            self._feedback.pop(goal_id, None)

    async def _cancel(self, name: str, goal_id: str) -> None:
        try:
            await self._link.write_publish(
                f"{name}/{ActionlibPart.CANCEL}",
                "actionlib_msgs/GoalID",
                {"stamp": {"secs": 0, "nsecs": 0}, "id": goal_id},
                deadline=None,
            )
        except CommandNotSentError:
            log.warning("robot %s: could not cancel %s goal %s: the link is down", self._link.robot_id, name, goal_id)

    def _on_result(self, msg: dict[str, Any]) -> None:
        status = msg.get("status") or {}
        goal_id = str((status.get("goal_id") or {}).get("id", ""))
        try:
            code = ActionlibStatus(int(status.get("status", ActionlibStatus.LOST)))
        except ValueError:
            code = ActionlibStatus.LOST
        result = msg.get("result")
        values: dict[str, Any] = result if isinstance(result, dict) else {}
        text = str(status.get("text") or "")
        if text and "message" not in values:
            values = {**values, "message": text}
        self._link.resolve(
            goal_id, Reply(code is ActionlibStatus.SUCCEEDED, values, ROS2_STATUS.get(code, GOAL_ABORTED))
        )

    def _on_feedback(self, msg: dict[str, Any]) -> None:
        status = msg.get("status") or {}
        goal_id = str((status.get("goal_id") or {}).get("id", ""))
        callback = self._feedback.get(goal_id)
        if callback is not None and isinstance(msg.get("feedback"), dict):
            callback(msg["feedback"])
