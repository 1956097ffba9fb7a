"""The session gateway's errors: every one derives from ``GatewayError``.

``ApiError`` is what a client is told when the gateway refuses it, in OpenAI's
shapes: over HTTP as ``{"error": {"message", "type", "param", "code"}}`` with the
code's status, or on a client's ``oai-events`` channel as an ``error`` event
(``{"type": "error", "event_id", "error": {"type", "code", "message", "param",
"event_id"}}``) naming the refused event.
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from typing import Any

from robovox.shared.errors import RoboVoxError


class GatewayError(RoboVoxError):
    """Base of every session gateway error."""


class ApiErrorCode(StrEnum):
    """``error.code`` as clients see it (the HTTP API, the client endpoints, the data channel)."""

    # HTTP
    UNAUTHORIZED = "unauthorized"
    UNKNOWN_ROBOT = "unknown_robot"
    SESSION_STOPPED = "session_stopped"
    INVALID_REQUEST = "invalid_request"
    INVALID_VALUE = "invalid_value"
    ROBOT_ID_REQUIRED = "robot_id_required"
    ROBOT_ID_CONFLICT = "robot_id_conflict"
    INVALID_CLIENT_SECRET = "invalid_client_secret"
    SECRET_ROBOT_MISMATCH = "secret_robot_mismatch"
    TOO_MANY_CLIENTS = "too_many_clients"
    OFFER_TOO_LARGE = "offer_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    INVALID_OFFER = "invalid_offer"
    ANSWER_TIMEOUT = "answer_timeout"
    UNKNOWN_CALL = "unknown_call"
    HTTP_ERROR = "http_error"
    # Client events on the data channel
    INVALID_JSON = "invalid_json"
    INVALID_EVENT = "invalid_event"
    INVALID_ITEM = "invalid_item"
    NOT_ALLOWED_FOR_CLIENTS = "not_allowed_for_clients"
    NOT_MIC_HOLDER = "not_mic_holder"
    SESSION_NOT_LIVE = "session_not_live"
    MIC_HELD = "mic_held"
    UNKNOWN_PARAMETER = "unknown_parameter"
    UNSUPPORTED_PARAMETER = "unsupported_parameter"
    SERVER_ERROR = "server_error"


HTTP_STATUS: dict[ApiErrorCode, int] = {
    ApiErrorCode.UNAUTHORIZED: 401,
    ApiErrorCode.UNKNOWN_ROBOT: 404,
    ApiErrorCode.SESSION_STOPPED: 409,
    ApiErrorCode.INVALID_REQUEST: 422,
    ApiErrorCode.INVALID_VALUE: 400,
    ApiErrorCode.ROBOT_ID_REQUIRED: 400,
    ApiErrorCode.ROBOT_ID_CONFLICT: 400,
    ApiErrorCode.INVALID_CLIENT_SECRET: 401,
    ApiErrorCode.SECRET_ROBOT_MISMATCH: 403,
    ApiErrorCode.TOO_MANY_CLIENTS: 429,
    ApiErrorCode.OFFER_TOO_LARGE: 413,
    ApiErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ApiErrorCode.INVALID_OFFER: 400,
    ApiErrorCode.ANSWER_TIMEOUT: 504,
    ApiErrorCode.UNKNOWN_CALL: 404,
}
"""The HTTP status of each code a route raises (a data-channel error has none: 400 stands in)."""


def new_error_event_id() -> str:
    """The top-level ``event_id`` of an ``error`` event the gateway sends (OpenAI's ``event_...`` form)."""
    return f"event_rv{secrets.token_hex(10)}"


class ApiError(GatewayError):
    """A client's request refused, with the code and message it is told, and the parameter at fault."""

    def __init__(self, code: ApiErrorCode, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param

    @property
    def status(self) -> int:
        return HTTP_STATUS.get(self.code, 400)

    @property
    def type(self) -> str:
        """OpenAI's ``error.type``: ``server_error`` for a failure of the gateway, else ``invalid_request_error``."""
        return (
            "server_error" if self.code is ApiErrorCode.SERVER_ERROR or self.status >= 500 else "invalid_request_error"
        )

    def http_body(self) -> dict[str, Any]:
        """The JSON body of the HTTP answer, as OpenAI's."""
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code.value}}

    def event(self, event_id: str | None) -> dict[str, Any]:
        """The ``error`` event a client is sent on its data channel, naming the refused event
        (it validates as ``openai.types.realtime.RealtimeErrorEvent``)."""
        error = {
            "type": self.type,
            "code": self.code.value,
            "message": self.message,
            "param": self.param,
            "event_id": event_id,
        }
        return {"type": "error", "event_id": new_error_event_id(), "error": error}
