"""The console in a real headless Chromium (Debian's ``chromium``, driven by Playwright),
against a real ``vox serve`` with its demo data (the e2e fixtures).

Chromium is never downloaded: Playwright launches ``/usr/bin/chromium``. Without it the
browser tests are skipped, loudly, on a developer's machine; in CI (``CI=true``) they fail,
because ``.ci/run`` installs it.

Every page a test opens records every request it makes; the test fails if one went
anywhere but the test server.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI
from tests.e2e import conftest as e2e
from tests.e2e.conftest import VoxServer

# The e2e fixtures: a real ``vox serve`` with its demo, per module and database engine.
e2e_backend = e2e.e2e_backend
server_env = e2e.server_env
demo_server = e2e.demo_server
api = e2e.api

CHROMIUM = Path(os.environ.get("VOX_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_SKIPPED = (
    f"BROWSER TESTS SKIPPED: no Chromium at {CHROMIUM} (apt-get install chromium); "
    "in CI they are required."
)
# Where the tests leave their screenshots: docs/console when asked (see docs/console.md).
SCREENSHOTS = os.environ.get("VOX_CONSOLE_SCREENSHOTS", "")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 780}


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not CHROMIUM.exists():
        terminalreporter.write_line(_SKIPPED, red=True, bold=True)


@pytest.fixture
def browser() -> Iterator[Any]:
    """Chromium for one test. Not shared longer: Playwright's sync API keeps an event loop
    running in this thread while it is open, and the database fixtures (and every async
    test) need to start their own."""
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail(f"no Chromium at {CHROMIUM}: .ci/run must install it")
        pytest.skip(_SKIPPED)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Visit:
    """A browser context on the test server that records every URL it requests."""

    def __init__(self, browser: Any, server: VoxServer, viewport: dict[str, int]) -> None:
        self.server = server
        self.context = browser.new_context(viewport=viewport, base_url=server.base_url)
        self.context.set_default_timeout(15_000)
        self.requested: list[str] = []
        self.context.on("request", lambda request: self.requested.append(request.url))
        self.page = self.context.new_page()
        # What the browser complains about: script errors, and anything the Content Security
        # Policy refused (an inline style or script, a request to another host).
        self.complaints: list[str] = []
        self.page.on("pageerror", lambda error: self.complaints.append(str(error)))
        self.page.on(
            "console",
            lambda message: (
                self.complaints.append(message.text)
                if message.type == "error" and "Failed to load resource" not in message.text
                else None
            ),
        )

    def sign_in(self, key: str | None = None) -> Any:
        page = self.page
        page.goto("/console/")
        page.get_by_label("API key").fill(key or self.server.key)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/console/numbers$"))
        return page

    def foreign_requests(self) -> list[str]:
        origin = self.server.base_url + "/"
        return [
            url for url in self.requested if not (url.startswith(origin) or url.startswith("data:"))
        ]


@pytest.fixture
def visit(browser: Any, demo_server: VoxServer) -> Iterator[Visit]:
    """A fresh browser context (no cookies) at desktop size; no request may leave the host."""
    session = Visit(browser, demo_server, DESKTOP)
    try:
        yield session
        assert session.requested, "the page made no request at all"
        assert session.foreign_requests() == []
        assert session.complaints == []
    finally:
        session.context.close()


@pytest.fixture
def phone(browser: Any, demo_server: VoxServer) -> Iterator[Visit]:
    """The same, 360 px wide."""
    session = Visit(browser, demo_server, PHONE)
    try:
        yield session
        assert session.foreign_requests() == []
        assert session.complaints == []
    finally:
        session.context.close()
