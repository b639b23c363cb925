"""Functional: the consent channel API (``/v1/citizens/{id}/consents``) over real HTTP, real DynamoDB
Local, the outbox relay and the broker, as a channel app would use it."""

from __future__ import annotations

import base64
import json
from datetime import datetime

import pytest

from local.harness import Platform
from tests.functional.consent_support import (
    CONSENT_CHANGED,
    GIVE,
    TERMS,
    TEXT_VERSION,
    WITHDRAW,
    assert_problem,
    consents,
    granted,
    history,
    put_consent,
    settle,
    text_sha256,
    wait_for_events,
)

pytestmark = pytest.mark.functional

CAMPAIGNS_EMAIL_SMS = {"granted": True, "channels": ["email", "sms"], "text_version": TEXT_VERSION}


def test_a_new_citizen_is_in_mode_a_with_every_purpose_listed_and_none_granted(
    platform: Platform, citizen_id: str
) -> None:
    # GIVEN a citizen who never said anything about consent
    me = platform.as_(citizen_id)

    # WHEN they read their consents
    view = consents(platform, citizen_id, me)

    # THEN they are in mode (a), every published purpose is listed (per channel where it is given per
    # channel), and nothing is granted
    assert view["citizen_id"] == citizen_id
    assert view["mode"] == "a"
    listed = {(e["purpose"], e["channel"]) for e in view["consents"]}
    expected = {
        (pid, channel)
        for pid, purpose in TERMS["purposes"].items()
        for channel in (TERMS["channels"] if purpose["channel_scoped"] else [None])
    }
    assert listed == expected
    assert granted(view) == set()
    assert all(e["proof_id"] is None and e["current_text_version"] == TEXT_VERSION for e in view["consents"])


@pytest.mark.units_of_work
def test_granting_personalisation_switches_the_citizen_to_mode_b(platform: Platform, citizen_id: str) -> None:
    # GIVEN a citizen in mode (a)
    me = platform.as_(citizen_id)

    # WHEN they give consent for personalisation, having been shown text 2026-01
    response = put_consent(platform, citizen_id, "personalisation", GIVE, me)

    # THEN the answer and the stored state say mode (b), personalisation granted on that text
    assert response.status_code == 200, response.text
    assert response.json()["mode"] == "b"
    view = consents(platform, citizen_id, me)
    assert view["mode"] == "b"
    assert granted(view) == {("personalisation", None)}
    (entry,) = [e for e in view["consents"] if e["purpose"] == "personalisation"]
    assert entry["text_version"] == TEXT_VERSION and entry["proof_id"]


def test_campaigns_given_for_email_and_sms_are_granted_on_those_channels_only(
    platform: Platform, citizen_id: str
) -> None:
    # GIVEN a citizen in mode (a)
    me = platform.as_(citizen_id)

    # WHEN they accept campaigns by e-mail and SMS (text 2026-01)
    response = put_consent(platform, citizen_id, "campaigns", CAMPAIGNS_EMAIL_SMS, me)

    # THEN campaigns are granted on e-mail and SMS and on no other channel; the mode stays (a)
    assert response.status_code == 200, response.text
    view = consents(platform, citizen_id, me)
    assert granted(view) == {("campaigns", "email"), ("campaigns", "sms")}
    assert view["mode"] == "a"
    for entry in view["consents"]:
        if entry["purpose"] == "campaigns" and entry["granted"]:
            assert entry["text_version"] == TEXT_VERSION


def test_withdrawing_is_one_call_with_granted_false(platform: Platform, citizen_id: str) -> None:
    # GIVEN a citizen who gave personalisation and campaigns
    me = platform.as_(citizen_id)
    assert put_consent(platform, citizen_id, "personalisation", GIVE, me).status_code == 200
    assert put_consent(platform, citizen_id, "campaigns", CAMPAIGNS_EMAIL_SMS, me).status_code == 200

    # WHEN they withdraw each with one call and nothing but {"granted": false}
    withdrawn = [put_consent(platform, citizen_id, p, WITHDRAW, me) for p in ("personalisation", "campaigns")]

    # THEN both are withdrawn (every channel of campaigns), the citizen is back in mode (a), and each
    # withdrawal is a proof of its own
    assert [r.status_code for r in withdrawn] == [200, 200], [r.text for r in withdrawn]
    view = consents(platform, citizen_id, me)
    assert granted(view) == set()
    assert view["mode"] == "a"
    proofs = history(platform, citizen_id, me)["proofs"]
    assert [(p["purpose"], p["granted"]) for p in proofs] == [
        ("campaigns", False),
        ("personalisation", False),
        ("campaigns", True),
        ("personalisation", True),
    ]


