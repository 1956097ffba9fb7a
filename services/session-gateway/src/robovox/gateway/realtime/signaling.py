"""Starting and ending WebRTC calls with the Realtime API (OpenAI or Azure, GA).

- ``calls``: ``POST /realtime/calls`` as multipart (the offer and the session
  config) with the API key, through the ``openai`` package.
- ``client_secret``: ``POST /realtime/client_secrets`` for an ephemeral key,
  then the raw SDP offer to ``/realtime/calls`` with that key (Azure's way).

The call id comes from the ``Location`` header. The API key stays in this
module's clients; errors name the status and the provider's message, never
the key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx2
import openai
from openai import AsyncOpenAI, Omit

from robovox.gateway.errors import GatewayError
from robovox.gateway.settings import GatewaySettings, Provider, Signaling

log = logging.getLogger(__name__)
# The openai client logs request options at DEBUG; keep it quiet whatever the service's level.
logging.getLogger("openai").setLevel(logging.WARNING)

SECRET_TTL_S = 60
"""The ephemeral key only has to last until the offer is posted."""


class SignalingError(GatewayError):
    """The provider refused or failed to start a call."""


@dataclass(frozen=True, slots=True)
class CallAnswer:
    sdp: str
    provider_call_id: str
    """``rtc_...``, from the ``Location`` header."""


def _provider_call_id(location: str | None) -> str:
    if not location:
        raise SignalingError("the provider's answer has no Location header (no provider call id)")
    return location.rstrip("/").rsplit("/", 1)[-1]


def _provider_message(body: Any, fallback: str) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message") or fallback)
    return fallback


class RealtimeSignaling:
    """One per gateway: the HTTP clients that start and end every robot's calls."""

    def __init__(self, settings: GatewaySettings) -> None:
        key = settings.openai_api_key.get_secret_value()
        if not key:
            raise ValueError("ROBOVOX_OPENAI_API_KEY is not set: the gateway cannot open Realtime sessions")
        self._signaling = settings.signaling
        self._key_headers: dict[str, str | Omit] = {}
        """Per request: Azure takes the key as ``api-key`` only (its ``Authorization: Bearer`` means an
        Entra ID token), so the client's own ``Authorization`` header is left out there."""
        if settings.realtime_provider is Provider.AZURE:
            self._key_headers = {"api-key": key, "Authorization": Omit()}
        self._client = AsyncOpenAI(api_key=key, base_url=settings.realtime_base_url, max_retries=0)
        self._http = httpx2.AsyncClient(base_url=settings.realtime_base_url.rstrip("/") + "/")
        self._timeout = settings.connect_timeout_s

    async def aclose(self) -> None:
        await self._client.close()
        await self._http.aclose()

    async def start_call(self, offer_sdp: str, session: dict[str, Any]) -> CallAnswer:
        try:
            if self._signaling is Signaling.CALLS:
                return await self._start_with_api_key(offer_sdp, session)
            return await self._start_with_client_secret(offer_sdp, session)
        except openai.APIStatusError as exc:
            message = _provider_message(exc.body, exc.message)
            raise SignalingError(f"{exc.status_code}: {message}") from None
        except (openai.APIConnectionError, httpx2.HTTPError) as exc:
            raise SignalingError(f"cannot reach the Realtime API: {type(exc).__name__}") from None

    async def _start_with_api_key(self, offer_sdp: str, session: dict[str, Any]) -> CallAnswer:
        raw = await self._client.realtime.calls.with_raw_response.create(
            sdp=offer_sdp,
            session=session,  # type: ignore[arg-type]  # a plain dict in the GA shape
            timeout=self._timeout,
            extra_headers=self._key_headers,
        )
        return CallAnswer(sdp=raw.text, provider_call_id=_provider_call_id(raw.headers.get("location")))

    async def _start_with_client_secret(self, offer_sdp: str, session: dict[str, Any]) -> CallAnswer:
        secret = await self._client.realtime.client_secrets.create(
            expires_after={"anchor": "created_at", "seconds": SECRET_TTL_S},
            session=session,  # type: ignore[arg-type]
            timeout=self._timeout,
            extra_headers=self._key_headers,
        )
        response = await self._http.post(
            "realtime/calls",
            content=offer_sdp.encode(),
            headers={"Authorization": f"Bearer {secret.value}", "Content-Type": "application/sdp"},
            timeout=self._timeout,
        )
        if response.status_code != 201:
            body = response.json() if "json" in response.headers.get("content-type", "") else None
            message = _provider_message(body, response.text[:200])
            raise SignalingError(f"{response.status_code}: {message}")
        return CallAnswer(sdp=response.text, provider_call_id=_provider_call_id(response.headers.get("location")))

    async def hang_up(self, provider_call_id: str) -> bool:
        """Best effort: the call also ends when the peer connection closes. True if the provider
        confirmed it."""
        try:
            await self._client.post(
                f"/realtime/calls/{provider_call_id}/hangup",
                cast_to=httpx2.Response,
                options={"timeout": 5, "headers": self._key_headers},
            )
        except openai.APIStatusError as exc:
            log.info("hang-up of %s refused: %s %s", provider_call_id, exc.status_code, _provider_message(exc.body, ""))
            return False
        except (openai.APIError, httpx2.HTTPError) as exc:
            log.info("hang-up of %s not confirmed: %s", provider_call_id, type(exc).__name__)
            return False
        return True
