"""The citizen app over HTTP, as a browser without JavaScript uses it: sign in through the dev IdP's OpenID
Connect flow, then read and change things through the pages only (the app reaches the data through the
public API, so the API is what these tests check afterwards)."""

from __future__ import annotations

import io
import re
import time
import uuid
import zipfile

import boto3
import requests

from local.harness import Platform
from tests.functional.consent_support import citizen_url
from tests.functional.notification.test_notification_rgpd import an_inapp_citizen, inbox
from tests.functional.web.web_support import csrf_of, sign_in


def _citizen() -> str:
    return f"c-{uuid.uuid4().hex[:12]}"


def test_signing_in_shows_the_position_and_sets_a_safe_session_cookie(platform: Platform) -> None:
    # GIVEN a citizen who signs in through the IdP's page
    citizen = _citizen()
    browser = sign_in(platform, citizen)

    # WHEN they open the app
    home = browser.get(platform.url("/app/"), timeout=15)

    # THEN they see their position in Spanish, mode a (no personalisation consent yet)
    assert home.status_code == 200, home.text
    assert '<html lang="es">' in home.text
    assert 'id="position"' in home.text and 'id="mode"' in home.text
    assert "Modo básico" in home.text
    # AND the cookie is HttpOnly, SameSite=Lax; the access token is nowhere in what the browser got
    cookie = next(c for c in browser.cookies if c.name == "pic_session")
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.get_nonstandard_attr("SameSite") == "Lax"
    token_like = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.")
    assert not token_like.search(home.text) and not any(token_like.search(c.value or "") for c in browser.cookies)
    # AND the security headers are there
    csp = home.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert home.headers["X-Content-Type-Options"] == "nosniff" and home.headers["Referrer-Policy"]
    assert "style=" not in home.text and "<script>" not in home.text  # no inline script or style


def test_the_language_switch_gives_english(platform: Platform) -> None:
    browser = sign_in(platform, _citizen())
    switched = browser.get(platform.url("/app/lang/en?next=/app/consents"), allow_redirects=False, timeout=10)
    assert switched.status_code == 303 and switched.headers["Location"] == "/app/consents"
    page = browser.get(platform.url("/app/consents"), timeout=15)
    assert '<html lang="en">' in page.text and "Give consent" in page.text
    # AND an outside address is never where it sends people
    away = browser.get(platform.url("/app/lang/es?next=https://evil.example/"), allow_redirects=False, timeout=10)
    assert away.headers["Location"] == "/app/"


def test_giving_and_withdrawing_a_consent_from_the_page(platform: Platform) -> None:
    # GIVEN a signed-in citizen on the consents page
    citizen = _citizen()
    browser = sign_in(platform, citizen)
    page = browser.get(platform.url("/app/consents"), timeout=15)
    assert page.status_code == 200 and 'id="give-campaigns"' in page.text

    # WHEN they give consent to campaigns by e-mail, with the version of the text shown
    form = {"csrf": csrf_of(page), "action": "give", "channels": ["email"], "text_version": "2026-01"}
    given = browser.post(platform.url("/app/consents/campaigns"), data=form, allow_redirects=False, timeout=15)

    # THEN the app redirects back, and the API has the consent, captured on the web channel
    assert given.status_code == 303, given.text
    me = platform.as_(citizen)
    consents = platform.http.get(citizen_url(platform, citizen, "/consents"), headers=me, timeout=10).json()
    campaigns = [c for c in consents["consents"] if c["purpose"] == "campaigns" and c["channel"] == "email"]
    assert campaigns and campaigns[0]["granted"] is True
    history = browser.get(platform.url(given.headers["Location"]), timeout=15)
    assert "· web" in history.text and "Consentimiento dado" in history.text

    # WHEN they withdraw it with one action
    form = {"csrf": csrf_of(history), "action": "withdraw", "channels": ["email"]}
    withdrawn = browser.post(platform.url("/app/consents/campaigns"), data=form, allow_redirects=False, timeout=15)
    assert withdrawn.status_code == 303, withdrawn.text
    consents = platform.http.get(citizen_url(platform, citizen, "/consents"), headers=me, timeout=10).json()
    assert not [c for c in consents["consents"] if c["purpose"] == "campaigns" and c["granted"]]


def test_subscribing_to_alerts_in_a_barrio(platform: Platform) -> None:
    citizen = _citizen()
    browser = sign_in(platform, citizen)
    page = browser.get(platform.url("/app/alerts"), timeout=15)
    assert page.status_code == 200 and 'value="011"' in page.text  # Palacio, by its official code

    done = browser.post(
        platform.url("/app/alerts"),
        data={"csrf": csrf_of(page), "topic": "traffic", "zone": "011"},
        allow_redirects=False,
        timeout=15,
    )
    assert done.status_code == 303, done.text
    listed = browser.get(platform.url(done.headers["Location"]), timeout=15)
    assert "Palacio (011)" in listed.text
    subs = platform.http.get(
        citizen_url(platform, citizen, "/subscriptions"), headers=platform.as_(citizen), timeout=10
    ).json()
    assert [(s["topic"], s["zone"]["code"]) for s in subs["subscriptions"]] == [("traffic", "011")]


