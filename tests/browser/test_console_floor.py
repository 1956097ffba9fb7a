"""The console as a floor's: on joining, a robot's firing warning and its earlier calls are
there (from Redis, not the data channel); the state panel follows the simulator's battery; the
stop button stops the simulated robot with
the voice session stopped, and the reset is a second, deliberate step. The fleet view is in
``test_console_fleet``; the screenshots go to ``/tmp/h-console-shots/`` (``console_pages``)."""

from __future__ import annotations

import json

import pytest
from playwright.async_api import Page
from redis.asyncio import Redis

from robovox.alert_monitor.service import AlertMonitor
from robovox.gateway.service import SessionGateway
from robovox.shared.messages import AlertTransition
from robovox.shared.testing.streams import add_tool_call, follow, wait_for_output
from robovox.sim.robot import RobotSimulator
from tests.browser.console_pages import open_console, shoot
from tests.conftest import KEYS, ROBOT

pytestmark = pytest.mark.browser


async def battery_low_fired(redis: Redis) -> AlertTransition:
    async for _id, fields in follow(redis, KEYS.alerts, "0-0"):
        alert = AlertTransition.from_fields(fields)
        if alert.rule == "battery_low" and alert.status.value == "firing":
            return alert
    raise AssertionError("unreachable")


async def test_a_robot_with_a_firing_warning_and_three_earlier_calls_shows_them_on_join(
    redis: Redis, sim: RobotSimulator, robot_online: str, monitor: AlertMonitor, gateway: SessionGateway, page: Page
) -> None:
    calls = [await add_tool_call(redis, ROBOT, "get_battery_voltage") for _ in range(3)]
    for call in calls:
        await wait_for_output(redis, ROBOT, call.call_id)
    sim.robot.battery_voltage = 22.8  # below the warning line (23.0 V), above the critical one
    alert = await battery_low_fired(redis)

    await open_console(page, gateway)
    warning = page.locator('[data-testid="alert-list"] li[data-rule="battery_low"][data-status="firing"]')
    await warning.wait_for()
    assert await warning.get_attribute("data-severity") == "warning"
    assert alert.message in await warning.inner_text()
    shown = page.locator('[data-testid="tool-call-list"] [data-testid="tool-call"]')
    await page.wait_for_function("document.querySelectorAll('[data-testid=tool-call][data-outcome]').length === 3")
    assert [await shown.nth(i).get_attribute("data-call-id") for i in range(3)] == [c.call_id for c in reversed(calls)]
    assert "battery voltage" in await shown.first.locator(".result").inner_text()
    alerts_text = await page.locator('[data-testid="alert-list"]').inner_text()
    assert "Telemetry update" not in alerts_text, "telemetry context is not an alert"
    fleet_entry = page.locator(f'[data-robot-id="{ROBOT}"]')
    assert await fleet_entry.get_attribute("data-alerts") == "1"

    # The state panel shows the simulator's battery, and follows it as it drains.
    volts = page.locator('[data-testid="battery-value"]')
    await page.wait_for_function(
        "(v) => Math.abs(Number(document.querySelector('[data-testid=battery-value]').dataset.volts) - v) < 0.15",
        arg=sim.robot.battery_voltage, polling=100,
    )  # fmt: skip
    before = await volts.get_attribute("data-volts")
    assert await page.locator('[data-testid="link-value"]').inner_text() == "up"
    pads = page.locator('[data-testid="telemetry-reading"][data-topic="/vacuum_pads/state"]')
    assert "up" in await pads.inner_text()
    sim.robot.battery_voltage = 22.3
    await page.wait_for_function(
        "document.querySelector('[data-testid=battery-value]').dataset.volts < 22.45", polling=100
    )
    assert await volts.get_attribute("data-volts") != before
    await page.locator('[data-testid="battery-trend"]:has-text("V/min")').wait_for()

    await shoot(page, "join")

    # Joining the voice session keeps the history; what comes live goes on top.
    await page.click('[data-testid="connect-button"]')
    await page.wait_for_function("window.robovox.connected", polling=100)
    await page.locator('[data-testid="session-mic"]:has-text("mic: you")').wait_for()
    assert await shown.count() == 3
    assert await page.locator('[data-testid="alert-list"] li').count() == 1


async def test_the_stop_button_stops_the_robot_with_the_voice_session_stopped(
    redis: Redis, sim: RobotSimulator, robot_online: str, gateway: SessionGateway, page: Page
) -> None:
    gateway.robots[ROBOT].stop()
    calls = [await add_tool_call(redis, ROBOT, "get_battery_voltage") for _ in range(22)]
    await wait_for_output(redis, ROBOT, calls[-1].call_id)
    await open_console(page, gateway)
    await page.locator('[data-testid="session-value"][data-state="stopped"]').wait_for()
    assert not await page.evaluate("window.robovox.connected")

    # History comes a page at a time, newest first: 20, then the 2 older ones.
    shown = page.locator('[data-testid="tool-call"]')
    await page.wait_for_function("document.querySelectorAll('[data-testid=tool-call]').length === 20")
    assert await shown.first.get_attribute("data-call-id") == calls[-1].call_id
    await page.click('[data-testid="calls-older"]')
    await page.wait_for_function("document.querySelectorAll('[data-testid=tool-call]').length === 22")
    assert await shown.last.get_attribute("data-call-id") == calls[0].call_id
    assert await page.locator('[data-testid="calls-older"]').is_hidden()
    await page.click('[data-testid="emergency-stop-button"]')
    [op] = await sim.wait_for_op("publish", "/emergency_stop")
    assert op.message["msg"] == {"data": True}
    latch = page.locator('[data-testid="latch-text"][data-result="succeeded"]')
    await latch.wait_for()
    assert "by operator" in await latch.inner_text()
    assert await page.locator('[data-testid="stop-bar"]').get_attribute("data-stopped") == "true"
    await shoot(page, "stopped")

    # The reset is deliberate: a first tap only asks to confirm.
    await page.click('[data-testid="reset-button"]')
    assert sim.ops("call_service", "/emergency_stop/reset") == []
    await page.click('[data-testid="reset-confirm-button"]')
    await sim.wait_for_op("call_service", "/emergency_stop/reset")
    await page.locator('[data-testid="stop-bar"][data-stopped="false"]').wait_for()
    assert await page.locator('[data-testid="latch"]').is_hidden()
    records = [json.dumps(f) for _id, f in await redis.xrange(KEYS.alerts)]
    assert any('"emergency_reset"' in r for r in records)
