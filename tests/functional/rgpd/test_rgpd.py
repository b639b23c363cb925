"""Functional: data-subject rights (RGPD) through real HTTP and CloudEvents — a request is opened on the channel
API, fans out by ``rgpd.request.opened`` through the outbox, broker and Triggers to the consent domain, whose
``rgpd.domain.answered`` comes back to the rgpd event function and completes the request."""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from datetime import datetime
from typing import Any

import pytest
import requests

from functions.rgpd import deadlines
from local.harness import Platform
from tests.functional.consent_support import (
    CONSENT_CHANGED,
    GIVE,
    assert_problem,
    citizen_url,
    consents,
    field_names,
    granted,
    history,
    put_consent,
    settle,
    wait_for_events,
)

pytestmark = pytest.mark.functional

REQUEST_OPENED = "es.madrid.pic.rgpd.request.opened.v1"
DOMAIN_ANSWERED = "es.madrid.pic.rgpd.domain.answered.v1"
FLAGS_CHANGED = "es.madrid.pic.rgpd.flags.changed.v1"
REQUEST_EXTENDED = "es.madrid.pic.rgpd.request.extended.v1"
REQUEST_COMPLETED = "es.madrid.pic.rgpd.request.completed.v1"


def json_headers(platform: Platform, sub: str, **claims: Any) -> dict[str, str]:
    return {**platform.as_(sub, **claims), "content-type": "application/json"}


