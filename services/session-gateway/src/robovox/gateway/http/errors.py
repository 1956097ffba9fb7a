"""Errors of the gateway's HTTP API: ``{"error": {"code": ..., "message": ...}}`` with the matching status,
and the checks every route family (operator API, client endpoints) raises them from."""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from fastapi.responses import JSONResponse

from robovox.gateway.errors import ApiError, ApiErrorCode


def error_response(
    error: ApiError, status: int | None = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error.http_body(), status_code=status or error.status, headers=headers)


RobotT = TypeVar("RobotT")


def token_matches(given: str, token: str) -> bool:
    """A bearer value against the operator's token, in constant time."""
    return hmac.compare_digest(given.encode(), token.encode())


def robot_or_404(robots: Mapping[str, RobotT], robot_id: str) -> RobotT:
    found = robots.get(robot_id)
    if found is None:
        raise ApiError(ApiErrorCode.UNKNOWN_ROBOT, f"no robot {robot_id!r} on this gateway")
    return found


def validation_problems(errors: Iterable[Mapping[str, Any]]) -> str:
    """Pydantic's errors on one line, ``field.path: message; ...`` (FastAPI's ``body`` prefix left out)."""
    return "; ".join(f"{'.'.join(str(p) for p in err['loc'] if p != 'body') or 'body'}: {err['msg']}" for err in errors)
