"""The suggestions micro-app (REC, issue 18) in a real browser against the whole local platform, at both widths: a
senior citizen in mode a is told why there are no suggestions and shown the way to the consents page; once they
consent to personalisation, the home page lists their suggestions and the page explains each (reason, data used,
source) with a link to act; "not useful" hides one. axe-core (WCAG 2.1 AA), visible focus and no CSP refusal on
every state."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from local.harness import Platform
from tests.browser.citizen import open_app, sign_in, t
from tests.browser.support import check_page


def senior_with_a_car(platform: Platform, citizen: str) -> None:
    """A person of 76 registered in Centro, with a car registered there, as C360 and Movilidad announce them."""
    updated = {
        "citizen_id": citizen, "link": {"source": "/legacy/padron", "local_id": f"P{citizen}", "change": "added"},
        "match": {"method": "new", "score": 1.0, "evidence": []},
        "updated_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        "profile": {"birth_date": "1950-03-01", "district": "01"},
    }  # fmt: skip
    sent = platform.send_event("es.madrid.pic.citizen.updated.v1", updated, source="/pic/citizen", subject=citizen)
    assert sent.status_code == 202, sent.text
    vehicle = {"plate": "4321BCD", "label": "B", "citizen_id": citizen, "district": "01",
               "as_of": datetime.now(UTC).isoformat()}  # fmt: skip
    sent = platform.send_event("es.madrid.pic.vehicle.registered.v1", vehicle, source="/legacy/movilidad",
                               subject=citizen)  # fmt: skip
    assert sent.status_code == 202, sent.text


def consent(platform: Platform, citizen: str) -> None:
    put = platform.http.put(platform.url(f"/v1/citizens/{citizen}/consents/personalisation"),
                            json={"granted": True, "text_version": "2026-01"}, headers=platform.as_(citizen),
                            timeout=15)  # fmt: skip
    assert put.status_code == 200, put.text

    def two() -> bool:
        got = platform.http.get(platform.url(f"/v1/citizens/{citizen}/suggestions"), headers=platform.as_(citizen),
                                timeout=15).json()  # fmt: skip
        return len(got["suggestions"]) == 2

    platform.wait_for(two, timeout=30, what="two suggestions")


def test_mode_a_says_why_none_then_mode_b_explains_each_and_not_useful_hides_one(
    page: Page, platform: Platform
) -> None:
    citizen = f"c-{uuid.uuid4().hex[:12]}"
    senior_with_a_car(platform, citizen)
    sign_in(page, platform.base, citizen, check=False)
    # GIVEN mode a: the page says why there are none and links to the consents
    open_app(page, "suggestions")
    expect(page.locator("#none-title")).to_have_text(t("es", "suggestions.none_title"))
    expect(page.locator("#reason-mode")).to_contain_text("modo a")
    expect(page.locator("#to-consents")).to_have_attribute("href", "/app/consents#purpose-personalisation")
    check_page(page, "suggestions-mode-a")
    # WHEN they consent to personalisation, THEN the home page lists the suggestions
    consent(platform, citizen)
    page.goto(platform.url("/app/"))
    expect(page.locator("#home-suggestions li")).to_have_count(2)
    check_page(page, "home-suggestions")
    # AND the page explains each: its reason, the data used and a link to act
    page.click("#to-suggestions")
    card = page.locator("#suggestion-ser-resident-card-4321BCD")
    expect(card.locator("#suggestion-ser-resident-card-4321BCD-reason")).to_contain_text("4321BCD")
    expect(card.locator("#suggestion-ser-resident-card-4321BCD-act")).to_have_attribute("href", "/app/wallet")
    card.locator("summary").click()
    expect(card.locator("dl")).to_contain_text(t("es", "suggestions.used.vehicle"))
    check_page(page, "suggestions-mode-b")
    # WHEN "not useful" on the senior card, THEN it is gone and the page says so
    page.click("#feedback-madrid-mayor-not-useful")
    expect(page.locator("#done")).to_have_text(t("es", "done.suggestion-not-useful"))
    expect(page.locator("#suggestion-madrid-mayor")).to_have_count(0)
    expect(page.locator("#suggestions > li")).to_have_count(1)
    check_page(page, "suggestions-after-feedback")
