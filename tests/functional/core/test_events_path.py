"""Functional: consent change requests as CloudEvents through the broker ingress (``POST /events``), the
``consent-change-requested`` Trigger, the consent event function, dead letters and their replay."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Any

import pytest
import requests

from local.harness import Platform
from local.manifests import load
from tests.functional.consent_support import (
    CONSENT_CHANGE_REQUESTED,
    CONSENT_CHANGED,
    REPO_ROOT,
    TEXT_VERSION,
    assert_problem,
    consents,
    granted,
    history,
    settle,
    text_sha256,
    wait_for_events,
)

pytestmark = pytest.mark.functional

SOURCE = "/legacy/oficinas/oac-centro"
TRIGGER = "consent-change-requested"
OFFICE_AGENT = {"kind": "agent", "id": "oac-centro-17", "level": 2}


def change_request(citizen_id: str, **overrides: Any) -> dict[str, Any]:
    """What an office back-office sends after a citizen signs the paper consent form."""
    data: dict[str, Any] = {
        "citizen_id": citizen_id,
        "purpose": "campaigns",
        "granted": True,
        "channels": ["postal"],
        "text_version": TEXT_VERSION,
        "actor": OFFICE_AGENT,
        "capture_channel": "office-paper",
        "captured_at": "2026-01-15T10:30:00+01:00",
        "document_ref": "OAC-2026-000123",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post_binary(
    platform: Platform,
    data: Any,
    *,
    event_id: str | None = None,
    type_: str = CONSENT_CHANGE_REQUESTED,
    subject: str | None = None,
    drop: tuple[str, ...] = (),
) -> requests.Response:
    headers = {
        "ce-specversion": "1.0",
        "ce-id": event_id or str(uuid.uuid4()),
        "ce-source": SOURCE,
        "ce-type": type_,
        "ce-time": "2026-01-15T09:31:00Z",
        "content-type": "application/json",
        **platform.sender(SOURCE),  # as the offices' back-office (legacy-oficinas)
    }
    if subject:
        headers["ce-subject"] = subject
    for name in drop:
        headers.pop(name)
    return platform.http.post(platform.url("/events"), data=json.dumps(data), headers=headers, timeout=15)


def post_structured(platform: Platform, event: dict[str, Any]) -> requests.Response:
    return platform.http.post(
        platform.url("/events"),
        data=json.dumps(event),
        headers={"content-type": "application/cloudevents+json", **platform.sender(SOURCE)},
        timeout=15,
    )


def structured(data: Any, *, event_id: str | None = None, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    event = {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": SOURCE,
        "type": CONSENT_CHANGE_REQUESTED,
        "datacontenttype": "application/json",
        "data": data,
    }
    return {k: v for k, v in event.items() if k not in drop}


def ingress_ids(platform: Platform) -> set[str]:
    found = platform.http.get(platform.url("/dev/events"), params={"limit": 1000}, timeout=10).json()["events"]
    return {e["id"] for e in found}


def deadletters_of(platform: Platform, event_id: str) -> list[dict[str, Any]]:
    return [d for d in platform.deadletters() if d["event"]["id"] == event_id]


def wait_for_proof(platform: Platform, citizen_id: str, count: int = 1) -> list[dict[str, Any]]:
    me = platform.as_(citizen_id)
    return list(
        platform.wait_for(
            lambda: len(proofs := history(platform, citizen_id, me)["proofs"]) >= count and proofs,
            what=f"{count} proof(s) for {citizen_id}",
        )
    )


@pytest.mark.parametrize("mode", ["binary", "structured"])
def test_a_change_request_from_an_office_changes_the_consent(platform: Platform, citizen_id: str, mode: str) -> None:
    # GIVEN a citizen who signed the paper form for campaigns by post at an office
    event_id = str(uuid.uuid4())
    data = change_request(citizen_id)

    # WHEN the office back-office sends the change request to the broker (binary or structured mode)
    if mode == "binary":
        response = post_binary(platform, data, event_id=event_id, subject=citizen_id)
    else:
        response = post_structured(platform, structured(data, event_id=event_id))

    # THEN the broker accepts it, and the citizen's consent changes with a proof that names the office agent,
    # the paper form and when it was signed
    assert response.status_code == 202, response.text
    (proof,) = wait_for_proof(platform, citizen_id)
    me = platform.as_(citizen_id)
    assert granted(consents(platform, citizen_id, me)) == {("campaigns", "postal")}
    assert proof["actor"] == OFFICE_AGENT
    assert proof["capture_channel"] == "office-paper"
    assert proof["document_ref"] == "OAC-2026-000123"
    assert datetime.fromisoformat(proof["captured_at"]) == datetime.fromisoformat("2026-01-15T10:30:00+01:00")
    assert proof["text_sha256"] == text_sha256("campaigns", "es")
    assert proof["access_purpose"] == f"event {SOURCE}#{event_id}"
    # AND a consent.changed event announces it, with the same proof and actor
    (event,) = wait_for_events(platform, CONSENT_CHANGED, citizen_id)
    assert event["data"]["proof_id"] == proof["proof_id"]
    assert event["data"]["actor"]["id"] == OFFICE_AGENT["id"]
    assert event["data"]["after"] == {"granted": True, "channels": ["postal"], "text_version": TEXT_VERSION}


@pytest.mark.units_of_work
def test_a_redelivered_change_request_is_applied_once(platform: Platform, citizen_id: str) -> None:
    # GIVEN a change request for a citizen
    event_id = str(uuid.uuid4())
    data = change_request(citizen_id, purpose="surveys")

    # WHEN the same event (same source and id) reaches the broker three times
    answers = [post_binary(platform, data, event_id=event_id, subject=citizen_id) for _ in range(3)]

    # THEN each is accepted and fanned out, but the consent function records one proof and one event
    assert [a.status_code for a in answers] == [202, 202, 202]
    wait_for_proof(platform, citizen_id)
    platform.wait_for(
        lambda: len([e for e in platform.received(CONSENT_CHANGE_REQUESTED, citizen_id) if e["id"] == event_id]) >= 3,
        what="the three deliveries at the event display",
    )
    settle(platform)
    proofs = history(platform, citizen_id, platform.as_(citizen_id))["proofs"]
    assert [(p["purpose"], p["granted"]) for p in proofs] == [("surveys", True)]
    assert len(platform.events(CONSENT_CHANGED, citizen_id)) == 1
    assert deadletters_of(platform, event_id) == []


@pytest.mark.parametrize(
    ("mode", "missing"),
    [("binary", "ce-id"), ("binary", "ce-source"), ("structured", "type"), ("structured", "specversion")],
)
def test_an_envelope_without_a_required_attribute_is_refused_at_the_ingress(
    platform: Platform, citizen_id: str, mode: str, missing: str
) -> None:
    # GIVEN a change request missing a required CloudEvents attribute
    data = change_request(citizen_id)
    event_id = str(uuid.uuid4())

    # WHEN it is sent to the broker
    if mode == "binary":
        response = post_binary(platform, data, event_id=event_id, drop=(missing,))
    else:
        response = post_structured(platform, structured(data, event_id=event_id, drop=(missing,)))

    # THEN 400 invalid-event as a problem, the broker keeps nothing and the consent is untouched
    assert_problem(response, 400, "invalid-event")
    assert event_id not in ingress_ids(platform)
    assert history(platform, citizen_id, platform.as_(citizen_id))["proofs"] == []


@pytest.mark.parametrize(
    ("data_change", "code", "field"),
    [
        ({"granted": None}, 400, "granted"),
        ({"purpose": "horoscope"}, 422, "purpose"),
        ({"channels": ["pigeon"]}, 422, "channels"),
    ],
    ids=["granted-missing", "unknown-purpose", "unknown-channel"],
)
def test_a_change_request_with_invalid_data_is_dead_lettered_with_the_reason(
    platform: Platform, citizen_id: str, data_change: dict[str, Any], code: int, field: str
) -> None:
    # GIVEN a well-formed envelope whose data breaks the schema or the published terms
    event_id = str(uuid.uuid4())
    data = change_request(citizen_id, **data_change)

    # WHEN it is sent to the broker
    response = post_binary(platform, data, event_id=event_id, subject=citizen_id)

    # THEN the ingress accepts it (it is a valid CloudEvent), and the consent trigger dead-letters it at
    # once with the function's answer: the code and a reason naming the field
    assert response.status_code == 202, response.text
    (dead,) = platform.wait_for(lambda: deadletters_of(platform, event_id), what="the dead letter")
    assert dead["trigger"] == TRIGGER
    assert dead["subscriber"] == "pic-consent-events"
    assert dead["code"] == code
    assert dead["attempts"] == 1
    reason = json.loads(dead["reason"])
    assert reason["status"] == code
    assert field in {e["field"] for e in reason.get("errors", [])}, reason
    assert dead["event"]["knativeerrorcode"] == str(code)
    assert field in base64.b64decode(dead["event"]["knativeerrordata"]).decode()
    # AND nothing changed for the citizen
    assert history(platform, citizen_id, platform.as_(citizen_id))["proofs"] == []


def test_replaying_a_dead_letter_that_is_still_invalid_dead_letters_it_again(
    platform: Platform, citizen_id: str
) -> None:
    # GIVEN a dead-lettered change request (granted missing)
    event_id = str(uuid.uuid4())
    data = change_request(citizen_id, granted=None)
    assert post_binary(platform, data, event_id=event_id, subject=citizen_id).status_code == 202
    (dead,) = platform.wait_for(lambda: deadletters_of(platform, event_id), what="the dead letter")

    # WHEN an operator replays it without fixing anything (as the replay tool's identity)
    response = platform.replay(dead["id"])

    # THEN the replay is accepted for the same trigger, it fails the same way, and there is one more dead letter
    assert response.status_code == 202, response.text
    assert response.json() == {"id": dead["id"], "trigger": TRIGGER, "event_id": event_id}
    letters = platform.wait_for(
        lambda: len(found := deadletters_of(platform, event_id)) == 2 and found, what="2nd dead letter"
    )
    newest, original = letters
    assert original["id"] == dead["id"] and original["replayed_at"] is not None
    assert newest["trigger"] == TRIGGER and newest["code"] == 400
    assert "granted" in newest["reason"]
    assert history(platform, citizen_id, platform.as_(citizen_id))["proofs"] == []


def test_replaying_a_dead_letter_that_does_not_exist_is_a_404_problem(platform: Platform) -> None:
    # GIVEN no dead letter 999999

    # WHEN it is replayed
    response = platform.replay(999999)

    # THEN 404 as a problem
    assert_problem(response, 404, "not-found")


def test_an_event_no_function_filters_on_only_reaches_the_catch_all_display(platform: Platform) -> None:
    # GIVEN an event of a type no PIC function subscribes to (a developer tool's probe: the local overlay's
    # EventPolicy admits local-dev-tools for dev.pic.* types from /dev/ sources)
    event_id = str(uuid.uuid4())
    type_ = "dev.pic.nobody.listens.v1"
    triggers = load(REPO_ROOT / "infra/k8s/overlays/local").triggers
    matching = [t for t in triggers if t.matches({"type": type_, "source": "/dev/tests", "id": event_id})]

    # WHEN it is sent to the broker
    response = platform.send_event(
        type_, {"hello": "world"}, source="/dev/tests", event_id=event_id, account="local-dev-tools"
    )

    # THEN it is accepted, and fanned out only to the local overlay's unfiltered event-display Trigger
    # (no Trigger filters on its type: in the base, without the overlay, the fan-out would be 0)
    assert response.status_code == 202
    assert all(not t.filters for t in matching)
    assert [t.name for t in matching] == ["event-display-all"]
    assert response.headers["X-Pic-Fanout"] == str(len(matching))
    received = platform.wait_for(
        lambda: [e for e in platform.received(type_) if e["id"] == event_id], what="the event at the display"
    )
    assert received[0]["data"] == {"hello": "world"}
    assert deadletters_of(platform, event_id) == []


def test_a_change_request_is_fanned_out_to_the_consent_trigger(platform: Platform, citizen_id: str) -> None:
    # GIVEN a valid change request

    # WHEN it is sent to the broker
    response = post_binary(platform, change_request(citizen_id, purpose="location", channels=[]), subject=citizen_id)

    # THEN the fan-out counts the consent trigger and the display, and the consent is given
    assert response.status_code == 202
    assert response.headers["X-Pic-Fanout"] == "2"
    wait_for_proof(platform, citizen_id)
    assert granted(consents(platform, citizen_id, platform.as_(citizen_id))) == {("location", None)}
