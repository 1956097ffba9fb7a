"""The session gateway process: a RobotVoice per robot profile and the HTTP
API, in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn
from redis.asyncio import Redis

from robovox.gateway.calls.connection import DispatchConnection
from robovox.gateway.clients.registry import ClientCalls
from robovox.gateway.clients.secrets import ClientSecretStore
from robovox.gateway.http.app import create_app
from robovox.gateway.http.tls import TlsFiles, prepare_tls
from robovox.gateway.realtime.event_log import EventLog
from robovox.gateway.realtime.signaling import RealtimeSignaling
from robovox.gateway.robot.voice import RobotVoice
from robovox.gateway.robot.wiring import build_robot
from robovox.gateway.settings import GatewaySettings
from robovox.shared.call_life import PUBLISH_SCRIPT
from robovox.shared.lifecycle import RobotService
from robovox.shared.loop_lag import RecentSamples
from robovox.shared.profile import RobotProfile
from robovox.shared.redis_client import connect_blocking_redis, connect_redis
from robovox.shared.startup import StartupError
from robovox.shared.streams import Group
from robovox.shared.webrtc import restrict_ice_host_addresses

log = logging.getLogger(__name__)


class _ApiServer(uvicorn.Server):
    """Uvicorn inside the service's loop: the service owns SIGINT / SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class SessionGateway(RobotService[GatewaySettings, RobotVoice]):
    name = "session-gateway"

    def __init__(self, settings: GatewaySettings, profiles: dict[str, RobotProfile] | None = None) -> None:
        super().__init__(settings, profiles)
        self._signaling: RealtimeSignaling | None = None
        self._event_log: EventLog | None = None
        self.api_port: int | None = None
        """The port the API listens on, once it does."""
        self.api_started = asyncio.Event()
        self._api_socket: socket.socket | None = None
        self._tls: TlsFiles | None = None
        self.dispatch_ms = RecentSamples()
        self.dispatch_connection = DispatchConnection(settings.redis_address, scripts=[PUBLISH_SCRIPT])
        """Every robot's function calls go to Redis over this connection."""
        self.stop_word_redis = connect_blocking_redis(settings)
        """The stop words' listeners stop their robots over this client, from their own threads."""

    async def prepare(self) -> None:
        restrict_ice_host_addresses(self.settings.ice_host_addresses)
        self._signaling = RealtimeSignaling(self.settings)

    def _bind_api(self) -> socket.socket:
        host, port = self.settings.api_host, self.settings.api_port
        # IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY only on sockets whose ``proto`` says
        # TCP, and accepted sockets inherit it. Without it a keep-alive response (headers and body
        # written apart) waits on Nagle for the client's delayed ACK: 40 ms per API request.
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            raise StartupError(
                f"ROBOVOX_API_PORT={port}: cannot listen on {host}:{port}: {exc.strerror} "
                "(another process has it? free it, or pick another port; 0 takes a free one)"
            ) from None
        return sock

    def make_worker(self, redis: Redis, profile: RobotProfile) -> RobotVoice:
        assert self._signaling is not None
        if self._event_log is None:
            self._event_log = EventLog(redis, gives_way_to=self.dispatch_connection)
            self._event_log.start()
        return build_robot(
            profile,
            self.settings,
            redis=redis,
            stop_word_redis=self.stop_word_redis,
            signaling=self._signaling,
            event_log=self._event_log,
            consumer=self.settings.consumer_config(self.name, Group.SESSION_GATEWAY),
            dispatch=self.dispatch_connection,
            dispatch_ms=self.dispatch_ms,
        )

    async def run(self) -> None:
        if self.settings.api_enabled:
            self._tls = prepare_tls(self.settings)  # before anything starts: a bad certificate ends the start
            self._api_socket = self._bind_api()  # so does a taken port
        api = asyncio.create_task(self._serve_api()) if self.settings.api_enabled else None
        dispatch_closing = asyncio.Event()  # after the robots: a call in flight at shutdown still gets its reply
        dispatch = asyncio.create_task(self.dispatch_connection.run(dispatch_closing))
        try:
            await super().run()
        finally:
            dispatch_closing.set()
            await dispatch
            if api is not None:
                api.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await api
            if self._event_log is not None:
                await self._event_log.stop()
            if self._signaling is not None:
                await self._signaling.aclose()
            self.stop_word_redis.close()

    async def _serve_api(self) -> None:
        redis = connect_redis(self.settings)
        client_calls = ClientCalls(self.settings.connect_timeout_s)
        app = create_app(
            self.robots,
            self.settings,
            secrets=ClientSecretStore(redis),
            client_calls=client_calls,
            loop_lag=self.loop_lag,
            dispatch_ms=self.dispatch_ms,
            events_dropped=lambda: self._event_log.dropped if self._event_log else 0,
            stream_figures=self.stream_figures(redis),
            ready=self.ready,
        )
        tls = self._tls
        config = uvicorn.Config(
            app,
            host=self.settings.api_host,
            port=self.settings.api_port,
            log_level="warning",
            lifespan="off",
            ssl_certfile=tls.cert if tls else None,
            ssl_keyfile=tls.key if tls else None,
        )
        server = _ApiServer(config)
        sock = self._api_socket
        assert sock is not None, "prepare() binds the API socket"
        self.api_port = sock.getsockname()[1]
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        log.info("API on %s://%s:%d", "https" if tls else "http", self.settings.api_host, self.api_port)
        self.api_started.set()
        try:
            await serving
        finally:
            server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(serving), 5)
            sock.close()
            await client_calls.close()
            await redis.aclose()
