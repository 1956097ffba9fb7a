"""What the routes take, as FastAPI dependencies: each reads what ``create_app`` put in
``app.state`` (the robots, the settings, the client secrets, the client calls, the
process figures), or checks the caller's bearer token.

They are all ``async``: FastAPI runs a plain function in its thread pool, and the
hop would come between a request and, say, the hang-up of a call whose client is
closing it at that moment."""

# No ``from __future__ import annotations``: FastAPI reads the annotations of the dependencies.
import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from robovox.gateway.clients.registry import ClientCalls
from robovox.gateway.clients.secrets import ClientSecretStore, SecretGrant
from robovox.gateway.errors import ApiError, ApiErrorCode
from robovox.gateway.http.errors import token_matches
from robovox.gateway.robot.voice import RobotVoice
from robovox.gateway.settings import GatewaySettings
from robovox.shared.loop_lag import LoopLagMonitor, RecentSamples


def _from_state(name: str) -> Callable[[Request], Awaitable[Any]]:
    """A dependency reading ``app.state.<name>``, as ``create_app`` set it."""

    async def read(request: Request) -> Any:
        return getattr(request.app.state, name)

    return read


async def _events_dropped(request: Request) -> int:
    dropped: Callable[[], int] = request.app.state.events_dropped
    return dropped()


Robots = Annotated[Mapping[str, RobotVoice], Depends(_from_state("robots"))]
Settings = Annotated[GatewaySettings, Depends(_from_state("settings"))]
Secrets = Annotated[ClientSecretStore, Depends(_from_state("secrets"))]
OpenClientCalls = Annotated[ClientCalls, Depends(_from_state("client_calls"))]
LoopLag = Annotated[LoopLagMonitor, Depends(_from_state("loop_lag"))]
DispatchTimes = Annotated[RecentSamples, Depends(_from_state("dispatch_ms"))]
EventsDropped = Annotated[int, Depends(_events_dropped)]
Ready = Annotated[asyncio.Event, Depends(_from_state("ready"))]
"""Set once the gateway is ready (``RobotService.ready``)."""


def robot_or_404(robots: Mapping[str, RobotVoice], robot_id: str) -> RobotVoice:
    found = robots.get(robot_id)
    if found is None:
        raise ApiError(ApiErrorCode.UNKNOWN_ROBOT, f"no robot {robot_id!r} on this gateway")
    return found


async def _robot(robots: Robots, robot_id: str) -> RobotVoice:
    return robot_or_404(robots, robot_id)


Robot = Annotated[RobotVoice, Depends(_robot)]
"""The robot the path names (``{robot_id}``), or 404."""


def robot_named(robots: Mapping[str, RobotVoice], robot_id: str | None) -> RobotVoice:
    """The robot a client endpoint names (query or body), or 400 / 404."""
    if not robot_id:
        message = 'name the robot: ?robot_id=<robot> or "robot_id" in the body'
        raise ApiError(ApiErrorCode.ROBOT_ID_REQUIRED, message, "robot_id")
    return robot_or_404(robots, robot_id)


_bearer_scheme = HTTPBearer(auto_error=False)


async def _operator(
    settings: Settings, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)]
) -> None:
    given = credentials.credentials if credentials else ""
    if not token_matches(given, settings.api_token.get_secret_value()):
        raise ApiError(ApiErrorCode.UNAUTHORIZED, "a valid bearer token is required")


OperatorOnly = Depends(_operator)
"""For ``dependencies=[...]``: the operator's token (``ROBOVOX_API_TOKEN``) is required."""


async def _bearer_value(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiError(ApiErrorCode.UNAUTHORIZED, "Authorization: Bearer <client secret> is required")
    return value.strip()


class Credential:
    """The bearer value of a client endpoint: the operator's token or a client secret."""

    def __init__(self, value: str, settings: GatewaySettings, store: ClientSecretStore) -> None:
        self.value = value
        self._settings = settings
        self._store = store

    @property
    def is_operator(self) -> bool:
        return token_matches(self.value, self._settings.api_token.get_secret_value())

    async def grant(self, robot_id: str | None) -> SecretGrant:
        """The grant of a live client secret, refused when it names another robot than ``robot_id``."""
        grant = await self._store.check(self.value)
        if grant is None:
            raise ApiError(ApiErrorCode.INVALID_CLIENT_SECRET, "the client secret is unknown or has expired")
        if robot_id and robot_id != grant.robot_id:
            raise ApiError(ApiErrorCode.SECRET_ROBOT_MISMATCH, "this client secret was issued for another robot")
        return grant


async def _credential(value: Annotated[str, Depends(_bearer_value)], settings: Settings, store: Secrets) -> Credential:
    return Credential(value, settings, store)


Bearer = Annotated[Credential, Depends(_credential)]
"""``Authorization: Bearer <value>`` of a client endpoint, or 401."""
