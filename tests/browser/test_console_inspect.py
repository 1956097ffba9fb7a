"""The console's Inspect view on a demo run's data (``tests/cli_demo.py``): the streams table shows
lag and pending for a group with unacked entries, a stream's latest entries render, the dead letter
shows with its reason, and the battery's plot is drawn by dygraphs, served by the gateway: the page
asks for nothing elsewhere. Screenshots as in ``test_console_floor`` (``inspect-*.png``, and
``inspect-page.png``, the page at a desk's width down to the first entry: the README's
``docs/img/inspect.png``)."""

from __future__ import annotations

import asyncio

import httpx2
import pytest
from playwright.async_api import Page, Request
from redis.asyncio import Redis

from robovox.gateway.service import SessionGateway
from robovox.sim.robot import RobotSimulator
from tests.browser.console_pages import SHOTS, open_console, shoot
from tests.cli_demo import Demo
from tests.conftest import KEYS, ROBOT

pytestmark = pytest.mark.browser

README_CLIP = {"x": 0, "y": 0, "width": 1280, "height": 1440}
"""The page at a desk's width down to the latest entries' first: under 200 KB as a PNG."""

# The plot's line colour (plot.js), and how many of its pixels make a drawn line.
LINE_PIXELS = """(plot) => {
  let count = 0;
  for (const canvas of plot.querySelectorAll("canvas")) {
    if (!canvas.width || !canvas.height) continue;
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < data.length; i += 4) {
      const near = Math.abs(data[i] - 31) + Math.abs(data[i + 1] - 111) + Math.abs(data[i + 2] - 235) < 60;
      if (near && data[i + 3] > 200) count += 1;
    }
  }
  return count;
}"""


async def drain(sim: RobotSimulator, start: float, end: float, steps: int) -> None:
    """The simulated battery falling from ``start`` to ``end`` volts, a step every 0.15 s."""
    for step in range(steps + 1):
        sim.robot.battery_voltage = start + (end - start) * step / steps
        await asyncio.sleep(0.15)


async def test_the_inspect_view_shows_lag_pending_entries_dead_letters_and_a_plot(
    demo: Demo, redis: Redis, sim: RobotSimulator, gateway: SessionGateway, api: httpx2.AsyncClient, page: Page
) -> None:
    await redis.xgroup_create(KEYS.inbox, "inspector", id="0")
    await redis.xreadgroup("inspector", "inspector@test", {KEYS.inbox: ">"}, count=2)  # read, never acked
    assert (await api.post(f"/v1/robots/{ROBOT}/emergency_stop/reset")).status_code == 202
    await drain(sim, 22.8, 22.3, 20)
    length = await redis.xlen(KEYS.inbox)

    origin = f"http://127.0.0.1:{gateway.api_port}"
    made: list[Request] = []
    page.on("request", lambda request: made.append(request))
    await open_console(page, gateway)
    await page.click('[data-testid="view-inspect"]')
    assert await page.locator('[data-testid="robot-view"]').is_hidden()

    # The group with unacked entries: its pending, its lag, its oldest pending entry's age.
    inspector = page.locator('[data-testid="stream-row"][data-stream="inbox"][data-group="inspector"]')
    await inspector.wait_for()
    assert await inspector.get_attribute("data-pending") == "2"
    assert int(await inspector.get_attribute("data-lag") or "-1") >= length - 2
    cells = await inspector.locator("td").all_inner_texts()
    assert "inspector (1)" in cells and "2" in cells and any(" old, idle " in c for c in cells)
    executor = page.locator('[data-testid="stream-row"][data-stream="tool_calls"][data-group="tool-executor"]')
    assert (await executor.get_attribute("data-pending"), await executor.get_attribute("data-lag")) == ("0", "0")

    # The latest entries, newest first: the poison tool call, with why it is not a ToolCall.
    entries = page.locator('[data-testid="entry-list"] [data-testid="stream-entry"]')
    await entries.first.wait_for()
    assert await entries.first.get_attribute("data-entry-id") == demo.poison_id
    assert "not a valid ToolCall entry" in await entries.first.inner_text()
    assert "call_poison_1" in await entries.first.locator("dd").all_inner_texts()

    # The dead letter, with its reason.
    letter = page.locator('[data-testid="dead-letter-table"] [data-testid="dead-letter"]')
    await letter.first.wait_for()
    assert await letter.count() == 1
    text = await letter.first.inner_text()
    assert "not a valid ToolCall entry" in text and demo.poison_id in text and "tool-executor ×" in text

    # The battery's plot: dygraphs drew its line on a canvas, from the samples of the drain.
    await page.wait_for_function("window.robovox.state.inspect.plot.points >= 10", polling=100)
    plot = page.locator('[data-testid="telemetry-plot"]')
    assert await plot.get_attribute("data-series") == "/battery/voltage msg.data"
    assert await plot.locator("canvas").count() >= 1
    assert await plot.evaluate(LINE_PIXELS) > 100, "the line and its points are drawn"
    assert await page.locator('[data-testid="plot-series"] option').count() > 1

    await shoot(page, "inspect")
    await page.screenshot(path=str(SHOTS / "inspect-page.png"), full_page=True, clip=README_CLIP)

    # Another stream's entries, on a tap.
    await page.click('[data-testid="stream-row"][data-stream="inbox"] [data-testid="stream-open"]')
    await page.locator('[data-testid="entries-title"]:has-text("Latest entries: inbox")').wait_for()
    await page.wait_for_function(
        "[...document.querySelectorAll('[data-testid=stream-entry] dt')].some((dt) => dt.textContent === 'kind')"
    )
    assert await page.locator('[data-testid="stream-entry"][data-problem]').count() == 0

    assert [r.url for r in made if not r.url.startswith(f"{origin}/")] == [], "requests off the gateway"
    assert f"{origin}/console/lib/dygraph.js" in [r.url for r in made]
