"""The one-click unsubscribe page of a campaign message (issue 16): opened from the e-mail's link without signing
in, it says what it is for and changes nothing; its button unsubscribes (twice is fine); a bad link says so. Every
page passes ``check_page`` (axe WCAG 2.1 AA, focus, CSP) at both widths. No JavaScript is needed: a plain form."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from local.harness import Platform
from tests.browser.citizen import t
from tests.browser.support import check_page
from tests.functional.notification_support import citizen_with, fresh_template, notify, unique_email, wait_status

CAMPAIGN = {
    "purpose": "campaigns",
    "subject": {"es": "Veranos de la Villa"},
    "body": {"es": "Hola, {{ name }}. Darse de baja: {{ unsubscribe_url }}"},
}


def campaign_link(platform: Platform) -> str:
    """A campaign message delivered by e-mail to a consenting citizen: the unsubscribe link it carries."""
    email = unique_email()
    citizen = citizen_with(platform, email=email)
    me = platform.as_(citizen)
    give = {"granted": True, "channels": ["email"], "text_version": "2026-01"}
    assert platform.http.put(platform.url(f"/v1/citizens/{citizen}/consents/campaigns"), json=give,
                             headers=me).status_code == 200  # fmt: skip
    url = platform.url(f"/v1/citizens/{citizen}/notification-profile")
    platform.wait_for(lambda: platform.http.get(url, headers=me).json()["consents"].get("campaigns", {}).get("granted"),
                      what="the consent projection")  # fmt: skip
    sent = notify(platform, {"template": fresh_template(platform, CAMPAIGN), "recipient": {"citizen_id": citizen},
                             "personalisation": {"name": "Inés"}})  # fmt: skip
    assert wait_status(platform, sent.json()["id"])["status"] == "delivered"
    mail = platform.http.get(platform.url("/dev/mail"), params={"to": email}, timeout=10).json()["messages"][0]
    return str(mail["body"].rsplit("Darse de baja: ", 1)[1].split()[0])


def test_the_unsubscribe_link_confirms_with_a_button_and_works_without_signing_in(
    page: Page, platform: Platform
) -> None:
    # GIVEN the link of a campaign e-mail, opened in a browser nobody signed in to
    link = campaign_link(platform)
    assert "/app/unsubscribe/" in link
    page.goto(link)  # the link's host is the platform's own (PIC_API_URL)

    # THEN the page says what it unsubscribes from and waits for the button: opening it changed nothing
    what = t("es", "unsubscribe.what", purpose=t("es", "purpose.campaigns"), channel=t("es", "channel.email"))
    expect(page.locator("#unsubscribe-what")).to_have_text(what)
    check_page(page, "unsubscribe")

    # WHEN the person confirms THEN it is done, and saying so again is fine
    page.click("#unsubscribe-confirm")
    done = t("es", "unsubscribe.done", purpose=t("es", "purpose.campaigns"), channel=t("es", "channel.email"))
    expect(page.locator("#unsubscribe-done")).to_have_text(done)
    check_page(page, "unsubscribe-done")
    page.goto(link)
    expect(page.locator("#unsubscribe-done")).to_be_visible()


def test_a_link_that_is_not_valid_says_so(page: Page, platform: Platform) -> None:
    response = page.goto(platform.url(f"/app/unsubscribe/not-a-link-{uuid.uuid4().hex[:6]}"))
    assert response is not None and response.status == 404
    expect(page.locator("#unsubscribe-invalid")).to_have_text(t("es", "unsubscribe.invalid"))
    check_page(page, "unsubscribe-invalid")
