"""The server events the gateway acts on, parsed leniently.

The emulator holds the protocol to the ``openai`` package's strict models.
The gateway, which runs for months against a provider that keeps adding
fields and enum values, reads only the fields it needs and ignores the rest:
an unexpected value elsewhere in an event must never cost a function call.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ContentPart(_Lenient):
    type: str = ""
    text: str | None = None
    transcript: str | None = None

    @property
    def words(self) -> str:
        return self.text or self.transcript or ""


class OutputItem(_Lenient):
    type: str = ""
    id: str | None = None
    status: str | None = None
    role: str | None = None
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None
    content: list[ContentPart] = Field(default_factory=list)

    @property
    def is_completed_function_call(self) -> bool:
        return self.type == "function_call" and self.status == "completed" and bool(self.call_id and self.name)

    @property
    def text(self) -> str:
        return " ".join(part.words for part in self.content if part.words).strip()


class OutputItemDone(_Lenient):
    response_id: str | None = None
    item: OutputItem


class ResponseBody(_Lenient):
    id: str
    status: str | None = None
    output: list[OutputItem] = Field(default_factory=list)
    metadata: dict[str, Any] | None = None


class ResponseEvent(_Lenient):
    """``response.created`` and ``response.done``."""

    response: ResponseBody


class ErrorBody(_Lenient):
    type: str | None = None
    code: str | None = None
    message: str = ""
    param: str | None = None
    event_id: str | None = None


class ErrorEvent(_Lenient):
    error: ErrorBody


class RateLimit(_Lenient):
    name: str
    limit: int | None = None
    remaining: int | None = None
    reset_seconds: float | None = None


class RateLimitsUpdated(_Lenient):
    rate_limits: list[RateLimit]


class SessionBody(_Lenient):
    id: str | None = None


class SessionCreated(_Lenient):
    session: SessionBody


class TranscriptionCompleted(_Lenient):
    item_id: str | None = None
    transcript: str = ""