def test_history_lists_proofs_newest_first_with_what_was_shown_and_who_acted(
    platform: Platform, citizen_id: str
) -> None:
    # GIVEN a citizen who gave campaigns in the app (Spanish text), then location on the web in English,
    # then withdrew campaigns
    me = platform.as_(citizen_id)
    assert put_consent(platform, citizen_id, "campaigns", CAMPAIGNS_EMAIL_SMS, me).status_code == 200
    location_en = {**GIVE, "language": "en", "capture_channel": "web"}
    assert put_consent(platform, citizen_id, "location", location_en, me).status_code == 200
    assert put_consent(platform, citizen_id, "campaigns", WITHDRAW, me).status_code == 200

    # WHEN they read their history
    proofs = history(platform, citizen_id, me)["proofs"]

    # THEN three proofs, newest first, each saying who acted, through which channel, on which text
    # (the hash published for that text and language), and when
    assert [(p["purpose"], p["granted"]) for p in proofs] == [
        ("campaigns", False),
        ("location", True),
        ("campaigns", True),
    ]
    recorded = [datetime.fromisoformat(p["recorded_at"]) for p in proofs]
    assert recorded == sorted(recorded, reverse=True)
    withdrawal, location, campaigns = proofs
    assert campaigns["actor"] == {"kind": "citizen", "id": citizen_id}
    assert campaigns["capture_channel"] == "app"
    assert campaigns["channels"] == ["email", "sms"]
    assert campaigns["text_version"] == TEXT_VERSION
    assert campaigns["text_sha256"] == text_sha256("campaigns", "es")
    assert location["capture_channel"] == "web"
    assert location["language"] == "en"
    assert location["text_sha256"] == text_sha256("location", "en")
    assert withdrawal["actor"] == {"kind": "citizen", "id": citizen_id}
    assert withdrawal["channels"] == []
    assert len({p["proof_id"] for p in proofs}) == 3


def test_history_pages_one_proof_at_a_time_with_next_cursor(platform: Platform, citizen_id: str) -> None:
    # GIVEN a citizen with three proofs
    me = platform.as_(citizen_id)
    for purpose in ("personalisation", "location", "surveys"):
        body = {**GIVE, "channels": ["email"]} if purpose == "surveys" else GIVE
        assert put_consent(platform, citizen_id, purpose, body, me).status_code == 200
    everything = [p["proof_id"] for p in history(platform, citizen_id, me)["proofs"]]

    # WHEN they page through it with limit=1, following next_cursor until there is none
    pages: list[list[str]] = []
    page = history(platform, citizen_id, me, limit=1)
    while True:
        pages.append([p["proof_id"] for p in page["proofs"]])
        if not page["next_cursor"]:
            break
        assert len(pages) <= 5, "next_cursor never ends"
        page = history(platform, citizen_id, me, limit=1, cursor=page["next_cursor"])

    # THEN each page holds at most one proof, and together they are the whole history in the same order
    assert pages[0] and len(pages[0]) == 1 and pages[0][0] == everything[0]
    assert all(len(p) <= 1 for p in pages)
    assert [pid for p in pages for pid in p] == everything
    assert len(everything) == 3


@pytest.mark.units_of_work
def test_repeating_the_same_put_records_no_second_proof_and_emits_no_second_event(
    platform: Platform, citizen_id: str
) -> None:
    # GIVEN a citizen who gave campaigns by e-mail and SMS, and whose consent.changed event went out
    me = platform.as_(citizen_id)
    first = put_consent(platform, citizen_id, "campaigns", CAMPAIGNS_EMAIL_SMS, me)
    assert first.status_code == 200
    wait_for_events(platform, CONSENT_CHANGED, citizen_id)

    # WHEN the channel sends the very same decision again (channels in another order, even)
    again = put_consent(platform, citizen_id, "campaigns", {**CAMPAIGNS_EMAIL_SMS, "channels": ["sms", "email"]}, me)

    # THEN it is answered with the same state, but there is still one proof and one event
    assert again.status_code == 200
    assert again.json() == first.json()
    settle(platform)
    assert len(history(platform, citizen_id, me)["proofs"]) == 1
    assert len(platform.events(CONSENT_CHANGED, citizen_id)) == 1


