"""One robot's rosbridge link: roslibpy (asyncio transport) bridged into our event loop.

roslibpy runs on the adapter's own event loop (``roslibpy_loop``; by default
it would start a thread of its own). Its convenience calls (``Service.call``,
``Topic.publish``) go through ``factory.on_ready``, which *queues* a message
while the link is down and replays it after reconnect: a robot command could
then run seconds or hours late. So commands never take that path. Each one is
sent by a function run on roslibpy's loop, in the step that follows the
command's start, which checks that the link is up and the deadline not passed
and writes the frame straight into the live protocol.
A command that cannot go out fails at once; one that went out and whose link
dropped fails as "link lost" instead of hanging.

Subscriptions do use roslibpy's own ``Topic`` (one object per subscription,
never shared with publishing, roslibpy #114): re-sending them after a
reconnect is exactly what we want.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import roslibpy
from roslibpy.comm.comm_asyncio import AsyncioRosBridgeClientFactory

from robovox.ros_adapter import roslibpy_loop
from robovox.ros_adapter.errors import CommandNotSentError, LinkLostError, NotSentReason
from robovox.shared.link import LinkState

log = logging.getLogger(__name__)

_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Reply:
    """A service response or action result. ``ok`` is rosbridge's ``result`` flag."""

    ok: bool
    values: Any
    status: int | None = None
    """GoalStatus for actions (4 succeeded, 5 canceled, 6 aborted)."""


def configure_reconnect(initial_delay_s: float, max_delay_s: float) -> None:
    """Bounded reconnect backoff for every link in this process (a roslibpy class setting)."""
    AsyncioRosBridgeClientFactory.set_initial_delay(initial_delay_s)
    AsyncioRosBridgeClientFactory.set_max_delay(max_delay_s)


