"""``/v1/realtime/calls``: a client joins a robot over WebRTC, as with OpenAI's own
endpoint (``docs/console.md``).

- ``POST /v1/realtime/calls``: the client's SDP offer, raw with ``Bearer <secret>``
  (or the operator's token and ``?robot_id=``), or multipart; 201 with the answer
  and ``Location``;
- ``POST /v1/realtime/calls/{call_id}/hangup``.
"""

# No ``from __future__ import annotations``: FastAPI reads the route annotations.
import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.datastructures import UploadFile

from robovox.gateway.clients.connection import ClientConnection, OfferError
from robovox.gateway.clients.roster import RosterFullError
from robovox.gateway.clients.secrets import SecretGrant
from robovox.gateway.errors import ApiError, ApiErrorCode
from robovox.gateway.http.deps import Bearer, OpenClientCalls, Robots, Settings, robot_named

MAX_OFFER_BYTES = 64 * 1024

router = APIRouter(prefix="/v1/realtime/calls")


class HangupOut(BaseModel):
    call_id: str
    status: Literal["hung_up", "ended"]
    """``ended``: the call had already ended (its peer connection closed before the hang-up came)."""


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
        message = "send the offer as application/sdp or multipart/form-data"
        raise ApiError(ApiErrorCode.UNSUPPORTED_MEDIA_TYPE, message)
    if not sdp.lstrip().startswith("v=0"):
        raise ApiError(ApiErrorCode.INVALID_OFFER, "the body is not an SDP offer (it must start with v=0)")
    return sdp


@router.post("", status_code=201, response_class=Response)
async def create_call(
    request: Request,
    bearer: Bearer,
    robots: Robots,
    settings: Settings,
    calls: OpenClientCalls,
    robot_id: Annotated[str | None, Query()] = None,
) -> Response:
    if bearer.is_operator:  # the operator acting directly on the named robot
        grant = SecretGrant(robot_id=robot_named(robots, robot_id).robot_id, operator="operator", expires_at=0)
    else:
        grant = await bearer.grant(robot_id)
    sdp = await _offer_sdp(request)
    robot = robot_named(robots, grant.robot_id)
    connection = ClientConnection(robot, grant.operator, settings.ice_servers, settings.client_peer_timeout_s)
    try:
        robot.clients.add(connection)
    except RosterFullError as exc:
        raise ApiError(ApiErrorCode.TOO_MANY_CLIENTS, str(exc)) from None
    try:
        async with asyncio.timeout(settings.connect_timeout_s):
            answer = await connection.answer(sdp)
    except OfferError as exc:
        await connection.close()
        raise ApiError(ApiErrorCode.INVALID_OFFER, str(exc)) from None
    except TimeoutError:
        await connection.close()
        raise ApiError(ApiErrorCode.ANSWER_TIMEOUT, "the gateway could not answer the offer in time") from None
    calls.add(connection)
    if not robot.wanted:
        robot.start()
    location = f"/v1/realtime/calls/{connection.client_call_id}"
    return Response(answer, status_code=201, media_type="application/sdp", headers={"Location": location})


@router.post("/{call_id}/hangup")
async def hang_up(call_id: str, bearer: Bearer, calls: OpenClientCalls) -> HangupOut:
    """``call_id`` is the client call's id (OpenAI's name for it in this contract)."""
    connection = calls.get(call_id)
    ended = calls.ended_robot(call_id) if connection is None else None
    if not bearer.is_operator:
        await bearer.grant(connection.robot_id if connection else ended)
    if connection is None and ended is not None:
        return HangupOut(call_id=call_id, status="ended")  # its peer connection closed first
    if connection is None:
        raise ApiError(ApiErrorCode.UNKNOWN_CALL, f"no call {call_id!r} on this gateway")
    await connection.close()
    return HangupOut(call_id=call_id, status="hung_up")
