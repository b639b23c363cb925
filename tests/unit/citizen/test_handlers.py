"""The C360 use cases (``functions.citizen.handlers``) on an in-memory fake of the store, the real match model
and the real policies: records that create, join by document, join probabilistically or open a review; reviews
decided; an un-merge that restores exactly; two records of one block resolved on the same reads; the answer to
a data-subject request. No DynamoDB, no broker, no HTTP: milliseconds."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from events.citizen import CitizenRecordUpserted
from functions.citizen import handlers, matching
from functions.citizen.handlers import CitizenPorts
from functions.citizen.service import CitizenNotFoundError, Golden, Link, MergeConflictError
from functions.core.errors import InvalidEventError, LostRaceError
from functions.core.policy import EmbeddedPolicy
from functions.core.retry import retry_on_conflict
from tests.unit.citizen.fakes import FakeCitizenStore
from tests.unit.fakes import FixedClock, events_in
from tests.unit.rgpd_support import rgpd_request

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PADRON, TRIBUTOS, DEPORTES, MULTAS = "/legacy/padron", "/legacy/tributos", "/legacy/deportes", "/legacy/multas"
UPDATED = "es.madrid.pic.citizen.updated.v1"
MERGED = "es.madrid.pic.citizen.merged.v1"
UNMERGED = "es.madrid.pic.citizen.unmerged.v1"
ANSWERED = "es.madrid.pic.rgpd.domain.answered.v1"


@pytest.fixture
def store() -> FakeCitizenStore:
    return FakeCitizenStore()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def ports(store: FakeCitizenStore, policy: EmbeddedPolicy, clock: FixedClock) -> CitizenPorts:
    return CitizenPorts(store=store, policy=policy, model=matching.load_model(), clock=clock)


def ines(local_id: str = "PAD1", **overrides: Any) -> CitizenRecordUpserted:
    """María Inés Garzón Villalba as the Padrón holds her (valid DNI, contact data, address)."""
    data: dict[str, Any] = {
        "local_id": local_id,
        "document": {"type": "DNI", "number": "48673243E"},
        "given_name": "María Inés",
        "first_surname": "Garzón",
        "second_surname": "Villalba",
        "birth_date": "1980-05-17",
        "email": "ines.garzon@example.org",
        "phone": "612345678",
        "address": {"street": "Calle Mayor", "number": "7", "postal_code": "28013", "district": "01"},
    }
    return CitizenRecordUpserted.model_validate({**data, **overrides})


def ines_at_deportes() -> CitizenRecordUpserted:
    """The same person as Deportes holds her: no document, no accents, the e-mail in another case, no address."""
    return ines(
        "DEP1",
        document=None,
        given_name="Maria Ines",
        first_surname="Garzon",
        email="  INES.GARZON@EXAMPLE.ORG ",
        address=None,
    )


def arrive(ports: CitizenPorts, store: FakeCitizenStore, source: str, record: CitizenRecordUpserted) -> str:
    """The record resolved and committed, as the event function does; the golden record it landed on."""
    store.commit(handlers.resolve_record(source, record, ports, traceparent=None))
    return handlers.citizen_of_record(source, record.local_id, ports)


def updates(uow: Any) -> list[dict[str, Any]]:
    return [data for kind, data in events_in(uow) if kind == UPDATED]


def as_stored(golden: Golden | None, links: list[Link]) -> tuple[Golden | None, list[Link]]:
    """A golden record and its links without the items' versions (which every write moves on)."""
    return (replace(golden, version=None) if golden else None), [replace(lk, version=None) for lk in links]


# ---- records arriving -----------------------------------------------------------------------------------


