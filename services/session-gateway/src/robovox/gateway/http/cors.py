"""CORS on the gateway's ``/v1`` API, for Realtime pages served from another origin.

Only the origins in ``ROBOVOX_CORS_ORIGINS`` are allowed (none by default); a
preflight (``OPTIONS``) is answered for every ``/v1`` route with the methods,
any request headers (``Authorization``, ``Content-Type``) and ``Location``
exposed, so a page can read the call's id after its offer. Credentials
(cookies) are off unless ``ROBOVOX_CORS_ALLOW_CREDENTIALS``: the API
authenticates with ``Authorization: Bearer``, which a page sends itself, so
``*`` is safe there and is refused with credentials (``settings.py``). The
console and ``/health`` get no CORS headers: they are same-origin only.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from robovox.gateway.settings import GatewaySettings

CORS_PREFIX = "/v1/"
PREFLIGHT_MAX_AGE_S = 600


class ApiCors:
    """Starlette's ``CORSMiddleware`` for ``/v1`` paths; every other path passes straight through."""

    def __init__(self, app: ASGIApp, settings: GatewaySettings) -> None:
        self._app = app
        self._cors = CORSMiddleware(
            app,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["*"],
            allow_credentials=settings.cors_allow_credentials,
            expose_headers=["Location"],
            max_age=PREFLIGHT_MAX_AGE_S,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(CORS_PREFIX):
            await self._cors(scope, receive, send)
        else:
            await self._app(scope, receive, send)
