"""The campaign manager's desk in a real browser against the whole local platform (the dispatcher part included):
a campaign manager (an agent of area ``comunicacion``) builds a small segment — told of a bad age next to its
field in the API's words —, counts it by channel, creates a campaign from it for a Madrid time a few seconds
ahead, schedules, pauses and resumes it, watches it finish on the page's live progress (htmx) and reads its
impact report with the plot. axe-core (WCAG 2.1 AA), visible focus and the CSP on every state."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from functions.core.clock import MADRID
from local.harness import Platform
from tests.browser.citizen import t
from tests.browser.support import check_page
from tests.functional.campaign.test_campaigns import TEMPLATE, project
from tests.functional.notification_support import put_template

TEMPLATE_ID = "camp-desk"
AHEAD = timedelta(seconds=6)  # the campaign's time: enough to pause it before it starts, short to wait for


def sign_in_manager(page: Page, base: str) -> None:
    """From the desk's landing page through the IdP's page, a campaign manager: an agent of area comunicacion."""
    page.goto(base + "/desk/")
    page.click("#desk-signin")
    page.fill("#idp-sub", f"ag-cm-{uuid.uuid4().hex[:8]}")
    page.select_option("#idp-level", "2")
    page.fill("#idp-area", "comunicacion")
    page.click("#idp-signin")
    expect(page.locator("#nav-campaigns")).to_be_visible()


@pytest.fixture(scope="module")
def people(platform: Platform) -> list[str]:
    """Three residents of Arganzuela aged 65+ with consent for campaigns (one reachable by SMS only), projected
    from events once for both widths, and NOT's template the campaigns send (``camp-desk``)."""
    found = [f"c-desk-{uuid.uuid4().hex[:6]}-{i}" for i in range(3)]
    for i, cid in enumerate(found):
        project(platform, cid, phone=i == 2)
    assert put_template(platform, TEMPLATE_ID, TEMPLATE).status_code in (200, 201)
    platform.settle(*found)
    return found


def test_a_campaign_manager_segments_schedules_pauses_resumes_and_reads_the_impact(
    page: Page, platform: Platform, people: list[str]
) -> None:
    # GIVEN the residents projected (module fixture) and a campaign manager signed in
    tag, template = uuid.uuid4().hex[:6], TEMPLATE_ID
    sign_in_manager(page, platform.base)
    page.click("#nav-campaigns")
    check_page(page, "campaigns")
    page.click("#to-segments")

    # WHEN they build the segment with an impossible age, THEN the API's words are next to the age
    page.fill("#name", f"Arganzuela 65+ {tag}")
    page.check("#district-02")
    page.fill("#age_min", "-3")
    page.select_option("#consent_purpose", "campaigns")
    page.check("#consent-sms")
    page.check("#consent-email")
    page.click("#segment-save")
    expect(page.locator("#age_min-error")).to_be_visible()
    expect(page.locator("#district-02")).to_be_checked()  # the rest as they chose it
    check_page(page, "segment-invalid")
    page.fill("#age_min", "65")
    page.click("#segment-save")
    expect(page.locator("#done")).to_have_text(t("es", "segment.done_created"))
    expect(page.locator("#segment-explanation")).to_contain_text("Arganzuela")

    # WHEN they count it, THEN by the channel NOT will choose, with a pseudonymised sample
    page.check("#count-fresh")
    page.click("#count-button")
    expect(page.locator("#count-total")).to_be_visible()
    sms = int(page.locator("#count-sms td").inner_text())
    email = int(page.locator("#count-email td").inner_text())
    assert sms >= 1 and email >= 2, (sms, email)
    assert not any(cid in page.content() for cid in people)
    check_page(page, "segment-count")

    # WHEN they create a campaign of it for a Madrid time a few seconds ahead, schedule it and pause it
    page.click("#segment-campaign")
    page.fill("#name", f"Gripe {tag}")
    page.fill("#template", template)
    page.check("#when-at")
    page.fill("#at", (datetime.now(MADRID) + AHEAD).strftime("%Y-%m-%dT%H:%M:%S"))
    page.click("#campaign-save")
    expect(page.locator("#done")).to_have_text(t("es", "campaign.done_created"))
    page.click("#schedule-button")
    expect(page.locator("#done")).to_have_text(t("es", "campaign.done_schedule"))
    page.click("#pause-button")
    expect(page.locator("#campaign-state strong")).to_have_text(t("es", "campaign.state.paused"))
    check_page(page, "campaign-paused")

    # WHEN they resume it, THEN the live progress shows it finish by itself (htmx), every member handed to NOT
    page.click("#resume-button")
    expect(page.locator("#done")).to_have_text(t("es", "campaign.done_resume"))
    finished = t("es", "campaign.state.finished")
    expect(page.locator("#campaign-state strong")).to_have_text(finished, timeout=30_000)
    expect(page.locator("#progress-news")).to_contain_text(finished)  # said once to a screen reader
    expect(page.locator("#no-actions")).to_be_visible()
    check_page(page, "campaign-finished")

    # AND the impact report: the figures as tables, the plot with its figures in words, the CSV
    page.click("#to-report")
    assert int(page.locator("#total-dispatched").inner_text()) >= 3
    alt = re.compile(rf"{t('es', 'campaign.metric.targeted')} \d+.*{t('es', 'campaign.metric.dispatched')} \d+")
    expect(page.locator("#report-image")).to_have_attribute("alt", alt)
    page.wait_for_function("() => document.querySelector('#report-image').complete")
    assert page.evaluate("() => document.querySelector('#report-image').naturalWidth") > 0  # the API's PNG
    check_page(page, "campaign-report")
    csv = page.request.get(platform.base + (page.locator("#report-csv").get_attribute("href") or ""))
    assert csv.ok and csv.headers["content-type"].startswith("text/csv") and "\ntotal," in csv.text()
    # AND in English, the same report in the manager's other language
    page.click("#lang-en")
    expect(page.locator("h1")).to_contain_text(t("en", "campaign.report"))
    expect(page.locator("#report-image")).to_have_attribute("alt", re.compile(t("en", "campaign.metric.targeted")))
