"""``RobotSimulator``: the rosbridge v2 websocket server hosting the simulated robot."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from .actions import ActionServer, MoveToCornerServer
from .cleaning_robot import (
    TOPIC_BATTERY,
    TOPIC_EMERGENCY_STOP,
    TOPIC_IO,
    TOPIC_PADS,
    TOPIC_STATUS,
    CleaningRobot,
    RobotConfig,
)
from .clock import SimClock
from .opslog import OpRecord, OpsLog
from .protocol import BridgeContext, ClientSession
from .rosapi import register_rosapi
from .services import Failures, ServiceRegistry
from .topics import TopicBus

LOG = logging.getLogger("robovox.sim.robot")

PUBLISHED_TOPICS = {
    TOPIC_BATTERY: "std_msgs/msg/Float32",
    TOPIC_PADS: "std_msgs/msg/String",
    TOPIC_IO: "cleaning_robot_interfaces/msg/DigitalIO",
    TOPIC_STATUS: "std_msgs/msg/String",
}
NODES = (
    "/battery",
    "/digital_io",
    "/emergency_stop",
    "/robot_navigator",
    "/rosapi",
    "/rosbridge_websocket",
    "/vacuum_pads",
)
TRIGGER = "std_srvs/srv/Trigger"


@dataclass(frozen=True)
class ClientInfo:
    conn: int
    remote_address: Any
    compression: str | None  # e.g. "permessage-deflate" when negotiated
    connected_at: float  # time.time()


@dataclass
class _Client:
    info: ClientInfo
    ws: ServerConnection
    session: ClientSession
    done: asyncio.Event = field(default_factory=asyncio.Event)


class RobotSimulator:
    """A rosbridge v2 server (websocket, JSON) in front of a simulated cleaning robot.

    Run it inside an asyncio loop: ``await sim.start()`` / ``await sim.stop()``
    or ``async with RobotSimulator(...) as sim``.  All control methods must be
    called from that loop.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        time_scale: float = 1.0,
        battery_rate_hz: float = 10.0,
        state_rate_hz: float = 2.0,
        robot_config: RobotConfig | None = None,
        ops_log_limit: int | None = 100_000,
        max_send_queue: int = 10_000,
    ) -> None:
        self.host = host
        self._port = port
        self.clock = SimClock(time_scale)
        self.robot = CleaningRobot(self.clock.now, robot_config)
        self.failures = Failures()
        self._rates = {
            TOPIC_BATTERY: battery_rate_hz,
            TOPIC_PADS: state_rate_hz,
            TOPIC_IO: state_rate_hz,
            TOPIC_STATUS: state_rate_hz,
        }
        self._max_send_queue = max_send_queue
        self._ops = OpsLog(ops_log_limit)
        self._ctx = BridgeContext(
            bus=TopicBus(),
            services=ServiceRegistry(self.failures),
            actions={},
            ops=self._ops,
        )
        self._setup_robot_interface()
        self._server: Server | None = None
        self._accepting = False
        self._clients: dict[int, _Client] = {}
        self._conn_ids = itertools.count(1)
        self._tasks: list[asyncio.Task[None]] = []

    def _setup_robot_interface(self) -> None:
        bus, services, robot = self._ctx.bus, self._ctx.services, self.robot
        for topic, type_ in PUBLISHED_TOPICS.items():
            bus.declare(topic, type_)
        bus.listen(TOPIC_EMERGENCY_STOP, "std_msgs/msg/Bool", self._on_emergency_stop)
        services.register(
            "/robot_navigator/start_cleaning",
            "cleaning_robot_interfaces/srv/StartCleaning",
            lambda req: robot.start_cleaning(req["option"]).to_msg(),
        )
        services.register("/robot_navigator/stop", TRIGGER, lambda _: robot.stop().to_msg())
        services.register("/vacuum_pads/lower", TRIGGER, lambda _: robot.lower_pads().to_msg())
        services.register("/vacuum_pads/release", TRIGGER, lambda _: robot.release_pads().to_msg())
        services.register("/emergency_stop/reset", TRIGGER, lambda _: robot.reset_emergency_stop().to_msg())
        move: ActionServer = MoveToCornerServer(robot, self.clock)
        self._ctx.actions[move.name] = move
        register_rosapi(services, bus, self._ctx.actions, self.clock, NODES)
        robot.add_listener(self._on_robot_change)

    def _on_emergency_stop(self, msg: dict[str, Any]) -> None:
        if msg.get("data"):
            self.robot.trigger_emergency_stop()

    def _on_robot_change(self, topic: str) -> None:
        if self._ctx.bus.has_subscribers(topic):
            self._ctx.bus.publish(topic, self.robot.message_for(topic))

    # ------------------------------------------------------------- lifecycle
    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self._port}"

    @property
    def is_paused(self) -> bool:
        return self._server is None

    async def start(self) -> None:
        if self._tasks:
            raise RuntimeError("simulator already started")
        await self._listen()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._periodic(topic, rate)) for topic, rate in self._rates.items() if rate > 0]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self._close_server(graceful=True)
        background = list(self._ctx.background)
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)

    async def __aenter__(self) -> RobotSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _listen(self) -> None:
        self._server = await serve(
            self._handle,
            self.host,
            self._port,
            compression="deflate",
            max_size=2**26,
            max_queue=256,
            close_timeout=2,
        )
        self._accepting = True
        if not self._port:
            self._port = int(self._server.sockets[0].getsockname()[1])
        LOG.info("rosbridge simulator listening on %s", self.url)

    async def _close_server(self, graceful: bool) -> None:
        server, self._server = self._server, None
        self._accepting = False
        if server is None:
            await self.drop_connections()
            return
        server.close(close_connections=graceful)
        if not graceful:
            await self.drop_connections()
        try:
            await asyncio.wait_for(server.wait_closed(), 5.0)
        except TimeoutError:
            await self.drop_connections()
            await server.wait_closed()

    # -------------------------------------------------------- failure modes
    async def drop_connections(self) -> None:
        """Abort every client websocket (TCP reset, no close handshake)."""
        clients = list(self._clients.values())
        for client in clients:
            client.ws.transport.abort()
        for client in clients:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(client.done.wait(), 5.0)

    def freeze_connections(self) -> None:
        """Stop reading from every client without closing anything, like a network
        partition that leaves TCP half-open: pings go unanswered, ops are not received."""
        for client in self._clients.values():
            client.ws.transport.pause_reading()

    async def pause_bridge(self) -> None:
        """Stop listening and abort all clients: new connections are refused."""
        await self._close_server(graceful=False)
        LOG.info("rosbridge simulator paused (port %d closed)", self._port)

    async def resume_bridge(self) -> None:
        """Listen again on the same port."""
        if self._server is None:
            await self._listen()

    # -------------------------------------------------------------- ops log
    def ops(self, op: str | None = None, name: str | None = None) -> list[OpRecord]:
        """Received ops, optionally filtered by op and topic/service/action name."""
        return self._ops.query(op, name)

    async def wait_for_op(
        self,
        op: str | None,
        name: str | None = None,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - public API, mirrors asyncio.wait_for
    ) -> list[OpRecord]:
        """Wait until ``count`` matching ops have been received; return all matches.

        Ops are handled before waiters resume, so the op's synchronous effects
        (robot state, replies queued) are visible on return.  ``TimeoutError``
        after ``timeout`` seconds.
        """
        return await self._ops.wait_for(op, name, count, timeout)

    def clear_ops(self) -> None:
        self._ops.clear()

    # ---------------------------------------------------------------- misc
    @property
    def clients(self) -> list[ClientInfo]:
        return [c.info for c in self._clients.values()]

    def topics(self) -> dict[str, str]:
        return self._ctx.bus.topics()

    def publish(self, topic: str, msg: dict[str, Any], type_: str | None = None) -> int:
        """Publish ``msg`` on ``topic`` from the ROS side (as another node would)."""
        if type_ is not None and self._ctx.bus.topic_type(topic) is None:
            self._ctx.bus.declare(topic, type_)
        return self._ctx.bus.publish(topic, msg)

    def wall_seconds_until_voltage(self, threshold: float) -> float:
        """Real seconds until the true battery voltage reaches ``threshold``."""
        return self.clock.to_real(self.robot.seconds_until_voltage(threshold))

    # ------------------------------------------------------------ internals
    async def _periodic(self, topic: str, rate_hz: float) -> None:
        period = 1.0 / rate_hz
        due = self.clock.now()
        bus = self._ctx.bus
        while True:
            if bus.has_subscribers(topic):
                bus.publish(topic, self.robot.message_for(topic))
            due += period
            now = self.clock.now()
            if due < now - period:  # fell far behind (e.g. loop blocked): skip ahead
                due = now
            await self.clock.sleep(due - now)

    async def _handle(self, ws: ServerConnection) -> None:
        if not self._accepting:
            ws.transport.abort()
            return
        conn = next(self._conn_ids)
        queue: asyncio.Queue[str] = asyncio.Queue()

        def send(payload: str) -> None:
            if queue.qsize() < self._max_send_queue:
                queue.put_nowait(payload)
            else:
                LOG.debug("[client %d] send queue full, dropping message", conn)

        extensions = [e.name for e in ws.protocol.extensions]
        info = ClientInfo(conn, ws.remote_address, extensions[0] if extensions else None, time.time())
        client = _Client(info, ws, ClientSession(conn, send, self._ctx))
        self._clients[conn] = client
        writer = asyncio.get_running_loop().create_task(self._writer(ws, queue))
        LOG.debug("client %d connected from %s", conn, ws.remote_address)
        try:
            async for frame in ws:
                client.session.handle_text(frame)
        except ConnectionClosed:
            pass
        finally:
            del self._clients[conn]
            writer.cancel()
            await client.session.aclose()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            client.done.set()
            LOG.debug("client %d disconnected", conn)

    @staticmethod
    async def _writer(ws: ServerConnection, queue: asyncio.Queue[str]) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await ws.send(await queue.get())