def test_a_record_with_an_unclaimed_valid_document_creates_a_golden_record(
    ports: CitizenPorts, store: FakeCitizenStore
) -> None:
    # GIVEN an empty base WHEN the Padrón sends María Inés
    unit = handlers.resolve_record(PADRON, ines(), ports, traceparent=None)

    # THEN one citizen.updated announces a new golden record with her contact points
    ((event,),) = [updates(unit)]
    assert event["match"]["method"] == "new" and event["link"]["change"] == "added"
    assert event["contact"] == {"email": "ines.garzon@example.org", "phone": "+34612345678"}
    # AND committed: the record is linked, her DNI is claimed, and every block she joined counts her once
    store.commit(unit)
    citizen_id = handlers.citizen_of_record(PADRON, "PAD1", ports)
    assert event["citizen_id"] == citizen_id
    view = handlers.golden_record(citizen_id, ports)
    assert view["documents"] == [{"type": "DNI", "number": "48673243E"}] and view["created_at"] == T0.isoformat()
    assert store.documents == {"doc#DNI:48673243E": citizen_id}
    keys = matching.blocking_keys(matching.features_from_dict(f"{PADRON}#PAD1", ines().model_dump(mode="json")))
    assert {store.head(key) for key in keys} == {1}


def test_a_record_with_a_known_document_joins_its_golden_record(
    ports: CitizenPorts, store: FakeCitizenStore, clock: FixedClock
) -> None:
    # GIVEN María Inés in the Padrón
    citizen_id = arrive(ports, store, PADRON, ines())

    # WHEN Tributos sends her a minute later with the DNI written its own way and a newer e-mail
    clock.advance(minutes=1)
    record = ines("TRB1", document={"type": "DNI", "number": "48.673.243-e"}, email="ines@trabajo.example")
    unit = handlers.resolve_record(TRIBUTOS, record, ports, traceparent=None)

    # THEN the DNI decides (score 1.0): the same golden record, no second claim of the document
    ((event,),) = [updates(unit)]
    assert (event["citizen_id"], event["match"]["method"], event["match"]["score"]) == (citizen_id, "document", 1.0)
    store.commit(unit)
    assert len(store.goldens) == 1 and list(store.documents.values()) == [citizen_id]
    # AND survivorship: the name stays with the Padrón, the e-mail is the most recent one
    view = handlers.golden_record(citizen_id, ports)
    assert [lk["local_id"] for lk in view["links"]] == ["PAD1", "TRB1"]
    assert view["provenance"]["first_surname"] == f"{PADRON}#PAD1"
    assert view["attributes"]["email"] == "ines@trabajo.example"


def test_a_record_without_document_joins_probabilistically(ports: CitizenPorts, store: FakeCitizenStore) -> None:
    # GIVEN María Inés in the Padrón
    citizen_id = arrive(ports, store, PADRON, ines())

    # WHEN Deportes sends her without a document, without accents and with the e-mail in capitals
    unit = handlers.resolve_record(DEPORTES, ines_at_deportes(), ports, traceparent=None)

    # THEN she joins her golden record by the model, at or above auto-merge, with the evidence of each comparison
    ((event,),) = [updates(unit)]
    assert event["citizen_id"] == citizen_id and event["match"]["method"] == "probabilistic"
    assert event["match"]["score"] >= ports.model.thresholds.auto_merge
    assert {c["comparison"]: c["level"] for c in event["match"]["comparisons"]}["email"] == "exact"
    store.commit(unit)
    assert handlers.citizen_of_record(DEPORTES, "DEP1", ports) == citizen_id and len(store.goldens) == 1


def test_the_same_record_again_stages_nothing(ports: CitizenPorts, store: FakeCitizenStore) -> None:
    arrive(ports, store, PADRON, ines())
    assert len(handlers.resolve_record(PADRON, ines(), ports, traceparent=None)) == 0


@pytest.mark.parametrize("source", ["legacy/padron", "/legacy/padron#1", "/pic/data-subject"])
def test_a_source_that_is_not_an_area_system_is_refused(ports: CitizenPorts, source: str) -> None:
    with pytest.raises(InvalidEventError):
        handlers.resolve_record(source, ines(), ports, traceparent=None)