@pytest.mark.units_of_work
def test_the_same_idempotency_key_and_body_replays_the_first_response(platform: Platform, citizen_id: str) -> None:
    # GIVEN a citizen who gave personalisation with Idempotency-Key k-1
    me = platform.as_(citizen_id)
    keyed = {**me, "Idempotency-Key": "k-1"}
    first = put_consent(platform, citizen_id, "personalisation", GIVE, keyed)
    assert first.status_code == 200
    assert "Idempotent-Replayed" not in first.headers

    # WHEN the channel retries with the same key and body (a lost response)
    retry = put_consent(platform, citizen_id, "personalisation", GIVE, keyed)

    # THEN it gets the first response again, marked as a replay, and nothing is done twice
    assert retry.status_code == 200
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert retry.json() == first.json()
    settle(platform)
    assert len(history(platform, citizen_id, me)["proofs"]) == 1
    assert len(platform.events(CONSENT_CHANGED, citizen_id)) == 1


def test_the_same_idempotency_key_with_another_body_is_refused(platform: Platform, citizen_id: str) -> None:
    # GIVEN a citizen who gave personalisation with Idempotency-Key k-2
    me = platform.as_(citizen_id)
    keyed = {**me, "Idempotency-Key": "k-2"}
    assert put_consent(platform, citizen_id, "personalisation", GIVE, keyed).status_code == 200

    # WHEN the same key comes back with another body (a withdrawal)
    reused = put_consent(platform, citizen_id, "personalisation", WITHDRAW, keyed)

    # THEN it is refused as a reused key, and the consent is still given
    assert_problem(reused, 422, "idempotency-key-reused")
    assert granted(consents(platform, citizen_id, me)) == {("personalisation", None)}
    assert len(history(platform, citizen_id, me)["proofs"]) == 1


@pytest.mark.units_of_work
def test_an_agent_changes_consent_on_the_citizens_behalf_and_is_recorded(platform: Platform, citizen_id: str) -> None:
    # GIVEN an attention agent of level 1 serving the citizen on the phone
    agent = platform.as_("agent-0042", role="agent", level=1, area="010")
    headers = {**agent, "Access-Purpose": "phone attention, ticket 2026-77"}

    # WHEN the agent records the citizen's consent for surveys by phone
    body = {**GIVE, "channels": ["phone"], "capture_channel": "phone"}
    response = put_consent(platform, citizen_id, "surveys", body, headers)

    # THEN it is allowed, and the proof and the event name the agent (with level) and the access purpose
    assert response.status_code == 200, response.text
    me = platform.as_(citizen_id)
    assert granted(consents(platform, citizen_id, me)) == {("surveys", "phone")}
    (proof,) = history(platform, citizen_id, me)["proofs"]
    assert proof["actor"] == {"kind": "agent", "id": "agent-0042", "level": 1}
    assert proof["access_purpose"] == "phone attention, ticket 2026-77"
    assert proof["capture_channel"] == "phone"
    (event,) = wait_for_events(platform, CONSENT_CHANGED, citizen_id)
    assert event["data"]["actor"] == {"kind": "agent", "id": "agent-0042", "level": 1}


