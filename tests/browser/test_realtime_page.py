"""A page written for the OpenAI Realtime API, pointed at the gateway's base URL:
an ephemeral key from ``/realtime/client_secrets``, the SDP offer to
``/realtime/calls``, the ``oai-events`` channel, a function call's events."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.async_api import Page

from robovox.gateway.service import SessionGateway
from robovox.sim.realtime import RealtimeEmulator
from tests.browser.harness import PAGES
from tests.conftest import API_KEY, API_TOKEN, ROBOT

pytestmark = pytest.mark.browser

PAGE_PATH = "/pages/realtime_minimal.html"
COMMAND = "start cleaning, turn left"


async def open_minimal_page(page: Page, origin: str, fragment: str) -> None:
    """Serve the page from the gateway's origin (as if the gateway hosted it) and open it."""
    html = (PAGES / "realtime_minimal.html").read_text()
    await page.route(f"{origin}{PAGE_PATH}", lambda route: route.fulfill(body=html, content_type="text/html"))
    await page.goto(f"{origin}{PAGE_PATH}#{fragment}")


async def wait_event(page: Page, kind: str, where: str = "true", timeout_ms: int = 20_000) -> dict[str, Any]:
    """The first event of ``kind`` for which the JS expression ``where`` (over ``e``) holds."""
    await page.wait_for_function(
        f"window.realtime.events.some((e) => e.type === {json.dumps(kind)} && ({where}))",
        polling=100,
        timeout=timeout_ms,
    )
    found: dict[str, Any] = await page.evaluate(
        f"window.realtime.events.find((e) => e.type === {json.dumps(kind)} && ({where}))"
    )
    return found


async def test_a_realtime_page_gets_the_robots_session_and_its_function_calls(
    robot_online: str, gateway: SessionGateway, emulator: RealtimeEmulator, page: Page
) -> None:
    origin = f"http://127.0.0.1:{gateway.api_port}"
    await gateway.robots[ROBOT].wait_live()
    await open_minimal_page(page, origin, f"token={API_TOKEN}&robot={ROBOT}")

    async with page.expect_response(f"{origin}/v1/realtime/calls") as answered:
        await page.click("#start")
    call = await answered.value
    assert call.status == 201
    assert (await call.header_value("location") or "").startswith("/v1/realtime/calls/")
    await page.wait_for_function("window.realtime.channelOpen", polling=100)

    created = await wait_event(page, "session.created")
    tools = {tool["name"] for tool in created["session"].get("tools", [])}
    assert "start_cleaning" in tools, "the robot's profile decides the session, not the page"
    assert created["session"].get("instructions") != "You are a helpful assistant."

    await page.fill("#text", COMMAND)
    await page.click("#say button")
    arguments = await wait_event(page, "response.function_call_arguments.done", "e.name === 'start_cleaning'")
    assert json.loads(arguments["arguments"]) == {"option": "TurnLeft"}
    call_id = arguments["call_id"]
    item = await wait_event(page, "response.output_item.done", f"e.item.call_id === {json.dumps(call_id)}")
    assert item["item"]["type"] == "function_call"
    dispatched = await wait_event(page, "robovox.tool_call", f"e.call_id === {json.dumps(call_id)}")
    assert dispatched["name"] == "start_cleaning"
    result = await wait_event(
        page, "robovox.inbox", f"e.kind === 'function_call_output' && e.call_id === {json.dumps(call_id)}"
    )
    assert result["outcome"] == "succeeded", result
    assert await page.evaluate("window.remoteTrack === true")

    async with page.expect_response(f"{origin}/v1/realtime/calls/*/hangup") as hung_up:
        await page.click("#stop")
    assert (await hung_up.value).status == 200

    seen = json.dumps(await page.evaluate("window.realtime.events")) + await page.content()
    assert API_KEY not in seen
