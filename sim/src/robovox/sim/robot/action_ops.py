"""The ROS 2 action ops of one client: ``send_action_goal`` and ``cancel_action_goal``.

Results carry an ``action_msgs/GoalStatus`` ``status``; a goal that cannot
start (unknown action, wrong type, bad arguments, duplicate id) is answered at
once with an ``action_result`` ``status: 6`` (aborted), ``result: false``.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from .actions import STATUS_ABORTED, ActionServer, GoalContext
from .interfaces import ACTIONS, InterfaceError, populate, types_equal
from .opfields import require_str

LOG = logging.getLogger("robovox.sim.robot")

_goal_ids = itertools.count(1)
SendJson = Callable[[dict[str, Any]], None]
Spawn = Callable[[Coroutine[Any, Any, None]], None]
Status = Callable[[str, str, Any], None]


class ActionOps:
    """Goals sent by one client; they end when it disconnects (``aclose`` of its session)."""

    def __init__(
        self, conn: int, actions: Mapping[str, ActionServer], send_json: SendJson, spawn: Spawn, status: Status
    ):
        self.conn = conn
        self._actions = actions
        self._send_json = send_json
        self._spawn = spawn
        self._status = status
        self._goals: dict[str, GoalContext] = {}

    def _action_error(self, name: str, goal_id: Any, error: str) -> None:
        out: dict[str, Any] = {
            "op": "action_result",
            "action": name,
            "values": error,
            "status": STATUS_ABORTED,
            "result": False,
        }
        if goal_id is not None:
            out["id"] = goal_id
        self._send_json(out)

    def send_goal(self, message: dict[str, Any]) -> None:
        name = require_str(message, "action")
        goal_id = message.get("id")
        server = self._actions.get(name)
        action_type = message.get("action_type")
        if server is None:
            self._action_error(name, goal_id, f"Action server {name} does not exist")
            return
        if action_type and (not isinstance(action_type, str) or not types_equal(action_type, server.type, "action")):
            self._action_error(
                name, goal_id, f"Requested type {action_type!r} does not match type {server.type} of {name}"
            )
            return
        try:
            goal = populate(ACTIONS[server.type][0], message.get("args"))
        except InterfaceError as exc:
            self._action_error(name, goal_id, str(exc))
            return
        key = str(goal_id) if goal_id is not None else f"goal_{next(_goal_ids)}"
        if key in self._goals:
            self._action_error(name, goal_id, f"A goal with id {key} is already active")
            return
        ctx = GoalContext()
        self._goals[key] = ctx
        want_feedback = bool(message.get("feedback"))
        self._spawn(self._run_goal(server, goal, key, goal_id, ctx, want_feedback))

    async def _run_goal(
        self,
        server: ActionServer,
        goal: dict[str, Any],
        key: str,
        goal_id: Any,
        ctx: GoalContext,
        want_feedback: bool,
    ) -> None:
        def feedback(values: dict[str, Any]) -> None:
            out: dict[str, Any] = {"op": "action_feedback", "action": server.name, "values": values}
            if goal_id is not None:
                out["id"] = goal_id
            self._send_json(out)

        try:
            outcome = await server.execute(goal, ctx, feedback if want_feedback else None)
        except Exception as exc:
            LOG.exception("[client %d] action %s failed", self.conn, server.name)
            self._action_error(server.name, goal_id, f"{type(exc).__name__}: {exc}")
            return
        finally:
            self._goals.pop(key, None)
        out: dict[str, Any] = {
            "op": "action_result",
            "action": server.name,
            "values": outcome.values,
            "status": outcome.status,
            "result": outcome.succeeded,
        }
        if goal_id is not None:
            out["id"] = goal_id
        self._send_json(out)

    def cancel_goal(self, message: dict[str, Any]) -> None:
        goal_id = message.get("id")
        ctx = self._goals.get(str(goal_id)) if goal_id is not None else None
        if ctx is None:
            self._status("warning", f"cancel_action_goal: no active goal with id {goal_id!r}", goal_id)
            return
        ctx.request_cancel()
