"""One robot's rosbridge connection: roslibpy (asyncio transport) on our event loop, its state,
its telemetry subscriptions and its liveness.

The commands that go over it are ``rosbridge.RosbridgeLink``'s; this is what keeps the
connection itself: reconnects (roslibpy's, with bounded back-off), a fresh connection
for an attempt that hangs, pings (``liveness``), and the state other parts listen to.
Subscriptions use roslibpy's own ``Topic`` (one object per subscription, never shared
with publishing, roslibpy #114), sent again the moment a new connection is up: roslibpy's
own resend runs on a fixed timer one second after the close, and for that second telemetry
was stale (preconditions refused, a stop's ``confirm`` missed).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from roslibpy.comm.comm_asyncio import AsyncioRosBridgeClientFactory

from robovox.ros_adapter import roslibpy_loop
from robovox.ros_adapter.errors import LinkLostError, LinkStalledError
from robovox.ros_adapter.link.liveness import Liveness
from robovox.ros_adapter.link.subscription import Subscription
from robovox.shared.link import LinkState
from robovox.shared.metrics.series import LINK_RECONNECTS, LINK_STALLS

log = logging.getLogger(__name__)

ids = itertools.count(1)
"""Request ids, unique in the process."""


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


class RosbridgeConnection:
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
        LINK_RECONNECTS.labels(robot_id)  # exported from 0
        LINK_STALLS.labels(robot_id)
        self._watchdog: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        """The loop the link runs on, roslibpy included; set by ``start()``."""
        self._state = LinkState.CONNECTING
        self._state_waiters: list[asyncio.Future[None]] = []
        self._pending: dict[str, asyncio.Future[Reply]] = {}
        self._advertised: set[tuple[str, str]] = set()
        """(topic, type) advertised on the current connection."""
        self._topics: list[Subscription] = []
        self._readies = 0
        """How often this connection's factory has been ready (after the first: a reconnect)."""
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
        self._readies = 0
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
        subscription = Subscription(self._ros, topic, ros_type, throttle_rate=throttle_ms, reconnect_on_close=True)

        def on_message(msg: dict[str, Any]) -> None:
            self.call_in_loop(callback, msg)

        subscription.subscribe(on_message)
        self._topics.append(subscription)

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
        LINK_STALLS.labels(self.robot_id).inc()
        log.warning("robot %s: %s; dropping the link", self.robot_id, why)
        self._drop_connection()

    def _drop_connection(self) -> None:
        """Abort the socket; roslibpy then reports the close and reconnects."""
        proto = self._factory._proto
        if proto is not None:
            proto.dropConnection(abort=True)

    # -- internals -------------------------------------------------------------

    def _fail_pending(self, error: Exception) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)

    def _on_ready(self, generation: int, proto: Any) -> None:
        if generation != self._generation:
            proto.send_close()  # a retired attempt that finished after all: not ours any more
            return
        self._readies += 1
        if self._readies > 1:  # roslibpy reconnected: the first connection sent them when it was ready
            for subscription in self._topics:
                subscription.resend(proto)
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
            if self.connects > 1:
                LINK_RECONNECTS.labels(self.robot_id).inc()
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
