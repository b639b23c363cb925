"""Functional: the citizen (C360) domain answers data-subject requests through the real platform — the request
is opened on the rgpd channel API, fans out by ``rgpd.request.opened`` (broker, Trigger
``rgpd-request-opened-citizen``) to ``pic-citizen-events``, whose ``rgpd.domain.answered`` completes it — and
every read of a golden record lands in the person's access log."""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from typing import Any

import pytest

from local.harness import Platform
from tests.functional.citizen.test_citizen import (
    UPSERTED,
    agent,
    fresh_dni,
    golden,
    lookup,
    person,
    upsert,
    wait_for_citizen,
)
from tests.functional.citizen.test_citizen_matching import reviews, the_same_person_with_another_dni
from tests.functional.consent_support import settle
from tests.functional.rgpd.test_rgpd import (
    DOMAIN_ANSWERED,
    REQUEST_OPENED,
    domain,
    json_headers,
    open_request,
    post_binary,
    post_structured,
    wait_completed,
)

pytestmark = pytest.mark.functional

UPDATED = "es.madrid.pic.citizen.updated.v1"
PADRON, TRIBUTOS, SER = "/legacy/padron", "/legacy/tributos", "/legacy/ser"


def local_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def a_person_in_three_systems(platform: Platform) -> tuple[str, dict[str, str]]:
    """One person in the Padrón, Tributos and SER parking under the same DNI: one golden record, three links.
    Returns the golden id and the local ids per source."""
    dni = fresh_dni()
    ids = {PADRON: local_id("PAD"), TRIBUTOS: local_id("TRB"), SER: local_id("SER")}
    padron = person(ids[PADRON], dni)
    names = {k: padron[k] for k in ("given_name", "first_surname", "second_surname", "birth_date")}
    upsert(platform, PADRON, padron)
    citizen_id = wait_for_citizen(platform, PADRON, ids[PADRON])
    upsert(platform, TRIBUTOS, person(ids[TRIBUTOS], dni, email=f"{ids[TRIBUTOS].lower()}@example.org", **names))
    upsert(platform, SER, person(ids[SER], dni, phone="+34 600 123 456", **names))
    assert wait_for_citizen(platform, TRIBUTOS, ids[TRIBUTOS]) == citizen_id
    assert wait_for_citizen(platform, SER, ids[SER]) == citizen_id
    return citizen_id, ids


def answers_of(platform: Platform, citizen_id: str) -> list[dict[str, Any]]:
    return [e for e in platform.events(DOMAIN_ANSWERED, citizen_id) if e["source"] == "/pic/citizen"]


# ---- access and portability ------------------------------------------------------------------------


def test_an_access_request_exports_the_golden_record_its_links_as_received_and_its_reviews(
    platform: Platform,
) -> None:
    # GIVEN a person in the Padrón, and a Tributos record of the same person under another DNI (a review)
    citizen_id, other_id, pad, _, padron = the_same_person_with_another_dni(platform)
    me = json_headers(platform, citizen_id)

    # WHEN they ask for a copy of their data
    response = open_request(platform, citizen_id, {"right": "access"}, me)
    assert response.status_code == 202, response.text
    assert "citizen" in response.json()["domains"]
    view = wait_completed(platform, response.json()["request_id"], me)

    # THEN the citizen domain answered, with proof, what it exported
    citizen = domain(view, "citizen")
    assert citizen["outcome"] == "done" and citizen["proof"]["event_source"] == "/pic/citizen"
    counts = {a["what"]: a["count"] for a in citizen["actions"] if a["result"] == "exported"}
    assert counts["source links, each with the record as the area system sent it"] == 1
    assert counts["clerical reviews of possible matches that involve the person"] >= 1

    # AND the zip holds the golden record with provenance, the record as received and the review
    archive = zipfile.ZipFile(io.BytesIO(platform.http.get(platform.url(view["export"]), headers=me).content))
    data = json.loads(archive.read("export.json"))["domains"]["citizen"]["data"]
    assert data["golden_record"]["citizen_id"] == citizen_id
    assert data["golden_record"]["provenance"]["first_surname"] == f"{PADRON}#{pad}"
    (link,) = data["source_links"]
    assert link["record"]["first_surname"] == padron["first_surname"]
    assert link["record"]["document"] == padron["document"]
    assert any(r["candidate_id"] == citizen_id and r["citizen_id"] == other_id for r in data["reviews"])
    rows = list(csv.DictReader(io.StringIO(archive.read("citizen/source_links.csv").decode("utf-8"))))
    assert rows[0]["source"] == PADRON and rows[0]["record.local_id"] == pad