def test_a_record_matching_two_golden_records_merges_them_when_the_merge_fits(
    ports: CitizenPorts, store: FakeCitizenStore
) -> None:
    # GIVEN one person known to Deportes (name, birth date, e-mail) and to Multas (initial, address, phone):
    # too unlike each other to match, two golden records
    full = ines("PAD9", given_name="Luz", email="luz@example.org")
    first = arrive(
        ports,
        store,
        DEPORTES,
        ines("DEP9", given_name="Luz", email="luz@example.org", document=None, phone=None, address=None),
    )
    second = arrive(ports, store, MULTAS, ines("MUL9", given_name="L.", birth_date=None, email=None, document=None))
    assert first != second

    # WHEN the Padrón's full record, which matches both, arrives on a store whose transactions are one item
    # short of the record and the merge together (the kernel adds the idempotency record)
    roomy = handlers.resolve_record(PADRON, full, ports, traceparent=None)
    assert [kind for kind, _ in events_in(roomy)][:2] == [UPDATED, MERGED]
    store.max_items = len(store.ledger.staged(roomy)) + len(roomy)
    tight = handlers.resolve_record(PADRON, full, ports, traceparent=None)

    # THEN the record joins one of them and the merge waits for a later record
    assert [kind for kind, _ in events_in(tight)] == [UPDATED]
    store.commit(tight)
    assert len(store.goldens) == 2

    # AND where it fits, the next record of the person bridges the two: one golden record
    store.max_items = 100
    arrive(ports, store, TRIBUTOS, ines("TRB9", given_name="Luz", email="luz@example.org"))
    assert len(store.goldens) == 1


# ---- the clerical review ----------------------------------------------------------------------------------


def a_review(ports: CitizenPorts, store: FakeCitizenStore) -> tuple[str, str, str]:
    """The same person under two different VALID DNIs: the score is high, the vetoed merge becomes a review.
    Returns (Padrón's golden record, Multas' golden record, the review)."""
    first = arrive(ports, store, PADRON, ines())
    unit = handlers.resolve_record(MULTAS, ines("MUL1", document={"type": "DNI", "number": "12345678Z"}), ports, None)
    ((event,),) = [updates(unit)]
    store.commit(unit)
    return first, event["citizen_id"], event["match"]["review_id"]


def test_a_possible_match_opens_a_review_and_a_golden_record_of_its_own(
    ports: CitizenPorts, store: FakeCitizenStore
) -> None:
    # GIVEN María Inés in the Padrón WHEN Multas sends her with another valid DNI
    first, second, review_id = a_review(ports, store)

    # THEN a new golden record, and an open review pairing it with hers, with the evidence
    assert second != first and review_id
    page = handlers.review_queue("open", 20, None, ports)
    (review,) = page.items
    assert (review.review_id, review.citizen_id, review.candidate_id) == (review_id, second, first)
    assert {c: lv for c, lv, _ in review.comparisons}["document"] == "different"
    assert page.next_cursor is None and review.created_at == T0


def test_a_review_decided_match_merges_the_two_golden_records(
    ports: CitizenPorts, store: FakeCitizenStore, clock: FixedClock
) -> None:
    # GIVEN an open review
    first, second, review_id = a_review(ports, store)
    clock.advance(hours=1)

    # WHEN an agent decides they are one person
    staged = handlers.decide_review(review_id, "match", "agent-7", ports, traceparent=None)

    # THEN the review is decided by them, now; citizen.merged and one citizen.updated per moved link
    assert (staged.result.status, staged.result.decided_by, staged.result.decided_at) == ("match", "agent-7", clock.at)
    kinds = [kind for kind, _ in events_in(staged.unit)]
    assert kinds == [MERGED, UPDATED]
    store.commit(staged.unit)
    # AND Multas' record is in the Padrón's golden record with both DNIs; the other golden record is gone
    assert handlers.citizen_of_record(MULTAS, "MUL1", ports) == first
    assert len(handlers.golden_record(first, ports)["documents"]) == 2
    assert store.documents["doc#DNI:12345678Z"] == first
    with pytest.raises(CitizenNotFoundError):
        handlers.golden_record(second, ports)
    # AND deciding it again is a conflict
    with pytest.raises(MergeConflictError):
        handlers.decide_review(review_id, "no-match", "agent-7", ports, traceparent=None)


