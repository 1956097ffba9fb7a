"""The gateway's client-facing signaling, OpenAI's own contract (see ``docs/console.md``):

- ``POST /v1/realtime/client_secrets``: the operator's token buys a short-lived
  secret bound to one robot;
- ``POST /v1/realtime/calls``: the client's SDP offer, raw with ``Bearer <secret>``
  or multipart; 201 with the answer and ``Location``;
- ``POST /v1/realtime/calls/{call_id}/hangup``;
- ``/console/``: the operator console, static files.
"""

# No ``from __future__ import annotations``: FastAPI reads the route annotations.
import asyncio
from collections.abc import Mapping
from importlib import resources
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, ValidationError
from starlette.datastructures import UploadFile

from robovox.gateway.clients.connection import ClientLink, OfferError
from robovox.gateway.clients.roster import RosterFullError
from robovox.gateway.clients.secrets import ClientSecretStore, SecretGrant
from robovox.gateway.errors import ApiError, ApiErrorCode
from robovox.gateway.http.errors import robot_or_404, token_matches, validation_problems
from robovox.gateway.realtime.session_config import session_config
from robovox.gateway.robot.voice import RobotVoice
from robovox.gateway.settings import GatewaySettings

MAX_OFFER_BYTES = 64 * 1024


class ExpiresAfter(BaseModel):
    anchor: Literal["created_at"] = "created_at"
    seconds: int = Field(ge=1, le=7200)


class ClientSecretIn(BaseModel):
    robot_id: str | None = None
    operator: str = Field(default="operator", min_length=1, max_length=40, pattern=r"^[^\x00-\x1f]+$")
    expires_after: ExpiresAfter | None = None
    session: dict[str, Any] | None = None
    """Accepted for compatibility and ignored: the robot's profile decides its session."""


class ClientSecretOut(BaseModel):
    value: str
    expires_at: int
    robot_id: str
    session: dict[str, Any]


class HangupOut(BaseModel):
    call_id: str
    status: Literal["hung_up"]


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiError(ApiErrorCode.UNAUTHORIZED, "Authorization: Bearer <client secret> is required")
    return value.strip()


async def _offer_sdp(request: Request) -> str:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/sdp":
        body = await request.body()
        if len(body) > MAX_OFFER_BYTES:
            raise ApiError(ApiErrorCode.OFFER_TOO_LARGE, f"an SDP offer is at most {MAX_OFFER_BYTES} bytes")
        sdp = body.decode(errors="replace")
    elif content_type == "multipart/form-data":
        form = await request.form(max_part_size=MAX_OFFER_BYTES)
        part = form.get("sdp")
        sdp = (await part.read()).decode(errors="replace") if isinstance(part, UploadFile) else str(part or "")
    else:
        raise ApiError(ApiErrorCode.UNSUPPORTED_MEDIA_TYPE, "send the offer as application/sdp or multipart/form-data")
    if not sdp.lstrip().startswith("v=0"):
        raise ApiError(ApiErrorCode.INVALID_OFFER, "the body is not an SDP offer (it must start with v=0)")
    return sdp


