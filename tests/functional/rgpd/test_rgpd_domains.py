"""Functional: the position, interaction and audit domains answer data-subject requests, the restriction flag
reaches the position's policy, and pic-consent's reads reach the access log — through the real gateway,
broker, Triggers and outbox relay (HTTP + CloudEvents, binary and structured)."""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from functions.rgpd.service import expected_domains
from local.harness import Platform
from seed.position import ITEM_UPSERTED, Event, send
from tests.functional.consent_support import citizen_url, settle, wait_for_events

pytestmark = pytest.mark.functional

REQUEST_OPENED = "es.madrid.pic.rgpd.request.opened.v1"
DOMAIN_ANSWERED = "es.madrid.pic.rgpd.domain.answered.v1"
FLAGS_CHANGED = "es.madrid.pic.rgpd.flags.changed.v1"
CITIZEN_UPDATED = "es.madrid.pic.citizen.updated.v1"
DOMAINS = {"consent", "position", "interaction", "audit"}  # what this module checks; every domain answers
POSITION = "pic-position-events"
NOW = datetime.now(UTC).replace(microsecond=0)


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def post(platform: Platform, event: Event, structured: bool = False, event_id: str | None = None) -> None:
    answer = send(
        platform.http, platform.base, event, tokens=platform.senders, structured=structured, event_id=event_id
    )
    assert answer.status_code == 202, answer.text


def me(platform: Platform, citizen_id: str) -> dict[str, str]:
    return {**platform.as_(citizen_id), "content-type": "application/json"}


def agent(platform: Platform, level: int = 3, area: str = "hacienda", sub: str = "agente-rgpd") -> dict[str, str]:
    return platform.as_(sub, role="agent", level=level, area=area)


def position(platform: Platform, citizen_id: str, headers: dict[str, str]) -> requests.Response:
    return platform.http.get(platform.url(f"/v1/citizens/{citizen_id}/position"), headers=headers, timeout=15)


def sections(response: requests.Response) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.text
    return {s["section"]: s for s in response.json()["sections"]}


def access_log(platform: Platform, citizen_id: str) -> list[dict[str, Any]]:
    answer = platform.http.get(
        platform.url(f"/v1/citizens/{citizen_id}/access-log"), headers=platform.as_(citizen_id), timeout=15
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["entries"])


def open_request(platform: Platform, citizen_id: str, body: dict[str, Any]) -> str:
    response = platform.http.post(
        citizen_url(platform, citizen_id, "/rgpd-requests"), json=body, headers=me(platform, citizen_id), timeout=15
    )
    assert response.status_code == 202, response.text
    assert set(response.json()["domains"]) >= DOMAINS
    return str(response.json()["request_id"])


def wait_completed(platform: Platform, citizen_id: str, request_id: str) -> dict[str, Any]:
    def completed() -> dict[str, Any] | None:
        response = platform.http.get(
            platform.url(f"/v1/rgpd-requests/{request_id}"), headers=platform.as_(citizen_id), timeout=15
        )
        assert response.status_code == 200, response.text
        body = dict(response.json())
        assert body["status"] != "action-required", body
        return body if body["status"] == "completed" else None

    return dict(platform.wait_for(completed, timeout=45, what=f"request {request_id} completed"))


