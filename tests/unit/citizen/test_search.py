"""Agents find a citizen (``handlers.search_citizens`` and the pure rules in ``service``) on the in-memory fake
of the store: by document through its index, by name and birth date, phone or e-mail through the blocks, each
golden record confirmed on its own attributes; merged-away records resolve to the survivor; bad criteria are
422 problems. No DynamoDB, no HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from events.citizen import CitizenRecordUpserted
from functions.citizen import handlers, matching, service
from functions.citizen.handlers import CitizenPorts
from functions.citizen.service import Golden, SearchCriterion
from functions.core.errors import ValidationError
from functions.core.policy import EmbeddedPolicy
from tests.unit.citizen.fakes import FakeCitizenStore
from tests.unit.fakes import FixedClock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PADRON, DEPORTES, MULTAS = "/legacy/padron", "/legacy/deportes", "/legacy/multas"
INES = "María Inés Garzón Villalba"


@pytest.fixture
def store() -> FakeCitizenStore:
    return FakeCitizenStore()


@pytest.fixture
def ports(store: FakeCitizenStore, policy: EmbeddedPolicy) -> CitizenPorts:
    return CitizenPorts(store=store, policy=policy, model=matching.load_model(), clock=FixedClock(T0))


def ines(local_id: str = "PAD1", **overrides: Any) -> CitizenRecordUpserted:
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


def lucia() -> CitizenRecordUpserted:
    """Her twin sister at Deportes: same surnames, same birth date, another given name, her own contacts."""
    return ines(
        "DEP7",
        document=None,
        given_name="Lucía",
        email="lucia.garzon@example.org",
        phone="699887766",
        address={"postal_code": "28013", "district": "01"},
    )


def arrive(ports: CitizenPorts, store: FakeCitizenStore, source: str, record: CitizenRecordUpserted) -> str:
    store.commit(handlers.resolve_record(source, record, ports, traceparent=None))
    return handlers.citizen_of_record(source, record.local_id, ports)


def search(ports: CitizenPorts, **criteria: Any) -> service.SearchResult:
    return handlers.search_citizens(service.search_criterion(**criteria), ports)


def found(result: service.SearchResult) -> list[tuple[str, str]]:
    return [(m.citizen_id, m.matched_on) for m in result.matches]


# ---- each criterion -------------------------------------------------------------------------------------


def test_a_document_finds_its_owner_through_the_index(ports: CitizenPorts, store: FakeCitizenStore) -> None:
    # GIVEN María Inés in the Padrón
    ines_id = arrive(ports, store, PADRON, ines())

    # WHEN an agent searches her DNI as people write it
    result = search(ports, document=("DNI", "48.673.243-e"))

    # THEN her golden record, shown as the desk lists it
    (match,) = result.matches
    assert match == service.SearchMatch(ines_id, INES, "1980-05-17", "01", "document")
    assert result.truncated is False


def test_a_name_and_birth_date_find_her_however_the_name_is_written(
    ports: CitizenPorts, store: FakeCitizenStore
) -> None:
    # GIVEN María Inés in the Padrón
    ines_id = arrive(ports, store, PADRON, ines())

    # WHEN an agent types her name in several ways, always with her birth date
    ways = [
        {"name": "María Inés", "surname": "Garzón"},
        {"name": "maria ines", "surname": "GARZON VILLALBA"},
        {"name": "Mª Inés", "surname": "Villalba Garzón"},
        {"name": "María Inés Garzón Villalba"},  # the full name, no surname field
        {"name": "Maria Ines Garzon"},
    ]
    # THEN each finds her, on name and birth date
    for way in ways:
        assert found(search(ports, birth_date="1980-05-17", **way)) == [(ines_id, "name-birth-date")], way


def test_a_phone_and_an_email_find_her_once_normalised(ports: CitizenPorts, store: FakeCitizenStore) -> None:
    ines_id = arrive(ports, store, PADRON, ines())

    assert found(search(ports, phone="+34 612 34 56 78")) == [(ines_id, "phone")]
    assert found(search(ports, phone="0034612345678")) == [(ines_id, "phone")]
    assert found(search(ports, email="  INES.GARZON@Example.ORG ")) == [(ines_id, "email")]


def test_nothing_found_is_an_empty_list(ports: CitizenPorts, store: FakeCitizenStore) -> None:
    arrive(ports, store, PADRON, ines())

    for criteria in (
        {"phone": "+34 600 000 001"},
        {"email": "nadie@example.org"},
        {"document": ("DNI", "12345678Z")},
        {"name": "María Inés", "surname": "Garzón", "birth_date": "1980-05-18"},
    ):
        result = search(ports, **criteria)
        assert (result.matches, result.truncated) == ((), False), criteria


# ---- near neighbours and merged records -------------------------------------------------------------------


def test_a_blocks_near_neighbour_is_not_returned(ports: CitizenPorts, store: FakeCitizenStore) -> None:
    # GIVEN María Inés and her twin Lucía: same surnames and birth date, so the same name blocks
    ines_id = arrive(ports, store, PADRON, ines())
    lucia_id = arrive(ports, store, DEPORTES, lucia())
    assert ines_id != lucia_id
    criterion = service.search_criterion(name="María Inés", surname="Garzón", birth_date="1980-05-17")
    assert store.fetch_block_owners(service.search_keys(criterion)).citizen_ids == {ines_id, lucia_id}

    # WHEN an agent searches María Inés THEN only she is found; searching Lucía finds only Lucía
    assert found(handlers.search_citizens(criterion, ports)) == [(ines_id, "name-birth-date")]
    assert found(search(ports, name="Lucía Garzón", birth_date="1980-05-17")) == [(lucia_id, "name-birth-date")]
    # AND the surname alone with the birth date is no name: her given name must match too
    assert found(search(ports, name="Inés", surname="Garzón", birth_date="1980-05-17")) == []


def test_a_merged_away_golden_record_resolves_to_the_survivor(ports: CitizenPorts, store: FakeCitizenStore) -> None:
    # GIVEN María Inés in the Padrón and again at Multas under another valid DNI: two golden records, a review
    first = arrive(ports, store, PADRON, ines())
    second = arrive(ports, store, MULTAS, ines("MUL1", document={"type": "DNI", "number": "12345678Z"}))
    assert first != second
    assert {m.citizen_id for m in search(ports, phone="612345678").matches} == {first, second}
    (review,) = handlers.review_queue("open", 20, None, ports).items

    # WHEN an agent decides they are one person
    store.commit(handlers.decide_review(review.review_id, "match", "agent-7", ports, traceparent=None).unit)

    # THEN every search finds the survivor only, also by the absorbed record's document
    assert found(search(ports, document=("DNI", "12345678Z"))) == [(first, "document")]
    assert found(search(ports, phone="612345678")) == [(first, "phone")]
    assert found(search(ports, name="María Inés Garzón", birth_date="1980-05-17")) == [(first, "name-birth-date")]


# ---- the pure rules ----------------------------------------------------------------------------------------


def golden(citizen_id: str, **attributes: Any) -> Golden:
    base = {"given_name": "Ana", "first_surname": "Ruiz", "birth_date": "1990-01-02", "phone": "+34600111222"}
    return Golden(citizen_id, {**base, **attributes})


def test_confirmation_is_exact_after_normalisation() -> None:
    by_phone = service.search_criterion(phone="600 111 222")
    by_email = service.search_criterion(email="Ana.Ruiz@Example.org")
    assert service.confirms(by_phone, golden("c1"))
    assert not service.confirms(by_phone, golden("c1", phone="+34600111223"))
    assert not service.confirms(by_phone, golden("c1", phone=None))
    assert service.confirms(by_email, golden("c1", email="ana.ruiz@example.org"))
    assert not service.confirms(by_email, golden("c1", email="ana.ruiz2@example.org"))
    assert not service.confirms(by_email, golden("c1"))
    by_name = service.search_criterion(name="Ana", surname="Ruiz", birth_date="1990-01-02")
    assert service.confirms(by_name, golden("c1"))
    assert not service.confirms(by_name, golden("c1", birth_date="1990-01-03"))  # a sibling's date
    assert not service.confirms(by_name, golden("c1", given_name="Anabel"))  # a near name
    assert not service.confirms(by_name, golden("c1", first_surname="Ruiz Díaz"))


def test_name_keys_are_the_blocks_records_join() -> None:
    # GIVEN a record as the matching module blocks it
    record = matching.features_from_dict("/legacy/padron#P1", ines().model_dump(mode="json"))
    # WHEN an agent searches her by name, phone or e-mail
    by_name = service.search_criterion(name="María Inés", surname="Garzón", birth_date="1980-05-17")
    by_phone = service.search_criterion(phone="612 345 678")
    by_email = service.search_criterion(email="ines.garzon@example.org")
    # THEN every key searched is a block her record joined
    record_keys = matching.blocking_keys(record)
    for criterion in (by_name, by_phone, by_email):
        assert service.search_keys(criterion) and service.search_keys(criterion) <= record_keys, criterion


def test_at_most_twenty_matches_ordered_by_name_and_truncated_beyond() -> None:
    criterion = service.search_criterion(phone="600111222")
    goldens = [golden(f"c{i:02d}", given_name=f"Ana {chr(ord('Z') - i)}") for i in range(25)]
    result = service.search_result(criterion, goldens)
    assert len(result.matches) == service.MAX_SEARCH_MATCHES and result.truncated
    names = [m.name for m in result.matches]
    assert names == sorted(names)
    assert not service.search_result(criterion, goldens[:3]).truncated
    assert service.search_result(criterion, goldens[:3], complete=False).truncated  # a block read in part


@pytest.mark.parametrize(
    ("criteria", "fields"),
    [
        ({}, ["(body)"]),
        ({"phone": "600111222", "email": "a@example.org"}, ["phone", "email"]),
        ({"document": ("DNI", "48673243E"), "name": "Ana"}, ["document", "name"]),
        ({"name": "Ana", "surname": "Ruiz"}, ["birth_date"]),
        ({"birth_date": "1990-01-02"}, ["name"]),
        ({"surname": "Ruiz", "birth_date": "1990-01-02"}, ["name"]),
        ({"name": "Ana", "birth_date": "1990-01-02"}, ["surname"]),  # one word: no surname to find her by
        ({"name": "A B C D E F G H", "birth_date": "1990-01-02"}, ["name"]),
        ({"document": ("DNI", "48673243A")}, ["document.number"]),  # wrong check letter: no one holds it
        ({"phone": "123"}, ["phone"]),
        ({"email": "not-an-address"}, ["email"]),
    ],
)
def test_bad_criteria_are_validation_problems_naming_the_fields(criteria: dict[str, Any], fields: list[str]) -> None:
    with pytest.raises(ValidationError) as refused:
        service.search_criterion(**criteria)
    assert refused.value.status == 422
    assert [e["field"] for e in refused.value.errors or []] == fields


def test_a_criterion_is_one_kind() -> None:
    assert isinstance(service.search_criterion(email="a@example.org"), SearchCriterion)
    assert service.search_criterion(document=("NIE", "X1234567L")).kind == "document"
    assert service.search_criterion(name="Ana Ruiz", birth_date="1990-01-02").kind == "name-birth-date"
