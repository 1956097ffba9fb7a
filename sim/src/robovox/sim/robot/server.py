"""``RobotSimulator``: the rosbridge v2 websocket server hosting the simulated robot."""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import Any

from websockets.asyncio.server import Server, serve

from .cleaning_robot import CleaningRobot, RobotConfig
from .clock import SimClock
from .connections import ClientInfo, Connections
from .dialect import Dialect, rules_for
from .opslog import OpRecord, OpsLog
from .protocol import BridgeContext
from .robot_graph import RobotGraph
from .services import Failures, ServiceRegistry
from .topics import TopicBus

__all__ = ["ClientInfo", "RobotSimulator"]

LOG = logging.getLogger("robovox.sim.robot")


class RobotSimulator:
    """A rosbridge v2 server (websocket, JSON) in front of a simulated cleaning robot.

    Run it inside an asyncio loop: ``await sim.start()`` / ``await sim.stop()``
    or ``async with RobotSimulator(...) as sim``.  All control methods must be
    called from that loop.  ``dialect`` picks the bridge it plays: a ROS 2
    rosbridge (default) or a ROS 1 one (rosbridge_suite 0.11, Noetic; see
    ``dialect.py``).
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
        dialect: Dialect = Dialect.ROS2,
        use_compression: bool = False,
    ) -> None:
        self._use_compression = use_compression
        """permessage-deflate offered, as rosbridge does only with ``use_compression:=true`` (its
        default is off: a real bridge answers the client's deflate offer without it)."""
        self._rules = rules_for(dialect)
        self.host = host
        self._port = port
        self.clock = SimClock(time_scale)
        self.robot = CleaningRobot(self.clock.now, robot_config)
        self.failures = Failures()
        self._ops = OpsLog(ops_log_limit)
        self._ctx = BridgeContext(
            bus=TopicBus(self._rules.msg_type),
            services=ServiceRegistry(self.failures, self._rules),
            actions={},
            ops=self._ops,
            rules=self._rules,
        )
        self._graph = RobotGraph(self.robot, self.clock, self._ctx, battery_rate_hz, state_rate_hz)
        self._connections = Connections(self._ctx, max_send_queue)
        self._server: Server | None = None
        self._tasks: list[asyncio.Task[None]] = []

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

    @property
    def dialect(self) -> Dialect:
        return self._rules.dialect

    async def start(self) -> None:
        if self._tasks:
            raise RuntimeError("simulator already started")
        await self._listen()
        loop = asyncio.get_running_loop()
        rates = self._graph.rates
        self._tasks = [loop.create_task(self._periodic(topic, rate)) for topic, rate in rates.items() if rate > 0]

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
        await self._graph.aclose()

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
            self._connections.handle,
            self.host,
            self._port,
            process_request=self._connections.process_request,
            compression="deflate" if self._use_compression else None,
            max_size=2**26,
            max_queue=256,
            close_timeout=2,
        )
        self._connections.accepting = True
        if not self._port:
            self._port = int(self._server.sockets[0].getsockname()[1])
        LOG.info("rosbridge simulator listening on %s", self.url)

    async def _close_server(self, graceful: bool) -> None:
        server, self._server = self._server, None
        self._connections.accepting = False
        graceful = graceful and not self.frozen  # a stopped process closes nothing gracefully
        if server is None:
            await self.drop_connections()
            self._connections.release()
            return
        server.close(close_connections=graceful)
        if not graceful:
            await self.drop_connections()
        self._connections.release()  # handshakes waiting out a freeze are now refused
        try:
            await asyncio.wait_for(server.wait_closed(), 5.0)
        except TimeoutError:
            await self.drop_connections()
            await server.wait_closed()

    # -------------------------------------------------------- failure modes
    async def drop_connections(self) -> None:
        """Abort every client websocket (TCP reset, no close handshake)."""
        await self._connections.drop_all()

    def freeze_connections(self) -> None:
        """Stop reading from every current client without closing anything, like a network
        partition that leaves TCP half-open: pings go unanswered, ops are not received.
        The bridge itself keeps running: it still sends, and new connections work."""
        self._connections.freeze_reading()

    def freeze(self) -> None:
        """Stop the bridge as SIGSTOP would: no socket is read and nothing is sent until ``thaw``.

        Sockets stay open: clients' pings go unanswered and their ops wait in the
        kernel's buffers; replies and telemetry wait in the bridge; a new
        connection's handshake is not answered (websockets gives up on it after
        10 s).  Stopping or pausing the bridge while frozen aborts its clients.
        """
        self._connections.freeze()

    def thaw(self) -> None:
        """Resume a frozen bridge: what the sockets hold is handled now, however old."""
        self._connections.thaw()

    @property
    def frozen(self) -> bool:
        return self._connections.frozen

    def silence_topics(self) -> None:
        """Topics go quiet, as after a ROS 1 master restart: no telemetry reaches any client
        and clients' publishes reach nobody; the websocket and service calls keep working."""
        self._ctx.bus.silent = True

    def restore_topics(self) -> None:
        self._ctx.bus.silent = False

    @property
    def topics_silent(self) -> bool:
        return self._ctx.bus.silent

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
        return self._connections.clients

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
        bus, message = self._ctx.bus, self._graph.sources[topic]
        while True:
            if bus.has_subscribers(topic):
                bus.publish(topic, message())
            due += period
            now = self.clock.now()
            if due < now - period:  # fell far behind (e.g. loop blocked): skip ahead
                due = now
            await self.clock.sleep(due - now)