def test_a_malformed_form_is_a_422_with_the_error_next_to_the_field_and_nothing_written(platform: Platform) -> None:
    citizen = _citizen()
    browser = sign_in(platform, citizen)
    page = browser.get(platform.url("/app/alerts"), timeout=15)
    refused = browser.post(
        platform.url("/app/alerts"), data={"csrf": csrf_of(page), "topic": "traffic", "zone": "999"}, timeout=15
    )
    assert refused.status_code == 422
    assert 'aria-describedby="zone-error"' in refused.text and 'id="zone-error"' in refused.text
    prefs = browser.get(platform.url("/app/preferences"), timeout=15)
    bad_hours = browser.post(
        platform.url("/app/preferences"),
        data={"csrf": csrf_of(prefs), "language": "es", "quiet_start": "25:00", "quiet_end": "08:00"},
        timeout=15,
    )
    assert bad_hours.status_code == 422 and 'id="quiet_start-error"' in bad_hours.text
    subs = platform.http.get(
        citizen_url(platform, citizen, "/subscriptions"), headers=platform.as_(citizen), timeout=10
    ).json()
    assert subs["subscriptions"] == []


def test_a_post_without_the_sessions_csrf_token_is_refused_and_writes_nothing(platform: Platform) -> None:
    citizen = _citizen()
    browser = sign_in(platform, citizen)
    for token in (None, "forged-token"):
        data = {"topic": "traffic", "zone": "011", **({"csrf": token} if token else {})}
        refused = browser.post(platform.url("/app/alerts"), data=data, timeout=15)
        assert refused.status_code == 403 and 'id="error-title"' in refused.text
        assert "Traceback" not in refused.text
    subs = platform.http.get(
        citizen_url(platform, citizen, "/subscriptions"), headers=platform.as_(citizen), timeout=10
    ).json()
    assert subs["subscriptions"] == []


def test_no_or_an_ended_session_is_the_sign_in_page(platform: Platform) -> None:
    anonymous = requests.Session()
    page = anonymous.get(platform.url("/app/inbox"), timeout=10)
    assert page.status_code == 401 and 'href="/app/auth/signin?next=/app/inbox"' in page.text
    # AND signing out deletes the session: the old cookie no longer opens anything
    browser = sign_in(platform, _citizen())
    home = browser.get(platform.url("/app/inbox"), timeout=15)
    old = dict(browser.cookies)
    out = browser.post(platform.url("/app/auth/signout"), data={"csrf": csrf_of(home)}, allow_redirects=False)
    assert out.status_code == 303
    replay = requests.get(platform.url("/app/inbox"), cookies=old, timeout=10)
    assert replay.status_code == 401


def test_an_expired_session_is_the_sign_in_page_and_its_form_writes_nothing(platform: Platform) -> None:
    # GIVEN a signed-in citizen with the consents page open, whose session then passes its expiry (DynamoDB's TTL
    # deletes an expired item only some time later: the app must not trust it meanwhile)
    citizen = _citizen()
    browser = sign_in(platform, citizen)
    page = browser.get(platform.url("/app/consents"), timeout=15)
    client = boto3.client("dynamodb", endpoint_url=platform.dynamodb_endpoint(), region_name="eu-south-2",
                          aws_access_key_id="local", aws_secret_access_key="local")  # fmt: skip
    (table,) = [name for name in client.list_tables()["TableNames"] if name.endswith("web")]
    session_id = next(value for name, value in browser.cookies.items() if name.endswith("pic_session"))
    client.update_item(TableName=table, Key={"session_id": {"S": session_id}}, UpdateExpression="SET expires_at = :t",
                       ExpressionAttributeValues={":t": {"N": str(int(time.time()) - 60)}})  # fmt: skip
    # WHEN they read a page, or send the form they had open
    again = browser.get(platform.url("/app/inbox"), timeout=10)
    form = {"csrf": csrf_of(page), "action": "give", "channels": ["email"], "text_version": "2026-01"}
    sent = browser.post(platform.url("/app/consents/campaigns"), data=form, allow_redirects=False, timeout=15)
    # THEN the sign-in page each time, and nothing was written
    for answer in (again, sent):
        assert answer.status_code == 401 and "/app/auth/signin" in answer.text, answer.text[:300]
    history = platform.http.get(citizen_url(platform, citizen, "/consents/history"), headers=platform.as_(citizen),
                                timeout=10).json()  # fmt: skip
    assert not [p for p in history["proofs"] if p["purpose"] == "campaigns"]


