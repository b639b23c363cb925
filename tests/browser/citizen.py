"""Steps of the citizen app's journeys, as a person does them in the browser: the selectors are the ids
``functions/web/README.md`` documents, the words are the app's own catalogs (``functions/web/i18n``)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.support import check_page

CATALOGS = Path(__file__).resolve().parents[2] / "functions" / "web" / "i18n"
# the most Tab presses a keyboard user needs to reach a control on any page of the app
MAX_TABS = 80


@cache
def catalog(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((CATALOGS / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def t(lang: str, key: str, **values: str) -> str:
    """The app's message ``key`` in ``lang``, as the page shows it (Spanish where English lacks it)."""
    text = catalog(lang).get(key) or catalog("es")[key]
    return text.format(**values) if values else text


def sign_in(page: Page, base: str, citizen: str, *, check: bool = True) -> None:
    """From the landing page through the dev IdP's sign-in page (standing in for Cl@ve) to the home page."""
    page.goto(base + "/app/")
    if check:
        check_page(page, "landing")
    page.click("#signin")
    expect(page.locator("#idp-form")).to_be_visible()
    if check:
        check_page(page, "idp")
    page.fill("#idp-sub", citizen)
    page.select_option("#idp-role", "citizen")
    page.click("#idp-signin")
    expect(page.locator("#signout")).to_be_visible()


def open_app(page: Page, name: str) -> None:
    """Follow the main navigation's entry of a micro-app (``consents``, ``alerts``, ``inbox``, ``my-data``)."""
    page.click(f"#nav-{name}")
    expect(page.locator(f"#nav-{name}")).to_have_attribute("aria-current", "page")


def tab_to(page: Page, selector: str) -> None:
    """Move the keyboard focus with Tab only until it is on ``selector`` (fails if Tab never reaches it)."""
    target = page.locator(selector)
    expect(target).to_have_count(1)
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{MAX_TABS} Tab presses never reached {selector} on {page.url}")
