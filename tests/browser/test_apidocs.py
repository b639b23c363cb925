"""The published contracts' pages (issue 19): from /docs to the API's domains and an operation, then to the events and
one type with its senders, data and example; the language switched; the raw specifications as ``make schemas`` wrote
them. Each page passes ``check_page`` (axe WCAG 2.1 AA, focus, CSP) at a phone's width, the narrower one (wide tables
scroll in a focusable region); no sign-in, no JavaScript of the page's own."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from functions.apidocs import pages
from local.harness import Platform
from tests.browser.support import check_page

ROOT = Path(__file__).resolve().parents[2]
TYPE = "es.madrid.pic.consent.changed.v1"


@pytest.fixture
def width() -> str:
    """One width: the phone's (a desktop shows the same HTML with more room)."""
    return "mobile"


def test_the_api_and_the_events_are_documented_in_both_languages(page: Page, platform: Platform) -> None:
    es, en = pages.translator("es"), pages.translator("en")

    # GIVEN the documentation's home, opened by nobody signed in
    page.goto(platform.url("/docs"))
    expect(page.locator("#docs-title")).to_have_text(es("index_title"))
    check_page(page, "docs")

    # WHEN the API's domains and then the consent domain are opened THEN each operation is there with its parts
    page.click("#docs-api")
    expect(page.locator("#domain-consent")).to_be_visible()
    check_page(page, "docs-api")
    page.click("#domain-link-consent")
    operation = page.locator("#op-consent-put-consent")
    expect(operation).to_have_text("PUT /v1/citizens/{citizen_id}/consents/{purpose}")
    expect(page.locator("#consent-model-consentput")).to_be_visible()
    check_page(page, "docs-api-consent")

    # WHEN the events and then one type are opened THEN its producer, senders, fields and example are shown
    page.click("#nav-events")
    check_page(page, "docs-events")
    page.click(f"#event-link-{TYPE.replace('.', '-')}")
    expect(page.locator("#event-title")).to_have_text(TYPE)
    expect(page.locator("#senders + .table-wrap")).to_contain_text("pic-consent-relay")
    expect(page.locator("#example + pre")).to_contain_text('"type": "es.madrid.pic.consent.changed.v1"')
    check_page(page, "docs-event")

    # WHEN the language is switched THEN the same page speaks English
    page.click("#lang-en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#senders")).to_have_text(en("senders"))

    # AND the raw specifications are the committed files, for any client to generate code from
    for name in ("openapi.json", "asyncapi.yaml", f"{TYPE}.json"):
        answer = platform.http.get(platform.url(f"/docs/schemas/{name}"), timeout=10)
        assert answer.status_code == 200 and answer.content == (ROOT / "schemas" / name).read_bytes()
    assert platform.http.get(platform.url("/docs/api/no-such-domain"), timeout=10).status_code == 404
