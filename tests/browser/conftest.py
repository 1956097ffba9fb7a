"""Headless Chromium against the whole stack (Redis, simulator, adapter, executor,
Realtime emulator, session gateway), all in this process's loop.

These tests run only inside a network namespace that has nothing but ``lo``
(``make test`` runs them under ``unshare -rn``), so neither Chromium nor anything
else here can reach another address than 127.0.0.1 / ::1.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright

from robovox.shared.embedded_redis import EmbeddedRedis
from tests.browser.harness import CHROMIUM, chromium_args, isolation_problem, write_speech_wav

HEARD = "hello robot, are you there"
"""What the emulator transcribes the fake microphone's speech as."""


@pytest.fixture(scope="session", autouse=True)
def isolated_network() -> None:
    """Skip unless Chromium is installed and only loopback exists (before any server starts);
    fail instead under ``make test``, which sets ``ROBOVOX_BROWSER_TESTS=required``."""
    problem = isolation_problem()
    if problem is None:
        return
    if os.environ.get("ROBOVOX_BROWSER_TESTS") == "required":
        pytest.fail(problem)
    pytest.skip(problem)


@pytest.fixture(scope="session")
def redis_server_url() -> Iterator[str]:
    """A private redis-server on loopback: a Docker container or ``REDIS_URL`` would be
    outside this network namespace."""
    with EmbeddedRedis() as server:
        yield server.url


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    return {"heard_text": HEARD}


@pytest.fixture(scope="session")
def fake_microphone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_speech_wav(tmp_path_factory.mktemp("audio") / "speech.wav")


@pytest.fixture
async def browser(fake_microphone: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=chromium_args(fake_microphone)
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
def page_log() -> list[str]:
    """The page's console messages and errors, printed when a test fails."""
    return []


@pytest.fixture
async def page(browser: Browser, page_log: list[str]) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1100, "height": 900}, permissions=["microphone"])
    opened = await context.new_page()
    opened.set_default_timeout(20_000)
    opened.on("console", lambda message: page_log.append(f"console.{message.type}: {message.text}"))
    opened.on("pageerror", lambda error: page_log.append(f"pageerror: {error}"))
    try:
        yield opened
    finally:
        print("\n".join(page_log))
        await context.close()


@pytest.fixture
def gateway_overrides() -> dict[str, Any]:
    """The console tests keep a page joined for up to a minute while Chromium, the emulator and
    every service share the box's cores. At load 14 on 2 cores, headless Chromium left the
    gateway's consent checks unanswered for 3.2 to 3.5 s now and then (with the console of
    before these tests too), and the gateway (3 s by default) took the page for gone. None of
    these tests is about a gone peer; ``test_tutorial_page``'s killed tab is, with the default."""
    return {"client_peer_timeout_s": 10.0}
