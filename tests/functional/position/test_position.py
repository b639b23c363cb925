"""Functional: interactions (INTX), the global position (POS) and the access log, through the real gateway,
broker, Triggers, outbox relay and C360.

A person is made the way the city makes them: area systems send their records (C360 links them by DNI)
and their facts (sent BEFORE the records, so the position must attach facts that arrived early).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from local.harness import Platform
from seed.position import INTERACTION_RECORDED, ITEM_UPSERTED, RECORD_UPSERTED, Event, send
from tests.functional.consent_support import assert_problem, settle

pytestmark = pytest.mark.functional

LOGGED = "es.madrid.pic.interaction.logged.v1"
CITIZEN_UPDATED = "es.madrid.pic.citizen.updated.v1"
DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
NOW = datetime.now(UTC).replace(microsecond=0)


def fresh_dni() -> str:
    number = f"{uuid.uuid4().int % 100_000_000:08d}"
    return number + DNI_LETTERS[int(number) % 23]


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def post(platform: Platform, event: Event, structured: bool = False, event_id: str | None = None) -> None:
    answer = send(
        platform.http, platform.base, event, tokens=platform.senders, structured=structured, event_id=event_id
    )
    assert answer.status_code == 202, answer.text


def fact(source: str, local_id: str, section: str, item_id: str, area: str, **fields: Any) -> Event:
    data: dict[str, Any] = {
        "local_id": local_id,
        "section": section,
        "item_id": item_id,
        "status": fields.pop("status", "pending"),
        "title": fields.pop("title", f"{section} {item_id}"),
        "area": area,
        "as_of": iso(fields.pop("as_of", NOW)),
        **fields,
    }
    return Event(ITEM_UPSERTED, source, local_id, data)


def person_record(local_id: str, dni: str) -> dict[str, Any]:
    return {
        "local_id": local_id,
        "document": {"type": "DNI", "number": dni},
        "given_name": "Lucía",
        "first_surname": "Herrero",
        "second_surname": "Gil",
        "birth_date": "1968-05-02",
    }


def agent(
    platform: Platform, level: int, area: str, sub: str = "agente-1", purpose: str | None = None
) -> dict[str, str]:
    headers = platform.as_(sub, role="agent", level=level, area=area)
    return {**headers, "Access-Purpose": purpose} if purpose else headers


def golden_id(platform: Platform, source: str, local_id: str) -> str:
    headers = platform.as_("svc-tributos", role="system")  # an area system asks which golden record it is

    def found() -> str | None:
        answer = platform.http.get(
            platform.url("/v1/citizens"), params={"source": source, "local_id": local_id}, headers=headers, timeout=10
        )
        return str(answer.json()["citizen_id"]) if answer.status_code == 200 else None

    return str(platform.wait_for(found, timeout=30, what=f"the golden record of {source}#{local_id}"))


def position(
    platform: Platform, citizen_id: str, headers: dict[str, str], purpose: str | None = None
) -> requests.Response:
    if purpose is not None:
        headers = {**headers, "Access-Purpose": purpose}
    return platform.http.get(platform.url(f"/v1/citizens/{citizen_id}/position"), headers=headers, timeout=15)


def sections(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["section"]: s for s in body["sections"]}


def wait_position(platform: Platform, citizen_id: str, ready: Any, what: str) -> dict[str, Any]:
    me = platform.as_(citizen_id)

    def check() -> dict[str, Any] | None:
        answer = position(platform, citizen_id, me)
        assert answer.status_code == 200, answer.text
        body = sections(answer.json())
        return body if ready(body) else None

    return dict(platform.wait_for(check, timeout=30, what=what))


@pytest.fixture(scope="module")
def person(platform: Platform) -> dict[str, Any]:
    """A person known to Tributos, Multas and Servicios Sociales, with a fact in each, a consent and a visit."""
    dni = fresh_dni()
    tag = uuid.uuid4().hex[:8]
    ids = {"tributos": f"TRB-{tag}", "multas": f"MUL-{tag}", "servicios-sociales": f"SSO-{tag}"}
    facts = [
        fact("/legacy/tributos", ids["tributos"], "taxes", f"IBI-{tag}", "hacienda", amount_eur="312.45",
             due_date=(NOW.date() + timedelta(days=30)).isoformat(), attributes={"cadastral_reference": "9872023VK"}),
        fact("/legacy/multas", ids["multas"], "fines", f"MUL-{tag}-1", "movilidad", amount_eur="90.00",
             attributes={"plate": "1234 KLM"}),
        fact("/legacy/servicios-sociales", ids["servicios-sociales"], "cases", f"SAD-{tag}", "servicios-sociales",
             special_category=True, title="Servicio de Ayuda a Domicilio", attributes={"assessment": "grado I"}),
    ]  # fmt: skip
    for i, event in enumerate(facts):  # facts first: the links arrive after them
        post(platform, event, structured=bool(i % 2))
    for system, local_id in ids.items():
        post(platform, Event(RECORD_UPSERTED, f"/legacy/{system}", local_id, person_record(local_id, dni)))
    citizen_id = golden_id(platform, "/legacy/tributos", ids["tributos"])
    for system, local_id in ids.items():
        assert golden_id(platform, f"/legacy/{system}", local_id) == citizen_id
    consent = platform.http.put(
        platform.url(f"/v1/citizens/{citizen_id}/consents/personalisation"),
        json={"granted": True, "text_version": "2026-01"},
        headers=platform.as_(citizen_id),
        timeout=15,
    )
    assert consent.status_code == 200, consent.text
    wait_position(
        platform,
        citizen_id,
        lambda s: all(s[n]["summary"]["count"] for n in ("taxes", "fines", "cases", "consents")),
        "taxes, fines, cases and consents in the position",
    )
    return {"citizen_id": citizen_id, "ids": ids, "tag": tag, "dni": dni}


def interaction_body(citizen_id: str, interaction_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "interaction_id": interaction_id,
        "citizen_id": citizen_id,
        "channel": {
            "kind": "office-visit",
            "office": "OAC Arganzuela",
            "service": "Padrón",
            "ticket": "A042",
            "issued_at": iso(NOW - timedelta(minutes=20)),
            "called_at": iso(NOW - timedelta(minutes=5)),
        },
        "area": "atencion-ciudadania",
        "topic": "Cambio de domicilio",
        "started_at": iso(NOW - timedelta(minutes=5)),
        "ended_at": iso(NOW),
    }
    body.update(overrides)
    return body


# ---- interactions --------------------------------------------------------------------------------------


def test_an_agent_records_an_interaction_once_and_it_is_listed_in_the_position(
    platform: Platform, person: dict[str, Any]
) -> None:
    # GIVEN an agent attending the person at an office
    citizen_id = person["citizen_id"]
    headers = agent(platform, 1, "atencion-ciudadania", purpose="TICKET-A042")
    body = interaction_body(citizen_id, f"visit-{uuid.uuid4().hex[:8]}")

    # WHEN they record the visit, then send it again (a retry)
    first = platform.http.post(platform.url("/v1/interactions"), json=body, headers=headers, timeout=15)
    again = platform.http.post(platform.url("/v1/interactions"), json=body, headers=headers, timeout=15)

    # THEN the first is created, the second answers the same record, and one interaction.logged is announced
    assert first.status_code == 201, first.text
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert first.headers["Location"] == f"/v1/interactions/{first.json()['id']}"
    settle(platform)
    logged = [e for e in platform.events(LOGGED, citizen_id) if e["data"]["id"] == first.json()["id"]]
    assert len(logged) == 1
    # AND the citizen sees it in their position, with the office, ticket and times
    found = wait_position(
        platform,
        citizen_id,
        lambda s: any(i["item_id"] == first.json()["id"] for i in s["interactions"]["items"]),
        "the visit in the position",
    )
    (item,) = [i for i in found["interactions"]["items"] if i["item_id"] == first.json()["id"]]
    assert item["kind"] == "office-visit" and item["attributes"]["ticket"] == "A042"
    assert found["interactions"]["sources"][0]["source"] == "/pic/interaction"


def test_an_interaction_id_reused_with_other_content_is_refused(platform: Platform, person: dict[str, Any]) -> None:
    # GIVEN a recorded call
    headers = agent(platform, 2, "hacienda", purpose="TICKET-A043")
    body = interaction_body(person["citizen_id"], f"call-{uuid.uuid4().hex[:8]}")
    assert platform.http.post(platform.url("/v1/interactions"), json=body, headers=headers, timeout=15).ok

    # WHEN the same interaction_id comes with another topic
    changed = {**body, "topic": "Otra cosa"}
    answer = platform.http.post(platform.url("/v1/interactions"), json=changed, headers=headers, timeout=15)

    # THEN it is a 422 problem naming the conflict
    assert_problem(answer, 422, "interaction-conflict")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"channel": {"kind": "fax"}}, "channel"),
        ({"record": {"source": "/legacy/padron", "local_id": "PAD1"}}, "(body)"),
        ({"ended_at": iso(NOW - timedelta(days=2))}, "(body)"),
    ],
)
def test_a_malformed_interaction_is_a_422_problem_naming_the_field(
    platform: Platform, person: dict[str, Any], change: dict[str, Any], field: str
) -> None:
    body = interaction_body(person["citizen_id"], f"bad-{uuid.uuid4().hex[:8]}", **change)
    answer = platform.http.post(
        platform.url("/v1/interactions"),
        json=body,
        headers=agent(platform, 1, "x-area", purpose="TICKET-A044"),
        timeout=15,
    )
    problem = assert_problem(answer, 422, "validation")
    assert any(e["field"].startswith(field) for e in problem["errors"]), problem


def test_a_citizen_may_not_record_an_interaction(platform: Platform, person: dict[str, Any]) -> None:
    body = interaction_body(person["citizen_id"], f"self-{uuid.uuid4().hex[:8]}")
    answer = platform.http.post(
        platform.url("/v1/interactions"), json=body, headers=platform.as_(person["citizen_id"]), timeout=15
    )
    assert_problem(answer, 403, "forbidden")


@pytest.mark.parametrize("structured", [False, True], ids=["binary", "structured"])
@pytest.mark.units_of_work
def test_a_queue_manager_visit_about_a_source_record_is_logged_once_and_reaches_the_position(
    platform: Platform, person: dict[str, Any], structured: bool
) -> None:
    # GIVEN the queue manager's visit about the person's Multas record (not their golden id)
    local_id = person["ids"]["multas"]
    body = interaction_body("", f"GC-{uuid.uuid4().hex[:8]}")
    body.pop("citizen_id")
    body["record"] = {"source": "/legacy/multas", "local_id": local_id}
    event = Event(INTERACTION_RECORDED, "/legacy/gestor-colas", local_id, body)

    # WHEN it is delivered, and redelivered with the same id
    post(platform, event, structured=structured)
    post(platform, event, structured=not structured)

    # THEN one interaction.logged is announced, and the position lists it once under the golden record
    subject = f"/legacy/multas#{local_id}"

    def mine() -> list[dict[str, Any]]:  # this visit's (the other parametrisation's visit has the same subject)
        found = platform.events(LOGGED, subject)
        return [e for e in found if e["data"]["interaction"]["interaction_id"] == body["interaction_id"]]

    platform.wait_for(mine, what="interaction.logged")
    settle(platform)  # the redelivery, had it been logged again, is published by now
    assert len(mine()) == 1, [(e["id"], e.get("source"), e.get("time")) for e in mine()]
    found = wait_position(
        platform,
        person["citizen_id"],
        lambda s: any(i["title"] == "Cambio de domicilio" and i.get("reference") is None and
                      i["attributes"].get("recorded_by") == "/legacy/gestor-colas" for i in s["interactions"]["items"]),
        "the queue manager's visit",
    )  # fmt: skip
    ids = [i["item_id"] for i in found["interactions"]["items"]]
    assert len(ids) == len(set(ids))


def test_an_invalid_interaction_event_is_dead_lettered_with_the_reason(platform: Platform) -> None:
    event_id = str(uuid.uuid4())
    body = interaction_body("c-nobody", "bad-1", channel={"kind": "call", "direction": "sideways", "line": "010"})
    post(platform, Event(INTERACTION_RECORDED, "/legacy/linea-madrid-010", "c-nobody", body), event_id=event_id)
    (dead,) = platform.wait_for(
        lambda: [d for d in platform.deadletters() if d["event"]["id"] == event_id], what="the dead letter"
    )
    assert dead["subscriber"] == "pic-interaction-events"
    assert dead["code"] == 400 and dead["attempts"] == 1
    assert "channel" in dead["reason"]


# ---- the position per viewer ---------------------------------------------------------------------------


def test_the_citizen_sees_all_their_own_data_with_sources_and_freshness(
    platform: Platform, person: dict[str, Any]
) -> None:
    answer = position(platform, person["citizen_id"], platform.as_(person["citizen_id"]))
    assert answer.status_code == 200, answer.text
    found = sections(answer.json())
    assert list(found) == [
        "taxes", "fines", "cases", "appointments", "permits", "wallet", "notifications", "consents", "interactions",
    ]  # fmt: skip
    taxes = found["taxes"]
    assert taxes["view"] == "full"
    assert taxes["sources"] == [{"source": "/legacy/tributos", "as_of": NOW.isoformat()}]
    assert taxes["items"][0]["attributes"] == {"cadastral_reference": "9872023VK"}
    assert taxes["summary"]["amount_eur"] == "312.45"
    assert found["cases"]["items"][0]["title"] == "Servicio de Ayuda a Domicilio"
    assert [i["item_id"] for i in found["consents"]["items"]] == ["personalisation"]


def _viewer(platform: Platform, person: dict[str, Any], level: int, area: str) -> dict[str, dict[str, Any]]:
    answer = position(platform, person["citizen_id"], agent(platform, level, area), purpose="EXP-2026-0042")
    assert answer.status_code == 200, answer.text
    return sections(answer.json())


def test_a_level_1_agent_sees_a_summary_and_no_special_categories(platform: Platform, person: dict[str, Any]) -> None:
    found = _viewer(platform, person, 1, "hacienda")
    assert found["taxes"]["view"] == "summary" and found["taxes"]["items"] == []
    assert found["taxes"]["summary"]["count"] == 1 and found["taxes"]["summary"]["amount_eur"] == "312.45"
    assert found["cases"]["summary"]["count"] == 0 and found["cases"]["items"] == []


def test_a_level_2_agent_sees_their_areas_detail_without_the_experts_attributes(
    platform: Platform, person: dict[str, Any]
) -> None:
    found = _viewer(platform, person, 2, "hacienda")
    assert found["taxes"]["view"] == "detail"
    (tax,) = found["taxes"]["items"]
    assert tax["amount_eur"] == "312.45" and "attributes" not in tax
    assert found["fines"]["view"] == "summary" and found["fines"]["items"] == []


def test_a_level_3_expert_sees_their_area_in_full(platform: Platform, person: dict[str, Any]) -> None:
    found = _viewer(platform, person, 3, "hacienda")
    assert found["taxes"]["view"] == "full"
    assert found["taxes"]["items"][0]["attributes"] == {"cadastral_reference": "9872023VK"}
    assert found["fines"]["view"] == "summary"


def test_an_agent_of_another_area_sees_their_own_area_and_never_special_categories(
    platform: Platform, person: dict[str, Any]
) -> None:
    found = _viewer(platform, person, 3, "movilidad")
    assert found["fines"]["view"] == "full" and found["fines"]["items"][0]["attributes"] == {"plate": "1234 KLM"}
    assert found["taxes"]["view"] == "summary"
    assert found["cases"]["view"] == "hidden" and found["cases"]["summary"]["count"] == 0


def test_special_categories_are_shown_to_their_own_area(platform: Platform, person: dict[str, Any]) -> None:
    found = _viewer(platform, person, 2, "servicios-sociales")
    assert found["cases"]["view"] == "detail"
    assert found["cases"]["items"][0]["title"] == "Servicio de Ayuda a Domicilio"


@pytest.mark.parametrize("purpose", [None, ""], ids=["absent", "empty"])
def test_an_agent_without_a_purpose_is_refused_with_the_reason(
    platform: Platform, person: dict[str, Any], purpose: str | None
) -> None:
    answer = position(platform, person["citizen_id"], agent(platform, 3, "hacienda"), purpose=purpose)
    problem = assert_problem(answer, 403, "forbidden")
    assert "Access-Purpose" in problem["detail"]
    assert any("RGPD art. 5.1.b" in r for r in problem["reasons"])


def test_a_citizen_may_not_see_another_citizens_position(platform: Platform, person: dict[str, Any]) -> None:
    answer = position(platform, person["citizen_id"], platform.as_(f"c-{uuid.uuid4().hex[:10]}"))
    problem = assert_problem(answer, 403, "forbidden")
    assert "may act only on their own record" in problem["detail"]
    assert "items" not in answer.text


def test_admin_and_system_roles_are_refused(platform: Platform, person: dict[str, Any]) -> None:
    for claims in ({"role": "admin", "level": 3}, {"role": "system"}):
        answer = position(platform, person["citizen_id"], platform.as_("svc-x", **claims), purpose="audit")
        assert_problem(answer, 403, "forbidden")


def test_an_invalid_citizen_id_is_a_422_problem(platform: Platform) -> None:
    answer = position(platform, "no%20good", platform.as_("c-1"))
    assert_problem(answer, 422, "validation")


# ---- projection: out of order, redelivery, removal, merge and un-merge ----------------------------------


@pytest.mark.units_of_work
def test_facts_converge_whatever_the_order_and_redeliveries(platform: Platform, person: dict[str, Any]) -> None:
    # GIVEN a fine, updated (paid) and then the older pending version arriving late, plus a redelivery
    local_id = person["ids"]["multas"]
    item = f"MUL-{uuid.uuid4().hex[:6]}"
    newer = fact("/legacy/multas", local_id, "fines", item, "movilidad", status="paid", amount_eur="45.00",
                 as_of=NOW + timedelta(minutes=5))  # fmt: skip
    older = fact("/legacy/multas", local_id, "fines", item, "movilidad", status="pending", amount_eur="90.00",
                 as_of=NOW - timedelta(minutes=5))  # fmt: skip
    post(platform, newer)
    post(platform, older, structured=True)
    post(platform, newer, structured=True)  # the same event again

    # THEN the latest as_of wins (a fact that lost a race to a concurrent one is redelivered and folded in)
    found = wait_position(
        platform, person["citizen_id"],
        lambda s: any(i["item_id"] == item and i["status"] == "paid" for i in s["fines"]["items"]), "the paid fine",
    )  # fmt: skip
    settle(platform)
    found = sections(position(platform, person["citizen_id"], platform.as_(person["citizen_id"])).json())
    (fine,) = [i for i in found["fines"]["items"] if i["item_id"] == item]
    assert fine["status"] == "paid" and fine["amount_eur"] == "45.00"

    # WHEN the area system withdraws it, and a stale upsert arrives after the withdrawal
    removal = fact("/legacy/multas", local_id, "fines", item, "movilidad", status="cancelled",
                   as_of=NOW + timedelta(minutes=10), removed=True)  # fmt: skip
    post(platform, removal)
    post(platform, older, event_id=str(uuid.uuid4()))
    settle(platform)

    # THEN it is gone, and stays gone
    found = sections(position(platform, person["citizen_id"], platform.as_(person["citizen_id"])).json())
    assert all(i["item_id"] != item for i in found["fines"]["items"])


def _link(source: str, local_id: str, citizen_id: str, at: datetime) -> Event:
    data = {
        "citizen_id": citizen_id,
        "link": {"source": source, "local_id": local_id, "change": "changed"},
        "match": {"method": "document", "score": 1.0, "evidence": ["functional test"]},
        "updated_at": iso(at),
    }
    return Event(CITIZEN_UPDATED, "/pic/citizen", citizen_id, data)


@pytest.mark.units_of_work
def test_facts_follow_their_record_on_merge_and_unmerge_latest_link_wins(platform: Platform) -> None:
    # GIVEN a Cultura record linked to golden record A, with a library card
    a, b = f"cit-{uuid.uuid4().hex[:10]}", f"cit-{uuid.uuid4().hex[:10]}"
    local_id = f"CUL-{uuid.uuid4().hex[:8]}"
    post(platform, fact("/legacy/cultura", local_id, "wallet", f"BIB-{local_id}", "cultura", title="Carné"))
    post(platform, _link("/legacy/cultura", local_id, a, NOW))
    wait_position(platform, a, lambda s: s["wallet"]["summary"]["count"] == 1, "the card under A")

    # WHEN C360 moves the record to B (a merge), and the older link to A is redelivered late
    post(platform, _link("/legacy/cultura", local_id, b, NOW + timedelta(seconds=1)))
    post(platform, _link("/legacy/cultura", local_id, a, NOW), event_id=str(uuid.uuid4()))
    wait_position(platform, b, lambda s: s["wallet"]["summary"]["count"] == 1, "the card under B")
    settle(platform)

    # THEN the card is B's only
    assert wait_position(platform, a, lambda s: s["wallet"]["summary"]["count"] == 0, "A without the card")

    # WHEN the merge is undone (a later link back to A)
    post(platform, _link("/legacy/cultura", local_id, a, NOW + timedelta(seconds=2)), structured=True)

    # THEN the card is A's again, and B has nothing
    wait_position(platform, a, lambda s: s["wallet"]["summary"]["count"] == 1, "the card back under A")
    assert sections(position(platform, b, platform.as_(b)).json())["wallet"]["summary"]["count"] == 0


def test_an_invalid_fact_is_dead_lettered_with_the_reason(platform: Platform) -> None:
    event_id = str(uuid.uuid4())
    bad = fact("/legacy/tributos", "TRB-x", "horoscope", "H-1", "hacienda")
    post(platform, bad, event_id=event_id)
    # (each consumer of the type dead-letters its own delivery: CAMP projects these facts too)
    (dead,) = platform.wait_for(
        lambda: [
            d for d in platform.deadletters()
            if d["event"]["id"] == event_id and d["subscriber"] == "pic-position-events"
        ],
        what="the dead letter",
    )  # fmt: skip
    assert dead["code"] == 400
    assert "section" in dead["reason"]


# ---- the access log ------------------------------------------------------------------------------------


def access_log(platform: Platform, citizen_id: str, headers: dict[str, str]) -> requests.Response:
    return platform.http.get(platform.url(f"/v1/citizens/{citizen_id}/access-log"), headers=headers, timeout=15)


def test_every_read_is_in_the_citizens_access_log(platform: Platform, person: dict[str, Any]) -> None:
    # GIVEN a level-2 agent of hacienda who reads the position with a purpose, and one who forgets it
    citizen_id = person["citizen_id"]
    purpose = f"EXP-{uuid.uuid4().hex[:6]}"
    reader = f"agente-{uuid.uuid4().hex[:6]}"
    headers = agent(platform, 2, "hacienda", sub=reader)
    assert position(platform, citizen_id, headers, purpose=purpose).status_code == 200
    assert position(platform, citizen_id, headers).status_code == 403

    # WHEN the citizen asks who looked at their data
    def entries() -> list[dict[str, Any]] | None:
        answer = access_log(platform, citizen_id, platform.as_(citizen_id))
        assert answer.status_code == 200, answer.text
        mine = [e for e in answer.json()["entries"] if e["reader"]["id"] == reader]
        return mine if len(mine) == 2 else None

    found = platform.wait_for(entries, timeout=20, what="two access-log entries for the agent")

    # THEN both reads are there, newest first: the refusal with its reason, the read with what was shown
    refused, allowed = found
    assert refused["decision"] == "denied" and refused["sections"] == [] and refused["purpose"] is None
    assert any("Access-Purpose" in r for r in refused["reasons"])
    assert allowed["decision"] == "allowed" and allowed["purpose"] == purpose
    assert allowed["reader"] == {"id": reader, "role": "agent", "level": 2, "area": "hacienda"}
    assert allowed["function"] == "pic-position" and allowed["resource"] == "position"
    assert "taxes:detail" in allowed["sections"] and "fines:summary" in allowed["sections"]
    assert not any(s.startswith("cases") for s in allowed["sections"])


def test_the_access_log_is_for_the_citizen_and_compliance_officers_only(
    platform: Platform, person: dict[str, Any]
) -> None:
    citizen_id = person["citizen_id"]
    assert_problem(access_log(platform, citizen_id, platform.as_("c-someone-else")), 403, "forbidden")
    assert_problem(access_log(platform, citizen_id, agent(platform, 3, "hacienda")), 403, "forbidden")
    dpo = agent(platform, 2, "proteccion-datos", sub="dpd-1")
    assert_problem(access_log(platform, citizen_id, dpo), 403, "forbidden")
    answer = access_log(platform, citizen_id, {**dpo, "Access-Purpose": "RGPD-2026-0001"})
    assert answer.status_code == 200 and answer.json()["entries"], answer.text


def test_reading_one_interaction_is_for_its_citizen_and_agents_with_a_purpose_and_is_logged(
    platform: Platform, person: dict[str, Any]
) -> None:
    # GIVEN a recorded WhatsApp conversation
    citizen_id = person["citizen_id"]
    body = interaction_body(
        citizen_id,
        f"wa-{uuid.uuid4().hex[:8]}",
        channel={"kind": "whatsapp", "conversation_id": "wa-77", "direction": "inbound"},
    )
    recorder = agent(platform, 1, "atencion-ciudadania", purpose="TICKET-A045")
    created = platform.http.post(platform.url("/v1/interactions"), json=body, headers=recorder, timeout=15)
    url = platform.url(created.headers["Location"])
    reader = f"agente-{uuid.uuid4().hex[:6]}"

    # WHEN the citizen, an agent with a purpose, an agent without one, and another citizen read it
    mine = platform.http.get(url, headers=platform.as_(citizen_id), timeout=15)
    with_purpose = platform.http.get(
        url, headers={**agent(platform, 2, "hacienda", sub=reader), "Access-Purpose": "CASE-9"}, timeout=15
    )
    without = platform.http.get(url, headers=agent(platform, 2, "hacienda", sub=reader), timeout=15)
    other = platform.http.get(url, headers=platform.as_("c-another-one"), timeout=15)

    # THEN the first two see it, the others are refused with the reason
    assert mine.status_code == 200 and mine.json()["channel"]["conversation_id"] == "wa-77"
    assert with_purpose.status_code == 200
    assert "Access-Purpose" in assert_problem(without, 403, "forbidden")["detail"]
    assert_problem(other, 403, "forbidden")
    # AND an interaction that does not exist is a 404 to an agent with a purpose, a 403 to a citizen (no oracle
    # of other people's ids)
    nope = platform.url("/v1/interactions/intx-nope")
    assert_problem(platform.http.get(nope, headers=agent(platform, 2, "hacienda", purpose="CASE-9")), 404)
    assert_problem(platform.http.get(nope, headers=platform.as_(citizen_id)), 403)

    # AND the agent's two reads are in the citizen's access log
    def logged() -> list[dict[str, Any]] | None:
        entries = access_log(platform, citizen_id, platform.as_(citizen_id)).json()["entries"]
        found = [e for e in entries if e["reader"]["id"] == reader and e["resource"] == "interaction"]
        return found if len(found) == 2 else None

    denied, allowed = platform.wait_for(logged, timeout=20, what="the interaction reads in the access log")
    assert (denied["decision"], allowed["decision"], allowed["purpose"]) == ("denied", "allowed", "CASE-9")


@pytest.mark.parametrize(
    "cursor", ["not-base64!", "bm90IGpzb24=", "W10=", "eyJjaXRpemVuX2lkIjogMX0=", "eyJjaXRpemVuX2lkIjoge319"]
)
def test_a_forged_access_log_cursor_is_a_422_problem(platform: Platform, cursor: str) -> None:
    citizen_id = f"c-{uuid.uuid4().hex[:10]}"
    answer = platform.http.get(
        platform.url(f"/v1/citizens/{citizen_id}/access-log"),
        params={"cursor": cursor},
        headers=platform.as_(citizen_id),
        timeout=15,
    )
    assert_problem(answer, 422, "validation")


def test_the_access_log_pages_newest_first_with_a_cursor(platform: Platform) -> None:
    # GIVEN a citizen who looked at their position three times
    citizen_id = f"c-{uuid.uuid4().hex[:10]}"
    me = platform.as_(citizen_id)
    for _ in range(3):
        assert position(platform, citizen_id, me).status_code == 200

    def page(cursor: str | None = None, limit: int = 2) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        answer = platform.http.get(
            platform.url(f"/v1/citizens/{citizen_id}/access-log"), params=params, headers=me, timeout=15
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    # (reading the log is logged too, so wait on the whole log, not on a page of two)
    platform.wait_for(
        lambda: len([e for e in page(limit=50)["entries"] if e["resource"] == "position"]) == 3,
        what="the three reads",
    )
    settle(platform)
    # WHEN the log is read two entries at a time THEN the pages join up, newest first, nothing twice
    first = page()
    second = page(first["next_cursor"])
    entries = first["entries"] + second["entries"]
    stamps = [e["at"] for e in entries]
    assert stamps == sorted(stamps, reverse=True)
    assert len({e["access_id"] for e in entries}) == len(entries) >= 3
