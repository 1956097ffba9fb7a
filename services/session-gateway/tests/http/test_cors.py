"""CORS on the ``/v1`` API: only the allowed origins, preflight answered, ``Location`` exposed,
``*`` refused with credentials; OpenAI-shaped errors and secret lifetimes as OpenAI's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from pydantic import ValidationError

from robovox.gateway.settings import GatewaySettings

PAGE = "http://127.0.0.1:5173"
TOKEN = "unit-token"


def settings(**overrides: Any) -> GatewaySettings:
    return GatewaySettings(redis_url="redis://unused", openai_api_key="sk-unit", api_token=TOKEN, **overrides)


@pytest.fixture
async def api(request: pytest.FixtureRequest, open_api: Any) -> AsyncIterator[httpx2.AsyncClient]:
    """The gateway's app with no robots, on an in-process transport (no Redis is reached)."""
    overrides: dict[str, Any] = getattr(request, "param", {"cors_origins": PAGE})
    async with open_api(settings(**overrides)) as client:
        yield client


def preflight(origin: str, path: str = "/v1/realtime/calls") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }


@pytest.mark.parametrize("path", ["/v1/realtime/calls", "/v1/realtime/client_secrets"])
async def test_a_preflight_from_an_allowed_origin_is_answered(api: httpx2.AsyncClient, path: str) -> None:
    reply = await api.options(path, headers=preflight(PAGE))
    assert reply.status_code == 200
    assert reply.headers["access-control-allow-origin"] == PAGE
    assert "POST" in reply.headers["access-control-allow-methods"]
    allowed = reply.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "access-control-allow-credentials" not in reply.headers


async def test_an_answer_to_an_allowed_origin_exposes_location_and_errors_are_openai_shaped(
    api: httpx2.AsyncClient,
) -> None:
    reply = await api.post("/v1/realtime/calls", headers={"Origin": PAGE, "Authorization": "Bearer garbage"})
    assert reply.status_code == 401
    assert reply.headers["access-control-allow-origin"] == PAGE
    assert reply.headers["access-control-expose-headers"] == "Location"
    assert reply.json() == {
        "error": {"message": "the client secret is unknown or has expired", "type": "invalid_request_error",
                  "param": None, "code": "invalid_client_secret"},
    }  # fmt: skip


async def test_another_origin_gets_no_cors_and_nothing_outside_v1_does(api: httpx2.AsyncClient) -> None:
    refused = await api.options("/v1/realtime/calls", headers=preflight("http://evil.example"))
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
    health = await api.get("/health", headers={"Origin": PAGE})
    assert "access-control-allow-origin" not in health.headers


@pytest.mark.parametrize("api", [{}], indirect=True)
async def test_no_origin_is_allowed_by_default(api: httpx2.AsyncClient) -> None:
    reply = await api.options("/v1/realtime/calls", headers=preflight(PAGE))
    assert reply.status_code == 400 and "access-control-allow-origin" not in reply.headers


@pytest.mark.parametrize("api", [{"cors_origins": "*"}], indirect=True)
async def test_any_origin_without_credentials(api: httpx2.AsyncClient) -> None:
    reply = await api.options("/v1/realtime/client_secrets", headers=preflight("http://localhost:3000"))
    assert reply.status_code == 200 and reply.headers["access-control-allow-origin"] == "*"


def test_star_is_refused_with_credentials_and_origins_are_checked() -> None:
    with pytest.raises(ValidationError, match="refused with ROBOVOX_CORS_ALLOW_CREDENTIALS"):
        settings(cors_origins="*", cors_allow_credentials=True)
    with pytest.raises(ValidationError, match="is not an origin"):
        settings(cors_origins="http://127.0.0.1:5173/app")
    named = settings(cors_origins=f"{PAGE}, http://[::1]:8000/", cors_allow_credentials=True)
    assert named.cors_origins == [PAGE, "http://[::1]:8000"]


def test_the_default_secret_lifetime_has_openais_bounds() -> None:
    for seconds in (9, 7201):
        with pytest.raises(ValidationError):
            settings(client_secret_ttl_s=seconds)
    assert settings(client_secret_ttl_s=10).client_secret_ttl_s == 10


@pytest.mark.parametrize("seconds", [0, 9, 7201])
async def test_a_secret_lifetime_outside_openais_bounds_is_a_400_naming_the_param(
    api: httpx2.AsyncClient, seconds: int
) -> None:
    reply = await api.post(
        "/v1/realtime/client_secrets?robot_id=cleaner-1",
        json={"expires_after": {"anchor": "created_at", "seconds": seconds}},
        headers={"Authorization": f"Bearer {TOKEN}", "Origin": PAGE},
    )
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", "invalid_value",
                                                               "expires_after.seconds")  # fmt: skip
    assert set(error) == {"message", "type", "param", "code"}
    assert reply.headers["access-control-allow-origin"] == PAGE
