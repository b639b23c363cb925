"""The citizen app's journeys in a real browser, at a phone's and a desktop's width, against the whole local
platform (issue 13, "Done"): sign in through the dev IdP, see the position, give and withdraw a consent,
subscribe to alerts in a barrio, read an inbox message, request and download the data export, sign out, a
micro-app an administrator switches off leaving the app — with axe-core (WCAG 2.1 AA), visible focus and the
CSP checked on every page reached, in Spanish and English, and one flow by keyboard only. What a journey needs
that a person does elsewhere (a notice sent by a council system) is arranged through the platform's API."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from local.harness import Platform
from tests.browser.citizen import open_app, sign_in, t, tab_to
from tests.browser.support import check_page
from tests.functional.notification_support import IBI_VALUES, citizen_with, fresh_template, notify, wait_status

PERSONALISATION = "personalisation"  # a purpose that needs consent and is not per channel
FLAGS_POLL = 2.0  # PIC_FLAGS_POLL_SECONDS of make run (local/__main__.py): every process polls the flags


def fresh_citizen() -> str:
    return f"c-{uuid.uuid4().hex[:12]}"


def test_a_citizen_signs_in_sees_the_position_and_signs_out(page: Page, platform: Platform) -> None:
    # WHEN a citizen signs in through the dev IdP's page
    sign_in(page, platform.base, fresh_citizen())

    # THEN the home page is their position, in basic mode (no personalisation consent), in Spanish
    expect(page.locator("h1")).to_have_text(t("es", "home.title"))
    expect(page.locator("#mode")).to_contain_text(t("es", "home.mode_a"))
    expect(page.locator("html")).to_have_attribute("lang", "es")
    check_page(page, "home")

    # WHEN they sign out
    page.click("#signout")

    # THEN they are back on the landing page, and a page of the app asks them to sign in again
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#signout")).to_have_count(0)
    page.goto(platform.url("/app/consents"))
    expect(page.locator("h1")).to_have_text(t("es", "auth.signin_needed"))
    check_page(page, "signed-out")


def test_a_citizen_gives_and_withdraws_a_consent(page: Page, platform: Platform) -> None:
    sign_in(page, platform.base, fresh_citizen(), check=False)
    open_app(page, "consents")
    state = page.locator(f"#purpose-{PERSONALISATION}-state")
    expect(state).to_have_text(t("es", "consents.not_given"))
    check_page(page, "consents")

    # WHEN they give the personalisation consent
    page.click(f"#give-{PERSONALISATION}")

    # THEN it is given, the proof is in the history, and home says personalised (mode b)
    expect(page.locator("#done")).to_have_text(t("es", "done.give"))
    expect(state).to_have_text(t("es", "consents.given"))
    expect(page.locator("#history tbody tr")).to_have_count(1)
    check_page(page, "given")
    page.click("#brand")
    expect(page.locator("#mode")).to_contain_text(t("es", "home.mode_b"))

    # WHEN they withdraw it
    open_app(page, "consents")
    page.click(f"#withdraw-{PERSONALISATION}")

    # THEN it is withdrawn, with both changes in the history
    expect(page.locator("#done")).to_have_text(t("es", "done.withdraw"))
    expect(state).to_have_text(t("es", "consents.not_given"))
    expect(page.locator("#history tbody tr")).to_have_count(2)
    check_page(page, "withdrawn")


def test_a_citizen_subscribes_to_alerts_in_a_barrio(page: Page, platform: Platform) -> None:
    sign_in(page, platform.base, fresh_citizen(), check=False)
    open_app(page, "alerts")
    expect(page.locator("#no-subscriptions")).to_be_visible()
    check_page(page, "alerts")

    # WHEN they choose a topic and a barrio (not a whole district) and subscribe
    barrio = page.locator("#alert-zone optgroup").first.locator("option").nth(1)
    code, name = barrio.get_attribute("value"), barrio.inner_text()
    assert code, "the zone list offers no barrio"
    page.select_option("#alert-zone", code)
    page.click("#subscribe")

    # THEN the subscription is listed with that barrio
    expect(page.locator("#done")).to_have_text(t("es", "done.subscribed"))
    expect(page.locator("#subscriptions li")).to_have_count(1)
    expect(page.locator("#subscriptions li")).to_contain_text(name.split(" (")[0])
    check_page(page, "subscribed")


def test_a_citizen_reads_an_inbox_message_and_marks_it_read(page: Page, platform: Platform) -> None:
    # GIVEN a citizen who prefers in-app messages and a notice the tax office sent them
    citizen = citizen_with(platform, email=f"{uuid.uuid4().hex[:10]}@example.org")
    me = platform.as_(citizen)
    preferences = platform.url(f"/v1/citizens/{citizen}/preferences")
    assert platform.http.put(preferences, json={"channels": ["inapp", "email"]}, headers=me).status_code == 200
    profile = platform.url(f"/v1/citizens/{citizen}/notification-profile")
    platform.wait_for(lambda: platform.http.get(profile, headers=me).json().get("channels") == ["inapp", "email"])
    body = {"template": fresh_template(platform), "recipient": {"citizen_id": citizen}, "personalisation": IBI_VALUES}
    sent = notify(platform, body).json()["id"]
    assert wait_status(platform, sent)["channel"] == "inapp"

    # WHEN they open their inbox
    sign_in(page, platform.base, citizen, check=False)
    open_app(page, "inbox")

    # THEN the message is there, unread, and marking it read leaves none unread
    message = page.locator(f"#message-{sent}")
    expect(message.locator("h2")).to_have_text("Su recibo del IBI de 2026")
    expect(page.locator("#unread")).to_have_text(t("es", "inbox.unread", count="1"))
    check_page(page, "inbox")
    page.click(f"#mark-read-{sent}")
    expect(page.locator("#unread")).to_have_text(t("es", "inbox.unread", count="0"))
    expect(page.locator(f"#mark-read-{sent}")).to_have_count(0)
    check_page(page, "read")


def test_a_citizen_requests_and_downloads_their_data_export(page: Page, platform: Platform) -> None:
    citizen = fresh_citizen()
    sign_in(page, platform.base, citizen, check=False)
    open_app(page, "my-data")
    check_page(page, "my-data")

    # WHEN they ask for a copy of their data (the right of access, chosen by default)
    expect(page.locator("#right-access")).to_be_checked()
    page.click("#send-request")

    # THEN the request's page shows its state and legal deadline, and the download once every domain answered
    expect(page.locator("#request-due")).not_to_be_empty()
    check_page(page, "request")
    for _ in range(30):
        if page.locator("#download-export").count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    with page.expect_download() as download:
        page.click("#download-export")
    archive = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes()))
    exported = json.loads(archive.read("export.json"))
    assert citizen in json.dumps(exported), "the export is not this citizen's"
    check_page(page, "ready")


def test_keyboard_only_sign_in_and_consent(page: Page, platform: Platform) -> None:
    """The essential path without a mouse: every control reached with Tab and used with Enter or Space."""
    page.goto(platform.url("/app/"))
    tab_to(page, "#signin")
    page.keyboard.press("Enter")
    tab_to(page, "#idp-sub")
    page.keyboard.type(fresh_citizen())
    tab_to(page, "#idp-signin")
    page.keyboard.press("Enter")
    expect(page.locator("#signout")).to_be_visible()

    tab_to(page, "#nav-consents")
    page.keyboard.press("Enter")
    expect(page.locator("#nav-consents")).to_have_attribute("aria-current", "page")
    tab_to(page, f"#give-{PERSONALISATION}")
    page.keyboard.press("Space")
    expect(page.locator(f"#purpose-{PERSONALISATION}-state")).to_have_text(t("es", "consents.given"))
    check_page(page, "given")

    tab_to(page, "#signout")
    page.keyboard.press("Enter")
    expect(page.locator("#signin")).to_be_visible()


def test_every_page_in_english(page: Page, platform: Platform) -> None:
    sign_in(page, platform.base, fresh_citizen(), check=False)

    # WHEN the citizen chooses English (the switch's address, loaded as a page: as without JavaScript)
    page.goto(platform.url(page.locator("#lang-en").get_attribute("href") or ""))

    # THEN every page of the app is in English, says so, and passes the checks
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text(t("en", "home.title"))
    check_page(page, "home-en")
    for app, title in (("consents", "consents.title"), ("alerts", "alerts.title"), ("inbox", "inbox.title")):
        open_app(page, app)
        expect(page.locator("h1")).to_have_text(t("en", title))
        check_page(page, f"{app}-en")
    open_app(page, "my-data")
    expect(page.locator("h1")).to_have_text(t("en", "data.title"))
    check_page(page, "my-data-en")
    page.click("#nav-preferences")
    expect(page.locator("#nav-preferences")).to_have_attribute("aria-current", "page")
    check_page(page, "preferences-en")
    page.click("#footer-accessibility")
    expect(page.locator("h1")).to_have_text(t("en", "a11y.title"))
    check_page(page, "accessibility-en")
    page.click("#footer-barrier")
    expect(page.locator("h1")).to_have_text(t("en", "barrier.title"))
    check_page(page, "barrier-en")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_the_language_switch_changes_the_pages_language(page: Page, platform: Platform) -> None:
    sign_in(page, platform.base, fresh_citizen(), check=False)
    page.click("#lang-en")
    expect(page.locator("h1")).to_have_text(t("en", "home.title"))
    expect(page.locator("html")).to_have_attribute("lang", "en", timeout=2000)
    page.click("#lang-es")
    expect(page.locator("h1")).to_have_text(t("es", "home.title"))
    expect(page.locator("html")).to_have_attribute("lang", "es", timeout=2000)


def test_a_barrier_report_with_bad_input_shows_the_error_next_to_the_field(page: Page, platform: Platform) -> None:
    # GIVEN anyone, signed in or not, on the accessibility statement
    page.goto(platform.url("/app/accessibility"))
    check_page(page, "statement")
    page.click("#report-barrier-link")

    # WHEN they send a description that is too short
    page.fill("#barrier-description", "corto")
    page.click("#send-barrier")

    # THEN the form comes back with the error tied to the field, what they typed kept, and passes the checks
    field = page.locator("#barrier-description")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("aria-describedby", "description-error")
    expect(page.locator("#description-error")).to_be_visible()
    expect(field).to_have_value("corto")
    check_page(page, "barrier-422")

    # WHEN they fix it, THEN it is received
    page.fill("#barrier-description", "El botón de enviar no se ve con alto contraste.")
    page.click("#send-barrier")
    expect(page.locator("#done")).to_have_text(t("es", "done.sent"))


def test_a_forged_csrf_token_is_a_403_page_and_nothing_changes(page: Page, platform: Platform) -> None:
    citizen = fresh_citizen()
    sign_in(page, platform.base, citizen, check=False)
    open_app(page, "consents")

    # WHEN the form's CSRF token is not the session's
    page.locator(f"#consent-form-{PERSONALISATION} input[name=csrf]").evaluate("el => { el.value = 'forged'; }")
    page.click(f"#give-{PERSONALISATION}")

    # THEN a 403 page, no stack trace, and the consent was not given
    expect(page.locator("#error-title")).to_have_text(t("es", "error.403"))
    check_page(page, "csrf-403")
    consents = platform.http.get(platform.url(f"/v1/citizens/{citizen}/consents"), headers=platform.as_(citizen))
    assert not [c for c in consents.json()["consents"] if c["purpose"] == PERSONALISATION and c["granted"]]


def test_another_citizens_request_is_the_apis_403_as_a_page(page: Page, platform: Platform) -> None:
    # GIVEN someone else's access request
    other = fresh_citizen()
    made = platform.http.post(
        platform.url(f"/v1/citizens/{other}/rgpd-requests"), json={"right": "access"}, headers=platform.as_(other)
    )
    assert made.status_code in (201, 202), made.text

    # WHEN a signed-in citizen puts its id in the URL
    sign_in(page, platform.base, fresh_citizen(), check=False)
    page.goto(platform.url(f"/app/my-data/requests/{made.json()['request_id']}"))

    # THEN the policy's refusal, as a page
    expect(page.locator("#error-title")).to_have_text(t("es", "error.403"))
    check_page(page, "other-403")


@pytest.fixture
def inbox_switch(platform: Platform) -> Iterator[Callable[[bool], None]]:
    """An administrator's switch of the inbox micro-app (``PUT /v1/flags/inbox``); on again when the test ends,
    as every other test of the session expects it."""
    admin = platform.as_("adm-browser", role="admin")

    def switch(enabled: bool) -> None:
        current = platform.http.get(platform.url("/v1/flags"), timeout=10).json()["flags"]["inbox"]
        body = {"enabled": enabled, "reason": "browser test", "version": current["version"]}
        answer = platform.http.put(platform.url("/v1/flags/inbox"), json=body, headers=admin, timeout=10)
        assert answer.status_code == 200, answer.text

    yield switch
    switch(True)
    probe = fresh_citizen()
    platform.wait_for(
        lambda: platform.http.get(platform.url(f"/v1/citizens/{probe}/inbox"), headers=platform.as_(probe)).ok,
        timeout=FLAGS_POLL * 5,
        what="inbox on again",
    )


def test_a_micro_app_switched_off_disappears_from_the_app(
    page: Page, platform: Platform, inbox_switch: Callable[[bool], None]
) -> None:
    sign_in(page, platform.base, fresh_citizen(), check=False)
    # GIVEN the inbox on in every worker of the web function (each polls the flags on its own: the previous run of
    # this test switched it back on a moment ago, and the API answering does not mean this worker has seen it)
    platform.wait_for(lambda: (page.reload(), page.locator("#nav-inbox").count() == 1)[1], timeout=FLAGS_POLL * 5,
                      what="the inbox in the navigation")  # fmt: skip
    expect(page.locator("#nav-inbox")).to_be_visible()

    # WHEN an administrator switches the inbox off
    inbox_switch(False)

    # THEN within the flags' poll interval it leaves the navigation, and its address is a 404 page
    for _ in range(int(FLAGS_POLL * 5 / 0.5)):
        page.reload()
        if not page.locator("#nav-inbox").count():
            break
        page.wait_for_timeout(500)
    expect(page.locator("#nav-inbox")).to_have_count(0)
    expect(page.locator("#nav-consents")).to_be_visible()
    answer = page.goto(platform.url("/app/inbox"))
    assert answer is not None and answer.status == 404
    expect(page.locator("#error-title")).to_be_visible()
    check_page(page, "inbox-off")
