"""The gateway's HTTP API: robots and their sessions, session control, text chat.

Every route but ``/health`` needs ``Authorization: Bearer <ROBOVOX_API_TOKEN>``.
Errors are ``{"error": {"code": ..., "message": ...}}`` with the matching status.
Text sent to a robot goes through its inbox stream like every other thing the
model is told, so it is ordered with results and alerts and can be inspected.
"""

# No ``from __future__ import annotations`` here: FastAPI must see the route
# annotations as objects, and the dependencies are local to ``create_api``.
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from redis.asyncio import Redis
from starlette.exceptions import HTTPException

from robovox.gateway.clients.secrets import ClientSecretStore
from robovox.gateway.errors import ApiError, ApiErrorCode
from robovox.gateway.http.errors import error_response, robot_or_404, token_matches, validation_problems
from robovox.gateway.http.realtime_calls import client_routes, mount_console
from robovox.gateway.robot.voice import RobotVoice
from robovox.gateway.settings import GatewaySettings
from robovox.shared.loop_lag import LoopLagMonitor, RecentSamples
from robovox.shared.messages import InboxEntry, InboxKind
from robovox.shared.session import SessionState


class RateLimitOut(BaseModel):
    name: str
    limit: int | None
    remaining: int | None
    reset_seconds: float | None


class RobotOut(BaseModel):
    robot_id: str
    display_name: str
    state: SessionState
    since: datetime
    session_id: str | None
    provider_call_id: str | None
    conversation_id: str | None
    started_at: datetime | None
    recycle_at: datetime | None
    sessions_opened: int
    rate_limits: list[RateLimitOut]
    rate_limits_at: datetime | None
    last_error: str | None


class RestartIn(BaseModel):
    fresh: bool = False
    """Start a new conversation instead of continuing the current one."""


class MessageIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)
    speak: bool = True
    """Ask the robot to answer (as in the prototype's text chat)."""


class MessageOut(BaseModel):
    robot_id: str
    inbox_entry_id: str
    state: SessionState


class Health(BaseModel):
    status: str
    robots: int
    live: int


class Stats(BaseModel):
    robots: int
    live: int
    loop_lag_p50_ms: float
    loop_lag_p99_ms: float
    loop_lag_max_ms: float
    loop_lag_samples: int
    dispatch_p50_ms: float
    dispatch_p99_ms: float
    dispatch_samples: int
    """Function calls timed from their arrival on the data channel to their entry in Redis."""
    events_dropped: int


def robot_out(robot: RobotVoice) -> RobotOut:
    info = robot.info()
    return RobotOut(
        robot_id=info.robot_id,
        display_name=robot.display_name,
        state=info.state,
        since=info.since,
        session_id=info.session_id,
        provider_call_id=info.provider_call_id,
        conversation_id=info.conversation_id,
        started_at=info.started_at,
        recycle_at=info.recycle_at,
        sessions_opened=info.sessions_opened,
        rate_limits=[RateLimitOut(**limit.model_dump()) for limit in robot.rate_limits],
        rate_limits_at=info.rate_limits_at,
        last_error=info.last_error,
    )


def create_api(
    robots: Mapping[str, RobotVoice],
    redis: Redis,
    settings: GatewaySettings,
    loop_lag: LoopLagMonitor,
    dispatch_ms: RecentSamples,
    events_dropped: Callable[[], int],
) -> FastAPI:
    app = FastAPI(title="RoboVox session gateway", version="0.1.0")
    token = settings.api_token.get_secret_value()
    bearer = HTTPBearer(auto_error=False)

    def authorized(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> None:
        given = credentials.credentials if credentials else ""
        if not token_matches(given, token):
            raise ApiError(ApiErrorCode.UNAUTHORIZED, "a valid bearer token is required")

    def robot(robot_id: str) -> RobotVoice:
        return robot_or_404(robots, robot_id)

    Auth = Depends(authorized)
    Robot = Annotated[RobotVoice, Depends(robot)]

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return error_response(exc, headers=headers)

    @app.exception_handler(HTTPException)
    async def _httperror_response(_request: Request, exc: HTTPException) -> JSONResponse:
        return error_response(ApiError(ApiErrorCode.HTTP_ERROR, str(exc.detail)), exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(ApiError(ApiErrorCode.INVALID_REQUEST, validation_problems(exc.errors())))

    @app.get("/health")
    async def health() -> Health:
        live = sum(1 for r in robots.values() if r.state is SessionState.LIVE)
        return Health(status="ok", robots=len(robots), live=live)

    @app.get("/v1/stats", dependencies=[Auth])
    async def stats(reset: bool = False) -> Stats:
        """Process figures; ``reset=true`` starts new windows after reading these."""
        result = Stats(
            robots=len(robots),
            live=sum(1 for r in robots.values() if r.state is SessionState.LIVE),
            loop_lag_p50_ms=loop_lag.percentile(0.5),
            loop_lag_p99_ms=loop_lag.percentile(0.99),
            loop_lag_max_ms=loop_lag.percentile(1.0),
            loop_lag_samples=loop_lag.count,
            dispatch_p50_ms=dispatch_ms.percentile(0.5),
            dispatch_p99_ms=dispatch_ms.percentile(0.99),
            dispatch_samples=dispatch_ms.count,
            events_dropped=events_dropped(),
        )
        if reset:
            loop_lag.reset()
            dispatch_ms.reset()
        return result

    @app.get("/v1/robots", dependencies=[Auth])
    async def list_robots() -> list[RobotOut]:
        return [robot_out(r) for _, r in sorted(robots.items())]

    @app.get("/v1/robots/{robot_id}", dependencies=[Auth])
    async def get_robot(found: Robot) -> RobotOut:
        return robot_out(found)

    @app.post("/v1/robots/{robot_id}/session/start", status_code=202, dependencies=[Auth])
    async def start_session(found: Robot) -> RobotOut:
        found.start()
        return robot_out(found)

    @app.post("/v1/robots/{robot_id}/session/stop", status_code=202, dependencies=[Auth])
    async def stop_session(found: Robot) -> RobotOut:
        found.stop()
        return robot_out(found)

    @app.post("/v1/robots/{robot_id}/session/restart", status_code=202, dependencies=[Auth])
    async def restart_session(found: Robot, body: RestartIn | None = None) -> RobotOut:
        found.restart(fresh=body.fresh if body else False)
        return robot_out(found)

    @app.post("/v1/robots/{robot_id}/messages", status_code=202, dependencies=[Auth])
    async def send_message(found: Robot, body: MessageIn) -> MessageOut:
        if found.state is SessionState.STOPPED:
            raise ApiError(ApiErrorCode.SESSION_STOPPED, "the robot's session is stopped; start it first")
        entry = InboxEntry(
            kind=InboxKind.USER_MESSAGE,
            robot_id=found.robot_id,
            text=body.text,
            speak=body.speak,
            source="operator:api",
        )
        entry_id = await found.enqueue(entry)
        return MessageOut(robot_id=found.robot_id, inbox_entry_id=entry_id, state=found.state)

    app.include_router(client_routes(robots, ClientSecretStore(redis), settings))
    mount_console(app)
    return app