def test_consent_changed_carries_before_after_and_reaches_the_event_display(
    platform: Platform, citizen_id: str
) -> None:
    # GIVEN a citizen with campaigns by e-mail, and a request traced by the channel
    me = platform.as_(citizen_id)
    assert put_consent(platform, citizen_id, "campaigns", {**GIVE, "channels": ["email"]}, me).status_code == 200
    wait_for_events(platform, CONSENT_CHANGED, citizen_id)
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    traced = {**me, "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}

    # WHEN they add SMS in English
    response = put_consent(
        platform, citizen_id, "campaigns", {**GIVE, "channels": ["email", "sms"], "language": "en"}, traced
    )
    assert response.status_code == 200

    # THEN one consent.changed event for the citizen says what it was, what it is, the mode, the proof and
    # the trace, with its dataschema
    events = wait_for_events(platform, CONSENT_CHANGED, citizen_id, count=2)
    latest = events[0]
    (proof,) = [p for p in history(platform, citizen_id, me)["proofs"] if p["channels"] == ["email", "sms"]]
    assert latest["subject"] == citizen_id
    assert latest["source"] == "/pic/consent"
    assert latest["dataschema"].endswith(f"/{CONSENT_CHANGED}.json")
    assert latest["traceparent"].split("-")[1] == trace_id
    data = latest["data"]
    assert data["citizen_id"] == citizen_id and data["purpose"] == "campaigns"
    assert data["before"] == {"granted": True, "channels": ["email"], "text_version": TEXT_VERSION}
    assert data["after"] == {"granted": True, "channels": ["email", "sms"], "text_version": TEXT_VERSION}
    assert data["mode"] == "a"
    assert data["proof_id"] == proof["proof_id"]
    assert data["actor"]["kind"] == "citizen" and data["actor"]["id"] == citizen_id
    assert data["text_sha256"] == text_sha256("campaigns", "en")
    # AND it went through the broker's Trigger to the event-display subscriber
    received = platform.wait_for(
        lambda: [e for e in platform.received(CONSENT_CHANGED, citizen_id) if e["id"] == latest["id"]],
        what="consent.changed at the event display",
    )
    assert received[0]["data"]["proof_id"] == proof["proof_id"]


def test_consent_terms_are_public_and_list_every_purpose_with_its_text(platform: Platform) -> None:
    # GIVEN nobody signed in

    # WHEN a channel asks for the consent terms in English
    response = platform.http.get(platform.url("/v1/consent-terms"), params={"language": "en"}, timeout=15)

    # THEN every purpose is listed with its current version, English text and that text's hash
    assert response.status_code == 200, response.text
    terms = response.json()
    assert terms["language"] == "en"
    by_purpose = {p["purpose"]: p for p in terms["purposes"]}
    assert set(by_purpose) == set(TERMS["purposes"])
    for pid, purpose in by_purpose.items():
        published = TERMS["texts"][pid][TEXT_VERSION]["en"]
        assert purpose["text_version"] == TEXT_VERSION
        assert purpose["text"] == published["text"]
        assert purpose["text_sha256"] == published["sha256"]
        assert purpose["legal_basis"] == TERMS["purposes"][pid]["legal_basis"]
    assert set(terms["channels"]) == set(TERMS["channels"])
    assert set(terms["topics"]) == set(TERMS["topics"])


def test_withdrawing_one_channel_keeps_the_others(platform: Platform, citizen_id: str) -> None:
    # GIVEN a citizen with campaigns by e-mail and SMS
    me = platform.as_(citizen_id)
    assert put_consent(platform, citizen_id, "campaigns", CAMPAIGNS_EMAIL_SMS, me).status_code == 200

    # WHEN they withdraw campaigns for e-mail only
    response = put_consent(platform, citizen_id, "campaigns", {"granted": False, "channels": ["email"]}, me)

    # THEN SMS stays granted (or the request is refused): never a silent withdrawal of every channel
    if response.status_code == 200:
        assert granted(consents(platform, citizen_id, me)) == {("campaigns", "sms")}
    else:
        assert_problem(response, 422)
        assert granted(consents(platform, citizen_id, me)) == {("campaigns", "email"), ("campaigns", "sms")}


def test_a_cursor_the_api_never_gave_is_refused_as_invalid(platform: Platform, citizen_id: str) -> None:
    # GIVEN a citizen with one proof
    me = platform.as_(citizen_id)
    assert put_consent(platform, citizen_id, "personalisation", GIVE, me).status_code == 200

    # WHEN they page with a forged cursor (well-formed base64 JSON, but no key of theirs)
    forged = base64.urlsafe_b64encode(json.dumps({"x": 1}).encode()).decode()
    response = platform.http.get(
        platform.url(f"/v1/citizens/{citizen_id}/consents/history"),
        params={"limit": "1", "cursor": forged},
        headers=me,
        timeout=15,
    )

    # THEN it is a 422 naming the cursor, not an internal error
    problem = assert_problem(response, 422, "validation")
    assert "cursor" in problem["detail"]
