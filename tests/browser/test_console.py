"""The operator console in headless Chromium: log in, connect to the cleaning
robot, speak (the fake microphone), type a command, see the function call and
its result, hear the model, and keep a screenshot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.async_api import Page
from redis.asyncio import Redis

from robovox.gateway.service import SessionGateway
from robovox.shared.messages import AlertStatus, AlertTransition, InboxEntry, InboxKind, Urgency
from robovox.shared.profile.alerts import Severity
from robovox.sim.realtime import RealtimeEmulator
from robovox.sim.robot import RobotSimulator
from tests.browser.conftest import HEARD
from tests.browser.harness import screenshot_colours
from tests.conftest import API_KEY, API_TOKEN, KEYS, ROBOT

pytestmark = pytest.mark.browser

COMMAND = "start cleaning, turn left"
ALERT = "CRITICAL WARNING (battery_critical): Battery critically low at 21.9 volts."


def transcript_entry(role: str, text: str) -> str:
    return f'[data-testid="transcript-list"] li[data-role="{role}"]:has-text({json.dumps(text)})'


async def test_operator_talks_to_the_cleaning_robot_from_the_console(
    robot_online: str, gateway: SessionGateway, emulator: RealtimeEmulator, sim: RobotSimulator, redis: Redis,
    page: Page, tmp_path: Path,
) -> None:  # fmt: skip
    origin = f"http://127.0.0.1:{gateway.api_port}"
    await gateway.robots[ROBOT].wait_live()
    model_session = await emulator.wait_for_session(0)

    # Log in through the URL fragment; the token leaves the address bar at once.
    await page.goto(f"{origin}/console/#token={API_TOKEN}&operator=Ada")
    entry = page.locator(f'[data-robot-id="{ROBOT}"]')
    await entry.wait_for()
    assert "token=" not in page.url
    assert await page.evaluate("sessionStorage.getItem('robovox.token')") == API_TOKEN
    await page.wait_for_function(
        f"document.querySelector('[data-robot-id=\"{ROBOT}\"]').dataset.state === 'live'", polling=100
    )

    await entry.locator(".robot-select").click()
    await page.click('[data-testid="connect-button"]')
    await page.wait_for_function("window.robovox.connected && window.robovox.remoteTrackReceived", polling=100)
    assert await page.evaluate("window.robovox.state.listenOnly") is False
    await page.wait_for_selector('[data-testid="mic-holder"][data-you-hold-mic="true"]')
    assert await page.evaluate("window.robovox.micEnabled") is False, "push-to-talk: the mic is off until held"

    # Speak: hold the push-to-talk button until the model has heard a turn.
    await page.hover('[data-testid="ptt-button"]')
    await page.mouse.down()
    assert await page.evaluate("window.robovox.micEnabled") is True
    await page.wait_for_selector(transcript_entry("user", HEARD))
    await page.mouse.up()
    assert await page.evaluate("window.robovox.micEnabled") is False
    turn = await model_session.wait_for_speech_turn(0)
    assert turn.transcript == HEARD
    await page.wait_for_selector(f"{transcript_entry('assistant', HEARD)}:not(.pending)")

    # Type a command: the function call and its result appear with their timing.
    await page.fill('[data-testid="text-input"]', COMMAND)
    await page.click('[data-testid="send-button"]')
    await page.wait_for_selector(transcript_entry("user", COMMAND))
    call = page.locator('[data-testid="tool-call"]', has_text="start_cleaning")
    await call.locator('.outcome:has-text("succeeded")').wait_for()
    assert json.loads(await call.locator(".arguments").inner_text()) == {"option": "TurnLeft"}
    assert "Cleaning started" in await call.locator(".result").inner_text()
    latency_ms = int(await call.get_attribute("data-latency-ms") or "-1")
    assert 0 <= latency_ms < 10_000
    (ran,) = await sim.wait_for_op("call_service", "/robot_navigator/start_cleaning", timeout=10)
    assert ran.message["args"]["option"] == "TurnLeft"
    assert await call.get_attribute("data-call-id")

    # An alert, as the alert monitor writes it (its transition on the alerts stream, its notice in
    # the robot's inbox), shows with its severity, and a critical one in the banner.
    transition = AlertTransition(
        robot_id=ROBOT, rule="battery_critical", status=AlertStatus.FIRING, severity=Severity.CRITICAL,
        condition="battery voltage below 22 V", topic="/battery/voltage", value="21.9", message=ALERT,
    )  # fmt: skip
    alert = InboxEntry(
        kind=InboxKind.SYSTEM_MESSAGE, robot_id=ROBOT, text=ALERT, speak=True, source="alert-monitor",
        severity=Severity.CRITICAL, urgency=Urgency.URGENT,
    )  # fmt: skip
    await redis.xadd(KEYS.alerts, transition.to_fields())  # type: ignore[arg-type]
    await redis.xadd(KEYS.inbox, alert.to_fields())  # type: ignore[arg-type]
    alerts = '[data-testid="alert-list"] li[data-severity="critical"]'
    await page.wait_for_selector(f"{alerts}:has-text({json.dumps(ALERT)})")
    assert await page.locator('[data-testid="alert-banner"]').is_visible()

    # The model's voice arrives as RTP on the audio track the page plays.
    await page.wait_for_function("async () => (await window.robovox.inboundAudioBytes()) > 2000", polling=200)
    await page.wait_for_selector('[data-testid="rate-limits"] .rate-limit[data-name="requests"]')
    assert await page.locator('[data-testid="status"]').inner_text()

    shot = tmp_path / "console.png"
    await page.screenshot(path=str(shot), full_page=True)
    width, height, colours = await screenshot_colours(shot)
    assert width >= 600 and height >= 400 and colours > 16, f"blank screenshot? {width}x{height}, {colours} colours"
    print(f"screenshot: {shot}")

    # On a phone: one column, the push-to-talk button across the screen.
    await page.set_viewport_size({"width": 390, "height": 844})
    robots_box = await page.locator(".panel.robots").bounding_box()
    session_box = await page.locator(".panel.session").bounding_box()
    ptt_box = await page.locator('[data-testid="ptt-button"]').bounding_box()
    assert robots_box and session_box and ptt_box
    assert session_box["y"] >= robots_box["y"] + robots_box["height"], "single column under 700 px"
    assert ptt_box["width"] >= 300 and ptt_box["height"] >= 100
    await page.screenshot(path=str(tmp_path / "console-phone.png"), full_page=True)

    events = await page.evaluate("JSON.stringify(window.robovox.state.events)")
    assert API_KEY not in events and API_KEY not in await page.content()

    async with page.expect_response(f"{origin}/v1/realtime/calls/*/hangup") as hung_up:
        await page.click('[data-testid="connect-button"]')
    assert (await hung_up.value).status == 200
    await page.wait_for_function("window.robovox.state.connection === 'idle'", polling=100)