def test_a_forged_sign_in_answer_is_refused(platform: Platform) -> None:
    browser = requests.Session()
    browser.get(platform.url("/app/auth/signin"), allow_redirects=False, timeout=10)
    forged = browser.get(platform.url("/app/auth/callback?code=x&state=not-mine"), timeout=10)
    assert forged.status_code == 400 and "Traceback" not in forged.text


def test_another_citizens_request_is_the_apis_403_as_a_page(platform: Platform) -> None:
    # GIVEN someone else's rights request
    other = _citizen()
    opened = platform.http.post(
        citizen_url(platform, other, "/rgpd-requests"), json={"right": "access"}, headers=platform.as_(other)
    )
    assert opened.status_code in (201, 202), opened.text
    # WHEN a signed-in citizen opens its page by id
    browser = sign_in(platform, _citizen())
    page = browser.get(platform.url(f"/app/my-data/requests/{opened.json()['request_id']}"), timeout=15)
    # THEN the API's refusal is a page, with nothing of the other person's request
    assert page.status_code == 403 and 'id="error-title"' in page.text
    assert other not in page.text


def test_requesting_and_downloading_the_access_export(platform: Platform) -> None:
    citizen = _citizen()
    browser = sign_in(platform, citizen)
    page = browser.get(platform.url("/app/my-data"), timeout=15)
    assert page.status_code == 200 and 'id="rights-form"' in page.text
    sent = browser.post(
        platform.url("/app/my-data/requests"), data={"csrf": csrf_of(page), "right": "access"}, allow_redirects=False
    )
    assert sent.status_code == 303, sent.text
    location = sent.headers["Location"]

    def ready() -> requests.Response | None:
        view = browser.get(platform.url(location), timeout=15)
        assert view.status_code == 200, view.text
        return view if 'id="download-export"' in view.text else None

    view = platform.wait_for(ready, timeout=30, what="the export link")
    assert "un mes" in view.text  # the legal deadline, in plain words
    download = browser.get(platform.url(location + "/export"), timeout=30)
    assert download.status_code == 200 and download.headers["Content-Type"] == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(download.content)).namelist()
    # AND "who looked at my data" lists the reads the app made for them
    log = browser.get(platform.url("/app/my-data"), timeout=15)
    assert 'id="access-log"' in log.text


def test_reading_an_inbox_message_marks_it_read(platform: Platform) -> None:
    # GIVEN a citizen with a legal notice and a campaign message in their in-app inbox
    citizen, notice, _ = an_inapp_citizen(platform)
    browser = sign_in(platform, citizen)
    page = browser.get(platform.url("/app/inbox"), timeout=15)
    assert page.status_code == 200 and f'id="mark-read-{notice}"' in page.text

    # WHEN they mark the notice read
    done = browser.post(
        platform.url(f"/app/inbox/{notice}/read"), data={"csrf": csrf_of(page)}, allow_redirects=False, timeout=15
    )

    # THEN the API has it read, and the page no longer offers to
    assert done.status_code == 303, done.text
    read = {m["notification_id"]: m["read"] for m in inbox(platform, citizen)}
    assert read[notice] is True
    again = browser.get(platform.url("/app/inbox"), timeout=15)
    assert f'id="mark-read-{notice}"' not in again.text and f'id="message-{notice}"' in again.text


def test_saving_preferences_and_reporting_a_barrier(platform: Platform) -> None:
    # GIVEN a signed-in citizen on the preferences page
    citizen = _citizen()
    browser = sign_in(platform, citizen)
    page = browser.get(platform.url("/app/preferences"), timeout=15)
    form = {
        "csrf": csrf_of(page),
        "language": "en",
        "channels": ["email"],
        "quiet_start": "22:00",
        "quiet_end": "08:00",
    }
    saved = browser.post(platform.url("/app/preferences"), data=form, allow_redirects=False, timeout=15)
    # THEN the API holds them
    assert saved.status_code == 303, saved.text
    prefs = platform.http.get(
        citizen_url(platform, citizen, "/preferences"), headers=platform.as_(citizen), timeout=10
    ).json()
    assert (prefs["language"], prefs["channels"], prefs["quiet_hours"]) == (
        "en",
        ["email"],
        {"start": "22:00", "end": "08:00"},
    )
    # AND anyone, signed in or not, can report an accessibility barrier (the form carries its own token)
    visitor = requests.Session()
    barrier = visitor.get(platform.url("/app/accessibility/barrier"), timeout=10)
    sent = visitor.post(
        platform.url("/app/accessibility/barrier"),
        data={"csrf": csrf_of(barrier), "description": "The zone list is too long for a screen reader"},
        allow_redirects=False,
        timeout=10,
    )
    assert sent.status_code == 303 and sent.headers["Location"].endswith("done=sent")