def test_a_review_decided_no_match_changes_nothing_but_the_review(ports: CitizenPorts, store: FakeCitizenStore) -> None:
    first, second, review_id = a_review(ports, store)
    before = [as_stored(store.fetch_golden(c), store.fetch_links(c)) for c in (first, second)]

    staged = handlers.decide_review(review_id, "no-match", "agent-7", ports, traceparent=None)

    assert store.ledger.staged(staged.unit) == [f"review#{review_id}"] and events_in(staged.unit) == []
    store.commit(staged.unit)
    assert [as_stored(store.fetch_golden(c), store.fetch_links(c)) for c in (first, second)] == before
    assert [r.review_id for r in handlers.review_queue("no-match", 20, None, ports).items] == [review_id]


def test_two_agents_deciding_one_review_at_once_merge_once(ports: CitizenPorts, store: FakeCitizenStore) -> None:
    # GIVEN two agents who both read the open review and decide "match"
    _, _, review_id = a_review(ports, store)
    read = handlers.find_review(review_id, ports)
    first = handlers.decide_review(review_id, "match", "agent-1", ports, None, read=read)
    second = handlers.decide_review(review_id, "match", "agent-2", ports, None, read=read)

    # WHEN the first commits THEN the second's commit lost the race, and decided again it is a conflict
    store.commit(first.unit)
    with pytest.raises(LostRaceError):
        store.commit(second.unit)
    with pytest.raises(MergeConflictError, match="already decided"):
        handlers.decide_review(review_id, "match", "agent-2", ports, None)
    assert store.fetch_review(review_id).decided_by == "agent-1"  # type: ignore[union-attr]


# ---- un-merge ----------------------------------------------------------------------------------------------


def test_an_unmerge_restores_both_golden_records_and_their_links_exactly(
    ports: CitizenPorts, store: FakeCitizenStore, clock: FixedClock
) -> None:
    # GIVEN a review decided "match" an hour after the two golden records were made
    first, second, review_id = a_review(ports, store)
    before = [as_stored(store.fetch_golden(c), store.fetch_links(c)) for c in (first, second)]
    clock.advance(hours=1)
    store.commit(handlers.decide_review(review_id, "match", "agent-7", ports, None).unit)

    # WHEN an agent un-merges the Multas record the next day
    clock.advance(days=1)
    staged = handlers.unmerge(first, MULTAS, "MUL1", "agent-7", ports, traceparent=None)

    # THEN the merge is undone: the absorbed golden record comes back under its id with the link it brought
    assert staged.result == handlers.Unmerged(first, second, ((MULTAS, "MUL1"),))
    assert [kind for kind, _ in events_in(staged.unit)] == [UNMERGED, UPDATED]
    store.commit(staged.unit)
    # AND both golden records and their links are exactly as before the merge (dates included)
    assert [as_stored(store.fetch_golden(c), store.fetch_links(c)) for c in (first, second)] == before
    assert store.documents["doc#DNI:12345678Z"] == second and store.fetch_merges(first) == []
    # AND un-merging it again: the only record of its golden record, nothing to split
    with pytest.raises(MergeConflictError):
        handlers.unmerge(second, MULTAS, "MUL1", "agent-7", ports, traceparent=None)


def test_unmerging_from_a_golden_record_that_does_not_exist_is_not_found(ports: CitizenPorts) -> None:
    with pytest.raises(CitizenNotFoundError):
        handlers.unmerge("cit-nope", PADRON, "PAD1", "agent-7", ports, traceparent=None)


# ---- records that arrive together ---------------------------------------------------------------------


