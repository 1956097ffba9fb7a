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

Before a command is written the bridge must have answered a ping sent after
the command arrived (``ready()``), and a publish, which rosbridge never
answers, counts as received only once a ping sent after it is answered
(``liveness``): a stalled bridge is found within one ping timeout, and a
command is never written into a stall older than that one round trip.

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
from robovox.ros_adapter.errors import CommandNotSentError, LinkLostError, LinkStalledError, NotSentReason
from robovox.ros_adapter.link.liveness import Liveness
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
        url: str,
        *,
        ping_interval_s: float = 0.25,
        ping_timeout_s: float = 0.5,
        connect_timeout_s: float = 10.0,
    ) -> None:
        self.robot_id = robot_id
        self.url = url
        """The whole ``ws://`` / ``wss://`` URL, path included."""
        self._connect_timeout_s = connect_timeout_s
        self._generation = 0
        """Which roslibpy connection is ours; events of a retired one are ignored."""
        self._subscriptions: list[tuple[str, str, int, Callable[[dict[str, Any]], None]]] = []
        self._ros: Any = None
        """The roslibpy connection (``roslibpy.Ros``) made at ``start()``, and its factory."""
        self._factory: Any = None
        self._ping_interval_s = ping_interval_s
        self.liveness = Liveness(self._send_ping, ping_timeout_s, self._stalled)
        self._stall: str | None = None
        """Why the current connection was dropped as stalled (None: it was not)."""
        self.stalls = 0
        self._watchdog: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        """The loop the link runs on, roslibpy included; set by ``start()``."""
        self._state = LinkState.CONNECTING
        self._state_waiters: list[asyncio.Future[None]] = []
        self._pending: dict[str, asyncio.Future[Reply]] = {}
        self._advertised: set[tuple[str, str]] = set()
        """(topic, type) advertised on the current connection."""
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
        ros = roslibpy_loop.new_ros(self.url)
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
            self.call_in_loop(done.set_result, None)

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
            self.call_in_loop(callback, msg)

        subscription.subscribe(on_message)
        self._topics.append(subscription)

    # -- commands -----------------------------------------------------------

    async def call_service(
        self, name: str, ros_type: str | None, args: dict[str, Any], *, deadline: float, timeout_s: float
    ) -> Reply:
        """``ros_type`` None: the bridge looks the type up itself (as roslibpy's ``Service.call``)."""
        request_id = f"call_service:{name}:{next(_ids)}"
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
            advertise = {"op": "advertise", "id": f"advertise:{topic}:{next(_ids)}", "topic": topic, "type": ros_type}
            proto.send_ros_message(roslibpy.Message(advertise))
        proto.send_ros_message(roslibpy.Message({"op": "publish", "topic": topic, "msg": msg}))

    async def ready(self) -> None:
        """Return once the bridge has answered a ping sent now: it is reading, so a command written
        next runs now, not when a stalled bridge resumes. ``CommandNotSentError`` if not."""
        if self._state is not LinkState.UP:
            raise CommandNotSentError(NotSentReason.LINK_DOWN, "the rosbridge link is down")
        try:
            await self.liveness.proof()
        except LinkStalledError as exc:
            raise CommandNotSentError(NotSentReason.STALLED, str(exc)) from None

    # -- liveness -----------------------------------------------------------------

    async def _watch_liveness(self) -> None:
        """Prove the live link every ping interval (commands' own proofs count); a missed pong drops
        it (``_stalled``). Also replaces a connection attempt that never finishes."""
        while self._state is not LinkState.CLOSED:
            if self._state is LinkState.UP:
                # the next ping one interval after the last pong, whoever's ping it answered
                wait = self.liveness.last_pong + self._ping_interval_s - time.monotonic()
                if wait <= 0:
                    try:
                        await self.liveness.proof()
                    except LinkStalledError:  # dropped (or no connection to ping on): wait for the next
                        await asyncio.sleep(self._ping_interval_s)
                    continue
                await asyncio.sleep(wait)
                continue
            await asyncio.sleep(self._ping_interval_s)
            # (a link that came up meanwhile has a fresh _state_since)
            if time.monotonic() - self._state_since > self._connect_timeout_s:
                log.warning(
                    "robot %s: rosbridge link %s for %g s; starting a new connection",
                    self.robot_id,
                    self._state.value,
                    self._connect_timeout_s,
                )
                self._state_since = time.monotonic()
                self._replace_connection()

    def _send_ping(self, token: bytes) -> bool:
        proto = self._factory._proto if self._factory is not None else None
        if proto is None or self._state is not LinkState.UP:
            return False
        proto.onPong = self._on_pong
        proto.sendPing(token)
        return True

    def _on_pong(self, payload: bytes) -> None:
        self.call_in_loop(self.liveness.pong, payload)

    def _stalled(self, why: str) -> None:
        if self._state is not LinkState.UP or self._stall is not None:
            return
        self._stall = why
        self.stalls += 1
        log.warning("robot %s: %s; dropping the link", self.robot_id, why)
        self._drop_connection()

    def _drop_connection(self) -> None:
        """Abort the socket; roslibpy then reports the close and reconnects."""
        proto = self._factory._proto
        if proto is not None:
            proto.dropConnection(abort=True)

    # -- internals -------------------------------------------------------------

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

    def _fail_pending(self, error: Exception) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)

    def _on_ready(self, generation: int, proto: Any) -> None:
        if generation != self._generation:
            proto.send_close()  # a retired attempt that finished after all: not ours any more
            return
        self.call_in_loop(self._connected)

    def _connected(self) -> None:
        self.liveness.reset()
        self._set_state(LinkState.UP)

    def _on_close(self, generation: int, proto: Any) -> None:
        if generation != self._generation:
            return
        self._advertised.clear()
        self.call_in_loop(self._link_dropped)

    def _link_dropped(self) -> None:
        stall, self._stall = self._stall, None
        self.liveness.reset()
        if self._state is not LinkState.CLOSED:
            self._set_state(LinkState.DOWN)
        if stall is not None:
            self._fail_pending(
                LinkStalledError(
                    f"{stall} after it was sent; the robot may still run it, late, when the bridge resumes"
                )
            )
        else:
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

    def call_in_loop(self, fn: Callable[..., None], *args: Any) -> None:
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
