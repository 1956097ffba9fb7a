"""An ApiError as the HTTP API answers it, OpenAI's ``{"error": {"message", "type", "param", "code"}}``
with the code's status; the operator token check; pydantic's errors on one line, and the parameter
they are about."""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi.responses import JSONResponse

from robovox.gateway.errors import ApiError


def error_response(
    error: ApiError, status: int | None = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error.http_body(), status_code=status or error.status, headers=headers)


def token_matches(given: str, token: str) -> bool:
    """A bearer value against the operator's token, in constant time."""
    return hmac.compare_digest(given.encode(), token.encode())


def validation_problems(errors: Iterable[Mapping[str, Any]]) -> str:
    """Pydantic's errors on one line, ``field.path: message; ...`` (FastAPI's ``body`` prefix left out)."""
    return "; ".join(f"{'.'.join(str(p) for p in err['loc'] if p != 'body') or 'body'}: {err['msg']}" for err in errors)


def first_param(errors: Iterable[Mapping[str, Any]]) -> str | None:
    """The parameter the first of pydantic's errors is about (``expires_after.seconds``), if any."""
    for err in errors:
        path = ".".join(str(p) for p in err["loc"] if p not in ("body", "query", "path", "header"))
        return path or None
    return None
