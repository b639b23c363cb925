"""Functional: C360's first vertical slice through the broker ingress (``POST /events``), the
``citizen-record-upserted`` Trigger, the citizen event function and the citizen API."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from rich.console import Console

from local.harness import Platform
from local.load_records import load
from tests.functional.consent_support import REPO_ROOT, assert_problem, settle

pytestmark = pytest.mark.functional

UPSERTED = "es.madrid.pic.citizen.record.upserted.v1"
UPDATED = "es.madrid.pic.citizen.updated.v1"
TRIGGER = "citizen-record-upserted"
DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def fresh_dni() -> str:
    number = f"{uuid.uuid4().int % 100_000_000:08d}"
    return number + DNI_LETTERS[int(number) % 23]


def wrong_letter(dni: str) -> str:
    return dni[:-1] + next(c for c in DNI_LETTERS if c != dni[-1])


def unique_surname() -> str:
    """A surname no other test uses: the base is shared by the whole session and matching is probabilistic,
    so two tests' people must not resemble each other."""
    return "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:9]).capitalize()


def person(local_id: str, dni: str | None, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "local_id": local_id,
        "document": {"type": "DNI", "number": dni} if dni else None,
        "given_name": "Inés",
        "first_surname": unique_surname(),
        "second_surname": unique_surname(),
        "birth_date": f"19{uuid.uuid4().int % 90 + 10}-{uuid.uuid4().int % 12 + 1:02d}-{uuid.uuid4().int % 28 + 1:02d}",
        "email": None,
        "phone": None,
        "address": {
            "street": "Calle de Cesar Cañas",
            "number": str(uuid.uuid4().int % 500 + 1),
            "postal_code": "28031",
            "district": "18",
        },
    }
    data.update(overrides)
    return data


def upsert(platform: Platform, source: str, data: Any, event_id: str | None = None) -> str:
    event_id = event_id or str(uuid.uuid4())
    response = platform.send_event(UPSERTED, data, source=source, event_id=event_id)  # as the area system
    assert response.status_code == 202, response.text
    return event_id


def agent(platform: Platform) -> dict[str, str]:
    """An identity-team agent who sees golden records in full (level 3 of the citizen-attention area) and
    states why (agents act on a citizen's data only with a purpose)."""
    token = platform.as_("agent-7", role="agent", level=3, area="atencion-ciudadania")
    return {**token, "Access-Purpose": "C360-REVIEW-7"}


def lookup(platform: Platform, source: str, local_id: str, headers: dict[str, str]) -> requests.Response:
    return platform.http.get(
        platform.url("/v1/citizens"), params={"source": source, "local_id": local_id}, headers=headers, timeout=10
    )


def wait_for_citizen(platform: Platform, source: str, local_id: str, timeout: float = 30.0) -> str:
    headers = agent(platform)
    found = platform.wait_for(
        lambda: (r := lookup(platform, source, local_id, headers)).status_code == 200 and r.json(),
        timeout=timeout,
        what=f"{source}#{local_id} linked",
    )
    return str(found["citizen_id"])


def padron_person(platform: Platform, **overrides: Any) -> dict[str, Any]:
    """A fresh person the Padrón sends with a DNI, once C360 has their golden record: what was sent, with
    ``citizen_id`` and ``dni``."""
    local_id, dni = f"PAD{uuid.uuid4().hex[:10]}", fresh_dni()
    data = person(local_id, dni, **overrides)
    upsert(platform, "/legacy/padron", data)
    return {"citizen_id": wait_for_citizen(platform, "/legacy/padron", local_id), "dni": dni, **data}


