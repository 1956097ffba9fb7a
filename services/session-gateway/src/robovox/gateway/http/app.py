"""The gateway's HTTP API: one FastAPI app, a router per resource.

Every route but ``/health``, ``/metrics`` and the console needs a bearer token: the operator's
(``ROBOVOX_API_TOKEN``), or on the client endpoints a client secret. Errors are
OpenAI's ``{"error": {"message", "type", "param", "code"}}`` with the matching status. What the
routes use is put in ``app.state`` here and read through ``deps.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from robovox.gateway.clients.registry import ClientCalls
from robovox.gateway.clients.secrets import ClientSecretStore
from robovox.gateway.errors import ApiError, ApiErrorCode
from robovox.gateway.http import (
    client_secrets,
    emergency,
    floor,
    health,
    ice_servers,
    inspection,
    realtime_calls,
    robots,
)
from robovox.gateway.http.console import mount_console
from robovox.gateway.http.cors import ApiCors
from robovox.gateway.http.docs import mount_docs
from robovox.gateway.http.errors import error_response, first_param, validation_problems
from robovox.gateway.robot.voice import RobotVoice
from robovox.gateway.settings import GatewaySettings
from robovox.shared.loop_lag import LoopLagMonitor, RecentSamples
from robovox.shared.metrics import StreamFigures


def create_app(
    robots_by_id: Mapping[str, RobotVoice],
    settings: GatewaySettings,
    *,
    secrets: ClientSecretStore,
    client_calls: ClientCalls,
    loop_lag: LoopLagMonitor,
    dispatch_ms: RecentSamples,
    events_dropped: Callable[[], int],
    ready: asyncio.Event,
    stream_figures: StreamFigures | None = None,
) -> FastAPI:
    app = FastAPI(title="RoboVox session gateway", version="0.1.0", docs_url=None, redoc_url=None)
    app.state.robots = robots_by_id
    app.state.settings = settings
    app.state.secrets = secrets
    app.state.client_calls = client_calls
    app.state.loop_lag = loop_lag
    app.state.dispatch_ms = dispatch_ms
    app.state.events_dropped = events_dropped
    app.state.stream_figures = stream_figures
    app.state.ready = ready
    app.add_exception_handler(ApiError, _api_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    routers = (health, robots, floor, inspection, emergency, client_secrets, realtime_calls, ice_servers)
    for router in (module.router for module in routers):
        app.include_router(router)
    mount_console(app)
    mount_docs(app)  # /docs and /redoc, their assets from a package: no CDN
    app.add_middleware(ApiCors, settings=settings)
    return app


async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return error_response(exc, headers=headers)


async def _http_error(_request: Request, exc: HTTPException) -> JSONResponse:
    return error_response(ApiError(ApiErrorCode.HTTP_ERROR, str(exc.detail)), exc.status_code)


async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    return error_response(ApiError(ApiErrorCode.INVALID_REQUEST, validation_problems(errors), first_param(errors)))