# ---- erasure ------------------------------------------------------------------------------------------


@pytest.mark.units_of_work
def test_an_erasure_keeps_the_padron_link_and_erases_tributos_and_ser(platform: Platform) -> None:
    # GIVEN a person in the Padrón, Tributos and SER (e-mail from Tributos, phone from SER)
    citizen_id, ids = a_person_in_three_systems(platform)
    before = golden(platform, citizen_id)
    assert {"email", "phone"} <= set(before["attributes"])
    me = json_headers(platform, citizen_id)

    # WHEN they ask for erasure
    response = open_request(platform, citizen_id, {"right": "erasure", "grounds": "no-longer-necessary"}, me)
    assert response.status_code == 202, response.text
    view = wait_completed(platform, response.json()["request_id"], me)

    # THEN the citizen domain kept the Padrón entry on its legal basis and erased the other copies
    citizen = domain(view, "citizen")
    assert citizen["outcome"] == "done"
    kept = {a["what"]: a for a in citizen["actions"] if a["result"] == "kept"}
    padron = kept["Padrón entries linked to the golden record"]
    assert padron["count"] == 1 and "Ley 7/1985" in padron["legal_basis"] and "1690/1986" in padron["legal_basis"]
    erased = {a["what"]: a for a in citizen["actions"] if a["result"] == "erased"}
    assert erased["C360 copies of other area systems' records (their links and match evidence)"]["count"] == 2

    # AND the Tributos and SER records are no longer linked to anyone; the Padrón one still is
    headers = agent(platform)
    assert lookup(platform, TRIBUTOS, ids[TRIBUTOS], headers).status_code == 404
    assert lookup(platform, SER, ids[SER], headers).status_code == 404
    assert lookup(platform, PADRON, ids[PADRON], headers).json()["citizen_id"] == citizen_id

    # AND the golden record is rebuilt from the Padrón alone: no e-mail, no phone
    after = golden(platform, citizen_id)
    assert [(lk["source"], lk["local_id"]) for lk in after["links"]] == [(PADRON, ids[PADRON])]
    assert "email" not in after["attributes"] and "phone" not in after["attributes"]
    assert set(after["provenance"].values()) == {f"{PADRON}#{ids[PADRON]}"}
    assert after["attributes"]["first_surname"] == before["attributes"]["first_surname"]


@pytest.mark.parametrize("mode", ["binary", "structured"])
@pytest.mark.units_of_work
def test_a_redelivered_request_is_answered_once(platform: Platform, mode: str) -> None:
    # GIVEN an erasure the citizen domain answered
    citizen_id, _ = a_person_in_three_systems(platform)
    me = json_headers(platform, citizen_id)
    request_id = open_request(platform, citizen_id, {"right": "erasure"}, me).json()["request_id"]
    wait_completed(platform, request_id, me)
    settle(platform)
    assert len(answers_of(platform, citizen_id)) == 1
    (opened,) = [e for e in platform.events(REQUEST_OPENED, citizen_id) if e["data"]["request_id"] == request_id]

    # WHEN the broker delivers the same request again (the event as sent: without the local log's receipt time,
    # which is no CloudEvents attribute and which the ingress refuses as an attribute name)
    post = post_binary if mode == "binary" else post_structured
    opened = {k: v for k, v in opened.items() if k != "pic_received_at"}
    assert post(platform, opened).status_code == 202
    settle(platform)

    # THEN nothing is answered or erased twice
    assert len(answers_of(platform, citizen_id)) == 1
    assert len(golden(platform, citizen_id)["links"]) == 1


def test_an_erasure_of_a_person_c360_does_not_know_is_not_applicable(platform: Platform, citizen_id: str) -> None:
    me = json_headers(platform, citizen_id)
    request_id = open_request(platform, citizen_id, {"right": "erasure"}, me).json()["request_id"]
    view = wait_completed(platform, request_id, me)
    citizen = domain(view, "citizen")
    assert citizen["outcome"] == "not-applicable" and citizen["actions"] == []


