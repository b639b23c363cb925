"""Functional: agents find a citizen (``POST /v1/citizen-search``) on the real platform: records through the
broker, DynamoDB Local, the citizen function over HTTP, the policy and the access log the person reads."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from local.harness import Platform
from tests.functional.citizen.test_citizen import UPDATED, fresh_dni, person, upsert, wait_for_citizen, wrong_letter
from tests.functional.citizen.test_citizen_matching import the_same_person_with_another_dni
from tests.functional.citizen.test_citizen_rights import access_log
from tests.functional.consent_support import assert_problem

pytestmark = pytest.mark.functional

PADRON, DEPORTES = "/legacy/padron", "/legacy/deportes"
PURPOSE = "CITA-2026-0417"


def local_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def fresh_phone() -> str:
    digits = f"{uuid.uuid4().int % 100_000_000:08d}"
    return f"+34 6{digits[:2]} {digits[2:5]} {digits[5:]}"


def desk(platform: Platform, reader: str | None = None, purpose: str | None = PURPOSE) -> dict[str, str]:
    """An attention agent of level 1 at the desk, stating the appointment attended."""
    headers = platform.as_(
        reader or f"agente-{uuid.uuid4().hex[:6]}", role="agent", level=1, area="atencion-ciudadania"
    )
    return {**headers, "Access-Purpose": purpose} if purpose else headers


def search(platform: Platform, body: Any, headers: dict[str, str]) -> requests.Response:
    return platform.http.post(platform.url("/v1/citizen-search"), json=body, headers=headers, timeout=15)


def found(response: requests.Response) -> list[tuple[str, str]]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["matches"]) and body["truncated"] is False
    return [(m["citizen_id"], m["matched_on"]) for m in body["matches"]]


@pytest.fixture(scope="module")
def ines(platform: Platform) -> dict[str, Any]:
    """GIVEN a person in the Padrón with a DNI, an e-mail and a phone."""
    pad = local_id("PAD")
    record = person(pad, fresh_dni(), email=f"ines.{uuid.uuid4().hex[:8]}@Example.org", phone=fresh_phone())
    upsert(platform, PADRON, record)
    return {**record, "citizen_id": wait_for_citizen(platform, PADRON, pad)}


def test_an_agent_finds_a_citizen_by_document(platform: Platform, ines: dict[str, Any]) -> None:
    dni = ines["document"]["number"]
    response = search(platform, {"document": {"type": "DNI", "number": f"{dni[:2]}.{dni[2:5]}.{dni[5:8]}-{dni[8]}"}},
                      desk(platform))  # fmt: skip
    assert found(response) == [(ines["citizen_id"], "document")]
    (match,) = response.json()["matches"]
    name = f"{ines['given_name']} {ines['first_surname']} {ines['second_surname']}"
    assert match == {
        "citizen_id": ines["citizen_id"],
        "name": name,
        "birth_date": ines["birth_date"],
        "district": "18",
        "matched_on": "document",
    }


def test_an_agent_finds_a_citizen_by_name_and_birth_date(platform: Platform, ines: dict[str, Any]) -> None:
    headers = desk(platform)
    expected = [(ines["citizen_id"], "name-birth-date")]
    body = {"name": "ines", "surname": ines["first_surname"].upper(), "birth_date": ines["birth_date"]}
    assert found(search(platform, body, headers)) == expected
    full = f"Inés {ines['first_surname']} {ines['second_surname']}"
    assert found(search(platform, {"name": full, "birth_date": ines["birth_date"]}, headers)) == expected


def test_an_agent_finds_a_citizen_by_phone_and_by_email(platform: Platform, ines: dict[str, Any]) -> None:
    headers = desk(platform)
    phone = ines["phone"].replace("+34", "0034").replace(" ", "")
    assert found(search(platform, {"phone": phone}, headers)) == [(ines["citizen_id"], "phone")]
    email = ines["email"].upper()
    assert found(search(platform, {"email": email}, headers)) == [(ines["citizen_id"], "email")]


def test_nothing_found_is_an_empty_list_not_a_404(platform: Platform) -> None:
    response = search(platform, {"email": f"nadie-{uuid.uuid4().hex[:8]}@example.org"}, desk(platform))
    assert response.status_code == 200, response.text
    assert response.json() == {"matches": [], "count": 0, "truncated": False}


def test_a_near_neighbour_in_the_same_block_is_not_returned(platform: Platform, ines: dict[str, Any]) -> None:
    # GIVEN her twin at Deportes: same surnames and birth date (the same name blocks), another given name
    dep = local_id("DEP")
    names = {k: ines[k] for k in ("first_surname", "second_surname", "birth_date")}
    upsert(platform, DEPORTES, person(dep, None, given_name="Lucía", **names))
    twin = wait_for_citizen(platform, DEPORTES, dep)
    assert twin != ines["citizen_id"]

    # WHEN an agent searches each by name and birth date THEN each finds only her
    headers = desk(platform)
    ines_body = {"name": "Inés", "surname": ines["first_surname"], "birth_date": ines["birth_date"]}
    assert found(search(platform, ines_body, headers)) == [(ines["citizen_id"], "name-birth-date")]
    lucia_body = {**ines_body, "name": "Lucía"}
    assert found(search(platform, lucia_body, headers)) == [(twin, "name-birth-date")]


def test_a_merged_away_golden_record_is_found_as_the_survivor(platform: Platform) -> None:
    # GIVEN one person under two valid DNIs (two golden records and a review) WHEN an agent merges them
    first, second, _, _, padron = the_same_person_with_another_dni(platform)
    event = platform.wait_for(lambda: platform.events(UPDATED, second), what="the second golden record's event")
    review_id = event[0]["data"]["match"]["review_id"]
    staff = {**platform.as_("agent-7", role="agent", level=3, area="atencion-ciudadania"), "Access-Purpose": "C360"}
    decided = platform.http.post(
        platform.url(f"/v1/citizen-reviews/{review_id}"), json={"decision": "match"}, headers=staff, timeout=15
    )
    assert decided.status_code == 200, decided.text

    # THEN a search by name and birth date finds the survivor only
    body = {"name": padron["given_name"], "surname": padron["first_surname"], "birth_date": padron["birth_date"]}
    assert found(search(platform, body, desk(platform))) == [(first, "name-birth-date")]


def test_the_person_found_sees_the_search_in_their_access_log(platform: Platform, ines: dict[str, Any]) -> None:
    # WHEN an agent finds her by e-mail
    reader = f"agente-{uuid.uuid4().hex[:6]}"
    assert found(search(platform, {"email": ines["email"]}, desk(platform, reader)))

    # THEN her access log shows who searched, why, and that a summary was shown
    (entry,) = access_log(platform, ines["citizen_id"], reader, 1)
    assert (entry["resource"], entry["decision"], entry["purpose"]) == ("citizen-search", "allowed", PURPOSE)
    assert entry["sections"] == ["golden-record:summary"]
    assert entry["reader"]["role"] == "agent" and entry["function"] == "pic-citizen"


def test_an_agent_without_a_purpose_is_refused(platform: Platform, ines: dict[str, Any]) -> None:
    problem = assert_problem(search(platform, {"email": ines["email"]}, desk(platform, purpose=None)), 403, "forbidden")
    assert "Access-Purpose" in problem["detail"]


@pytest.mark.parametrize(
    "caller",
    [{"role": "citizen"}, {"role": "system"}, {"role": "admin"}, {"role": "agent", "level": 0}],
    ids=["citizen", "system", "admin", "agent-level-0"],
)
def test_only_attention_agents_search(platform: Platform, ines: dict[str, Any], caller: dict[str, Any]) -> None:
    who = ines["citizen_id"] if caller["role"] == "citizen" else f"x-{uuid.uuid4().hex[:6]}"
    headers = {**platform.as_(who, **caller), "Access-Purpose": PURPOSE}
    problem = assert_problem(search(platform, {"email": ines["email"]}, headers), 403, "forbidden")
    assert problem["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "(body)"),
        ({"phone": "+34 600 000 000", "email": "x@example.org"}, "phone"),
        ({"name": "María", "surname": "García"}, "birth_date"),
        ({"birth_date": "1980-05-17"}, "name"),
        ({"name": "María", "birth_date": "1980-05-17"}, "surname"),
        ({"name": "María García", "birth_date": "17/05/1980"}, "birth_date"),
        ({"document": {"type": "DNI", "number": "12345678A"}}, "document.number"),
        ({"document": {"type": "CARNET", "number": "12345678Z"}}, "document.type"),
        ({"document": {"type": "DNI"}}, "document.number"),
        ({"phone": "12"}, "phone"),
        ({"email": "not an address"}, "email"),
        ({"email": "x@example.org", "dni": "12345678Z"}, "dni"),
        ({"email": ["x@example.org"]}, "email"),
        ([{"email": "x@example.org"}], "(body)"),
        ({"name": "", "birth_date": "1980-05-17"}, "name"),
    ],
)
def test_malformed_bodies_are_422_problems_naming_the_field(platform: Platform, body: Any, field: str) -> None:
    problem = assert_problem(search(platform, body, desk(platform)), 422, "validation")
    assert field in [e["field"] for e in problem["errors"]], problem


def test_a_body_that_is_not_json_is_a_problem_not_a_500(platform: Platform) -> None:
    url, headers = platform.url("/v1/citizen-search"), desk(platform)
    assert_problem(platform.http.post(url, data=b"{", headers={**headers, "Content-Type": "application/json"}), 400)
    assert_problem(platform.http.post(url, data=b"phone=1", headers=headers), 415)


def test_the_invalid_document_problem_says_why(platform: Platform) -> None:
    dni = fresh_dni()
    problem = assert_problem(search(platform, {"document": {"type": "DNI", "number": wrong_letter(dni)}},
                                    desk(platform)), 422, "validation")  # fmt: skip
    assert f"should end in {dni[-1]}" in problem["detail"]