def open_request(
    platform: Platform, citizen_id: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> requests.Response:
    headers = headers or json_headers(platform, citizen_id)
    return platform.http.post(
        citizen_url(platform, citizen_id, "/rgpd-requests"), json=body, headers=headers, timeout=15
    )


def fetch(platform: Platform, request_id: str, headers: dict[str, str]) -> requests.Response:
    return platform.http.get(platform.url(f"/v1/rgpd-requests/{request_id}"), headers=headers, timeout=15)


def wait_completed(platform: Platform, request_id: str, headers: dict[str, str]) -> dict[str, Any]:
    def completed() -> dict[str, Any] | None:
        response = fetch(platform, request_id, headers)
        assert response.status_code == 200, response.text
        body = dict(response.json())
        return body if body["status"] == "completed" else None

    return dict(platform.wait_for(completed, timeout=60, what=f"request {request_id} completed"))


def domain(view: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [d for d in view["domains"] if d["domain"] == name]
    return dict(found)


def contact(platform: Platform, citizen_id: str, purpose: str, channel: str) -> dict[str, Any]:
    response = platform.http.get(
        citizen_url(platform, citizen_id, "/contact-decision"),
        params={"purpose": purpose, "channel": channel},
        headers=platform.as_("svc-notifications", role="system"),
        timeout=15,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def a_citizen_with_consents(platform: Platform, citizen_id: str) -> dict[str, str]:
    """A citizen who consented to campaigns by e-mail, has preferences and an alert subscription."""
    me = json_headers(platform, citizen_id)
    assert put_consent(platform, citizen_id, "campaigns", {**GIVE, "channels": ["email"]}, me).status_code == 200
    prefs = {"language": "en", "channels": ["email"]}
    assert platform.http.put(citizen_url(platform, citizen_id, "/preferences"), json=prefs, headers=me).ok
    sub = {"topic": "traffic", "zone": "01"}
    assert platform.http.post(citizen_url(platform, citizen_id, "/subscriptions"), json=sub, headers=me).ok
    return me


# ---- access and portability --------------------------------------------------------------------------


@pytest.mark.parametrize("right", ["access", "portability"])
def test_an_access_request_completes_with_the_consent_export_in_a_zip_of_json_and_csv(
    platform: Platform, citizen_id: str, right: str
) -> None:
    # GIVEN a citizen with a consent, preferences and a subscription
    me = a_citizen_with_consents(platform, citizen_id)

    # WHEN they ask for a copy of their data
    response = open_request(platform, citizen_id, {"right": right})

    # THEN the request is accepted with its id and the art. 12.3 deadline, one month from receipt
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert response.headers["Location"] == f"/v1/rgpd-requests/{accepted['request_id']}"
    opened_at = datetime.fromisoformat(accepted["opened_at"])
    assert datetime.fromisoformat(accepted["due_at"]) == deadlines.due_at(opened_at)
    assert "consent" in accepted["domains"]
    (opened,) = wait_for_events(platform, REQUEST_OPENED, citizen_id)
    assert opened["data"]["request_id"] == accepted["request_id"]

    # AND it completes once the consent domain has answered, with proof of who answered, when and what
    view = wait_completed(platform, accepted["request_id"], me)
    consent = domain(view, "consent")
    assert consent["outcome"] == "done"
    assert consent["proof"]["event_source"] == "/pic/consent"
    assert {a["result"] for a in consent["actions"]} == {"exported"}
    assert view["overdue"] is False
    assert view["export"] == f"/v1/rgpd-requests/{accepted['request_id']}/export"

    # AND the export is a zip with the whole JSON document and one CSV per table
    export = platform.http.get(platform.url(view["export"]), headers=me, timeout=15)
    assert export.status_code == 200, export.text
    assert export.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(export.content))
    names = set(archive.namelist())
    assert {"export.json", "consent/proofs.csv", "consent/subscriptions.csv", "consent/preferences.csv"} <= names
    assert {"rgpd/requests.csv", "rgpd/flags.csv"} <= names  # the requests themselves are data held too
    document = json.loads(archive.read("export.json"))
    data = document["domains"]["consent"]["data"]
    assert [p["purpose"] for p in data["proofs"]] == ["campaigns"]
    assert data["preferences"]["language"] == "en"
    assert [s["id"] for s in data["subscriptions"]] == ["traffic.01"]
    proofs = list(csv.DictReader(io.StringIO(archive.read("consent/proofs.csv").decode("utf-8"))))
    assert proofs[0]["purpose"] == "campaigns" and proofs[0]["channels"] == '["email"]'
    assert proofs[0]["actor.id"] == citizen_id

    # AND the completion was announced once, so the person can be told the export is ready
    (completed,) = wait_for_events(platform, REQUEST_COMPLETED, citizen_id)
    assert completed["data"]["export"] == view["export"]


def test_the_export_waits_for_completion_and_other_rights_have_none(platform: Platform, citizen_id: str) -> None:
    # GIVEN an objection request (no export)
    me = json_headers(platform, citizen_id)
    accepted = open_request(platform, citizen_id, {"right": "objection", "purposes": ["surveys"]}).json()

    # WHEN its export is asked for
    response = platform.http.get(platform.url(f"/v1/rgpd-requests/{accepted['request_id']}/export"), headers=me)

    # THEN it is a 409 problem saying why
    assert_problem(response, 409, "rgpd-export-not-ready")


# ---- erasure ------------------------------------------------------------------------------------------


@pytest.mark.units_of_work
def test_an_erasure_completes_with_what_was_erased_and_what_is_kept_with_its_legal_basis(
    platform: Platform, citizen_id: str
) -> None:
    # GIVEN a citizen with a consent, preferences and a subscription
    me = a_citizen_with_consents(platform, citizen_id)

    # WHEN they ask for erasure
    response = open_request(platform, citizen_id, {"right": "erasure", "grounds": "consent-withdrawn"})
    assert response.status_code == 202, response.text
    view = wait_completed(platform, response.json()["request_id"], me)

    # THEN the consent domain erased preferences, subscriptions and consents in force, and kept the proofs
    # with their legal basis (evidence of consent, RGPD art. 7.1; LOPDGDD prescription)
    consent = domain(view, "consent")
    results = {a["what"]: a for a in consent["actions"]}
    erased = {what for what, a in results.items() if a["result"] == "erased"}
    assert {"contact preferences", "alert subscriptions"} <= erased
    assert any(w.startswith("consents in force withdrawn") for w in erased)
    (kept,) = [a for a in consent["actions"] if a["result"] == "kept" and a["category"] == "consent-proofs"]
    assert kept["count"] == 2  # the consent and the withdrawal the erasure recorded
    assert "RGPD art. 7.1" in kept["legal_basis"] and "LOPDGDD" in kept["legal_basis"]

    # AND the citizen's data shows it: nothing granted, default preferences, no subscriptions, proofs kept
    assert granted(consents(platform, citizen_id, me)) == set()
    prefs = platform.http.get(citizen_url(platform, citizen_id, "/preferences"), headers=me).json()
    assert prefs["language"] == "es" and prefs["channels"] == []
    subs = platform.http.get(citizen_url(platform, citizen_id, "/subscriptions"), headers=me).json()
    assert subs["subscriptions"] == []
    proofs = history(platform, citizen_id, me)["proofs"]
    assert [p["action"] for p in proofs] == ["withdraw", "give"]
    assert proofs[0]["actor"]["id"] == "pic-rgpd"

    # AND the withdrawal was announced like any other consent change
    changes = wait_for_events(platform, CONSENT_CHANGED, citizen_id, count=2)
    assert changes[0]["data"]["after"]["granted"] is False


def test_a_rectification_completes_with_the_consent_domain_holding_none_of_those_fields(
    platform: Platform, citizen_id: str
) -> None:
    # GIVEN a citizen who wants their e-mail corrected
    me = json_headers(platform, citizen_id)
    body = {"right": "rectification", "fields": {"email": "ana.garcia@example.org"}, "note": "typo in my e-mail"}

    # WHEN they ask for rectification
    response = open_request(platform, citizen_id, body)
    assert response.status_code == 202, response.text

    # THEN the request carries the validated fields, and the consent domain answers "not applicable"
    view = wait_completed(platform, response.json()["request_id"], me)
    assert view["details"] == {"fields": {"email": "ana.garcia@example.org"}, "note": "typo in my e-mail"}
    assert domain(view, "consent")["outcome"] == "not-applicable"
    assert view["export"] is None


# ---- restriction and objection ---------------------------------------------------------------------


def test_a_restriction_flips_the_contact_decision_but_legal_notices_still_go(
    platform: Platform, citizen_id: str
) -> None:
    # GIVEN a citizen who consented to campaigns by e-mail, so campaigns may reach them
    me = a_citizen_with_consents(platform, citizen_id)
    assert contact(platform, citizen_id, "campaigns", "email")["allow"] is True

    # WHEN they ask to restrict processing while the accuracy of their data is checked
    response = open_request(platform, citizen_id, {"right": "restriction", "grounds": "accuracy-contested"})
    assert response.status_code == 202, response.text
    view = wait_completed(platform, response.json()["request_id"], me)

    # THEN the flags changed, the consent domain answered "restricted", and campaigns may no longer reach
    # them, with the reason, while legal-obligation notices still may
    (flags,) = wait_for_events(platform, FLAGS_CHANGED, citizen_id)
    assert flags["data"]["restricted"] is True
    assert [a["result"] for a in domain(view, "consent")["actions"]] == ["restricted"]
    decision = contact(platform, citizen_id, "campaigns", "email")
    assert decision["allow"] is False
    assert any("RGPD art. 18" in r for r in decision["reasons"])
    assert contact(platform, citizen_id, "service-notifications", "email")["allow"] is True
    current = platform.http.get(citizen_url(platform, citizen_id, "/rgpd-flags"), headers=me).json()
    assert current["restricted"] is True

    # AND lifting the restriction lets campaigns through again
    lifted = open_request(platform, citizen_id, {"right": "restriction", "grounds": "accuracy-contested", "lift": True})
    wait_completed(platform, lifted.json()["request_id"], me)
    assert contact(platform, citizen_id, "campaigns", "email")["allow"] is True


def test_an_objection_to_a_purpose_stops_contact_for_it_only(platform: Platform, citizen_id: str) -> None:
    # GIVEN a citizen who consented to campaigns and surveys by e-mail
    me = json_headers(platform, citizen_id)
    for purpose in ("campaigns", "surveys"):
        assert put_consent(platform, citizen_id, purpose, {**GIVE, "channels": ["email"]}, me).status_code == 200

    # WHEN they object to surveys
    response = open_request(platform, citizen_id, {"right": "objection", "purposes": ["surveys"]})
    view = wait_completed(platform, response.json()["request_id"], me)

    # THEN surveys are refused with the art. 21 reason, and campaigns are not affected
    assert [a["what"] for a in domain(view, "consent")["actions"]] == [
        "contact decisions: no contact for purpose surveys"
    ]
    refused = contact(platform, citizen_id, "surveys", "email")
    assert refused["allow"] is False and any("RGPD art. 21" in r for r in refused["reasons"])
    assert contact(platform, citizen_id, "campaigns", "email")["allow"] is True


# ---- who may ask -----------------------------------------------------------------------------------


def test_another_citizens_data_is_forbidden_but_an_agent_may_ask_on_their_behalf(
    platform: Platform, citizen_id: str
) -> None:
    # GIVEN another citizen
    other = f"c-{uuid.uuid4().hex[:12]}"

    # WHEN they ask for access to this citizen's data
    response = open_request(platform, citizen_id, {"right": "access"}, json_headers(platform, other))

    # THEN it is a 403 problem, and no request was opened
    assert_problem(response, 403, "forbidden")
    me = platform.as_(citizen_id)
    listed = platform.http.get(citizen_url(platform, citizen_id, "/rgpd-requests"), headers=me).json()
    assert listed["requests"] == []

    # AND an attention agent may open it on the citizen's behalf, which the request records
    agent = {**json_headers(platform, "agent-7", role="agent", level=1), "Access-Purpose": "OAC-Centro ticket A-17"}
    response = open_request(platform, citizen_id, {"right": "access"}, agent)
    assert response.status_code == 202, response.text
    request_id = response.json()["request_id"]
    view = fetch(platform, request_id, me).json()
    assert view["requested_by"] == {
        "kind": "agent",
        "id": "agent-7",
        "level": 1,
        "access_purpose": "OAC-Centro ticket A-17",
    }

    # AND the other citizen may not read it
    assert_problem(fetch(platform, request_id, platform.as_(other)), 403, "forbidden")


def test_an_unknown_request_is_a_404_to_an_agent_and_a_403_to_a_citizen(platform: Platform, citizen_id: str) -> None:
    # GIVEN a request id nobody has
    # WHEN an agent of the DPO's office looks for it THEN 404; WHEN a citizen does THEN 403 (no oracle of ids)
    dpo = {**platform.as_("dpd-2", role="agent", level=2, area="proteccion-datos"), "Access-Purpose": "RGPD-2026-7"}
    assert_problem(fetch(platform, "rgpd-nope", dpo), 404, "rgpd-request-not-found")
    assert_problem(fetch(platform, "rgpd-nope", platform.as_(citizen_id)), 403, "forbidden")


# ---- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"right": "forget-me"}, {"right"}),
        ({}, {"right"}),
        ({"right": "rectification"}, {"fields"}),
        (
            {
                "right": "rectification",
                "fields": {"shoe_size": "42", "email": "not-an-email", "birth_date": "1990-13-01"},
            },
            {"fields.shoe_size", "fields.email", "fields.birth_date"},
        ),
        ({"right": "objection", "purposes": ["service-notifications", "gossip"]}, {"purposes.0", "purposes.1"}),
        ({"right": "restriction"}, {"grounds"}),
        ({"right": "access", "purposes": ["campaigns"]}, {"purposes"}),
    ],
    ids=[
        "unknown right",
        "no right",
        "rectification without fields",
        "bad fields",
        "bad purposes",
        "no grounds",
        "field of another right",
    ],
)
def test_invalid_rights_and_fields_are_422_naming_each(
    platform: Platform, citizen_id: str, body: dict[str, Any], fields: set[str]
) -> None:
    # WHEN a request does not fit its right
    response = open_request(platform, citizen_id, body)

    # THEN it is a 422 problem naming every invalid field, and nothing was written or sent
    problem = assert_problem(response, 422)
    assert field_names(problem) == fields, problem
    me = platform.as_(citizen_id)
    assert platform.http.get(citizen_url(platform, citizen_id, "/rgpd-requests"), headers=me).json()["requests"] == []