class RosbridgeLink:
    def __init__(
        self,
        robot_id: str,
        host: str,
        port: int,
        *,
        is_secure: bool = False,
        ping_interval_s: float = 1.0,
        ping_timeout_s: float = 2.0,
        connect_timeout_s: float = 10.0,
    ) -> None:
        self.robot_id = robot_id
        self._address = (host, port, is_secure)
        self._connect_timeout_s = connect_timeout_s
        self._generation = 0
        """Which roslibpy connection is ours; events of a retired one are ignored."""
        self._subscriptions: list[tuple[str, str, int, Callable[[dict[str, Any]], None]]] = []
        self._ros: Any = None
        """The roslibpy connection (``roslibpy.Ros``) made at ``start()``, and its factory."""
        self._factory: Any = None
        self._ping_interval_s = ping_interval_s
        self._ping_timeout_s = ping_timeout_s
        self._pongs: dict[bytes, asyncio.Future[None]] = {}
        self._watchdog: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        """The loop the link runs on, roslibpy included; set by ``start()``."""
        self._state = LinkState.CONNECTING
        self._state_waiters: list[asyncio.Future[None]] = []
        self._pending: dict[str, asyncio.Future[Reply]] = {}
        self._advertised: set[str] = set()
        """Topics advertised on the current connection."""
        self._topics: list[Any] = []
        self._listeners: list[Callable[[LinkState], None]] = []
        self._state_since = 0.0
        self.connects = 0

    # -- lifecycle ------------------------------------------------------

    def start(self) -> None:
        """Begin connecting (and reconnecting, with backoff) in the background."""
        self._loop = asyncio.get_running_loop()
        self._state_since = time.monotonic()
        self._connect()
        self._watchdog = asyncio.create_task(self._watch_liveness(), name=f"{self.robot_id}-liveness")

    def _connect(self) -> None:
        """A new roslibpy connection: its events, the telemetry subscriptions. roslibpy's constructor
        schedules the connection attempt on this loop, where it cannot run before the handlers are
        in place."""
        self._generation += 1
        generation = self._generation
        host, port, is_secure = self._address
        ros = roslibpy_loop.new_ros(host, port, is_secure=is_secure)
        self._ros, self._factory = ros, ros.factory
        ros.factory.on("ready", lambda proto: self._on_ready(generation, proto))
        ros.factory.on("close", lambda proto: self._on_close(generation, proto))
        self._topics = []
        for topic, ros_type, throttle_ms, callback in self._subscriptions:
            self._open_subscription(topic, ros_type, throttle_ms, callback)

    def _replace_connection(self) -> None:
        """A connection attempt that never finished (seen: a websocket the bridge accepted, and no
        handshake, no error, no retry, for good) is retired and a fresh one started."""
        retired = self._factory

        def retire() -> None:
            retired._stop = True  # no further reconnect attempts of the old one
            if retired._proto is not None:
                retired._proto.dropConnection(abort=True)

        self._link_loop.call_soon(retire)
        self._connect()

    async def close(self) -> None:
        self._set_state(LinkState.CLOSED)
        if self._watchdog is not None:
            self._watchdog.cancel()
            await asyncio.gather(self._watchdog, return_exceptions=True)
        for topic in self._topics:
            topic.unsubscribe()
        done = asyncio.get_running_loop().create_future()

        def shutdown() -> None:
            self._factory._stop = True  # no further reconnect attempts
            proto = self._factory._proto
            if proto is not None:
                proto.send_close()
            self._loop_call(done.set_result, None)

        if self._factory is None:  # never started
            done.set_result(None)
        else:
            self._link_loop.call_soon(shutdown)
        await done
        self._fail_pending(LinkLostError("the link was closed"))

    @property
    def _link_loop(self) -> asyncio.AbstractEventLoop:
        assert self._loop is not None, "start() the link first"
        return self._loop

    @property
    def state(self) -> LinkState:
        return self._state

    async def wait_state(self, state: LinkState, timeout_s: float) -> None:
        """Return once the link is in ``state``; TimeoutError after ``timeout_s``."""
        async with asyncio.timeout(timeout_s):
            while self._state is not state:
                waiter = asyncio.get_running_loop().create_future()
                self._state_waiters.append(waiter)
                await waiter

    def on_state(self, listener: Callable[[LinkState], None]) -> None:
        """``listener(state)`` runs in our event loop on every change."""
        self._listeners.append(listener)

    # -- telemetry --------------------------------------------------------

    def subscribe(
        self, topic: str, ros_type: str, throttle_ms: int, callback: Callable[[dict[str, Any]], None]
    ) -> None:
        """``callback(msg)`` runs in our event loop for every message; restored after reconnects."""
        self._subscriptions.append((topic, ros_type, throttle_ms, callback))
        if self._loop is not None:  # started: on the live connection now (before: when it starts)
            self._open_subscription(topic, ros_type, throttle_ms, callback)

    def _open_subscription(
        self, topic: str, ros_type: str, throttle_ms: int, callback: Callable[[dict[str, Any]], None]
    ) -> None:
        subscription = roslibpy.Topic(self._ros, topic, ros_type, throttle_rate=throttle_ms, reconnect_on_close=True)

        def on_message(msg: dict[str, Any]) -> None:
            self._loop_call(callback, msg)

        subscription.subscribe(on_message)
        self._topics.append(subscription)

    # -- commands -----------------------------------------------------------

    async def call_service(
        self, name: str, ros_type: str, args: dict[str, Any], *, deadline: float, timeout_s: float
    ) -> Reply:
        request_id = f"call_service:{name}:{next(_ids)}"
        message = {"op": "call_service", "id": request_id, "service": name, "type": ros_type, "args": args}

        def send(proto: Any) -> None:
            proto.send_ros_service_request(
                roslibpy.Message(message),
                lambda values: self._resolve(request_id, Reply(True, dict(values))),
                lambda error: self._resolve(request_id, Reply(False, error)),
            )

        return await self._request(request_id, send, deadline, timeout_s)

    async def send_action_goal(
        self,
        name: str,
        ros_type: str,
        goal: dict[str, Any],
        *,
        deadline: float,
        timeout_s: float,
        on_feedback: Callable[[dict[str, Any]], None] | None = None,
    ) -> Reply:
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
                self._loop_call(on_feedback, dict(values))

        def result(ok: bool) -> Callable[[Any], None]:
            def handle(res: Any) -> None:
                status = res["status"]
                self._resolve(request_id, Reply(ok, dict(res["values"]), int(getattr(status, "value", status))))

            return handle

        def send(proto: Any) -> None:
            proto.send_ros_action_goal(roslibpy.Message(message), result(True), feedback, result(False))

        try:
            return await self._request(request_id, send, deadline, timeout_s)
        except TimeoutError:
            await self.cancel_action_goal(name, request_id)
            raise

    async def cancel_action_goal(self, name: str, goal_id: str) -> bool:
        """Send ``cancel_action_goal`` now if the link is up (never queued); True if sent."""
        message = {"op": "cancel_action_goal", "action": name, "id": goal_id}
        try:
            await self._send_now(lambda proto: proto.send_ros_message(roslibpy.Message(message)), deadline=None)
        except CommandNotSentError:
            return False
        return True

    async def publish(self, topic: str, ros_type: str, msg: dict[str, Any], *, deadline: float) -> None:
        """Publish one message now, advertising the topic first on this connection."""

        def send(proto: Any) -> None:
            if topic not in self._advertised:
                self._advertised.add(topic)
                proto.send_ros_message(
                    roslibpy.Message(
                        {"op": "advertise", "id": f"advertise:{topic}:{next(_ids)}", "topic": topic, "type": ros_type}
                    )
                )
            proto.send_ros_message(roslibpy.Message({"op": "publish", "topic": topic, "msg": msg}))

        await self._send_now(send, deadline)

    # -- liveness -----------------------------------------------------------------

    async def _watch_liveness(self) -> None:
        """Ping the live link; drop it if no pong comes back within the timeout.

        A partition that leaves TCP half-open would otherwise look "up" for
        minutes while commands wait in the socket buffer to run when the network
        heals. The timing is ours: autobahn's own auto-ping runs on txaio's
        batched timer, which floors deadlines to whole seconds and was seen not
        to fire at all on some connections."""
        assert self._loop is not None
        while self._state is not LinkState.CLOSED:
            await asyncio.sleep(self._ping_interval_s)
            if self._state is not LinkState.UP:
                if time.monotonic() - self._state_since > self._connect_timeout_s:
                    log.warning(
                        "robot %s: rosbridge link %s for %g s; starting a new connection",
                        self.robot_id,
                        self._state.value,
                        self._connect_timeout_s,
                    )
                    self._state_since = time.monotonic()
                    self._replace_connection()
                continue
            token = f"robovox-{next(_ids)}".encode()
            pong: asyncio.Future[None] = self._loop.create_future()
            self._pongs[token] = pong
            try:
                self._link_loop.call_soon(self._send_ping, token)
                await asyncio.wait_for(pong, self._ping_timeout_s)
            except TimeoutError:
                if self._state is LinkState.UP:
                    log.warning("robot %s: no pong within %g s; dropping the link", self.robot_id, self._ping_timeout_s)
                    self._link_loop.call_soon(self._drop_connection)
            finally:
                self._pongs.pop(token, None)

    def _send_ping(self, token: bytes) -> None:
        """A roslibpy callback."""
        proto = self._factory._proto
        if proto is None:
            return
        proto.onPong = self._on_pong
        proto.sendPing(token)

    def _on_pong(self, payload: bytes) -> None:
        self._loop_call(self._settle_pong, payload)

    def _settle_pong(self, payload: bytes) -> None:
        pong = self._pongs.get(payload)
        if pong is not None and not pong.done():
            pong.set_result(None)

    def _drop_connection(self) -> None:
        """Abort the socket; roslibpy then reports the close and reconnects."""
        proto = self._factory._proto
        if proto is not None:
            proto.dropConnection(abort=True)

    # -- internals -------------------------------------------------------------

    async def _request(self, request_id: str, send: Callable[[Any], None], deadline: float, timeout_s: float) -> Reply:
        assert self._loop is not None, "start() the link first"
        future: asyncio.Future[Reply] = self._loop.create_future()
        self._pending[request_id] = future
        try:
            await self._send_now(send, deadline)
            return await asyncio.wait_for(asyncio.shield(future), timeout_s)
        finally:
            self._pending.pop(request_id, None)

    async def _send_now(self, send: Callable[[Any], None], deadline: float | None) -> None:
        """Run ``send(proto)`` now iff the link is up and the deadline not passed."""
        assert self._loop is not None, "start() the link first"
        outcome: asyncio.Future[None] = self._loop.create_future()

        def write_now() -> None:
            proto = self._factory._proto
            if proto is None or proto._manual_disconnect or self._factory._stop:
                self._loop_call(
                    _settle, outcome, CommandNotSentError(NotSentReason.LINK_DOWN, "the rosbridge link is down")
                )
            elif deadline is not None and time.time() > deadline:
                late = time.time() - deadline
                self._loop_call(
                    _settle,
                    outcome,
                    CommandNotSentError(NotSentReason.EXPIRED, f"its deadline passed {late:.2f} s ago"),
                )
            else:
                try:
                    send(proto)
                except Exception as exc:  # a protocol that died under us
                    self._loop_call(
                        _settle, outcome, CommandNotSentError(NotSentReason.LINK_DOWN, f"sending failed: {exc}")
                    )
                    return
                self._loop_call(_settle, outcome, None)

        write_now()  # in this step: nothing runs between the caller's last await and the write
        await outcome

    def _resolve(self, request_id: str, reply: Reply) -> None:
        """A roslibpy callback."""
        self._loop_call(self._settle_pending, request_id, reply)

    def _settle_pending(self, request_id: str, reply: Reply) -> None:
        future = self._pending.get(request_id)
        if future is not None and not future.done():
            future.set_result(reply)

    def _fail_pending(self, error: Exception) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)

    def _on_ready(self, generation: int, proto: Any) -> None:
        if generation != self._generation:
            proto.send_close()  # a retired attempt that finished after all: not ours any more
            return
        self._loop_call(self._set_state, LinkState.UP)

    def _on_close(self, generation: int, proto: Any) -> None:
        if generation != self._generation:
            return
        self._advertised.clear()
        self._loop_call(self._link_dropped)

    def _link_dropped(self) -> None:
        if self._state is not LinkState.CLOSED:
            self._set_state(LinkState.DOWN)
        self._fail_pending(LinkLostError("the rosbridge link dropped while the command was running"))

    def _set_state(self, state: LinkState) -> None:
        if state is self._state:
            return
        if state is LinkState.UP:
            self.connects += 1
        log.info("robot %s: rosbridge link %s", self.robot_id, state.value)
        self._state = state
        self._state_since = time.monotonic()
        for listener in self._listeners:
            listener(state)
        waiters, self._state_waiters = self._state_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _loop_call(self, fn: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(fn, *args)


def _settle(future: asyncio.Future[None], error: Exception | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