def answer_of(view: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [d for d in view["domains"] if d["domain"] == name]
    assert found["proof"]["event_source"] == f"/pic/{name}"
    return dict(found)


def link(source: str, local_id: str, citizen_id: str, at: datetime) -> Event:
    """C360's announcement that an area record belongs to the golden record (contracts.md §1)."""
    data = {
        "citizen_id": citizen_id,
        "link": {"source": source, "local_id": local_id, "change": "changed"},
        "match": {"method": "document", "score": 1.0, "evidence": ["functional test"]},
        "updated_at": iso(at),
    }
    return Event(CITIZEN_UPDATED, "/pic/citizen", citizen_id, data)


def tax(local_id: str, item_id: str) -> Event:
    data = {
        "local_id": local_id,
        "section": "taxes",
        "item_id": item_id,
        "status": "pending",
        "title": "IBI 2026",
        "area": "hacienda",
        "as_of": iso(NOW),
        "amount_eur": "312.45",
        "attributes": {"cadastral_reference": "9872023VK"},
    }
    return Event(ITEM_UPSERTED, "/legacy/tributos", local_id, data)


def record_interaction(platform: Platform, citizen_id: str, case_id: str | None = None) -> str:
    body: dict[str, Any] = {
        "interaction_id": f"it-{uuid.uuid4().hex[:10]}",
        "citizen_id": citizen_id,
        "channel": {"kind": "call", "direction": "inbound", "line": "010"},
        "area": "hacienda",
        "topic": "Duda sobre el recibo del IBI",
        "started_at": iso(NOW - timedelta(minutes=5)),
        "ended_at": iso(NOW),
    }
    if case_id:
        body["case_id"] = case_id
    response = platform.http.post(
        platform.url("/v1/interactions"),
        json=body,
        headers={
            **agent(platform),
            "Access-Purpose": "CALL-010-7",
            "content-type": "application/json",
            "Idempotency-Key": str(uuid.uuid4()),
        },
        timeout=15,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def a_person(platform: Platform, citizen_id: str) -> dict[str, Any]:
    """A person with a tax receipt (Tributos' record linked by C360), a consent, an interaction about a case
    and one about nothing in particular, all in their position, and one read of it in their access log."""
    tag = uuid.uuid4().hex[:8]
    local_id, item_id = f"TRB-{tag}", f"IBI-{tag}"
    post(platform, tax(local_id, item_id))
    post(platform, link("/legacy/tributos", local_id, citizen_id, NOW), structured=True)
    consent = platform.http.put(
        citizen_url(platform, citizen_id, "/consents/campaigns"),
        json={"granted": True, "channels": ["email"], "text_version": "2026-01"},
        headers=me(platform, citizen_id),
        timeout=15,
    )
    assert consent.status_code == 200, consent.text
    plain = record_interaction(platform, citizen_id)
    with_case = record_interaction(platform, citizen_id, case_id=f"EXP-{tag}")

    def ready() -> dict[str, dict[str, Any]] | None:
        found = sections(position(platform, citizen_id, platform.as_(citizen_id)))
        counts = [found[n]["summary"]["count"] for n in ("taxes", "consents", "interactions")]
        return found if counts == [1, 1, 2] else None

    platform.wait_for(ready, timeout=30, what="taxes, the consent and both interactions in the position")
    platform.wait_for(lambda: access_log(platform, citizen_id), timeout=20, what="the read in the access log")
    return {"local_id": local_id, "item_id": item_id, "plain": plain, "with_case": with_case, "tag": tag}


def csv_rows(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8"))))


# ---- access -----------------------------------------------------------------------------------------


def test_an_access_request_completes_with_every_domain_and_the_zip_holds_their_data(
    platform: Platform, citizen_id: str
) -> None:
    # GIVEN a person with data in every domain
    held = a_person(platform, citizen_id)

    # WHEN they ask for a copy of their data
    request_id = open_request(platform, citizen_id, {"right": "access"})
    view = wait_completed(platform, citizen_id, request_id)

    # THEN consent, position, interaction and audit all answered "done" with what they exported
    for name in DOMAINS:
        answer = answer_of(view, name)
        assert answer["outcome"] == "done", answer
        assert {a["result"] for a in answer["actions"]} == {"exported"}, answer
    position_actions = {a["what"]: a["count"] for a in answer_of(view, "position")["actions"]}
    assert position_actions["position section taxes: items with their source and freshness (as_of)"] == 1
    assert position_actions["position section interactions: items with their source and freshness (as_of)"] == 2
    assert [a["count"] for a in answer_of(view, "interaction")["actions"]] == [2]

    # AND the zip holds the position (each item with its source and as_of), the interactions and the log
    response = platform.http.get(platform.url(view["export"]), headers=platform.as_(citizen_id), timeout=15)
    assert response.status_code == 200, response.text
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    assert {"position/items.csv", "position/sections.csv", "interaction/interactions.csv"} <= names
    assert "audit/access_log.csv" in names
    items = csv_rows(archive, "position/items.csv")
    (receipt,) = [r for r in items if r["item_id"] == held["item_id"]]
    assert receipt["source"] == "/legacy/tributos" and receipt["section"] == "taxes"
    assert datetime.fromisoformat(receipt["as_of"]) == NOW
    assert receipt["attributes.cadastral_reference"] == "9872023VK"  # in full: it is their own data
    document = json.loads(archive.read("export.json"))["domains"]
    taxes = next(s for s in document["position"]["data"]["sections"] if s["section"] == "taxes")
    assert taxes["sources"] == [{"source": "/legacy/tributos", "as_of": NOW.isoformat()}]
    assert document["position"]["data"]["records"] == [{"source": "/legacy/tributos", "local_id": held["local_id"]}]
    interactions = csv_rows(archive, "interaction/interactions.csv")
    assert {r["id"] for r in interactions} == {held["plain"], held["with_case"]}
    assert {r["channel.kind"] for r in interactions} == {"call"}
    log = csv_rows(archive, "audit/access_log.csv")
    assert any(r["function"] == "pic-position" and r["reader.id"] == citizen_id for r in log)


@pytest.mark.units_of_work
def test_a_redelivered_request_is_answered_once_by_each_domain(platform: Platform, citizen_id: str) -> None:
    # GIVEN an access request every domain has answered
    a_person(platform, citizen_id)
    request_id = open_request(platform, citizen_id, {"right": "access"})
    wait_completed(platform, citizen_id, request_id)
    answers = wait_for_events(platform, DOMAIN_ANSWERED, citizen_id, count=len(expected_domains()))
    (opened,) = wait_for_events(platform, REQUEST_OPENED, citizen_id)

    # WHEN the broker delivers the request again (same source and id), in binary and in structured mode
    event = Event(REQUEST_OPENED, opened["source"], citizen_id, opened["data"])
    post(platform, event, event_id=opened["id"])
    post(platform, event, structured=True, event_id=opened["id"])
    settle(platform)

    # THEN nobody answered twice and nothing was dead-lettered
    assert len(platform.events(DOMAIN_ANSWERED, citizen_id)) == len(answers) == len(expected_domains())
    assert sorted(a["source"] for a in answers) == sorted(f"/pic/{d}" for d in expected_domains())
    assert not [d for d in platform.deadletters() if d["event"].get("subject") == citizen_id]


# ---- erasure ------------------------------------------------------------------------------------------


@pytest.mark.units_of_work
def test_an_erasure_erases_the_position_and_interactions_and_keeps_the_access_log_with_its_legal_basis(
    platform: Platform, citizen_id: str
) -> None:
    # GIVEN a person with data in every domain
    held = a_person(platform, citizen_id)

    # WHEN they ask for erasure
    request_id = open_request(platform, citizen_id, {"right": "erasure"})
    view = wait_completed(platform, citizen_id, request_id)

    # THEN the position erased its copies, section by section, and the record's link
    position_answer = answer_of(view, "position")
    erased = {a["what"].split(":")[0]: a["count"] for a in position_answer["actions"] if a["result"] == "erased"}
    assert erased["position section taxes"] == 1
    assert erased["position section interactions"] == 2
    assert any(w.startswith("links of area-system records") for w in erased)

    # AND the interaction log erased the plain call and kept the one about a case, with the file's legal basis,
    # and erased its copy of the Tributos record's link (through which it attaches interactions to the person)
    intx = answer_of(view, "interaction")["actions"]
    (erased_calls,) = [a for a in intx if a["result"] == "erased" and a["category"] == "interactions"]
    (erased_links,) = [a for a in intx if a["result"] == "erased" and a["what"].startswith("links of area-system")]
    assert erased_links["count"] == 1
    (with_the_file,) = [a for a in intx if a["category"] == "case-interactions"]
    assert erased_calls["count"] == 1
    assert with_the_file["result"] == "kept" and with_the_file["count"] == 1
    assert "Ley 39/2015" in with_the_file["legal_basis"]

    # AND the access log was kept, 3 years from each read, on accountability (RGPD art. 5.2; LOPDGDD 72-74)
    (kept,) = [a for a in answer_of(view, "audit")["actions"] if a["category"] == "access-log"]
    assert kept["result"] == "kept" and kept["count"] >= 1
    assert "RGPD art. 5.2" in kept["legal_basis"] and "LOPDGDD arts. 72-74" in kept["legal_basis"]

    # AND the data shows it: the position holds no tax nor interaction, the plain call is gone, the case's
    # call is still there, and the citizen still sees who read their data
    found = sections(position(platform, citizen_id, platform.as_(citizen_id)))
    assert found["taxes"]["summary"]["count"] == 0 and found["interactions"]["summary"]["count"] == 0
    reader = {**agent(platform), "Access-Purpose": f"EXP-{held['tag']}"}
    assert platform.http.get(platform.url(f"/v1/interactions/{held['plain']}"), headers=reader).status_code == 404
    assert platform.http.get(platform.url(f"/v1/interactions/{held['with_case']}"), headers=reader).status_code == 200
    assert any(e["function"] == "pic-position" for e in access_log(platform, citizen_id))


# ---- restriction --------------------------------------------------------------------------------------


def test_a_restriction_hides_the_position_from_agents_and_latest_flag_wins(platform: Platform, citizen_id: str) -> None:
    # GIVEN a person whose tax receipt a level-3 hacienda expert sees in full
    a_person(platform, citizen_id)
    expert = {**agent(platform), "Access-Purpose": "EXP-restriction"}
    assert sections(position(platform, citizen_id, expert))["taxes"]["view"] == "full"

    # WHEN the person restricts processing (RGPD art. 18)
    request_id = open_request(platform, citizen_id, {"right": "restriction", "grounds": "accuracy-contested"})
    view = wait_completed(platform, citizen_id, request_id)

    # THEN the position answered "restricted", and agents see nothing, told why; the citizen still sees all
    (action,) = answer_of(view, "position")["actions"]
    assert action["result"] == "restricted" and action["legal_basis"] == "RGPD art. 18"
    response = position(platform, citizen_id, expert)
    hidden = sections(response)
    assert all(s["summary"]["count"] == 0 and not s["items"] for s in hidden.values())
    assert any("RGPD art. 18" in r for r in response.json()["reasons"])
    assert sections(position(platform, citizen_id, platform.as_(citizen_id)))["taxes"]["summary"]["count"] == 1

    # WHEN an older flags event arrives late (binary and structured) THEN it changes nothing
    (flags,) = wait_for_events(platform, FLAGS_CHANGED, citizen_id)
    older = {**flags["data"], "restricted": False, "changed_at": iso(NOW - timedelta(days=1))}
    post(platform, Event(FLAGS_CHANGED, "/pic/rgpd", citizen_id, older), event_id=str(uuid.uuid4()))
    post(platform, Event(FLAGS_CHANGED, "/pic/rgpd", citizen_id, older), structured=True, event_id=str(uuid.uuid4()))
    settle(platform)
    assert sections(position(platform, citizen_id, expert))["taxes"]["summary"]["count"] == 0

    # WHEN the restriction is lifted THEN the expert sees the receipt again
    lifted = open_request(platform, citizen_id, {"right": "restriction", "grounds": "accuracy-contested", "lift": True})
    wait_completed(platform, citizen_id, lifted)
    assert sections(position(platform, citizen_id, expert))["taxes"]["view"] == "full"


def test_an_invalid_flags_event_is_dead_lettered_by_the_position_with_the_reason(platform: Platform) -> None:
    event_id = str(uuid.uuid4())
    bad = {"citizen_id": "c-x", "restricted": "perhaps", "changed_at": iso(NOW)}
    post(platform, Event(FLAGS_CHANGED, "/pic/rgpd", "c-x", bad), event_id=event_id)
    dead = platform.wait_for(
        lambda: [
            d
            for d in platform.deadletters()
            if d["event"]["id"] == event_id and d["subscriber"] == "pic-position-events"
        ],
        what="the position's dead letter",
    )
    assert dead[0]["code"] == 400 and "restricted" in dead[0]["reason"]


# ---- the access log of pic-consent ------------------------------------------------------------------------


def test_reading_consents_preferences_and_subscriptions_is_in_the_access_log(
    platform: Platform, citizen_id: str
) -> None:
    # GIVEN the citizen reads their consents, one purpose and their history, and an agent their preferences
    mine = platform.as_(citizen_id)
    for tail in ("/consents", "/consents/campaigns", "/consents/history", "/subscriptions"):
        response = platform.http.get(citizen_url(platform, citizen_id, tail), headers=mine, timeout=15)
        assert response.status_code == 200, (tail, response.text)
    helper = f"agente-{uuid.uuid4().hex[:6]}"
    headers = {**platform.as_(helper, role="agent", level=1, area="atencion-ciudadania"), "Access-Purpose": "010"}
    assert platform.http.get(citizen_url(platform, citizen_id, "/preferences"), headers=headers).status_code == 200
    # AND the agent and a notification system ask the contact decision; another citizen is refused
    params = {"purpose": "campaigns", "channel": "email"}
    decide = citizen_url(platform, citizen_id, "/contact-decision")
    assert platform.http.get(decide, params=params, headers=headers).status_code == 200
    system = platform.as_("svc-notifications", role="system")
    assert platform.http.get(decide, params=params, headers=system).status_code == 200
    stranger = platform.as_("c-stranger")
    assert platform.http.get(citizen_url(platform, citizen_id, "/consents"), headers=stranger).status_code == 403

    # THEN the access log holds each read, with its resource and sections, the agent's purpose and the refusal
    def entries() -> list[dict[str, Any]] | None:
        found = [e for e in access_log(platform, citizen_id) if e["function"] == "pic-consent"]
        return found if len(found) >= 8 else None

    found = platform.wait_for(entries, timeout=20, what="eight pic-consent reads in the access log")
    shown = {(e["reader"]["id"], e["resource"], tuple(e["sections"]), e["decision"]) for e in found}
    assert (citizen_id, "consents", ("consents:full",), "allowed") in shown
    assert (citizen_id, "consents", ("consents.campaigns:full",), "allowed") in shown
    assert (citizen_id, "consent-history", ("consent-history:full",), "allowed") in shown
    assert (citizen_id, "subscriptions", ("subscriptions:full",), "allowed") in shown
    # the agent of level 1 saw summaries only (policies/authz view), and said why
    assert (helper, "preferences", ("preferences:summary",), "allowed") in shown
    assert (helper, "contact-decision", ("contact-decision:summary",), "allowed") in shown
    assert ("c-stranger", "consents", (), "denied") in shown
    # an internal system that asks is a recipient too (RGPD art. 15.1.c)
    assert ("svc-notifications", "contact-decision", ("contact-decision:full",), "allowed") in shown
    (preferences,) = [e for e in found if e["resource"] == "preferences"]
    assert preferences["purpose"] == "010" and preferences["reader"]["role"] == "agent"


@pytest.mark.parametrize("bad_id", ["%1E%C2%B8x", "a b", "-starts-with-a-dash"])
def test_an_access_log_for_what_is_no_citizen_id_is_a_422_problem(platform: Platform, bad_id: str) -> None:
    # WHEN the access log of something that is no citizen id is asked for
    answer = platform.http.get(
        platform.url(f"/v1/citizens/{bad_id}/access-log"), headers=platform.as_("c-someone"), timeout=15
    )

    # THEN it is a 422 problem (no read was logged under such a subject: the relay could never publish it)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
