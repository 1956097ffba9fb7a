"""rosbridge v2 protocol: per-connection op handling.

Mirrors rosbridge_suite's behaviour as seen by a client: bad ops are logged
and ignored (never fatal), failed service calls answer ``result: false`` with a
string ``values``, action results carry a ``GoalStatus`` ``status``.  ``status``
ops are only sent to clients that asked for them with ``set_level`` (roslibpy
has no handler for them and would log an exception for each).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from robovox.sim.errors import SimError

from .actions import STATUS_ABORTED, ActionServer, GoalContext
from .interfaces import ACTIONS, InterfaceError, message_def, populate, types_equal
from .opslog import OpsLog
from .services import ServiceError, ServiceRegistry
from .topics import SendFn, TopicBus

LOG = logging.getLogger("robovox.sim.robot")

STATUS_LEVELS = {"none": 0, "error": 1, "warning": 2, "info": 3}
_goal_ids = itertools.count(1)


class ProtocolError(SimError, ValueError):
    """A malformed op; reported to the client (if it asked) and logged."""


@dataclass
class BridgeContext:
    """Everything a session needs from the bridge."""

    bus: TopicBus
    services: ServiceRegistry
    actions: dict[str, ActionServer]
    ops: OpsLog
    # In-flight delayed service calls; they outlive their client (like a real
    # ROS service call would) and are cancelled when the bridge stops.
    background: set[asyncio.Task[None]] = field(default_factory=set)


def _require_str(message: dict[str, Any], key: str) -> str:
    value = message.get(key)
    if not isinstance(value, str) or not value:
        raise ProtocolError(f"Expected a non-empty string field {key!r}")
    return value


def _int_field(message: dict[str, Any], key: str) -> int:
    value = message.get(key, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProtocolError(f"Expected a number for field {key!r}, got {value!r}")
    return int(value)


class ClientSession:
    """State and op handlers of one websocket client connection."""

    def __init__(self, conn: int, send: SendFn, ctx: BridgeContext) -> None:
        self.conn = conn
        self._send = send
        self.ctx = ctx
        self.closed = False
        self.status_level = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._goals: dict[str, GoalContext] = {}
        self._handlers: dict[str, Callable[[dict[str, Any]], None]] = {
            "advertise": self._advertise,
            "unadvertise": self._unadvertise,
            "publish": self._publish,
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "call_service": self._call_service,
            "send_action_goal": self._send_action_goal,
            "cancel_action_goal": self._cancel_action_goal,
            "set_level": self._set_level,
            "auth": lambda _: None,
        }

    # -------------------------------------------------------------- plumbing
    def send_json(self, message: dict[str, Any]) -> None:
        if not self.closed:
            self._send(json.dumps(message))

    def status(self, level: str, msg: str, op_id: Any = None) -> None:
        """Log a problem and, if the client opted in via ``set_level``, report it."""
        if level == "info":
            LOG.debug("[client %d] %s", self.conn, msg)
        else:
            LOG.warning("[client %d] %s", self.conn, msg)
        if STATUS_LEVELS[level] <= self.status_level:
            out: dict[str, Any] = {"op": "status", "level": level, "msg": msg}
            if op_id is not None:
                out["id"] = op_id
            self.send_json(out)

    def handle_text(self, text: str | bytes) -> None:
        """Handle one incoming frame. Never raises."""
        try:
            message = json.loads(text)
        except ValueError as exc:
            self.status("error", f"Unable to parse JSON message: {exc}")
            return
        if not isinstance(message, dict):
            self.status("error", f"Expected a JSON object, got {type(message).__name__}")
            return
        self.ctx.ops.append(self.conn, message)
        op = message.get("op")
        handler = self._handlers.get(op) if isinstance(op, str) else None
        if handler is None:
            self.status("error", f"Unknown or unsupported operation {op!r}", message.get("id"))
            return
        try:
            handler(message)
        except (ProtocolError, InterfaceError) as exc:
            self.status("error", f"{op}: {exc}", message.get("id"))
        except Exception as exc:  # a bad op must never take the bridge down
            LOG.exception("[client %d] error handling %s", self.conn, op)
            self.status("error", f"{op}: {type(exc).__name__}: {exc}", message.get("id"))

    def _spawn(self, coro: Any, tasks: set[asyncio.Task[None]]) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def aclose(self) -> None:
        """Drop the client's subscriptions/publishers and cancel its action goals.

        Delayed service calls still run (their responses are dropped).
        """
        self.closed = True
        self.ctx.bus.drop_client(self.conn)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # ----------------------------------------------------------------- topics
    def _advertise(self, message: dict[str, Any]) -> None:
        topic = _require_str(message, "topic")
        self.ctx.bus.advertise(self.conn, topic, message.get("type"), message.get("id"))

    def _unadvertise(self, message: dict[str, Any]) -> None:
        topic = _require_str(message, "topic")
        if not self.ctx.bus.unadvertise(self.conn, topic, message.get("id")):
            self.status("warning", f"unadvertise: topic {topic} was not advertised", message.get("id"))

    def _publish(self, message: dict[str, Any]) -> None:
        topic = _require_str(message, "topic")
        type_ = self.ctx.bus.topic_type(topic)
        if type_ is None:
            raise ProtocolError(f"Cannot infer topic type for topic {topic} as it is not yet advertised")
        msg = message.get("msg", {})
        definition = message_def(type_)
        if definition is not None:
            msg = populate(definition, msg)
        elif not isinstance(msg, dict):
            raise ProtocolError("Expected a JSON object for field 'msg'")
        self.ctx.bus.publish(topic, msg)

    def _subscribe(self, message: dict[str, Any]) -> None:
        topic = _require_str(message, "topic")
        self.ctx.bus.subscribe(
            self.conn,
            topic,
            message.get("type"),
            message.get("id"),
            _int_field(message, "throttle_rate"),
            _int_field(message, "queue_length"),
            self._send_unless_closed,
        )

    def _send_unless_closed(self, payload: str) -> None:
        if not self.closed:
            self._send(payload)

    def _unsubscribe(self, message: dict[str, Any]) -> None:
        topic = _require_str(message, "topic")
        if not self.ctx.bus.unsubscribe(self.conn, topic, message.get("id")):
            self.status("warning", f"unsubscribe: not subscribed to {topic}", message.get("id"))

    # --------------------------------------------------------------- services
    def _call_service(self, message: dict[str, Any]) -> None:
        name = _require_str(message, "service")
        delay = self.ctx.services.delay_for(name)
        if delay > 0:
            self._spawn(self._call_service_slow(name, message, delay), self.ctx.background)
        else:
            self._answer_service(name, message)

    def _answer_service(self, name: str, message: dict[str, Any]) -> None:
        values: Any
        try:
            values = self.ctx.services.call(name, message.get("args"), message.get("type"))
            result = True
        except ServiceError as exc:
            values, result = str(exc), False
        self._reply_service(name, message, values, result)

    def _reply_service(self, name: str, message: dict[str, Any], values: Any, result: bool) -> None:
        out: dict[str, Any] = {"op": "service_response", "service": name, "values": values, "result": result}
        if "id" in message:
            out["id"] = message["id"]
        self.send_json(out)

    async def _call_service_slow(self, name: str, message: dict[str, Any], delay: float) -> None:
        timeout = message.get("timeout")
        if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and 0 < timeout < delay:
            await asyncio.sleep(timeout)
            self._reply_service(name, message, "Timeout exceeded while waiting for service response", False)
            await asyncio.sleep(delay - timeout)
            with contextlib.suppress(ServiceError):  # the service still runs; its answer is too late
                self.ctx.services.call(name, message.get("args"), message.get("type"))
            return
        await asyncio.sleep(delay)
        self._answer_service(name, message)

    # ---------------------------------------------------------------- actions
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
        self.send_json(out)

    def _send_action_goal(self, message: dict[str, Any]) -> None:
        name = _require_str(message, "action")
        goal_id = message.get("id")
        server = self.ctx.actions.get(name)
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
        self._spawn(self._run_goal(server, goal, key, goal_id, ctx, want_feedback), self._tasks)

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
            self.send_json(out)

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
        self.send_json(out)

    def _cancel_action_goal(self, message: dict[str, Any]) -> None:
        goal_id = message.get("id")
        ctx = self._goals.get(str(goal_id)) if goal_id is not None else None
        if ctx is None:
            self.status("warning", f"cancel_action_goal: no active goal with id {goal_id!r}", goal_id)
            return
        ctx.request_cancel()

    # ------------------------------------------------------------------ misc
    def _set_level(self, message: dict[str, Any]) -> None:
        level = message.get("level")
        if level not in STATUS_LEVELS:
            raise ProtocolError(f"Invalid status level {level!r}")
        self.status_level = STATUS_LEVELS[str(level)]
