"""The HTTP side: ``client_secrets``, ``calls`` and ``hangup``, under ``/v1`` and Azure's ``/openai/v1``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile

from .config import default_session, merged, validate_session
from .errors import RealtimeApiError, api_error_from

if TYPE_CHECKING:
    from .server import RealtimeEmulator

PREFIXES = ("/v1", "/openai/v1")


class ExpiresAfter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    anchor: Literal["created_at"] = "created_at"
    seconds: int = Field(600, ge=10, le=7200)


class ClientSecretRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expires_after: ExpiresAfter = Field(default_factory=ExpiresAfter)
    session: dict[str, Any] = Field(default_factory=lambda: {"type": "realtime"})


def _unauthorized(message: str) -> RealtimeApiError:
    return RealtimeApiError(message, "invalid_api_key", status=401)


def _mask(key: str) -> str:
    return f"{key[:3]}{'*' * max(0, len(key) - 7)}{key[-4:]}" if len(key) > 8 else "***"


def _presented_key(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    key = request.headers.get("api-key", "").strip()
    if not key:
        raise _unauthorized(
            "You didn't provide an API key. You need to provide your API key in an Authorization header "
            "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
        )
    return key


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        raise RealtimeApiError("We could not parse the JSON body of your request.", "invalid_json") from None


async def _part(form: Any, name: str) -> str | None:
    value = form.get(name)
    if isinstance(value, UploadFile):
        return (await value.read()).decode()
    return value if isinstance(value, str) else None


def build_app(emulator: RealtimeEmulator) -> FastAPI:
    app = FastAPI(title="Realtime API emulator", openapi_url=None, docs_url=None, redoc_url=None)

    @app.exception_handler(RealtimeApiError)
    async def api_error(request: Request, exc: RealtimeApiError) -> JSONResponse:
        return JSONResponse({"error": exc.body()}, status_code=exc.status)

    def authenticate(request: Request, *, ephemeral: bool) -> dict[str, Any] | None:
        """None for the API key; the session config an ephemeral key was minted with."""
        carried = frozenset(name for name in ("authorization", "api-key") if name in request.headers)
        emulator.credentials_seen.append((request.url.path, carried))
        key = _presented_key(request)
        if key == emulator.api_key:
            return None
        secret = emulator.client_secrets.get(key) if ephemeral else None
        if secret is None:
            raise _unauthorized(
                f"Incorrect API key provided: {_mask(key)}. "
                "You can find your API key at https://platform.openai.com/account/api-keys."
            )
        if secret.expired:
            raise _unauthorized(f"The ephemeral key {_mask(key)} has expired.")
        return secret.session

    async def client_secrets(request: Request) -> JSONResponse:
        authenticate(request, ephemeral=False)
        try:
            body = ClientSecretRequest.model_validate(await _json_body(request))
        except ValidationError as exc:
            raise api_error_from(exc) from None
        session = merged(default_session(), validate_session(body.session))
        return JSONResponse(emulator.issue_client_secret(session, body.expires_after.seconds))

    async def calls(request: Request) -> Response:
        base = authenticate(request, ephemeral=True) or default_session()
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("multipart/form-data"):
            try:
                form = await request.form()
            except Exception as exc:
                raise RealtimeApiError(f"Invalid multipart body: {exc}", "invalid_request") from None
            sdp, raw_session = await _part(form, "sdp"), await _part(form, "session")
            if sdp is None:
                raise RealtimeApiError("Missing required parameter: 'sdp'.", "missing_required_parameter", "sdp")
            if raw_session is not None:
                try:
                    base = merged(base, validate_session(json.loads(raw_session)))
                except ValueError:
                    raise RealtimeApiError("Invalid JSON in 'session'.", "invalid_json", "session") from None
        elif content_type.startswith("application/sdp"):
            sdp = (await request.body()).decode(errors="replace")
        else:
            raise RealtimeApiError(
                f"Unsupported Content-Type {content_type!r}: use multipart/form-data or application/sdp.",
                "unsupported_content_type",
            )
        if not sdp.lstrip().startswith("v=0"):
            raise RealtimeApiError("Invalid SDP offer: it must start with 'v=0'.", "invalid_offer", "sdp")
        session, answer = await emulator.create_call(sdp, base)
        prefix = request.url.path.removesuffix("/realtime/calls")
        location = f"{prefix}/realtime/calls/{session.call_id}"
        return Response(answer, status_code=201, media_type="application/sdp", headers={"Location": location})

    async def hangup(request: Request, call_id: str) -> Response:
        authenticate(request, ephemeral=True)
        session = emulator.session_for_call(call_id)
        if session is None:
            raise RealtimeApiError(f"Call '{call_id}' not found.", "call_not_found", "call_id", status=404)
        await session.close()
        return Response(status_code=200)

    for prefix in PREFIXES:
        app.add_api_route(f"{prefix}/realtime/client_secrets", client_secrets, methods=["POST"])
        app.add_api_route(f"{prefix}/realtime/calls", calls, methods=["POST"])
        app.add_api_route(f"{prefix}/realtime/calls/{{call_id}}/hangup", hangup, methods=["POST"])
    return app