def client_routes(robots: Mapping[str, RobotVoice], store: ClientSecretStore, settings: GatewaySettings) -> APIRouter:
    router = APIRouter()
    token = settings.api_token.get_secret_value()
    links: dict[str, ClientLink] = {}

    def is_operator(value: str) -> bool:
        return token_matches(value, token)

    def robot_named(robot_id: str | None) -> RobotVoice:
        if not robot_id:
            raise ApiError(
                ApiErrorCode.ROBOT_ID_REQUIRED, 'name the robot: ?robot_id=<robot> or "robot_id" in the body'
            )
        return robot_or_404(robots, robot_id)

    async def secret_grant(value: str, robot_id: str | None) -> SecretGrant:
        """The grant of a live client secret, refused when it names another robot than ``robot_id``."""
        grant = await store.check(value)
        if grant is None:
            raise ApiError(ApiErrorCode.INVALID_CLIENT_SECRET, "the client secret is unknown or has expired")
        if robot_id and robot_id != grant.robot_id:
            raise ApiError(ApiErrorCode.SECRET_ROBOT_MISMATCH, "this client secret was issued for another robot")
        return grant

    async def grant_for(request: Request, robot_id: str | None) -> SecretGrant:
        """The secret's grant, or the operator acting directly on the named robot."""
        value = _bearer(request)
        if is_operator(value):
            return SecretGrant(robot_id=robot_named(robot_id).robot_id, operator="operator", expires_at=0)
        return await secret_grant(value, robot_id)

    @router.post("/v1/realtime/client_secrets")
    async def create_client_secret(
        request: Request, robot_id: Annotated[str | None, Query()] = None
    ) -> ClientSecretOut:
        if not is_operator(_bearer(request)):
            raise ApiError(ApiErrorCode.UNAUTHORIZED, "a valid operator token is required")
        raw = await request.body()
        try:
            body = ClientSecretIn.model_validate_json(raw) if raw.strip() else ClientSecretIn()
        except ValidationError as exc:
            raise ApiError(ApiErrorCode.INVALID_REQUEST, validation_problems(exc.errors())) from None
        if robot_id and body.robot_id and robot_id != body.robot_id:
            raise ApiError(ApiErrorCode.ROBOT_ID_CONFLICT, "the query and the body name different robots")
        robot = robot_named(robot_id or body.robot_id)
        ttl = body.expires_after.seconds if body.expires_after else settings.client_secret_ttl_s
        value, grant = await store.issue(robot.robot_id, body.operator, ttl)
        return ClientSecretOut(
            value=value,
            expires_at=int(grant.expires_at),
            robot_id=grant.robot_id,
            session=session_config(robot.profile, settings),
        )

    @router.post("/v1/realtime/calls", status_code=201, response_class=Response)
    async def create_call(request: Request, robot_id: Annotated[str | None, Query()] = None) -> Response:
        grant = await grant_for(request, robot_id)
        sdp = await _offer_sdp(request)
        robot = robot_named(grant.robot_id)
        link = ClientLink(robot, grant.operator, settings.stun_urls)
        try:
            robot.clients.add(link)
        except RosterFullError as exc:
            raise ApiError(ApiErrorCode.TOO_MANY_CLIENTS, str(exc)) from None
        try:
            async with asyncio.timeout(settings.connect_timeout_s):
                answer = await link.answer(sdp)
        except OfferError as exc:
            await link.close()
            raise ApiError(ApiErrorCode.INVALID_OFFER, str(exc)) from None
        except TimeoutError:
            await link.close()
            raise ApiError(ApiErrorCode.ANSWER_TIMEOUT, "the gateway could not answer the offer in time") from None
        links[link.call_id] = link
        _forget_when_closed(links, link, settings.connect_timeout_s)
        if not robot.wanted:
            robot.start()
        location = f"/v1/realtime/calls/{link.call_id}"
        return Response(answer, status_code=201, media_type="application/sdp", headers={"Location": location})

    @router.post("/v1/realtime/calls/{call_id}/hangup")
    async def hang_up(call_id: str, request: Request) -> HangupOut:
        link = links.get(call_id)
        value = _bearer(request)
        if not is_operator(value):
            await secret_grant(value, link.robot_id if link else None)
        if link is None:
            raise ApiError(ApiErrorCode.UNKNOWN_CALL, f"no call {call_id!r} on this gateway")
        await link.close()
        return HangupOut(call_id=call_id, status="hung_up")

    return router


def _forget_when_closed(links: dict[str, ClientLink], link: ClientLink, join_timeout_s: float) -> None:
    """Drop the call when the link closes; close a link whose client never opened its channel
    (it would hold a place among the robot's clients for ever)."""

    async def watch() -> None:
        try:
            await asyncio.wait_for(link.joined.wait(), join_timeout_s)
        except TimeoutError:
            await link.close()
        await link.closed.wait()
        links.pop(link.call_id, None)

    task = asyncio.ensure_future(watch())
    _pending.add(task)
    task.add_done_callback(_pending.discard)


_pending: set[asyncio.Future[None]] = set()


def mount_console(app: FastAPI) -> None:
    """Serve the console's static files at ``/console/``; ``/`` leads there."""
    folder = resources.files("robovox.gateway") / "console"
    if not folder.is_dir():
        return
    app.mount("/console", StaticFiles(directory=str(folder), html=True), name="console")

    @app.get("/", include_in_schema=False)
    async def _root() -> RedirectResponse:
        return RedirectResponse("/console/")
