"""One robot's rosbridge link: the commands written on its connection (``connection``).

roslibpy's convenience calls (``Service.call``, ``Topic.publish``) go through
``factory.on_ready``, which *queues* a message while the link is down and
replays it after reconnect: a robot command could then run seconds or hours
late. So commands never take that path. Each one is written by ``send_now``,
which checks in the same loop step that the link is up and the deadline not
passed and writes the frame straight into the live protocol. A command that
cannot go out fails at once; one that went out and whose link dropped fails as
"link lost" (or "stalled") instead of hanging.

Before a command is written the bridge must have answered a ping sent after
the command arrived (``ready()``), and a publish, which rosbridge never
answers, counts as received only once a ping sent after it is answered
(``liveness``): a stalled bridge is found within interval + timeout, and no
command is written into a stall older than one round trip.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import roslibpy

from robovox.ros_adapter.errors import CommandNotSentError, LinkStalledError, NotSentReason
from robovox.ros_adapter.link.connection import Reply, RosbridgeConnection, ids
from robovox.shared.link import LinkState


class RosbridgeLink(RosbridgeConnection):
    """The connection, and the commands written on it."""

    # -- commands -----------------------------------------------------------

    async def call_service(
        self, name: str, ros_type: str | None, args: dict[str, Any], *, deadline: float, timeout_s: float
    ) -> Reply:
        """``ros_type`` None: the bridge looks the type up itself (as roslibpy's ``Service.call``)."""
        request_id = f"call_service:{name}:{next(ids)}"
        message: dict[str, Any] = {"op": "call_service", "id": request_id, "service": name, "args": args}
        if ros_type is not None:
            message["type"] = ros_type

        def send(proto: Any) -> None:
            proto.send_ros_service_request(
                roslibpy.Message(message),
                lambda values: self.resolve(request_id, Reply(True, dict(values))),
                lambda error: self.resolve(request_id, Reply(False, error)),
            )

        return await self.request(request_id, send, deadline, timeout_s)

    async def publish(self, topic: str, ros_type: str, msg: dict[str, Any], *, deadline: float) -> float:
        """Publish one message now (advertising topic and type first on this connection) and wait
        until the bridge has read it; returns the ``time.monotonic()`` it was written at.
        ``LinkStalledError`` if the bridge stopped answering before it read it."""
        written = await self.write_publish(topic, ros_type, msg, deadline=deadline)
        await self.liveness.proof()
        return written

    async def write_publish(self, topic: str, ros_type: str, msg: dict[str, Any], *, deadline: float | None) -> float:
        """Write one publish frame now; nothing tells whether the bridge took it."""
        await self.send_now(lambda proto: self.publish_frames(proto, topic, ros_type, msg), deadline)
        return time.monotonic()

    def publish_frames(self, proto: Any, topic: str, ros_type: str, msg: dict[str, Any]) -> None:
        """Write a publish on ``proto``, advertising topic and type first on this connection."""
        if (topic, ros_type) not in self._advertised:
            self._advertised.add((topic, ros_type))
            advertise = {"op": "advertise", "id": f"advertise:{topic}:{next(ids)}", "topic": topic, "type": ros_type}
            proto.send_ros_message(roslibpy.Message(advertise))
        proto.send_ros_message(roslibpy.Message({"op": "publish", "topic": topic, "msg": msg}))

    def check_up(self) -> None:
        """``CommandNotSentError`` unless the link is up now (nothing is proved of the bridge)."""
        if self._state is not LinkState.UP:
            raise CommandNotSentError(NotSentReason.LINK_DOWN, "the rosbridge link is down")

    async def ready(self) -> None:
        """Return once the bridge has answered a ping sent now: it is reading, so a command written
        next runs now, not when a stalled bridge resumes. ``CommandNotSentError`` if not."""
        self.check_up()
        try:
            await self.liveness.proof()
        except LinkStalledError as exc:
            raise CommandNotSentError(NotSentReason.STALLED, str(exc)) from None

    async def request(self, request_id: str, send: Callable[[Any], None], deadline: float, timeout_s: float) -> Reply:
        assert self._loop is not None, "start() the link first"
        future: asyncio.Future[Reply] = self._loop.create_future()
        self._pending[request_id] = future
        try:
            await self.send_now(send, deadline)
            return await asyncio.wait_for(asyncio.shield(future), timeout_s)
        finally:
            self._pending.pop(request_id, None)

    async def send_now(self, send: Callable[[Any], None], deadline: float | None) -> None:
        """Run ``send(proto)`` now iff the link is up and the deadline not passed."""
        assert self._loop is not None, "start() the link first"
        outcome: asyncio.Future[None] = self._loop.create_future()

        def write_now() -> None:
            proto = self._factory._proto
            if proto is None or proto._manual_disconnect or self._factory._stop:
                self.call_in_loop(
                    _settle, outcome, CommandNotSentError(NotSentReason.LINK_DOWN, "the rosbridge link is down")
                )
            elif deadline is not None and time.time() > deadline:
                late = time.time() - deadline
                self.call_in_loop(
                    _settle,
                    outcome,
                    CommandNotSentError(NotSentReason.EXPIRED, f"its deadline passed {late:.2f} s ago"),
                )
            else:
                try:
                    send(proto)
                except Exception as exc:  # a protocol that died under us
                    self.call_in_loop(
                        _settle, outcome, CommandNotSentError(NotSentReason.LINK_DOWN, f"sending failed: {exc}")
                    )
                    return
                self.call_in_loop(_settle, outcome, None)

        write_now()  # in this step: nothing runs between the caller's last await and the write
        await outcome

    def resolve(self, request_id: str, reply: Reply) -> None:
        """A roslibpy callback."""
        self.call_in_loop(self._settle_pending, request_id, reply)

    def _settle_pending(self, request_id: str, reply: Reply) -> None:
        future = self._pending.get(request_id)
        if future is not None and not future.done():
            future.set_result(reply)


def _settle(future: asyncio.Future[None], error: Exception | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
