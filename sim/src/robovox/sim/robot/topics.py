"""Topic graph: robot endpoints, client publishers/subscribers and throttled delivery.

Like rosbridge, each client has at most one subscription per topic; several
``subscribe`` ops (different ids) on the same topic are merged, the effective
throttle being the smallest requested one.  A message is sent once per client
per topic, so roslibpy (which dispatches by topic name) never sees duplicates.

Type names are recorded as the bus's ``msg_type`` spells them (the dialect's:
ROS 2 form, or ROS 1's ``pkg/Name``).  While ``silent`` (a ROS 1 master
restart: the bridge's registrations are lost) nothing published reaches a
client and clients' publishes reach nobody.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any

from .interfaces import InterfaceError, normalize_type

SendFn = Callable[[str], None]
Listener = Callable[[dict[str, Any]], None]


class ClientSubscription:
    """All subscribe ops of one client on one topic."""

    __slots__ = ("conn", "ids", "last_sent", "send", "throttle_s", "topic", "type")

    def __init__(self, conn: int, topic: str, type_: str, send: SendFn) -> None:
        self.conn = conn
        self.topic = topic
        self.type = type_
        self.send = send
        self.ids: dict[str | None, tuple[int, int]] = {}  # id -> (throttle_ms, queue_length)
        self.throttle_s = 0.0
        self.last_sent = -math.inf

    def _update(self) -> None:
        self.throttle_s = min((t for t, _ in self.ids.values()), default=0) / 1000.0


class TopicBus:
    def __init__(self, msg_type: Callable[[str], str] = normalize_type) -> None:
        self._msg_type = msg_type
        self.silent = False
        self._owned: dict[str, str] = {}
        self._subs: dict[str, dict[int, ClientSubscription]] = {}
        self._adverts: dict[str, dict[int, tuple[str, set[str | None]]]] = {}
        self._listeners: dict[str, list[Listener]] = {}

    # ------------------------------------------------------------- registry
    def declare(self, topic: str, type_: str) -> None:
        """Declare a topic the simulated robot publishes or subscribes to."""
        self._owned[topic] = self._msg_type(type_)

    def listen(self, topic: str, type_: str, callback: Listener) -> None:
        """Subscribe an in-process (robot side) callback to ``topic``."""
        self.declare(topic, type_)
        self._listeners.setdefault(topic, []).append(callback)

    def topic_type(self, topic: str) -> str | None:
        if topic in self._owned:
            return self._owned[topic]
        for ad_type, _ in self._adverts.get(topic, {}).values():
            return ad_type
        for sub in self._subs.get(topic, {}).values():
            return sub.type
        return None

    def topics(self) -> dict[str, str]:
        """All known topics and their types, sorted by name."""
        names = set(self._owned) | set(self._adverts) | set(self._subs)
        out: dict[str, str] = {}
        for name in sorted(names):
            type_ = self.topic_type(name)
            if type_ is not None:
                out[name] = type_
        return out

    def has_subscribers(self, topic: str) -> bool:
        return bool(self._subs.get(topic)) or bool(self._listeners.get(topic))

    def _resolve(self, topic: str, type_: Any) -> str:
        existing = self.topic_type(topic)
        if type_ is None or type_ == "":
            if existing is None:
                raise InterfaceError(f"Cannot infer topic type for topic {topic} as it is not yet advertised")
            return existing
        if not isinstance(type_, str):
            raise InterfaceError(f"Invalid type {type_!r} for topic {topic}")
        wanted = self._msg_type(type_)
        if existing is not None and existing != wanted:
            raise InterfaceError(
                f"Tried to register topic {topic} with type {wanted} but it is already established with type {existing}"
            )
        return wanted

    # ---------------------------------------------------------- subscribers
    def subscribe(
        self,
        conn: int,
        topic: str,
        type_: Any,
        sub_id: str | None,
        throttle_ms: int,
        queue_length: int,
        send: SendFn,
    ) -> ClientSubscription:
        resolved = self._resolve(topic, type_)
        per_topic = self._subs.setdefault(topic, {})
        sub = per_topic.get(conn)
        if sub is None:
            sub = per_topic[conn] = ClientSubscription(conn, topic, resolved, send)
        sub.ids[sub_id] = (max(0, throttle_ms), max(0, queue_length))
        sub._update()
        return sub

    def unsubscribe(self, conn: int, topic: str, sub_id: str | None) -> bool:
        per_topic = self._subs.get(topic, {})
        sub = per_topic.get(conn)
        if sub is None:
            return False
        if sub_id is None:
            sub.ids.clear()
        elif sub_id in sub.ids:
            del sub.ids[sub_id]
        else:
            return False
        sub._update()
        if not sub.ids:
            del per_topic[conn]
            if not per_topic:
                del self._subs[topic]
        return True

    # ----------------------------------------------------------- publishers
    def advertise(self, conn: int, topic: str, type_: Any, ad_id: str | None) -> str:
        resolved = self._resolve(topic, type_)
        per_topic = self._adverts.setdefault(topic, {})
        _, ids = per_topic.setdefault(conn, (resolved, set()))
        ids.add(ad_id)
        return resolved

    def unadvertise(self, conn: int, topic: str, ad_id: str | None) -> bool:
        per_topic = self._adverts.get(topic, {})
        entry = per_topic.get(conn)
        if entry is None:
            return False
        ids = entry[1]
        if ad_id is None:
            ids.clear()
        else:
            ids.discard(ad_id)
        if not ids:
            del per_topic[conn]
            if not per_topic:
                del self._adverts[topic]
        return True

    def is_advertised_by(self, conn: int, topic: str) -> bool:
        return conn in self._adverts.get(topic, {})

    def drop_client(self, conn: int) -> None:
        for table in (self._subs, self._adverts):
            for topic in [t for t, per in table.items() if conn in per]:
                del table[topic][conn]
                if not table[topic]:
                    del table[topic]

    # ------------------------------------------------------------- delivery
    def publish(self, topic: str, msg: dict[str, Any], *, from_client: bool = False) -> int:
        """Deliver ``msg`` to client subscribers (throttled) and robot listeners.

        Returns the number of client subscriptions it was sent to.  While
        ``silent``: nothing reaches a client, and a client's message
        (``from_client``) reaches no listener either.
        """
        if self.silent and from_client:
            return 0
        sent = 0
        subs = None if self.silent else self._subs.get(topic)
        if subs:
            payload: str | None = None
            now = time.monotonic()
            for sub in list(subs.values()):
                if sub.throttle_s > 0 and now - sub.last_sent < sub.throttle_s:
                    continue
                sub.last_sent = now
                if payload is None:
                    payload = json.dumps({"op": "publish", "topic": topic, "msg": msg})
                sub.send(payload)
                sent += 1
        for listener in self._listeners.get(topic, ()):
            listener(msg)
        return sent
