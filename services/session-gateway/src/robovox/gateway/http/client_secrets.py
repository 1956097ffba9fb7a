"""``POST /v1/realtime/client_secrets``: the operator's token buys a short-lived secret
bound to one robot, as OpenAI's own endpoint (``docs/console.md``)."""

# No ``from __future__ import annotations``: FastAPI reads the route annotations.
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field, ValidationError

from robovox.gateway.errors import ApiError, ApiErrorCode
from robovox.gateway.http.deps import Bearer, Robots, Secrets, Settings, robot_named
from robovox.gateway.http.errors import first_param, validation_problems
from robovox.gateway.realtime.session_config import session_config

router = APIRouter()

MIN_TTL_S = 10
MAX_TTL_S = 7200
"""``expires_after.seconds`` bounds, as OpenAI's."""


class ExpiresAfter(BaseModel):
    anchor: Literal["created_at"] = "created_at"
    seconds: int = Field(ge=MIN_TTL_S, le=MAX_TTL_S)


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


@router.post("/v1/realtime/client_secrets")
async def create_client_secret(
    request: Request,
    bearer: Bearer,
    robots: Robots,
    settings: Settings,
    store: Secrets,
    robot_id: Annotated[str | None, Query()] = None,
) -> ClientSecretOut:
    if not bearer.is_operator:
        raise ApiError(ApiErrorCode.UNAUTHORIZED, "a valid operator token is required")
    raw = await request.body()
    try:
        body = ClientSecretIn.model_validate_json(raw) if raw.strip() else ClientSecretIn()
    except ValidationError as exc:
        errors = exc.errors()
        # As OpenAI: 400, naming the parameter (``expires_after.seconds`` out of 10..7200).
        raise ApiError(ApiErrorCode.INVALID_VALUE, validation_problems(errors), first_param(errors)) from None
    if robot_id and body.robot_id and robot_id != body.robot_id:
        raise ApiError(ApiErrorCode.ROBOT_ID_CONFLICT, "the query and the body name different robots", "robot_id")
    robot = robot_named(robots, robot_id or body.robot_id)
    ttl = body.expires_after.seconds if body.expires_after else settings.client_secret_ttl_s
    value, grant = await store.issue(robot.robot_id, body.operator, ttl)
    return ClientSecretOut(
        value=value,
        expires_at=int(grant.expires_at),
        robot_id=grant.robot_id,
        session=session_config(robot.profile, settings),
    )