def golden(platform: Platform, citizen_id: str) -> dict[str, Any]:
    response = platform.http.get(platform.url(f"/v1/citizens/{citizen_id}"), headers=agent(platform), timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.units_of_work
def test_two_systems_with_the_same_dni_make_one_golden_record_with_two_links(platform: Platform) -> None:
    # GIVEN one person in the Padrón and in Tributos, with the same DNI written differently
    dni, pad, trb = fresh_dni(), f"PAD{uuid.uuid4().hex[:8]}", f"TRB{uuid.uuid4().hex[:8]}"
    padron = person(pad, dni, email="old@example.org")
    upsert(platform, "/legacy/padron", padron)
    first = wait_for_citizen(platform, "/legacy/padron", pad)

    # WHEN Tributos sends its record
    names = {k: padron[k] for k in ("first_surname", "second_surname")}
    upsert(
        platform,
        "/legacy/tributos",
        person(trb, f"{dni[:-1]}-{dni[-1].lower()}", given_name="Ines", email="new@example.org", **names),
    )

    # THEN both records resolve to the same golden record, by document, with two links
    assert wait_for_citizen(platform, "/legacy/tributos", trb) == first
    record = golden(platform, first)
    assert {(lk["source"], lk["local_id"]) for lk in record["links"]} == {
        ("/legacy/padron", pad),
        ("/legacy/tributos", trb),
    }
    methods = {lk["source"]: lk["match"]["method"] for lk in record["links"]}
    assert methods == {"/legacy/padron": "new", "/legacy/tributos": "document"}
    # AND survivorship: the Padrón's name, the most recent e-mail
    assert record["attributes"]["given_name"] == "Inés"
    assert record["attributes"]["email"] == "new@example.org"
    assert record["documents"] == [{"type": "DNI", "number": dni}]
    # AND citizen.updated events announce each link with its match decision
    events = platform.wait_for(lambda: len(found := platform.events(UPDATED, first)) >= 2 and found, what="events")
    assert {e["data"]["match"]["method"] for e in events} == {"new", "document"}


def test_lookup_answers_404_for_an_unknown_record_and_403_to_another_citizen(platform: Platform) -> None:
    pad = f"PAD{uuid.uuid4().hex[:8]}"
    assert_problem(lookup(platform, "/legacy/padron", pad, agent(platform)), 404, "not-found")
    assert_problem(lookup(platform, "/legacy/padron", "", agent(platform)), 422, "validation")
    upsert(platform, "/legacy/padron", person(pad, fresh_dni()))
    citizen = wait_for_citizen(platform, "/legacy/padron", pad)
    stranger = platform.as_("cit-someone-else")
    assert_problem(lookup(platform, "/legacy/padron", pad, stranger), 403, "forbidden")
    own = platform.http.get(platform.url(f"/v1/citizens/{citizen}"), headers=platform.as_(citizen), timeout=10)
    assert own.status_code == 200, own.text
    system = platform.as_("svc-padron", role="system")
    assert lookup(platform, "/legacy/padron", pad, system).json() == {"citizen_id": citizen}


def test_a_wrong_check_letter_is_a_finding_never_the_reason_for_a_match(platform: Platform) -> None:
    # GIVEN a person in the Padrón
    dni, pad, mul, cul = (
        fresh_dni(),
        f"PAD{uuid.uuid4().hex[:8]}",
        f"MUL{uuid.uuid4().hex[:8]}",
        f"CUL{uuid.uuid4().hex[:8]}",
    )
    padron = person(pad, dni)
    upsert(platform, "/legacy/padron", padron)
    first = wait_for_citizen(platform, "/legacy/padron", pad)

    # WHEN Cultura sends someone else (other name, other birth date) with the same DNI but a wrong letter
    upsert(platform, "/legacy/cultura", person(cul, wrong_letter(dni), birth_date="1990-05-05"))

    # THEN the DNI is not used at all: a separate golden record whose link carries the data-quality finding
    other = wait_for_citizen(platform, "/legacy/cultura", cul)
    assert other != first
    (link,) = golden(platform, other)["links"]
    (finding,) = link["findings"]
    assert finding["field"] == "document" and "wrong check letter" in finding["finding"]

    # WHEN Multas sends the same person as the Padrón (name, birth date, address) with a wrong letter
    upsert(
        platform,
        "/legacy/multas",
        {**padron, "local_id": mul, "document": {"type": "DNI", "number": wrong_letter(dni)}},
    )

    # THEN it joins the Padrón's golden record on the other evidence; the document compared as missing
    assert wait_for_citizen(platform, "/legacy/multas", mul) == first
    link = next(lk for lk in golden(platform, first)["links"] if lk["source"] == "/legacy/multas")
    assert link["match"]["method"] == "probabilistic" and link["findings"][0]["field"] == "document"
    assert "document: null (+0.00)" in link["match"]["evidence"]


@pytest.mark.units_of_work
def test_a_redelivered_upsert_links_once(platform: Platform) -> None:
    pad = f"PAD{uuid.uuid4().hex[:8]}"
    event_id, data = str(uuid.uuid4()), person(pad, fresh_dni())
    for _ in range(3):
        upsert(platform, "/legacy/padron", data, event_id=event_id)
    citizen = wait_for_citizen(platform, "/legacy/padron", pad)
    platform.wait_for(
        lambda: len([e for e in platform.received(UPSERTED) if e["id"] == event_id]) >= 3, what="3 deliveries"
    )
    assert len(golden(platform, citizen)["links"]) == 1
    # AND one citizen.updated, once the outbox has published everything committed so far
    platform.wait_for(lambda: platform.events(UPDATED, citizen), what="citizen.updated")
    settle(platform)
    assert len(platform.events(UPDATED, citizen)) == 1


def test_re_upserting_a_record_with_new_content_updates_its_link(platform: Platform) -> None:
    dni, pad = fresh_dni(), f"PAD{uuid.uuid4().hex[:8]}"
    upsert(platform, "/legacy/padron", person(pad, dni))
    citizen = wait_for_citizen(platform, "/legacy/padron", pad)
    upsert(platform, "/legacy/padron", person(pad, dni, phone="600 11 22 33"))
    record = platform.wait_for(
        lambda: (g := golden(platform, citizen))["attributes"].get("phone") and g, what="the new phone"
    )
    assert record["attributes"]["phone"] == "+34600112233"
    assert len(record["links"]) == 1


@pytest.mark.parametrize(
    ("data", "code", "field"),
    [
        ({"given_name": "Nadie"}, 400, "local_id"),
        ({"local_id": "X1", "document": {"type": "CARNET", "number": "1"}}, 400, "document.type"),
        ({"local_id": "X2", "birth_date": "31/12/1950"}, 400, "birth_date"),
    ],
    ids=["no-local-id", "unknown-document-type", "bad-birth-date"],
)
def test_invalid_data_is_dead_lettered_with_the_reason(
    platform: Platform, data: dict[str, Any], code: int, field: str
) -> None:
    event_id = upsert(platform, "/legacy/deportes", data)
    (dead,) = platform.wait_for(
        lambda: [d for d in platform.deadletters() if d["event"]["id"] == event_id], what="the dead letter"
    )
    assert dead["trigger"] == TRIGGER and dead["subscriber"] == "pic-citizen-events"
    assert dead["code"] == code
    reason = json.loads(dead["reason"])
    assert any(e["field"].startswith(field) for e in reason.get("errors", [])), reason


def test_the_loader_links_every_record_of_a_synthetic_city(platform: Platform, tmp_path: Path) -> None:
    # GIVEN a tiny synthetic city, plus one file with malformed lines
    city = tmp_path / "city"
    subprocess.run(
        [sys.executable, "-m", "seed.city", "--people", "30", "--seed", "1", "--out", str(city)],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    )
    truth = [json.loads(line) for line in (city / "ground_truth.jsonl").read_text(encoding="utf-8").splitlines()]
    (city / "broken.jsonl").write_text(
        'not json\n{"given_name": "Sin Id"}\n[1]\n{"local_id": "X9", "birth_date": "31/12/1950"}\n', encoding="utf-8"
    )

    # WHEN the loader posts every system file (twice: re-loading is idempotent)
    quiet = Console(file=io.StringIO(), force_terminal=False)
    report = load(city, platform.url(""), console=quiet)
    again = load(city, platform.url(""), console=quiet)

    # THEN every good record is accepted, and each malformed line is reported with its place
    assert report.ok and report.accepted == len(truth) and again.accepted == len(truth)
    assert [m.split(":")[0:2] for m in report.malformed] == [
        ["broken.jsonl", "1"],
        ["broken.jsonl", "2"],
        ["broken.jsonl", "3"],
        ["broken.jsonl", "4"],
    ]
    # AND dead-lettered, one line per record with the reason and the raw text (nothing is lost)
    assert report.dead_letters == city / "dead-letters.jsonl"
    dead = [json.loads(line) for line in report.dead_letters.read_text(encoding="utf-8").splitlines()]
    assert [(d["line"], d["reason"].split(":")[0]) for d in dead] == [
        (1, "not JSON"),
        (2, "no local_id"),
        (3, "not a JSON object"),
        (4, "not a citizen record"),
    ]
    assert "birth_date" in dead[3]["reason"] and dead[3]["raw"] == '{"local_id": "X9", "birth_date": "31/12/1950"}'
    # AND every ground-truth record resolves to a golden record
    ids = {(t["source"], t["local_id"]): wait_for_citizen(platform, t["source"], t["local_id"], 60) for t in truth}
    assert len(ids) == len(truth)
    # AND records of one person that share a valid document share the golden record (no false merges)
    by_citizen: dict[str, set[str]] = {}
    for t in truth:
        by_citizen.setdefault(ids[(t["source"], t["local_id"])], set()).add(t["person_id"])
    assert all(len(people) == 1 for people in by_citizen.values())
    assert len(by_citizen) < len(truth)
