"""Events near me in a real browser against the whole local platform, at a phone's and a desktop's width: a person
registered in Sol (a real ``citizen.updated``) opens the micro-app and sees the events near home; choosing a work
place without the location consent is refused in words with the way to give it; with the consent (a real
``consent.changed``) they choose Arganzuela's Chopera barrio, the events near work appear grouped, they filter to free
activities, open one, save it and find its calendar file. axe-core (WCAG 2.1 AA), visible focus and the CSP on each
state."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from local.harness import Platform
from tests.browser.citizen import open_app, sign_in, t
from tests.browser.support import check_page

DATA = Path(__file__).resolve().parents[2] / "functions" / "agenda" / "data"


def _agenda_loaded(platform: Platform) -> None:
    body = {"source": "agenda-sample.json", "content": (DATA / "agenda-sample.json").read_text()}
    done = platform.http.post(platform.url("/v1/agenda/ingests"), json=body, timeout=60,
                              headers=platform.as_("svc-agenda-browser", role="system"))  # fmt: skip
    assert done.status_code in (200, 201), done.text


def _event(platform: Platform, type_: str, data: dict[str, object], source: str, citizen: str) -> None:
    assert platform.send_event(type_, data, source=source, subject=citizen).status_code == 202


def _in_sol(platform: Platform, citizen: str) -> None:
    _event(platform, "es.madrid.pic.citizen.updated.v1", {
        "citizen_id": citizen, "link": {"source": "/legacy/padron", "local_id": f"P{citizen}", "change": "added"},
        "match": {"method": "new", "score": 1.0, "evidence": []},
        "updated_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        "profile": {"district": "01", "barrio": "016"}}, "/pic/citizen", citizen)  # fmt: skip
    zones = platform.url(f"/v1/citizens/{citizen}/agenda/zones")
    platform.wait_for(lambda: platform.http.get(zones, headers=platform.as_(citizen), timeout=15).json()["zones"],
                      what="home from the Padrón")  # fmt: skip


def _consents(platform: Platform, citizen: str) -> None:
    _event(platform, "es.madrid.pic.consent.changed.v1", {
        "citizen_id": citizen, "purpose": "location", "before": {"granted": False},
        "after": {"granted": True, "text_version": "2026-01"}, "mode": "a", "proof_id": f"p-{citizen}",
        "actor": {"kind": "citizen", "id": citizen}, "capture_channel": "web", "language": "es", "text_sha256": None,
        "changed_at": datetime.now(UTC).isoformat()}, "/pic/consent", citizen)  # fmt: skip
    zones = platform.url(f"/v1/citizens/{citizen}/agenda/zones")
    platform.wait_for(lambda: platform.http.get(zones, headers=platform.as_(citizen), timeout=15).json()[
        "location_consent"], what="the location consent")  # fmt: skip


def test_events_near_home_and_work_saved_and_downloaded(page: Page, platform: Platform) -> None:
    _agenda_loaded(platform)
    citizen = f"c-{uuid.uuid4().hex[:12]}"
    _in_sol(platform, citizen)
    sign_in(page, platform.base, citizen, check=False)
    # WHEN they open the micro-app, THEN the events near home (Sol)
    open_app(page, "agenda")
    expect(page.locator("#zone-home-title")).to_contain_text("Sol")
    expect(page.locator("#zone-home-events > li").first).to_be_visible()
    check_page(page, "near-home")
    # WHEN they choose a work place without the location consent, THEN refused in words, with the way to give it
    page.click("#to-zones")
    page.select_option("#work_barrio", "023")
    page.click("#save-zones")
    expect(page.locator("#form-error")).to_have_text(t("es", "problem.location-consent-required"))
    expect(page.locator("#to-consents")).to_be_visible()
    check_page(page, "consent-needed")
    # GIVEN the consent, WHEN they choose it again, THEN saved, and the events near work appear, grouped
    _consents(platform, citizen)
    page.reload()
    page.select_option("#work_barrio", "023")
    page.select_option("#work_radius", "2000")
    page.click("#save-zones")
    expect(page.locator("#done")).to_have_text(t("es", "done.agenda-zones"))
    check_page(page, "zones-saved")
    page.click("#back-to-agenda")
    expect(page.locator("#zone-work-events > li").first).to_be_visible()
    # WHEN they filter to free activities, THEN the filter stays chosen and every event shown is free
    page.check("#free")
    page.click("#search")
    expect(page.locator("#free")).to_be_checked()
    expect(page.locator("#zone-work-events")).not_to_contain_text(t("es", "agenda.paid"))
    check_page(page, "filtered")
    # WHEN they open the first event near work and save it, THEN it is in their agenda, with its calendar file
    page.locator("#zone-work-events > li a").first.click()
    expect(page.locator("#event-title")).to_be_visible()
    check_page(page, "event")
    page.click("#save")
    expect(page.locator("#done")).to_have_text(t("es", "done.agenda-saved"))
    ics = page.request.get(platform.base + (page.locator("#event-ics").get_attribute("href") or ""))
    assert ics.ok and ics.headers["content-type"].startswith("text/calendar") and b"BEGIN:VEVENT" in ics.body()
    page.click("#back-to-agenda")
    expect(page.locator("#saved-events > li")).to_have_count(1)
    expect(page.locator("#saved-ics")).to_be_visible()
    check_page(page, "saved")