def test_two_records_of_one_block_resolved_on_the_same_reads_end_as_one_golden_record(
    ports: CitizenPorts, store: FakeCitizenStore
) -> None:
    # GIVEN the Padrón's and Deportes' records of María Inés, both resolved before either commits: each saw an
    # empty base, so each decided on a new golden record
    padron = handlers.resolve_record(PADRON, ines(), ports, traceparent=None)
    deportes = handlers.resolve_record(DEPORTES, ines_at_deportes(), ports, traceparent=None)
    assert [e["match"]["method"] for e in updates(padron) + updates(deportes)] == ["new", "new"]

    # WHEN the Padrón's commits first
    store.commit(padron)

    # THEN Deportes' commit loses the race by its block claim (the e-mail block's head moved), writing nothing
    with pytest.raises(LostRaceError, match=re.escape("head#email:ines.garzon@example.org")):
        store.commit(deportes)
    assert store.fetch_citizen_of(DEPORTES, "DEP1") is None and len(store.goldens) == 1

    # AND decided again on what the Padrón wrote (the kernel's retry), it joins her golden record
    def attempt() -> None:
        store.commit(handlers.resolve_record(DEPORTES, ines_at_deportes(), ports, traceparent=None))

    retry_on_conflict(attempt, backoff=0)
    assert handlers.citizen_of_record(DEPORTES, "DEP1", ports) == handlers.citizen_of_record(PADRON, "PAD1", ports)
    assert store.head("email:ines.garzon@example.org") == 2 and len(store.goldens) == 1


# ---- data-subject rights (RGPD) -------------------------------------------------------------------------


def test_an_erasure_keeps_the_padron_and_erases_the_other_records_with_the_answer(
    ports: CitizenPorts, store: FakeCitizenStore, clock: FixedClock
) -> None:
    # GIVEN María Inés known to the Padrón, to Tributos (same DNI, newer e-mail) and to Deportes
    citizen_id = arrive(ports, store, PADRON, ines())
    clock.advance(minutes=1)
    arrive(ports, store, TRIBUTOS, ines("TRB1", email="ines@trabajo.example"))
    arrive(ports, store, DEPORTES, ines_at_deportes())
    assert handlers.golden_record(citizen_id, ports)["attributes"]["email"] == "ines@trabajo.example"

    # WHEN she asks for erasure
    clock.advance(days=30)
    unit = handlers.answer_rights(rgpd_request("erasure", citizen_id, clock.at), ports, traceparent=None)

    # THEN the answer is staged with the erasure: Padrón kept by law, the other systems' copies erased
    ((kind, answer),) = events_in(unit)
    assert (
        kind == ANSWERED and answer["outcome"] == "done" and datetime.fromisoformat(answer["answered_at"]) == clock.at
    )
    results = {a["what"]: (a["result"], a["count"]) for a in answer["actions"]}
    assert results["Padrón entries linked to the golden record"] == ("kept", 1)
    assert results["C360 copies of other area systems' records (their links and match evidence)"] == ("erased", 2)
    store.commit(unit)
    # AND only the Padrón's link remains, the golden record rebuilt from it, the erased records out of every block
    view = handlers.golden_record(citizen_id, ports)
    assert [lk["local_id"] for lk in view["links"]] == ["PAD1"]
    assert view["attributes"]["email"] == "ines.garzon@example.org"
    assert store.fetch_citizen_of(TRIBUTOS, "TRB1") is None and store.fetch_citizen_of(DEPORTES, "DEP1") is None
    assert not any(key.startswith((TRIBUTOS, DEPORTES)) for members in store.blocks.values() for key in members)
    assert store.documents == {"doc#DNI:48673243E": citizen_id}  # the Padrón entry holds the same DNI


def test_a_rectified_email_becomes_the_persons_own_and_is_announced(
    ports: CitizenPorts, store: FakeCitizenStore
) -> None:
    # GIVEN María Inés in the Padrón WHEN she rectifies her e-mail (RGPD art. 16)
    citizen_id = arrive(ports, store, PADRON, ines())
    request = rgpd_request("rectification", citizen_id, T0, fields={"email": "ines@nueva.example"})
    unit = handlers.answer_rights(request, ports, traceparent=None)

    # THEN citizen.updated announces the new contact point, with the answer, in one unit
    assert [kind for kind, _ in events_in(unit)] == [ANSWERED, UPDATED]
    (update,) = updates(unit)
    assert update["match"]["method"] == "data-subject" and update["contact"]["email"] == "ines@nueva.example"
    store.commit(unit)
    view = handlers.golden_record(citizen_id, ports)
    assert view["attributes"]["email"] == "ines@nueva.example"
    assert view["provenance"]["email"] == f"/pic/data-subject#{citizen_id}"
