"""The compatibility suite: a page written as the public Realtime WebRTC tutorials write one,
served from a second origin (its own server on another loopback port), pointed at the
gateway's ``/v1``. It gets a client secret and makes its call across origins (CORS), runs a
function call, an out-of-band text response and a text-only one, is refused in OpenAI's
shapes, sees no replayed item after an expiry, and a killed tab frees the microphone in 5 s.
Every event either way validates against the ``openai`` models."""

from __future__ import annotations

import asyncio
import functools
import http.server
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.async_api import Page

from robovox.gateway.clients.connection import ClientConnection
from robovox.gateway.service import SessionGateway
from robovox.sim.realtime import RealtimeEmulator
from robovox.sim.realtime.events import check_server_event, parse_client_event
from tests.browser.harness import PAGES
from tests.conftest import API_KEY, API_TOKEN, ROBOT

pytestmark = pytest.mark.browser

PAGE = "/realtime_tutorial.html"


@pytest.fixture
def page_origin() -> Iterator[str]:
    """The page's own web server (``http.server`` in a thread) on another loopback port."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(PAGES))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def gateway_overrides(page_origin: str) -> dict[str, Any]:
    return {"cors_origins": page_origin}


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    return {"seconds_per_word": 0.01}


async def start_page(page: Page, page_origin: str, gateway: SessionGateway) -> str:
    base = f"http://127.0.0.1:{gateway.api_port}/v1"
    await page.goto(f"{page_origin}{PAGE}#base={base}&token={API_TOKEN}&robot={ROBOT}")
    await page.click("#start")
    await page.wait_for_function("window.page.channelOpen", polling=100)
    return base


async def wait_event(page: Page, kind: str, where: str = "true", after: int = 0) -> dict[str, Any]:
    """The first event the page received of ``kind`` (from index ``after``) for which ``where`` holds."""
    find = f"window.page.received.slice({after}).find((e) => e.type === {json.dumps(kind)} && ({where}))"
    await page.wait_for_function(f"!!({find})", polling=100, timeout=20_000)
    found: dict[str, Any] = await page.evaluate(find)
    return found


async def received(page: Page) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = await page.evaluate("window.page.received")
    return events


async def send(page: Page, event: dict[str, Any]) -> None:
    await page.evaluate("(event) => window.page.send(event)", event)


def user_text(text: str) -> dict[str, Any]:
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    return {"type": "conversation.item.create", "item": item}


async def check_every_event(page: Page) -> int:
    """Every event the page sent and got (but the gateway's ``robovox.*``) as OpenAI defines it."""
    sent: list[dict[str, Any]] = await page.evaluate("window.page.sent")
    got = await received(page)
    checked = 0
    for event in sent:
        if not str(event["type"]).startswith("robovox."):
            parse_client_event(json.dumps(event))
            checked += 1
    for event in got:
        if not str(event["type"]).startswith("robovox."):
            check_server_event(event)
            checked += 1
    return checked


async def test_a_tutorial_page_from_another_origin_does_what_it_does_with_openai(
    robot_online: str, gateway: SessionGateway, emulator: RealtimeEmulator, page: Page, page_origin: str
) -> None:
    await gateway.robots[ROBOT].wait_live()
    base = await start_page(page, page_origin, gateway)
    calls = await page.evaluate("window.page.http")
    assert [c["status"] for c in calls] == [200, 201]
    assert str(calls[1]["location"]).startswith("/v1/realtime/calls/rtc_rv_")  # exposed across origins
    created = await wait_event(page, "session.created")
    assert "start_cleaning" in {tool["name"] for tool in created["session"]["tools"]}

    # A function call, run once on the robot.
    await send(page, user_text("start cleaning, turn right"))
    await send(page, {"type": "response.create"})
    arguments = await wait_event(page, "response.function_call_arguments.done", "e.name === 'start_cleaning'")
    assert json.loads(arguments["arguments"]) == {"option": "TurnRight"}
    result = await wait_event(
        page, "robovox.inbox", f"e.kind === 'function_call_output' && e.call_id === {json.dumps(arguments['call_id'])}"
    )
    assert result["outcome"] == "succeeded"

    # An out-of-band text response: the page's own metadata, text only, not in the conversation.
    session = emulator.sessions[-1]
    items_before = len(session.conversation)
    await send(page, {
        "type": "response.create", "event_id": "evt_oob",
        "response": {"conversation": "none", "output_modalities": ["text"], "metadata": {"ask": "oob"},
                     "input": [user_text("summarise the battery")["item"]]},
    })  # fmt: skip
    oob = await wait_event(page, "response.done", "e.response.metadata && e.response.metadata.ask === 'oob'")
    assert oob["response"]["conversation_id"] is None and oob["response"]["output_modalities"] == ["text"]
    assert oob["response"]["output"][0]["content"][0]["type"] == "output_text"
    assert len(session.conversation) == items_before

    # A text-only response in the conversation.
    await send(page, user_text("hello robot"))
    await send(
        page, {"type": "response.create", "response": {"output_modalities": ["text"], "metadata": {"ask": "text"}}}
    )
    text = await wait_event(page, "response.done", "e.response.metadata && e.response.metadata.ask === 'text'")
    assert text["response"]["conversation_id"] is not None and text["response"]["output_modalities"] == ["text"]
    text_id = text["response"]["id"]
    got = await received(page)
    assert not [e for e in got if e["type"].startswith("output_audio_buffer") and e.get("response_id") == text_id]

    # Errors in OpenAI's shapes, on the channel and over HTTP (readable across origins).
    await send(page, {"type": "response.create", "event_id": "evt_tools", "response": {"tools": []}})
    refused = await wait_event(page, "error", "e.error.event_id === 'evt_tools'")
    assert refused["error"]["param"] == "response.tools" and refused["event_id"]
    await send(page, {"type": "session.update", "event_id": "evt_update", "session": {"type": "realtime"}})
    await wait_event(page, "error", "e.error.event_id === 'evt_update'")
    bad = await page.evaluate(
        "() => window.page.post('/realtime/calls', {headers: {Authorization: 'Bearer ek_rv_nope',"
        " 'Content-Type': 'application/sdp'}, body: 'v=0'})"
    )
    assert bad["status"] == 401
    assert set(json.loads(bad["text"])["error"]) == {"message", "type", "param", "code"}
    short = await page.evaluate(
        "(token) => window.page.post('/realtime/client_secrets?robot_id=cleaner-1', {headers:"
        " {Authorization: `Bearer ${token}`, 'Content-Type': 'application/json'},"
        " body: JSON.stringify({expires_after: {anchor: 'created_at', seconds: 5}})})",
        API_TOKEN,
    )
    assert short["status"] == 400 and json.loads(short["text"])["error"]["param"] == "expires_after.seconds"

    # An expiry: a robovox.session, no session_expired, no replayed item shown again.
    expiring_at = len(await received(page))
    old_id = gateway.robots[ROBOT].live_session.session_id  # type: ignore[union-attr]
    await session.expire()
    await wait_event(
        page, "robovox.session", f"e.state === 'live' && e.session_id && e.session_id !== {json.dumps(old_id)}",
        after=expiring_at,
    )  # fmt: skip
    replacement = emulator.sessions[-1]
    await send(page, user_text("are you still there"))
    await send(page, {"type": "response.create"})
    await wait_event(page, "response.done", "true", after=expiring_at)
    after = (await received(page))[expiring_at:]
    replayed = {i["id"] for i in replacement.conversation if str(i["id"]).startswith("item_rv")}
    assert replayed
    shown = {e["item"]["id"] for e in after if e["type"].startswith("conversation.item.")}
    assert not shown & replayed
    assert not [e for e in after if e["type"] == "error"]

    assert await check_every_event(page) > 50
    everything = json.dumps(await received(page)) + json.dumps(await page.evaluate("window.page.http"))
    assert API_KEY not in everything
    assert base.endswith("/v1")


async def test_a_killed_tab_releases_the_microphone_within_5_s(
    gateway: SessionGateway, emulator: RealtimeEmulator, page: Page, page_origin: str
) -> None:
    robot = gateway.robots[ROBOT]
    await robot.wait_live()
    await start_page(page, page_origin, gateway)
    await wait_event(page, "robovox.client", "e.you_hold_mic")
    (connection,) = robot.clients.clients
    assert isinstance(connection, ClientConnection) and robot.audio.mic_holder == connection.client_id
    cdp = await page.context.new_cdp_session(page)
    killed_at = time.monotonic()
    crash = asyncio.ensure_future(cdp.send("Page.crash"))  # never answered: the renderer dies under it
    try:
        await asyncio.wait_for(connection.closed.wait(), 5.0)
        gone_after_s = time.monotonic() - killed_at
    finally:
        crash.cancel()
    print(f"the killed tab's client was gone after {gone_after_s:.2f} s")
    assert gone_after_s < 5.0
    assert len(robot.clients) == 0 and robot.audio.mic_holder is None