def test_a_request_that_is_not_json_is_a_problem(platform: Platform, citizen_id: str) -> None:
    headers = {**platform.as_(citizen_id), "content-type": "application/json"}
    response = platform.http.post(citizen_url(platform, citizen_id, "/rgpd-requests"), data="{", headers=headers)
    assert_problem(response, 400, "malformed-request")


def test_the_idempotency_key_replays_the_first_answer(platform: Platform, citizen_id: str) -> None:
    # GIVEN a request sent with an Idempotency-Key
    headers = {**json_headers(platform, citizen_id), "Idempotency-Key": str(uuid.uuid4())}
    first = open_request(platform, citizen_id, {"right": "access"}, headers)
    assert first.status_code == 202, first.text

    # WHEN it is sent again, and then with the same key and another body
    again = open_request(platform, citizen_id, {"right": "access"}, headers)
    other = open_request(platform, citizen_id, {"right": "portability"}, headers)

    # THEN the retry answers the same request, and the other body is refused
    assert again.status_code == 202 and again.json()["request_id"] == first.json()["request_id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert_problem(other, 422, "idempotency-key-reused")
    settle(platform)
    assert len(platform.events(REQUEST_OPENED, citizen_id)) == 1


# ---- deadline and its extension ---------------------------------------------------------------------


def test_an_agent_extends_the_deadline_once_with_a_reason(platform: Platform, citizen_id: str) -> None:
    # GIVEN an open request
    accepted = open_request(platform, citizen_id, {"right": "access"}).json()
    url = platform.url(f"/v1/rgpd-requests/{accepted['request_id']}/extension")
    body = {"reason": "the data is spread over many archived area systems"}

    # WHEN the citizen tries to extend it, THEN it is forbidden: the controller extends
    assert_problem(platform.http.post(url, json=body, headers=json_headers(platform, citizen_id)), 403)

    # WHEN an agent extends it with a reason
    agent = {
        **json_headers(platform, "agent-9", role="agent", level=2, area="proteccion-datos"),
        "Access-Purpose": "RGPD-2026-0042",
    }
    response = platform.http.post(url, json=body, headers=agent)

    # THEN the deadline is three months from receipt and the extension is recorded with who and why
    assert response.status_code == 200, response.text
    view = response.json()
    opened_at = datetime.fromisoformat(accepted["opened_at"])
    assert datetime.fromisoformat(view["due_at"]) == deadlines.extended_due_at(opened_at)
    assert view["extension"]["reason"] == body["reason"] and view["extension"]["by"] == "agent-9"
    assert datetime.fromisoformat(view["extension"]["due_at_before"]) == deadlines.due_at(opened_at)
    (extended,) = wait_for_events(platform, REQUEST_EXTENDED, citizen_id)
    assert extended["data"]["reason"] == body["reason"]  # for the notice the person must receive

    # AND a second extension is refused; one without a reason is a 422 naming it
    again = {**body, "reason": "and there is even more to look for"}
    assert_problem(platform.http.post(url, json=again, headers=agent), 422, "rgpd-extension-refused")
    assert "reason" in field_names(assert_problem(platform.http.post(url, json={}, headers=agent), 422))


# ---- the domains' answers as CloudEvents -----------------------------------------------------------


def post_binary(platform: Platform, event: dict[str, Any]) -> requests.Response:
    headers = {f"ce-{k}": str(v) for k, v in event.items() if k not in ("data", "datacontenttype")}
    headers["content-type"] = "application/json"
    headers.update(platform.sender(event["source"]))
    return platform.http.post(platform.url("/events"), data=json.dumps(event["data"]), headers=headers, timeout=15)


def post_structured(platform: Platform, event: dict[str, Any], account: str | None = None) -> requests.Response:
    headers = {"content-type": "application/cloudevents+json", **platform.sender(event["source"], account)}
    return platform.http.post(platform.url("/events"), data=json.dumps(event), headers=headers, timeout=15)


@pytest.mark.parametrize("mode", ["binary", "structured"])
@pytest.mark.units_of_work
def test_a_redelivered_answer_changes_nothing(platform: Platform, citizen_id: str, mode: str) -> None:
    # GIVEN an access request the consent domain has answered
    me = a_citizen_with_consents(platform, citizen_id)
    request_id = open_request(platform, citizen_id, {"right": "access"}).json()["request_id"]
    before = wait_completed(platform, request_id, me)
    answers = wait_for_events(platform, DOMAIN_ANSWERED, citizen_id, count=len(before["domains"]))
    (answer,) = [a for a in answers if a["source"] == "/pic/consent"]

    # WHEN the broker delivers the same answer again (same source and id), in binary or structured mode
    event = {k: v for k, v in answer.items() if k in ("specversion", "id", "source", "type", "subject", "time", "data")}
    post = post_binary if mode == "binary" else post_structured
    assert post(platform, event).status_code == 202
    # AND the domain sends a second answer (a new id) after its final one
    assert (
        post(
            platform,
            {**event, "id": str(uuid.uuid4()), "data": {**event["data"], "outcome": "failed", "reason": "late"}},
        ).status_code
        == 202
    )
    settle(platform)

    # THEN the request and its proof are unchanged, it was announced complete once, and nothing was dead-lettered
    after = fetch(platform, request_id, me).json()
    assert after["status"] == "completed"
    assert domain(after, "consent") == domain(before, "consent")
    assert len(platform.events(REQUEST_COMPLETED, citizen_id)) == 1
    assert not [d for d in platform.deadletters() if d["event"].get("subject") == citizen_id]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"data": {"request_id": "rgpd-unknown"}}, "no data-subject request rgpd-unknown"),
        ({"data": {"domain": "no-such-domain"}}, "is not among the domains that must answer"),
        ({"data": {"actions": [{"what": "x", "count": 1, "result": "shredded"}]}}, "does not match the schema"),
    ],
    ids=["unknown request", "domain that need not answer", "invalid data"],
)
def test_a_bad_answer_is_dead_lettered_with_the_reason(
    platform: Platform, citizen_id: str, change: dict[str, Any], reason: str
) -> None:
    # GIVEN an open request
    request_id = open_request(platform, citizen_id, {"right": "access"}).json()["request_id"]
    data = {
        "request_id": request_id,
        "citizen_id": citizen_id,
        "domain": "consent",
        "outcome": "done",
        "actions": [],
        "answered_at": "2026-03-02T09:14:07Z",
    }
    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": change.get("source", "/pic/consent"),
        "type": DOMAIN_ANSWERED,
        "subject": citizen_id,
        "data": {**data, **change.get("data", {})},
    }

    # WHEN such an answer reaches the broker
    assert post_structured(platform, event).status_code == 202

    # THEN it is dead-lettered with the reason, never silently dropped
    dead = platform.wait_for(
        lambda: [d for d in platform.deadletters() if d["event"]["id"] == event["id"]], what="the dead letter"
    )
    assert reason in json.dumps(dead[0]), dead[0]


def test_an_answer_from_a_source_that_is_not_its_senders_is_refused_at_the_broker(
    platform: Platform, citizen_id: str
) -> None:
    # GIVEN an open request, and an answer the consent domain's identity sends with another system's source
    request_id = open_request(platform, citizen_id, {"right": "access"}).json()["request_id"]
    data = {"request_id": request_id, "citizen_id": citizen_id, "domain": "consent", "outcome": "done", "actions": []}
    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "/legacy/impostor",
        "type": DOMAIN_ANSWERED,
        "subject": citizen_id,
        "data": {**data, "answered_at": "2026-03-02T09:14:07Z"},
    }

    # WHEN it reaches the broker
    response = post_structured(platform, event, account="pic-consent-relay")

    # THEN the broker refuses it, naming the source the sender is bound to, and keeps nothing
    problem = assert_problem(response, 403, "sender-not-allowed")
    assert "source = /pic/consent" in problem["detail"]
    assert not [e for e in platform.events(DOMAIN_ANSWERED, citizen_id) if e["id"] == event["id"]]
