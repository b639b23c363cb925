"""Browser tests: Debian's Chromium driven by Playwright against pages of the local platform, at a phone's and
a desktop's width. Skipped, saying why, where Chromium or axe-core is not installed (``make setup`` as root
installs both)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from local.harness import Platform, start_platform
from tests.browser.support import CHROMIUM, LAUNCH_ARGS, WIDTHS, missing, watch
from tests.verifier_issuer import STAND_IN_ISSUER


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    why = missing()
    if why is None:
        return
    skip = pytest.mark.skip(reason=f"browser tests skipped: {why}")
    for item in items:
        if "tests/browser/" in item.nodeid:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One Chromium for the session; Playwright gives it a new empty profile (user data dir) of its own."""
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture(scope="session")
def platform() -> Iterator[Platform]:
    """The whole local platform, as ``make run`` starts it, on free ports and a fresh data directory."""
    with tempfile.TemporaryDirectory(prefix="pic-browser-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        os.environ["PIC_VERIFIER_TRUSTED_ISSUERS"] = STAND_IN_ISSUER  # the issuer the verifier's desk test serves
        running = start_platform(data_dir)
        yield running
        running.stop()


@pytest.fixture(params=list(WIDTHS))
def width(request: pytest.FixtureRequest) -> str:
    """Each page test runs twice: at a phone's width (390×844) and a desktop's (1280×800)."""
    return str(request.param)


@pytest.fixture
def context(browser: Browser, width: str) -> Iterator[BrowserContext]:
    """A fresh browser (cookies, storage) per test, Spanish first as the platform's default language."""
    fresh = browser.new_context(viewport=WIDTHS[width], locale="es-ES")  # type: ignore[arg-type]
    fresh.set_default_timeout(10_000)
    yield fresh
    fresh.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A page whose console is watched, so ``check_page`` can fail on a Content-Security-Policy refusal."""
    opened = context.new_page()
    watch(opened)
    return opened
