"""Helpers for the console's browser tests: open the console on a robot, and take its
screenshots at desk and phone sizes (``/tmp/h-console-shots/``, or ``ROBOVOX_SHOTS``)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from playwright.async_api import Page

from robovox.gateway.service import SessionGateway
from tests.browser.harness import screenshot_colours
from tests.conftest import API_TOKEN, ROBOT

SHOTS = Path(os.environ.get("ROBOVOX_SHOTS", "/tmp/h-console-shots"))
DESK = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


async def shoot(page: Page, name: str) -> None:
    """A desk and a phone screenshot of the page as it is, checked not blank."""
    await asyncio.to_thread(SHOTS.mkdir, parents=True, exist_ok=True)
    for size, suffix in ((DESK, "desk"), (PHONE, "phone")):
        await page.set_viewport_size(size)
        shot = SHOTS / f"{name}-{suffix}.png"
        await page.screenshot(path=str(shot))
        width, _height, colours = await screenshot_colours(shot)
        assert width == size["width"] and colours > 16, f"blank screenshot {shot}?"
    await page.set_viewport_size(DESK)
    stop = await page.locator('[data-testid="emergency-stop-button"]').bounding_box()
    assert stop and stop["y"] < DESK["height"], "the stop button is in view"


async def open_console(page: Page, gateway: SessionGateway, robot: str = ROBOT) -> None:
    await page.set_viewport_size(DESK)
    await page.goto(f"http://127.0.0.1:{gateway.api_port}/console/#token={API_TOKEN}&operator=Ada&robot={robot}")
    await page.locator('[data-testid="state-panel"][data-loaded="true"]').wait_for()
