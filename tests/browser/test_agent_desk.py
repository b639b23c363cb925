"""The agent desktop in a real browser (issue 13, "Done"): an L1 agent signs in through the dev IdP (standing
in for the council's IdP), finds a citizen by DNI with a purpose, opens them and sees what level 1 may see;
the purpose form when none was stated; the C360 review queue; the desk in English; one flow by keyboard only.
axe-core (WCAG 2.1 AA), visible focus and the CSP are checked on every page reached, at both widths."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from local.harness import Platform
from tests.browser.citizen import t, tab_to
from tests.browser.support import check_page
from tests.functional.citizen.test_citizen import padron_person

PURPOSE = "CITA-2026-0042"


@pytest.fixture(scope="module")
def citizen(platform: Platform) -> dict[str, Any]:
    """A person the Padrón knows with a DNI (what C360 resolves the desk's search against)."""
    return padron_person(platform)


def sign_in_agent(page: Page, base: str, level: str = "1", *, check: bool = True) -> None:
    """From the desk's landing page through the IdP's page, an agent of citizen attention at ``level``."""
    page.goto(base + "/desk/")
    if check:
        check_page(page, "desk-landing")
    page.click("#desk-signin")
    expect(page.locator("#idp-role")).to_have_value("agent")
    page.fill("#idp-sub", f"ag-{uuid.uuid4().hex[:8]}")
    page.select_option("#idp-level", level)
    page.click("#idp-signin")
    expect(page.locator("#agent-badge")).to_be_visible()


def panels_loaded(page: Page) -> None:
    """The 360 view's later panels (fragments asked for once the page is shown) are all in."""
    expect(page.locator("section[aria-busy=true]")).to_have_count(0)
    expect(page.locator("#panel-debts")).to_be_visible()


def search_by_dni(page: Page, dni: str, purpose: str = PURPOSE) -> None:
    page.fill("#purpose", purpose)
    page.check("#kind-document")
    page.select_option("#document_type", "DNI")
    page.fill("#document_number", dni)
    page.click("#search-submit")


def test_an_l1_agent_finds_a_citizen_by_dni_and_sees_what_l1_may_see(
    page: Page, platform: Platform, citizen: dict[str, Any]
) -> None:
    sign_in_agent(page, platform.base)
    expect(page.locator("h1")).to_have_text(t("es", "desk.search_title"))
    check_page(page, "desk-search")

    # WHEN the agent searches without a purpose
    search_by_dni(page, citizen["dni"], purpose="")

    # THEN the error is by the purpose field, and nothing was searched
    expect(page.locator("#purpose-error")).to_have_text(t("es", "desk.purpose_required"))
    expect(page.locator("#results")).to_have_count(0)
    check_page(page, "desk-no-purpose")

    # WHEN they state the purpose and search by the DNI
    search_by_dni(page, citizen["dni"])

    # THEN the citizen is the one match; attending opens the 360 view for that purpose
    match = page.locator(f"#match-{citizen['citizen_id']}")
    expect(match).to_contain_text(citizen["first_surname"])
    check_page(page, "desk-results")
    page.click(f"#attend-{citizen['citizen_id']}")
    expect(page.locator("#attention")).to_contain_text(PURPOSE)
    expect(page.locator("h1")).to_contain_text(citizen["citizen_id"])
    expect(page.locator("#record-summary")).to_be_visible()  # level 1: which systems know them, not their data

    # AND the position is what level 1 sees: summaries, never detail
    sections = page.locator("#position-sections > li")
    expect(sections.first).to_be_visible()
    for text in sections.all_inner_texts():
        assert t("es", "desk.view_detail") not in text and t("es", "desk.view_full") not in text, text
    panels_loaded(page)
    check_page(page, "desk-citizen")

    # WHEN they end the attention, the citizen's page asks for a purpose again
    page.click("#end-attention")
    expect(page.locator("#done")).to_have_text(t("es", "done.ended"))
    page.goto(platform.url(f"/desk/citizens/{citizen['citizen_id']}"))
    expect(page.locator("#purpose-form")).to_be_visible()
    check_page(page, "desk-purpose")


def test_the_review_queue_and_the_desk_in_english(page: Page, platform: Platform, citizen: dict[str, Any]) -> None:
    sign_in_agent(page, platform.base, "2", check=False)
    page.goto(platform.url(page.locator("#lang-en").get_attribute("href") or ""))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text(t("en", "desk.search_title"))
    check_page(page, "desk-search-en")
    page.click("#nav-reviews")
    expect(page.locator("h1")).to_have_text(t("en", "desk.reviews_title"))
    check_page(page, "desk-reviews-en")
    # AND the 360 view, its later panels loaded, in English
    page.goto(platform.url("/desk/"))
    search_by_dni(page, citizen["dni"])
    page.click(f"#attend-{citizen['citizen_id']}")
    panels_loaded(page)
    expect(page.locator("#consents-title")).to_have_text(t("en", "desk.panel_consents"))
    check_page(page, "desk-citizen-en")


def test_keyboard_only_search(page: Page, platform: Platform, citizen: dict[str, Any]) -> None:
    """The agent's essential path without a mouse: sign in, purpose, DNI, search, attend."""
    page.goto(platform.url("/desk/"))
    tab_to(page, "#desk-signin")
    page.keyboard.press("Enter")
    tab_to(page, "#idp-sub")
    page.keyboard.type(f"ag-{uuid.uuid4().hex[:8]}")
    tab_to(page, "#idp-level")
    page.keyboard.type("1")  # a closed list box selects the option its typed text starts
    tab_to(page, "#idp-signin")
    page.keyboard.press("Enter")
    expect(page.locator("#agent-badge")).to_be_visible()
    tab_to(page, "#purpose")
    page.keyboard.type(PURPOSE)
    tab_to(page, "#document_number")
    page.keyboard.type(citizen["dni"])
    tab_to(page, "#search-submit")
    page.keyboard.press("Enter")
    tab_to(page, f"#attend-{citizen['citizen_id']}")
    page.keyboard.press("Enter")
    expect(page.locator("#attention")).to_contain_text(PURPOSE)
