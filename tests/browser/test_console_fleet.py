"""The console's fleet view: three robots on one gateway, each with its session, link, battery
and latch, a stop button on each, and a tap to open one. Screenshots as in
``test_console_floor``."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page
from redis.asyncio import Redis

from robovox.gateway.service import SessionGateway
from robovox.sim.robot import RobotSimulator
from tests.browser.console_pages import open_console, shoot
from tests.conftest import ROBOT, SHIPPED_PROFILE, write_profiles

pytestmark = pytest.mark.browser

OTHERS = ("cleaner-2", "cleaner-3")


@pytest.fixture
def profiles_dir(tmp_path: Path, sim: RobotSimulator) -> Path:
    """Three robots on the one simulator."""
    text = SHIPPED_PROFILE.read_text()
    robots = {ROBOT: text} | {
        other: text.replace(f"robot_id: {ROBOT}", f"robot_id: {other}").replace("robot 1", f"robot {other[-1]}")
        for other in OTHERS
    }
    return write_profiles(tmp_path, sim, **robots)


async def test_the_fleet_view_lists_three_robots_with_their_states(
    redis: Redis, robot_online: str, gateway: SessionGateway, page: Page
) -> None:
    await gateway.robots[ROBOT].wait_live()
    gateway.robots[OTHERS[0]].stop()
    await open_console(page, gateway)
    async with page.expect_response(f"**/v1/robots/{OTHERS[1]}/emergency_stop") as answer:
        await page.click(f'[data-robot-id="{OTHERS[1]}"] [data-testid="fleet-stop"]')
    assert (await answer.value).status == 202
    states = {ROBOT: ("live", "false"), OTHERS[0]: ("stopped", "false"), OTHERS[1]: ("live", "true")}
    for robot, (session, stopped) in states.items():
        entry = f'[data-robot-id="{robot}"][data-state="{session}"][data-link="up"][data-stopped="{stopped}"]'
        await page.locator(f"{entry}[data-battery]:not([data-battery=''])").wait_for()
    assert await page.locator('[data-testid="robot-entry"]').count() == 3
    assert "STOPPED" in await page.locator(f'[data-robot-id="{OTHERS[1]}"]').inner_text()
    await page.click(f'[data-robot-id="{OTHERS[0]}"] .robot-select')
    await page.locator('[data-testid="session-value"][data-state="stopped"]').wait_for()
    assert await page.locator('[data-testid="robot-title"]').inner_text() == "Cleaning robot 2"
    await shoot(page, "fleet")
