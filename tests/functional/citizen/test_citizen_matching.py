"""Functional: C360 probabilistic matching, the clerical review queue, merge and un-merge, through the real
platform (broker ingress and Trigger, the citizen event function, the citizen API, the outbox relay)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from local.harness import Platform
from tests.functional.citizen.test_citizen import (
    UPDATED,
    UPSERTED,
    agent,
    fresh_dni,
    golden,
    person,
    unique_surname,
    upsert,
    wait_for_citizen,
)
from tests.functional.consent_support import assert_problem, settle

pytestmark = pytest.mark.functional

MERGED = "es.madrid.pic.citizen.merged.v1"
UNMERGED = "es.madrid.pic.citizen.unmerged.v1"


def upsert_structured(platform: Platform, source: str, data: Any, event_id: str | None = None) -> str:
    event_id = event_id or str(uuid.uuid4())
    response = platform.send_event(UPSERTED, data, source=source, event_id=event_id, mode="structured")
    assert response.status_code == 202, response.text
    return event_id


def local_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def reviews(
    platform: Platform, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> requests.Response:
    return platform.http.get(
        platform.url("/v1/citizen-reviews"), params=params or {}, headers=headers or agent(platform), timeout=10
    )


def decide(platform: Platform, review_id: str, body: Any, headers: dict[str, str] | None = None) -> requests.Response:
    return platform.http.post(
        platform.url(f"/v1/citizen-reviews/{review_id}"), json=body, headers=headers or agent(platform), timeout=15
    )


def unmerge(platform: Platform, citizen_id: str, body: Any, headers: dict[str, str] | None = None) -> requests.Response:
    return platform.http.post(
        platform.url(f"/v1/citizens/{citizen_id}/unmerge"), json=body, headers=headers or agent(platform), timeout=15
    )


def open_review_for(platform: Platform, citizen_id: str) -> dict[str, Any]:
    """The open review whose record was given ``citizen_id``, walking every page of the queue."""

    def find() -> dict[str, Any] | None:
        cursor = None
        while True:
            params = {"limit": 50, **({"cursor": cursor} if cursor else {})}
            page = reviews(platform, params)
            assert page.status_code == 200, page.text
            body = page.json()
            for item in body["items"]:
                if item["citizen_id"] == citizen_id:
                    return dict(item)
            cursor = body["next_cursor"]
            if cursor is None:
                return None

    return dict(platform.wait_for(find, what=f"a review for {citizen_id}"))


def the_same_person_with_another_dni(platform: Platform) -> tuple[str, str, str, str, dict[str, Any]]:
    """Padrón and Tributos hold one person (name, birth date, address) under two different VALID DNIs: the
    score is high, but two valid documents never merge on their own, so the pair goes to review."""
    pad, trb = local_id("PAD"), local_id("TRB")
    padron = person(pad, fresh_dni())
    upsert(platform, "/legacy/padron", padron)
    first = wait_for_citizen(platform, "/legacy/padron", pad)
    tributos = {**padron, "local_id": trb, "document": {"type": "DNI", "number": fresh_dni()}}
    upsert(platform, "/legacy/tributos", tributos)
    second = wait_for_citizen(platform, "/legacy/tributos", trb)
    return first, second, pad, trb, padron


def test_a_record_without_document_joins_its_person_probabilistically_once_in_both_modes(platform: Platform) -> None:
    # GIVEN a person in the Padrón, with a DNI
    pad, dep, cul = local_id("PAD"), local_id("DEP"), local_id("CUL")
    padron = person(pad, fresh_dni())
    upsert(platform, "/legacy/padron", padron)
    citizen = wait_for_citizen(platform, "/legacy/padron", pad)

    # WHEN Deportes sends them in STRUCTURED mode, without document, surnames swapped, name abbreviated,
    # no address but an e-mail; and the broker redelivers it
    deportes = {
        **padron,
        "local_id": dep,
        "document": None,
        "first_surname": padron["second_surname"],
        "second_surname": padron["first_surname"],
        "address": None,
        "email": "ines@example.org",
    }
    event_id = upsert_structured(platform, "/legacy/deportes", deportes)
    upsert_structured(platform, "/legacy/deportes", deportes, event_id=event_id)
    # AND Cultura in BINARY mode with a mistyped first surname
    cultura = {**padron, "local_id": cul, "document": None, "first_surname": padron["first_surname"][:-1] + "x"}
    upsert(platform, "/legacy/cultura", cultura)

    # THEN both join the Padrón's golden record, once each, by a probabilistic match with its evidence
    assert wait_for_citizen(platform, "/legacy/deportes", dep) == citizen
    assert wait_for_citizen(platform, "/legacy/cultura", cul) == citizen
    record = golden(platform, citizen)
    assert len(record["links"]) == 3
    by_source = {lk["source"]: lk["match"] for lk in record["links"]}
    deportes_match = by_source["/legacy/deportes"]
    assert deportes_match["method"] == "probabilistic" and deportes_match["score"] >= 0.99
    levels = {c["comparison"]: c["level"] for c in deportes_match["comparisons"]}
    assert levels["surnames"] == "swapped" and levels["birth_date"] == "exact" and levels["document"] == "null"
    assert by_source["/legacy/cultura"]["method"] == "probabilistic"
    assert {c["comparison"]: c["level"] for c in by_source["/legacy/cultura"]["comparisons"]}["surnames"] == (
        "jw>=0.9 both"
    )
    # AND survivorship: the e-mail only Deportes holds reaches the golden record
    assert record["attributes"]["email"] == "ines@example.org"

    # AND one citizen.updated per link, with the score and the per-comparison evidence
    settle(platform)
    events = platform.events(UPDATED, citizen)
    assert len(events) == 3
    probabilistic = [e["data"]["match"] for e in events if e["data"]["match"]["method"] == "probabilistic"]
    assert len(probabilistic) == 2
    assert all(m["match_weight"] > 0 and m["comparisons"] for m in probabilistic)


@pytest.mark.units_of_work
def test_a_possible_match_is_reviewed_by_an_agent_merged_and_unmerged_exactly(platform: Platform) -> None:
    # GIVEN the same person under two valid DNIs: two golden records and a review
    first, second, pad, trb, _ = the_same_person_with_another_dni(platform)
    assert first != second
    review = open_review_for(platform, second)
    assert review["candidate_id"] == first and review["status"] == "open"
    assert review["source"] == "/legacy/tributos" and review["local_id"] == trb
    assert {c["comparison"]: c["level"] for c in review["comparisons"]}["document"] == "different"
    before = (golden(platform, first), golden(platform, second))
    # (a decision that is neither match nor no-match is a 422 naming the field, and decides nothing)
    assert_problem(decide(platform, review["review_id"], {"decision": "perhaps"}), 422, "validation")

    # WHEN an agent decides they are one person
    decided = decide(platform, review["review_id"], {"decision": "match"})

    # THEN the Tributos record moves into the Padrón's golden record; the other golden record is gone
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "match" and decided.json()["decided_by"] == "agent-7"
    assert wait_for_citizen(platform, "/legacy/tributos", trb) == first
    merged = golden(platform, first)
    assert {lk["local_id"] for lk in merged["links"]} == {pad, trb}
    assert len(merged["documents"]) == 2
    gone = platform.http.get(platform.url(f"/v1/citizens/{second}"), headers=agent(platform), timeout=10)
    assert_problem(gone, 404, "not-found")
    # AND citizen.merged plus one citizen.updated for the moved link (contracts.md §1)
    (event,) = platform.wait_for(lambda: platform.events(MERGED, first), what="citizen.merged")
    assert event["data"]["merged_citizen_id"] == second and event["data"]["review_id"] == review["review_id"]
    assert event["data"]["by"] == "agent-7" and event["data"]["reason"] == "review"
    moved = platform.wait_for(
        lambda: [e for e in platform.events(UPDATED, first) if e["data"]["match"]["method"] == "merge"],
        what="citizen.updated for the moved link",
    )
    assert [(e["data"]["link"]["local_id"], e["data"]["link"]["change"]) for e in moved] == [(trb, "changed")]

    # AND deciding it again is a conflict
    assert_problem(decide(platform, review["review_id"], {"decision": "no-match"}), 409, "conflict")

    # WHEN the agent un-merges the Tributos record
    split = unmerge(platform, first, {"source": "/legacy/tributos", "local_id": trb})

    # THEN both golden records, and their links, are exactly as before the merge
    assert split.status_code == 200, split.text
    assert split.json() == {
        "citizen_id": first,
        "restored_citizen_id": second,
        "links": [{"source": "/legacy/tributos", "local_id": trb}],
    }
    assert (golden(platform, first), golden(platform, second)) == before
    assert wait_for_citizen(platform, "/legacy/tributos", trb) == second
    # AND citizen.unmerged plus citizen.updated for the link moved back
    (event,) = platform.wait_for(lambda: platform.events(UNMERGED, first), what="citizen.unmerged")
    assert event["data"]["restored_citizen_id"] == second
    back = platform.wait_for(
        lambda: [e for e in platform.events(UPDATED, second) if e["data"]["match"]["method"] == "unmerge"],
        what="citizen.updated for the link moved back",
    )
    assert back[0]["data"]["link"]["local_id"] == trb
    # AND un-merging it again: it is the only record of its golden record, nothing to split
    assert_problem(unmerge(platform, second, {"source": "/legacy/tributos", "local_id": trb}), 409, "conflict")


def test_a_review_decided_no_match_changes_nothing_but_the_review(platform: Platform) -> None:
    first, second, _, _, _ = the_same_person_with_another_dni(platform)
    review = open_review_for(platform, second)
    before = (golden(platform, first), golden(platform, second))
    decided = decide(platform, review["review_id"], {"decision": "no-match"})
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "no-match"
    assert (golden(platform, first), golden(platform, second)) == before
    closed = reviews(platform, {"status": "no-match", "limit": 100})
    assert closed.status_code == 200
    settle(platform)
    assert not platform.events(MERGED, first)


def test_the_review_queue_pages_and_is_for_agents_only(platform: Platform) -> None:
    for _ in range(2):
        the_same_person_with_another_dni(platform)
    # pages of one, each with a cursor to the next, never repeating an item
    first_page = reviews(platform, {"limit": 1})
    assert first_page.status_code == 200, first_page.text
    body = first_page.json()
    assert len(body["items"]) == 1 and body["next_cursor"]
    second_page = reviews(platform, {"limit": 1, "cursor": body["next_cursor"]}).json()
    assert second_page["items"][0]["review_id"] > body["items"][0]["review_id"]
    # citizens and systems may not see or decide the queue
    citizen = platform.as_("cit-someone")
    system = platform.as_("svc-padron", role="system")
    assert_problem(reviews(platform, headers=citizen), 403, "forbidden")
    assert_problem(reviews(platform, headers=system), 403, "forbidden")
    assert_problem(decide(platform, body["items"][0]["review_id"], {"decision": "match"}, citizen), 403, "forbidden")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "maybe"}, "status"),
        ({"limit": "0"}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"cursor": "zz"}, "cursor"),
    ],
)
def test_bad_review_queries_are_validation_problems(platform: Platform, params: dict[str, str], field: str) -> None:
    problem = assert_problem(reviews(platform, params), 422, "validation")
    assert field in {e["field"] for e in problem["errors"]}


def test_bad_review_decisions_and_unmerges_are_clear_problems(platform: Platform) -> None:
    # an unknown review is a 404 whatever the body: the review is found and the caller authorised before the
    # body is read (a bad decision on a real review: test_a_possible_match_is_reviewed_...)
    assert_problem(decide(platform, "rev-nope", {"decision": "match"}), 404, "not-found")
    assert_problem(decide(platform, "rev-nope", {"decision": "perhaps"}), 404, "not-found")
    bad = platform.http.post(
        platform.url("/v1/citizens/cit-nope/unmerge"),
        data="{not json",
        headers={**agent(platform), "content-type": "application/json"},
        timeout=10,
    )
    assert_problem(bad, 400)
    pad = local_id("PAD")
    upsert(platform, "/legacy/padron", person(pad, fresh_dni(), first_surname=unique_surname()))
    citizen = wait_for_citizen(platform, "/legacy/padron", pad)
    assert_problem(unmerge(platform, citizen, {"source": "legacy", "local_id": pad}), 422, "validation")
    assert_problem(unmerge(platform, citizen, {"source": "/legacy/padron"}), 422, "validation")
    assert_problem(unmerge(platform, citizen, {"source": "/legacy/padron", "local_id": "NOPE1"}), 404, "not-found")
    assert_problem(unmerge(platform, "cit-nope", {"source": "/legacy/padron", "local_id": pad}), 404, "not-found")
    assert_problem(unmerge(platform, citizen, {"source": "/legacy/padron", "local_id": pad}), 409, "conflict")
    citizen_self = platform.as_(citizen)
    assert_problem(unmerge(platform, citizen, {"source": "/legacy/padron", "local_id": pad}, citizen_self), 403)
    # nothing was written by any of them
    assert len(golden(platform, citizen)["links"]) == 1


@pytest.mark.units_of_work
def test_a_record_that_matches_two_golden_records_merges_them_automatically(platform: Platform) -> None:
    # GIVEN one person known to Deportes (name, birth date, e-mail) and to Multas (initial, address, phone),
    # whose records are too unlike each other to match: two golden records
    dep, mul, pad = local_id("DEP"), local_id("MUL"), local_id("PAD")
    base = person(pad, fresh_dni(), email="luz@example.org", phone="612 34 56 78")
    deportes = {**base, "local_id": dep, "document": None, "phone": None, "address": None}
    multas = {**base, "local_id": mul, "document": None, "given_name": "I.", "birth_date": None, "email": None}
    upsert(platform, "/legacy/deportes", deportes)
    first = wait_for_citizen(platform, "/legacy/deportes", dep)
    upsert(platform, "/legacy/multas", multas)
    second = wait_for_citizen(platform, "/legacy/multas", mul)
    assert first != second

    # WHEN the Padrón sends the full record, which matches both
    upsert(platform, "/legacy/padron", base)

    # THEN all three records end in one golden record, by an automatic merge announced as such
    survivor = wait_for_citizen(platform, "/legacy/padron", pad)
    assert survivor in (first, second)
    absorbed = second if survivor == first else first
    platform.wait_for(lambda: len(golden(platform, survivor)["links"]) == 3, what="three links")
    (event,) = platform.wait_for(lambda: platform.events(MERGED, survivor), what="citizen.merged")
    assert event["data"]["reason"] == "auto" and event["data"]["by"] == "pic-citizen"
    assert event["data"]["merged_citizen_id"] == absorbed
    # AND an agent can still undo it exactly
    moved = event["data"]["links"][0]
    split = unmerge(platform, survivor, moved)
    assert split.status_code == 200, split.text
    assert split.json()["restored_citizen_id"] == absorbed
    assert len(golden(platform, survivor)["links"]) == 2


@pytest.mark.units_of_work
def test_two_agents_deciding_one_review_at_once_merge_once(platform: Platform) -> None:
    # GIVEN a review, and two agents who both decide "match" at the same moment
    first, second, pad, trb, _ = the_same_person_with_another_dni(platform)
    review = open_review_for(platform, second)
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: decide(platform, review["review_id"], {"decision": "match"}), range(2)))

    # THEN one merges and the other gets a conflict problem; nothing is written twice or half
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    assert_problem(next(a for a in answers if a.status_code == 409), 409, "conflict")
    assert {lk["local_id"] for lk in golden(platform, first)["links"]} == {pad, trb}
    settle(platform)
    assert len(platform.events(MERGED, first)) == 1


def test_a_record_that_joins_by_its_document_also_merges_a_golden_record_it_matches(platform: Platform) -> None:
    # GIVEN one person known to Cita Previa (name and mobile only) and to Tributos (DNI, no birth date, another
    # phone): the two records share no block, so they are two golden records
    cit, trb, pad = local_id("CIT"), local_id("TRB"), local_id("PAD")
    dni = fresh_dni()
    padron = person(pad, dni, phone="+34 609 09 28 56")
    cita = {**padron, "local_id": cit, "document": None, "birth_date": None, "address": None, "phone": "609092856"}
    tributos = {**padron, "local_id": trb, "birth_date": None, "phone": "642 84 99 85"}
    upsert(platform, "/legacy/cita-previa", cita)
    first = wait_for_citizen(platform, "/legacy/cita-previa", cit)
    upsert(platform, "/legacy/tributos", tributos)
    second = wait_for_citizen(platform, "/legacy/tributos", trb)
    assert first != second

    # WHEN the Padrón sends the full record: its DNI links it to Tributos' golden record, and its name and
    # mobile match Cita Previa's at auto-merge
    upsert(platform, "/legacy/padron", padron)

    # THEN the Padrón record joins by its document AND bridges the two: one golden record of three links,
    # by an automatic merge announced as such
    assert wait_for_citizen(platform, "/legacy/padron", pad) == second
    platform.wait_for(lambda: len(golden(platform, second)["links"]) == 3, what="three links")
    (event,) = platform.wait_for(lambda: platform.events(MERGED, second), what="citizen.merged")
    assert event["data"]["reason"] == "auto" and event["data"]["merged_citizen_id"] == first
    assert wait_for_citizen(platform, "/legacy/cita-previa", cit) == second