# ---- rectification ---------------------------------------------------------------------------------


def test_a_rectified_email_changes_the_golden_record_and_the_name_stays_with_the_padron(platform: Platform) -> None:
    # GIVEN a person whose e-mail comes from Tributos
    citizen_id, _ = a_person_in_three_systems(platform)
    me = json_headers(platform, citizen_id)
    new_email = f"{uuid.uuid4().hex[:8]}@example.org"

    # WHEN they rectify their e-mail and their given name
    body = {"right": "rectification", "fields": {"email": new_email, "given_name": "Inés María"}}
    view = wait_completed(platform, open_request(platform, citizen_id, body, me).json()["request_id"], me)

    # THEN the e-mail is rectified, and the name is kept: it is corrected in the Padrón
    citizen = domain(view, "citizen")
    results = {a["what"]: a for a in citizen["actions"]}
    assert results["email: the person's own, first for contact data in the golden record"]["result"] == "rectified"
    name = results["given_name: survives from the Padrón"]
    assert name["result"] == "kept" and "Padrón's own procedure" in name["legal_basis"]

    # AND the golden record shows the person's e-mail, from their own source, and the Padrón's name
    after = golden(platform, citizen_id)
    assert after["attributes"]["email"] == new_email
    assert after["provenance"]["email"] == f"/pic/data-subject#{citizen_id}"
    assert after["attributes"]["given_name"] == "Inés"
    # AND the new link was announced like any other
    updates = platform.wait_for(
        lambda: [e for e in platform.events(UPDATED, citizen_id) if e["data"]["match"]["method"] == "data-subject"],
        what="citizen.updated for the person's own source",
    )
    assert updates[0]["data"]["link"]["source"] == "/pic/data-subject"


# ---- access log --------------------------------------------------------------------------------------


def access_log(platform: Platform, citizen_id: str, reader: str, count: int) -> list[dict[str, Any]]:
    """The access-log entries of ``reader``, once ``count`` of them are there."""
    me = platform.as_(citizen_id)

    def entries() -> list[dict[str, Any]] | None:
        answer = platform.http.get(platform.url(f"/v1/citizens/{citizen_id}/access-log"), headers=me, timeout=15)
        assert answer.status_code == 200, answer.text
        mine = [e for e in answer.json()["entries"] if e["reader"]["id"] == reader]
        return mine if len(mine) >= count else None

    return list(platform.wait_for(entries, timeout=20, what=f"{count} access-log entries of {reader}"))


def test_reading_a_golden_record_shows_in_the_access_log(platform: Platform) -> None:
    # GIVEN a person in the Padrón
    pad = local_id("PAD")
    upsert(platform, PADRON, person(pad, fresh_dni()))
    citizen_id = wait_for_citizen(platform, PADRON, pad)

    # WHEN an agent looks the record up and reads the golden record, stating a purpose
    reader = f"agente-{uuid.uuid4().hex[:6]}"
    headers = {**platform.as_(reader, role="agent", level=1), "Access-Purpose": "EXP-42"}
    assert lookup(platform, PADRON, pad, headers).status_code == 200
    assert platform.http.get(platform.url(f"/v1/citizens/{citizen_id}"), headers=headers).status_code == 200
    # AND another citizen tries to read it
    intruder = platform.http.get(platform.url(f"/v1/citizens/{citizen_id}"), headers=platform.as_("c-intruder"))
    assert intruder.status_code == 403

    # THEN the person sees both reads, with who, why and what was shown, and the refused one
    found = access_log(platform, citizen_id, reader, 2)
    by_resource = {e["resource"]: e for e in found}
    read = by_resource["citizen"]
    assert read["function"] == "pic-citizen" and read["decision"] == "allowed" and read["purpose"] == "EXP-42"
    assert read["sections"] == ["golden-record:summary", "source-links:summary"]  # level 1: a summary
    assert read["reader"]["role"] == "agent"
    assert by_resource["citizen-lookup"]["decision"] == "allowed"
    (refused,) = access_log(platform, citizen_id, "c-intruder", 1)
    assert refused["decision"] == "denied" and refused["sections"] == []


