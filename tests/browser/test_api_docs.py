"""The gateway's /docs (Swagger UI) and /redoc render in headless Chromium from the gateway alone:
nothing is fetched from a CDN."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page, Request

from robovox.gateway.service import SessionGateway

pytestmark = pytest.mark.browser


def on_requests(page: Page) -> tuple[list[Request], list[Request]]:
    """Every request the page makes, and those that failed, as they happen."""
    made: list[Request] = []
    failed: list[Request] = []
    page.on("request", lambda request: made.append(request))
    page.on("requestfailed", lambda request: failed.append(request))
    return made, failed


async def test_swagger_ui_renders_with_no_request_but_to_the_gateway(gateway: SessionGateway, page: Page) -> None:
    origin = f"http://127.0.0.1:{gateway.api_port}"
    made, failed = on_requests(page)
    await page.goto(f"{origin}/docs")
    await page.locator(".swagger-ui .info .title", has_text="RoboVox session gateway").wait_for()
    await page.locator(".opblock-summary-path", has_text="/v1/robots/{robot_id}/emergency_stop").first.wait_for()
    paths = {urlsplit(r.url).path for r in made}
    assert {"/docs", "/openapi.json", "/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"} <= paths
    assert [r.url for r in made if not r.url.startswith(f"{origin}/")] == [], "requests off the gateway"
    assert [r.url for r in failed] == []


async def test_redoc_renders_and_its_one_off_box_image_is_blocked_in_the_browser(
    gateway: SessionGateway, page: Page
) -> None:
    origin = f"http://127.0.0.1:{gateway.api_port}"
    made, failed = on_requests(page)
    await page.goto(f"{origin}/redoc")
    await page.locator("h1", has_text="RoboVox session gateway").wait_for()
    await page.get_by_text("/v1/robots/{robot_id}/emergency_stop").first.wait_for(state="attached")
    assert {"/redoc", "/openapi.json", "/docs-assets/redoc.standalone.js"} <= {urlsplit(r.url).path for r in made}
    # ReDoc's sidebar always asks for its maker's logo from a CDN; the page's Content-Security-Policy
    # stops it inside Chromium, before any network request (Playwright calls that failure "csp").
    # Its web worker is a blob: of the page.
    elsewhere = [r for r in made if not r.url.startswith((f"{origin}/", f"blob:{origin}/"))]
    assert [r.url for r in elsewhere] == ["https://cdn.redoc.ly/redoc/logo-mini.svg"]
    assert [(r.url, r.failure) for r in failed] == [(elsewhere[0].url, "csp")]
