"""Functional: cases (CASE) through the real platform — the gateway and the kernel's policy decision, DynamoDB Local
and its indexes, the broker delivering ``case.requested`` in binary and structured mode, the outbox relay and the
SLA sweep's own process. A citizen's case from the assistant's hand-over, worked by agents of two levels, paused
while waiting on the citizen, escalated, resolved, closed and rated; a breach raised by the sweep; every refusal a
problem."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from local.harness import Platform
from tests.functional.consent_support import assert_problem, wait_for_events

pytestmark = pytest.mark.functional

PURPOSE = {"Access-Purpose": "LLAMADA-010-4471"}
UPDATED = "es.madrid.pic.case.updated.v1"


def agent(platform: Platform, name: str, level: int, area: str) -> dict[str, str]:
    return {**platform.as_(name, role="agent", level=level, area=area), **PURPOSE}


def new_citizen() -> str:
    return f"c-case-{uuid.uuid4().hex[:10]}"


def request_body(citizen_id: str, **changes: Any) -> dict[str, Any]:
    body = {"citizen_id": citizen_id, "area": "hacienda", "category": "recibo-ibi", "channel": "web",
            "subject": "No me ha llegado el recibo del IBI",
            "description": "Vivo en Arganzuela desde marzo."}  # fmt: skip
    return {**body, **changes}


def post(platform: Platform, path: str, body: Any, headers: dict[str, str]) -> requests.Response:
    return platform.http.post(platform.url(path), json=body, headers=headers, timeout=15)


def open_case(platform: Platform, citizen_id: str, **changes: Any) -> dict[str, Any]:
    response = post(platform, "/v1/cases", request_body(citizen_id, **changes), platform.as_(citizen_id))
    assert response.status_code == 201, response.text
    return dict(response.json())


def cases_of(platform: Platform, citizen_id: str) -> list[dict[str, Any]]:
    response = platform.http.get(platform.url(f"/v1/citizens/{citizen_id}/cases"), headers=platform.as_(citizen_id))
    assert response.status_code == 200, response.text
    return list(response.json()["cases"])


def go_online(platform: Platform, headers: dict[str, str], *queues: str, capacity: int = 5) -> dict[str, Any]:
    body = {"presence": "online", "capacity": capacity, "queues": list(queues)}
    response = platform.http.put(platform.url("/v1/agents/me"), json=body, headers=headers, timeout=15)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.units_of_work
@pytest.mark.parametrize("mode", ["binary", "structured"])
def test_the_assistants_hand_over_opens_one_case_with_its_transcript(platform: Platform, mode: str) -> None:
    citizen_id = new_citizen()
    data = request_body(citizen_id, channel="assistant", request_id=f"conv-{uuid.uuid4().hex[:8]}",
                        transcript=[{"at": "2026-12-14T09:00:00+00:00", "speaker": "citizen",
                                     "text": "quiero hablar con una persona"}])  # fmt: skip
    event_id = str(uuid.uuid4())

    # WHEN the assistant hands the conversation over, and its event is delivered twice
    for _ in range(2):
        sent = platform.send_event("es.madrid.pic.case.requested.v1", data, source="/legacy/asistente-virtual",
                                   event_id=event_id, mode=mode)  # fmt: skip
        assert sent.status_code in (200, 202), sent.text

    # THEN one case is open in Hacienda's level-1 queue, announced as updated
    found = platform.wait_for(lambda: cases_of(platform, citizen_id), what="the case")
    assert [(c["area"], c["level"], c["state"]) for c in found] == [("hacienda", 1, "new")]
    case_id = found[0]["id"]
    wait_for_events(platform, UPDATED, case_id)
    # AND an agent who may work it sees the transcript the citizen wrote
    view = platform.http.get(platform.url(f"/v1/cases/{case_id}"), headers=agent(platform, "ana", 1, "linea-madrid"))
    assert view.status_code == 200 and view.json()["transcript"][0]["text"] == "quiero hablar con una persona"
    platform.settle(case_id)
    assert len(cases_of(platform, citizen_id)) == 1


def test_a_case_is_worked_paused_escalated_resolved_and_rated(platform: Platform) -> None:
    citizen_id, area = new_citizen(), new_area(platform)  # an area of its own: its queues hold this test's case only
    ana = agent(platform, f"ana-{uuid.uuid4().hex[:6]}", 1, "linea-madrid")
    hugo_id = f"hugo-{uuid.uuid4().hex[:6]}"
    hugo = agent(platform, hugo_id, 2, area)
    go_online(platform, ana, f"{area}-l1")
    case = open_case(platform, citizen_id, area=area, category="consulta")
    case_id, url = case["id"], f"/v1/cases/{case['id']}"

    # THEN the new case was pushed to the online level-1 agent, and the citizen sees someone attends it
    assert case["attended"] is True and "assignee" not in case and case["state"] == "open"
    queue = platform.http.get(platform.url("/v1/agents/me/queue"), headers=ana).json()
    assert case_id in [c["id"] for c in queue["assigned"]]

    # WHEN the agent replies and waits on the citizen, THEN the resolution clock pauses
    assert post(platform, f"{url}/messages", {"text": "¿Nos indica la referencia catastral?"}, ana).status_code == 201
    waiting = post(platform, f"{url}/state", {"state": "waiting-on-citizen", "reason": "Falta la referencia"}, ana)
    assert waiting.status_code == 200, waiting.text
    assert {c["measure"]: c["status"] for c in waiting.json()["sla"]}["resolution"] == "paused"
    # AND an internal note is never shown to the citizen
    post(platform, f"{url}/messages", {"text": "nota interna: revisar domicilio fiscal", "internal": True}, ana)

    # WHEN the citizen adds the information, THEN the case is open again and its clock runs
    added = post(platform, f"{url}/messages", {"text": "Es 9872023VH5797S0001WX"}, platform.as_(citizen_id))
    assert added.status_code == 201, added.text
    assert added.json()["state"] == "open" and "nota interna" not in added.text

    # WHEN the level-1 agent asks for level 3 THEN it is refused; level 2 with a reason is done
    assert_problem(post(platform, f"{url}/escalation", {"level": 3, "reason": "complejo"}, ana), 403,
                   "escalation-refused")  # fmt: skip
    up = post(platform, f"{url}/escalation", {"level": 2, "reason": "Cambio de titularidad catastral"}, ana)
    assert up.status_code == 200, up.text
    # THEN the case left the level-1 agent: they see a summary of it now, and may not resolve it
    assert up.json()["view"] == "summary" and up.json()["level"] == 2
    assert_problem(post(platform, f"{url}/state", {"state": "resolved"}, ana), 403, "case-level")

    # WHEN Hacienda's level-2 agent takes the next case of their queue, resolves and closes it
    go_online(platform, hugo, f"{area}-l2")
    taken = post(platform, "/v1/agents/me/next", None, hugo)
    assert taken.status_code == 200 and taken.json()["id"] == case_id
    resolved = post(platform, f"{url}/state", {"state": "resolved", "reason": "Recibo reenviado a su domicilio"}, hugo)
    assert resolved.status_code == 200, resolved.text
    assert post(platform, f"{url}/state", {"state": "closed"}, hugo).status_code == 200

    # THEN the citizen is asked to rate it through notifications (their consent decides), and rates it once
    requested = wait_for_events(platform, "es.madrid.pic.notification.requested.v1", citizen_id)
    assert requested[0]["data"]["template"] == "pic-case-csat"
    platform.settle(case["reference"])  # and notifications took it (no dead letter: it fits the template)
    assert not [d for d in platform.deadletters() if case["reference"] in str(d)]
    rated = post(platform, f"{url}/rating", {"score": 5, "comment": "Rápido y claro"}, platform.as_(citizen_id))
    assert rated.status_code == 201 and rated.json()["rating"] == 5
    assert_problem(post(platform, f"{url}/rating", {"score": 1}, platform.as_(citizen_id)), 409, "already-rated")

    # AND the month's SLA report counts the case for the agent who resolved it, as JSON, CSV and a plot
    report = platform.http.get(platform.url("/v1/case-reports/sla"), params={"by": "agent"}, headers=hugo)
    assert report.status_code == 200, report.text
    mine = [r for r in report.json()["rows"] if r["key"] == hugo_id]
    assert {r["measure"] for r in mine} >= {"first-response", "resolution"}
    csv = platform.http.get(platform.url("/v1/case-reports/sla"), params={"format": "csv"}, headers=hugo)
    assert csv.headers["Content-Type"].startswith("text/csv") and hugo_id in csv.text
    png = platform.http.get(platform.url("/v1/case-reports/sla"), params={"format": "png", "by": "area"}, headers=hugo)
    assert png.headers["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")
    assert_problem(platform.http.get(platform.url("/v1/case-reports/sla"), params={"month": "2026-13"}, headers=hugo),
                   422, "validation")  # fmt: skip
    english = platform.http.get(platform.url("/v1/case-reports/sla"), params={"format": "svg", "language": "en"},
                                headers=hugo)  # fmt: skip
    assert english.status_code == 200 and "SLA met by agent" in english.text
    assert_problem(platform.http.get(platform.url("/v1/case-reports/sla"), params={"language": "fr"}, headers=hugo),
                   422, "validation")  # fmt: skip

    # AND their global position shows the case, closed, with its reference
    def shown() -> list[dict[str, Any]]:
        read = platform.http.get(platform.url(f"/v1/citizens/{citizen_id}/position"), headers=platform.as_(citizen_id))
        sections = {s["section"]: s for s in read.json()["sections"]}
        items = sections.get("cases", {}).get("items", [])
        return [i for i in items if i.get("reference") == case["reference"] and i.get("status") == "closed"]

    assert platform.wait_for(shown, what="the case in the position")[0]["area"] == area
    # AND the history the citizen reads tells the story, without notes or assignments
    kinds = [e["kind"] for e in rated.json()["history"]]
    assert kinds[:2] == ["opened", "agent-reply"] and "escalated" in kinds and "note" not in kinds
    assert "assigned" not in kinds


def test_a_breached_clock_raises_its_event_once(platform: Platform) -> None:
    area = new_area(platform, first_response_minutes=0.05)
    admin = platform.as_("root", role="admin")
    config = platform.http.get(platform.url(f"/v1/case-areas/{area}/config"), headers=admin).json()
    case = open_case(platform, new_citizen(), area=area, category="consulta")

    # THEN the sweep raises the first response's breach (3 s of business time on an always-open calendar)
    breached = wait_for_events(platform, "es.madrid.pic.case.sla.breached.v1", case["id"], timeout=30)
    assert breached[0]["data"]["measure"] == "first-response"
    platform.settle(case["id"])
    assert len(platform.events("es.madrid.pic.case.sla.breached.v1", case["id"])) == 1

    # AND an invalid next version is refused with each error named, and version 1 stays
    broken = {**config, "categories": {"consulta": {"title": {"es": "C", "en": "Q"}, "level": 7, "sla": "nope"}}}
    refused = platform.http.put(platform.url(f"/v1/case-areas/{area}/config"), json=broken, headers=admin)
    body = assert_problem(refused, 422, "invalid-case-config")
    assert any(e["field"].startswith("categories.consulta") for e in body["errors"])
    kept = platform.http.get(platform.url(f"/v1/case-areas/{area}/config"), headers=admin)
    assert kept.json()["version"] == 1


def test_bad_input_and_other_people_are_refused(platform: Platform) -> None:
    citizen_id = new_citizen()
    body = assert_problem(post(platform, "/v1/cases", request_body(citizen_id, category="nada"),
                               platform.as_(citizen_id)), 422, "unknown-category")  # fmt: skip
    assert "recibo-ibi" in body["detail"]
    assert_problem(post(platform, "/v1/cases", request_body(citizen_id, area="marte"), platform.as_(citizen_id)),
                   422, "unknown-area")  # fmt: skip
    case = open_case(platform, citizen_id)
    other = new_citizen()
    assert_problem(platform.http.get(platform.url(f"/v1/cases/{case['id']}"), headers=platform.as_(other)), 403)
    assert_problem(post(platform, "/v1/cases", request_body(citizen_id), platform.as_(other)), 403)
    no_purpose = platform.as_("ana", role="agent", level=1, area="linea-madrid")
    assert_problem(platform.http.get(platform.url(f"/v1/cases/{case['id']}"), headers=no_purpose), 403)
    missing = platform.http.get(platform.url("/v1/cases/case-000000000000000000000000"),
                                headers=agent(platform, "ana", 1, "linea-madrid"))  # fmt: skip
    assert_problem(missing, 404)
    assert_problem(post(platform, f"/v1/cases/{case['id']}/rating", {"score": 4}, platform.as_(citizen_id)), 409,
                   "case-state")  # fmt: skip
    assert_problem(post(platform, f"/v1/cases/{case['id']}/merge", {"into": case["id"], "reason": "dup"},
                        agent(platform, "ana", 1, "linea-madrid")), 422, "case-link")  # fmt: skip


def new_area(platform: Platform, first_response_minutes: float = 480) -> str:
    """An area of its own (its queues hold only this test's cases), as an administrator configures one."""
    area = f"pruebas-{uuid.uuid4().hex[:6]}"
    config = {"office_hours": {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
              "open_on_holidays": True,
              "sla_policies": {"prueba": {"first_response_minutes": first_response_minutes,
                                          "resolution_minutes": 600}},
              "categories": {"consulta": {"title": {"es": "Consulta", "en": "Question"}, "level": 1,
                                          "sla": "prueba"}}}  # fmt: skip
    admin = platform.as_("root", role="admin")
    put = platform.http.put(platform.url(f"/v1/case-areas/{area}/config"), json=config, headers=admin, timeout=15)
    assert put.status_code == 200 and put.json()["version"] == 1, put.text
    return area


@pytest.mark.units_of_work
def test_two_agents_asking_for_the_next_case_at_once_never_share_it(platform: Platform) -> None:
    # GIVEN two cases waiting in a queue nobody serves yet
    citizen_id, area = new_citizen(), new_area(platform)
    opened = {open_case(platform, citizen_id, area=area, category="consulta", subject=f"Consulta {i}")["id"]
              for i in range(2)}  # fmt: skip
    # AND four agents who then come online for it
    agents = [agent(platform, f"a-{uuid.uuid4().hex[:6]}", 1, "linea-madrid") for _ in range(4)]
    for headers in agents:
        go_online(platform, headers, f"{area}-l1", capacity=3)

    # WHEN the four ask for the next case at the same moment
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda h: post(platform, "/v1/agents/me/next", None, h), agents))

    # THEN each case goes to one agent, and the others are told nothing is waiting (never a 500)
    taken = [a.json()["id"] for a in answers if a.status_code == 200]
    assert sorted(taken) == sorted(opened), [a.text for a in answers]
    assert sorted(a.status_code for a in answers) == [200, 200, 404, 404]
