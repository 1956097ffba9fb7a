"""rosbridge v2 protocol: per-connection op handling.

Mirrors rosbridge_suite's behaviour as seen by a client: bad ops are logged
and ignored (never fatal), failed service calls answer ``result: false`` with a
string ``values``, action results carry a ``GoalStatus`` ``status``.  ``status``
ops are only sent to clients that asked for them with ``set_level`` (roslibpy
has no handler for them and would log an exception for each), and never by a
ROS 1 bridge.  What differs between dialects is in ``BridgeContext.rules``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from .action_ops import ActionOps
from .actions import ActionServer
from .dialect import ROS2_RULES, DialectRules
from .interfaces import InterfaceError
from .opfields import ProtocolError, int_field, require_str
from .opslog import OpsLog
from .services import ServiceError, ServiceRegistry
from .topics import SendFn, TopicBus

__all__ = ["STATUS_LEVELS", "BridgeContext", "ClientSession", "ProtocolError"]

LOG = logging.getLogger("robovox.sim.robot")

STATUS_LEVELS = {"none": 0, "error": 1, "warning": 2, "info": 3}


@dataclass
class BridgeContext:
    """Everything a session needs from the bridge."""

    bus: TopicBus
    services: ServiceRegistry
    actions: dict[str, ActionServer]  # served by the ROS 2 action ops
    ops: OpsLog
    rules: DialectRules = ROS2_RULES
    # In-flight delayed service calls; they outlive their client (like a real
    # ROS service call would) and are cancelled when the bridge stops.
    background: set[asyncio.Task[None]] = field(default_factory=set)


class ClientSession:
    """State and op handlers of one websocket client connection."""

    def __init__(self, conn: int, send: SendFn, ctx: BridgeContext) -> None:
        self.conn = conn
        self._send = send
        self.ctx = ctx
        self.closed = False
        self.status_level = 0
        self._tasks: set[asyncio.Task[None]] = set()
        # Topics whose advertise this (ROS 1) client had dropped: its publishes there are dropped too.
        self._refused_adverts: set[str] = set()
        self._handlers: dict[str, Callable[[dict[str, Any]], None]] = {
            "advertise": self._advertise,
            "unadvertise": self._unadvertise,
            "publish": self._publish,
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "call_service": self._call_service,
            "set_level": self._set_level,
            "auth": lambda _: None,
        }
        if ctx.rules.ros2_actions:
            actions = ActionOps(conn, ctx.actions, self.send_json, self._spawn_own, self.status)
            self._handlers["send_action_goal"] = actions.send_goal
            self._handlers["cancel_action_goal"] = actions.cancel_goal

    # -------------------------------------------------------------- plumbing
    def send_json(self, message: dict[str, Any]) -> None:
        if not self.closed:
            self._send(json.dumps(message))

    def status(self, level: str, msg: str, op_id: Any = None) -> None:
        """Log a problem and, if the client opted in via ``set_level`` (ROS 2 only), report it."""
        if level == "info":
            LOG.debug("[client %d] %s", self.conn, msg)
        else:
            LOG.warning("[client %d] %s", self.conn, msg)
        if self.ctx.rules.sends_status and STATUS_LEVELS[level] <= self.status_level:
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
            self.status("error", self.ctx.rules.unknown_op(op), message.get("id"))
            return
        try:
            handler(message)
        except (ProtocolError, InterfaceError) as exc:
            self.status("error", f"{op}: {exc}", message.get("id"))
        except Exception as exc:  # a bad op must never take the bridge down
            LOG.exception("[client %d] error handling %s", self.conn, op)
            self.status("error", f"{op}: {type(exc).__name__}: {exc}", message.get("id"))

    def _spawn(self, coro: Coroutine[Any, Any, None], tasks: set[asyncio.Task[None]]) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def _spawn_own(self, coro: Coroutine[Any, Any, None]) -> None:
        """A task that ends with this client (its action goals)."""
        self._spawn(coro, self._tasks)

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
        topic = require_str(message, "topic")
        try:
            self.ctx.bus.advertise(self.conn, topic, message.get("type"), message.get("id"))
        except InterfaceError:
            if self.ctx.rules.is_ros1:
                self._refused_adverts.add(topic)
            raise
        self._refused_adverts.discard(topic)

    def _unadvertise(self, message: dict[str, Any]) -> None:
        topic = require_str(message, "topic")
        self._refused_adverts.discard(topic)
        if not self.ctx.bus.unadvertise(self.conn, topic, message.get("id")):
            self.status("warning", f"unadvertise: topic {topic} was not advertised", message.get("id"))

    def _publish(self, message: dict[str, Any]) -> None:
        topic = require_str(message, "topic")
        if topic in self._refused_adverts:
            raise ProtocolError(f"Dropped a publish on {topic}: this client's advertise of it was refused")
        type_ = self.ctx.bus.topic_type(topic)
        if type_ is None:
            raise ProtocolError(f"Cannot infer topic type for topic {topic} as it is not yet advertised")
        msg = message.get("msg", {})
        registry = self.ctx.rules.registry
        definition = registry.message_def(type_)
        if definition is not None:
            msg = registry.populate(definition, msg)
        elif not isinstance(msg, dict):
            raise ProtocolError("Expected a JSON object for field 'msg'")
        self.ctx.bus.publish(topic, msg, from_client=True)

    def _subscribe(self, message: dict[str, Any]) -> None:
        topic = require_str(message, "topic")
        self.ctx.bus.subscribe(
            self.conn,
            topic,
            message.get("type"),
            message.get("id"),
            int_field(message, "throttle_rate"),
            int_field(message, "queue_length"),
            self._send_unless_closed,
        )

    def _send_unless_closed(self, payload: str) -> None:
        if not self.closed:
            self._send(payload)

    def _unsubscribe(self, message: dict[str, Any]) -> None:
        topic = require_str(message, "topic")
        if not self.ctx.bus.unsubscribe(self.conn, topic, message.get("id")):
            self.status("warning", f"unsubscribe: not subscribed to {topic}", message.get("id"))

    # --------------------------------------------------------------- services
    def _call_service(self, message: dict[str, Any]) -> None:
        name = require_str(message, "service")
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
        timeout = message.get("timeout") if self.ctx.rules.service_timeouts else None
        if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and 0 < timeout < delay:
            await asyncio.sleep(timeout)
            self._reply_service(name, message, "Timeout exceeded while waiting for service response", False)
            await asyncio.sleep(delay - timeout)
            with contextlib.suppress(ServiceError):  # the service still runs; its answer is too late
                self.ctx.services.call(name, message.get("args"), message.get("type"))
            return
        await asyncio.sleep(delay)
        self._answer_service(name, message)

    # ------------------------------------------------------------------ misc
    def _set_level(self, message: dict[str, Any]) -> None:
        level = message.get("level")
        if level not in STATUS_LEVELS:
            raise ProtocolError(f"Invalid status level {level!r}")
        self.status_level = STATUS_LEVELS[str(level)]