def test_an_agent_reading_the_review_queue_shows_in_both_peoples_access_logs(platform: Platform) -> None:
    # GIVEN a pair in the review queue
    first, second, *_ = the_same_person_with_another_dni(platform)

    # WHEN an agent reads the queue
    reader = f"agente-{uuid.uuid4().hex[:6]}"
    headers = {**platform.as_(reader, role="agent", level=1), "Access-Purpose": "C360-QUALITY-2026"}
    page = reviews(platform, {"limit": 100}, headers)
    assert page.status_code == 200, page.text
    assert any(r["citizen_id"] == second for r in page.json()["items"]), "the pair is on the first page"

    # THEN both people's access logs show the read of the review queue
    for citizen_id in (first, second):
        (entry,) = access_log(platform, citizen_id, reader, 1)
        assert entry["resource"] == "citizen-review" and entry["sections"] == ["match-review:full"]


@pytest.mark.units_of_work
def test_an_erasure_larger_than_one_transaction_converges_and_leaves_nothing_half_erased(platform: Platform) -> None:
    # GIVEN one person (one DNI) in the Padrón and in 14 sports centres' systems (each its own source below
    # Deportes', the sender that owns them), each record with its e-mail and phone:
    # about 10 items per record to delete (link, pointer, blocks, claim), more than one transaction holds
    dni = fresh_dni()
    pad = local_id("PAD")
    padron = person(pad, dni)
    names = {k: padron[k] for k in ("given_name", "first_surname", "second_surname", "birth_date")}
    upsert(platform, PADRON, padron)
    citizen_id = wait_for_citizen(platform, PADRON, pad)
    others = {f"/legacy/deportes/centro-{i:02d}": local_id("A") for i in range(14)}
    # one after the other: what is tested is the erasure; 14 records of one person racing to change one golden
    # record is test_citizen_concurrency's (on a store without transactions the losers' backoff made this
    # test's set-up outlast its wait on a slow machine)
    for i, (source, lid) in enumerate(others.items()):
        extra = {"email": f"{lid.lower()}@example.org", "phone": f"+34 600 {i:03d} {i:03d}"}
        upsert(platform, source, person(lid, dni, **names, **extra))
        assert wait_for_citizen(platform, source, lid, timeout=30.0) == citizen_id
    me = json_headers(platform, citizen_id)

    # WHEN they ask for erasure
    request_id = open_request(platform, citizen_id, {"right": "erasure"}, me).json()["request_id"]
    view = wait_completed(platform, request_id, me)

    # THEN every other system's copy is gone, the Padrón entry stays, the golden record is rebuilt from it
    erased = {a["what"]: a["count"] for a in domain(view, "citizen")["actions"] if a["result"] == "erased"}
    assert erased["C360 copies of other area systems' records (their links and match evidence)"] == 14
    headers = agent(platform)
    assert all(lookup(platform, source, lid, headers).status_code == 404 for source, lid in others.items())
    after = golden(platform, citizen_id)
    assert [lk["source"] for lk in after["links"]] == [PADRON]
    assert "email" not in after["attributes"]
    # AND a new record of the same person links to the kept golden record through the Padrón's DNI again
    again = local_id("TRB")
    upsert(platform, TRIBUTOS, person(again, dni, **names))
    assert wait_for_citizen(platform, TRIBUTOS, again) == citizen_id


def test_an_area_system_cannot_pose_as_the_persons_own_source(platform: Platform) -> None:
    # GIVEN a record the Padrón sends with the source reserved for the person's own rectified contact data
    data = person(local_id("X"), None, email="spoof@example.org")

    # WHEN it reaches the broker
    response = platform.send_event(UPSERTED, data, source="/pic/data-subject", account="legacy-padron")

    # THEN the broker refuses it (the Padrón may send only with its own source) and nothing is stored: the
    # citizen function's own check ("written only by an RGPD rectification") is never even reached
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "source = /legacy/padron" in response.json()["detail"]
    assert not [e for e in platform.events(UPSERTED) if e["id"] == response.request.headers["ce-id"]]


@pytest.mark.parametrize("citizen_id", ["K\U0002a61f", "a b", "-x", "x" * 65])
def test_a_golden_record_id_that_cannot_exist_is_a_validation_problem_and_logs_nothing(
    platform: Platform, citizen_id: str
) -> None:
    # (an access record names its citizen as the event's subject: an id no citizen can have is refused first)
    response = platform.http.get(platform.url(f"/v1/citizens/{citizen_id}"), headers=agent(platform), timeout=10)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
