"""Functional: contact routing (CCAAS) through the real platform — the gateway and the policy decision, DynamoDB Local
and its indexes, the routing sweep's own process, the outbox relay, the broker delivering the offices' tickets and
the interaction log taking what routing logs. A call through an IVR flow to its queue, offered to the agent who
comes online, accepted, ended and logged; an offer that times out to the next agent while the first one's late
accept is refused; an office ticket served; bad input, a bad event and strangers refused."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from local.harness import Platform
from tests.functional.consent_support import assert_problem, wait_for_events

pytestmark = pytest.mark.functional

CONNECTOR = "pbx-test"


def fresh(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def admin(platform: Platform) -> dict[str, str]:
    return platform.as_("root", role="admin")


def connector(platform: Platform) -> dict[str, str]:
    return platform.as_(CONNECTOR, role="system")


def agent(platform: Platform, name: str, area: str, level: int = 2) -> dict[str, str]:
    return platform.as_(name, role="agent", level=level, area=area)


def put(platform: Platform, path: str, body: Any, headers: dict[str, str]) -> requests.Response:
    return platform.http.put(platform.url(path), json=body, headers=headers, timeout=15)


def post(platform: Platform, path: str, body: Any, headers: dict[str, str]) -> requests.Response:
    return platform.http.post(platform.url(path), json=body, headers=headers, timeout=15)


def queue(platform: Platform, area: str, **changes: Any) -> str:
    name = f"{area}-ibi"
    body = {"area": area, "level": 2, "skill": "ibi", "steps": [{"min_proficiency": 2}], **changes}
    response = put(platform, f"/v1/routing/queues/{name}", body, admin(platform))
    assert response.status_code == 200, response.text
    return name


def online(platform: Platform, headers: dict[str, str], queue_name: str, proficiency: int = 4) -> dict[str, Any]:
    body = {"presence": "online", "skills": {"ibi": proficiency}, "capacity": {"call": 1, "chat": 2},
            "queues": [queue_name]}  # fmt: skip
    response = put(platform, "/v1/routing/agents/me", body, headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def flow(area: str, queue_name: str) -> dict[str, Any]:
    always = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    return {"start": "hours", "nodes": {
        "hours": {"kind": "hours", "hours": always, "open_on_holidays": True, "open": "welcome", "closed": "bye"},
        "welcome": {"kind": "message", "prompt": {"es": "Bienvenido a Línea Madrid"}, "next": "menu"},
        "menu": {"kind": "menu", "prompt": {"es": "Para el IBI pulse 1; para otros asuntos pulse 2"},
                 "options": {"1": "ibi", "2": "bye"}, "intents": {"ibi": "ibi"}, "no_match": "bye"},
        "ibi": {"kind": "queue", "queue": queue_name, "priority": 1},
        "bye": {"kind": "hangup"}}}  # fmt: skip


def test_a_call_through_the_ivr_is_offered_accepted_ended_and_logged(platform: Platform) -> None:
    area, citizen, name = fresh("rt"), fresh("c-rt"), fresh("flujo")
    queue_name = queue(platform, area)
    # GIVEN an IVR flow, and a second version that is invalid: refused whole, each error named, version 1 kept
    assert put(platform, f"/v1/ivr-flows/{name}", flow(area, queue_name), admin(platform)).json()["version"] == 1
    broken = {"start": "nowhere", "nodes": {"menu": {"kind": "menu", "prompt": {"es": "Pulse 1"},
                                                     "options": {"1": "gone"}, "no_match": "menu"}}}  # fmt: skip
    problem = assert_problem(put(platform, f"/v1/ivr-flows/{name}", broken, admin(platform)), 422, "invalid-ivr-flow")
    messages = [e["message"] for e in problem["errors"]]
    assert any("start" in m for m in messages) and any("'gone'" in m for m in messages), messages
    assert platform.http.get(platform.url(f"/v1/ivr-flows/{name}"), headers=admin(platform)).json()["version"] == 1

    # WHEN the connector starts a call in it and the caller presses 1
    started = post(platform, "/v1/ivr/calls", {"flow": name, "citizen_id": citizen, "request_id": fresh("call")},
                   connector(platform))  # fmt: skip
    assert started.status_code == 201, started.text
    assert started.json()["say"] == ["Bienvenido a Línea Madrid", "Para el IBI pulse 1; para otros asuntos pulse 2"]
    pressed = post(platform, f"/v1/ivr/calls/{started.json()['id']}/input", {"input": "1", "seq": 0},
                   connector(platform))  # fmt: skip
    assert pressed.status_code == 200, pressed.text
    # THEN the call waits in the right queue
    contact = pressed.json()["contact"]
    assert (contact["queue"], contact["state"], contact["priority"]) == (queue_name, "waiting", 1)
    # AND the connector's resent key replays the same answer
    again = post(platform, f"/v1/ivr/calls/{started.json()['id']}/input", {"input": "1", "seq": 0}, connector(platform))
    assert again.json()["contact"]["id"] == contact["id"]

    # WHEN an agent of the area comes online, THEN they are offered it, and accept it
    ana = agent(platform, fresh("ana"), area)
    online(platform, ana, queue_name)
    mine = platform.http.get(platform.url("/v1/routing/agents/me/contacts"), headers=ana).json()["contacts"]
    assert [(c["id"], c["state"]) for c in mine] == [(contact["id"], "offered")]
    accepted = post(platform, f"/v1/contacts/{contact['id']}/accept", None, ana)
    assert accepted.status_code == 200 and accepted.json()["state"] == "active", accepted.text
    # AND ends it: the interaction is logged with its queue and times, and the day's statistics count it
    ended = post(platform, f"/v1/contacts/{contact['id']}/end", {"topic": "Recibo del IBI"}, ana)
    assert ended.status_code == 200 and ended.json()["state"] == "ended", ended.text
    logged = wait_for_events(platform, "es.madrid.pic.interaction.logged.v1", citizen, timeout=30)
    channel = logged[0]["data"]["interaction"]["channel"]
    assert channel["kind"] == "call" and channel["queue"] == queue_name and channel["handling_seconds"] >= 0
    today = datetime.now(UTC).astimezone().strftime("%Y-%m-%d")
    stats = platform.http.get(platform.url("/v1/routing/stats"), params={"queue": queue_name}, headers=ana).json()
    assert (stats["offered"], stats["answered"], stats["abandoned"]) == (1, 1, 0), (today, stats)
    csv = platform.http.get(platform.url("/v1/routing/stats"), params={"queue": queue_name, "format": "csv"},
                            headers=ana)  # fmt: skip
    assert csv.headers["Content-Type"].startswith("text/csv") and queue_name in csv.text
    # AND the contact's events tell the story
    assert wait_for_events(platform, "es.madrid.pic.contact.ended.v1", contact["id"])


@pytest.mark.units_of_work
def test_an_offer_times_out_to_the_next_agent_and_the_late_accept_is_refused(platform: Platform) -> None:
    area = fresh("rt")
    queue_name = queue(platform, area, offer_seconds=1)
    ana, bea, eve = (agent(platform, fresh(n), area) for n in ("ana", "bea", "eve"))
    online(platform, ana, queue_name)
    offered = post(platform, "/v1/contacts", {"channel": "call", "queue": queue_name, "request_id": fresh("c")},
                   connector(platform))  # fmt: skip
    assert offered.status_code == 201 and offered.json()["state"] == "offered", offered.text
    contact_id = offered.json()["id"]

    # WHEN nobody answers the offer, THEN the sweep times it out and the agent is set away
    wait_for_events(platform, "es.madrid.pic.contact.timed-out.v1", contact_id, timeout=30)
    me = platform.http.get(platform.url("/v1/routing/agents/me"), headers=ana).json()
    assert me["presence"] == "away" and me["load"] == {"call": 0}

    # WHEN another agent comes online, THEN they are offered it; and both accept at the same moment
    online(platform, bea, queue_name)
    with ThreadPoolExecutor(3) as pool:
        late, taken, stranger = pool.map(lambda h: post(platform, f"/v1/contacts/{contact_id}/accept", None, h),
                                         [ana, bea, eve])  # fmt: skip
    # THEN the agent who holds the offer wins; the late one gets a typed 409, the stranger too
    assert taken.status_code == 200 and taken.json()["agent_id"] is not None, taken.text
    assert_problem(late, 409, "contact-taken")
    assert_problem(stranger, 409, "contact-not-offered")
    # AND a second click of the winner changes nothing
    assert post(platform, f"/v1/contacts/{contact_id}/accept", None, bea).status_code == 200
    wait_for_events(platform, "es.madrid.pic.contact.accepted.v1", contact_id)
    platform.settle(contact_id)
    assert len(platform.events("es.madrid.pic.contact.accepted.v1", contact_id)) == 1


def test_an_office_ticket_served_is_an_office_visit_and_a_bad_ticket_is_dead_lettered(platform: Platform) -> None:
    citizen, office = fresh("c-rt"), fresh("oac")
    queue_name = f"{office}-padron"
    base = {"office": office, "ticket": "A042", "issued_at": "2026-12-14T09:00:00+00:00", "queue": queue_name,
            "service": "Empadronamiento", "area": "atencion-ciudadania", "citizen_id": citizen}  # fmt: skip
    states = [("issued", {"at": "2026-12-14T09:00:00+00:00"}),
              ("called", {"at": "2026-12-14T09:06:00+00:00", "desk": "7"}),
              ("served", {"at": "2026-12-14T09:16:00+00:00", "desk": "7"})]  # fmt: skip
    served_id = str(uuid.uuid4())
    for state, extra in states:
        event_id = served_id if state == "served" else str(uuid.uuid4())
        for _ in range(2 if state == "served" else 1):  # the served event delivered twice
            sent = platform.send_event(f"es.madrid.pic.office.ticket.{state}.v1", {**base, **extra},
                                       source="/legacy/gestor-colas", event_id=event_id)  # fmt: skip
            assert sent.status_code in (200, 202), sent.text
        platform.settle(office)  # the queue manager sends a ticket's states in order, each once taken
    # THEN one office visit is logged, with its wait and handling times
    visits = wait_for_events(platform, "es.madrid.pic.interaction.logged.v1", citizen, timeout=30)
    platform.settle(citizen)
    assert len(platform.events("es.madrid.pic.interaction.logged.v1", citizen)) == 1
    channel = visits[0]["data"]["interaction"]["channel"]
    assert (channel["kind"], channel["wait_seconds"], channel["handling_seconds"]) == ("office-visit", 360.0, 600.0)
    stats = platform.http.get(platform.url("/v1/routing/stats"), params={"queue": queue_name, "date": "2026-12-14"},
                              headers=admin(platform)).json()  # fmt: skip
    assert (stats["offered"], stats["answered"], stats["wait_p50_seconds"]) == (1, 1, 360.0)

    # WHEN a ticket event breaks its schema THEN it is dead-lettered with the reason
    bad_id = str(uuid.uuid4())
    platform.send_event("es.madrid.pic.office.ticket.called.v1", {**base, "at": "2026-12-14T08:00:00+00:00"},
                        source="/legacy/gestor-colas", event_id=bad_id)  # fmt: skip
    letter = platform.wait_for(lambda: [d for d in platform.deadletters() if d["event"]["id"] == bad_id],
                               what="the dead letter")[0]  # fmt: skip
    assert "issued_at" in str(letter)


def test_bad_input_and_other_callers_are_problems(platform: Platform) -> None:
    area = fresh("rt")
    queue_name = queue(platform, area)
    system = connector(platform)
    assert_problem(post(platform, "/v1/contacts", {"channel": "fax", "queue": queue_name, "request_id": "x"}, system),
                   422, "validation")  # fmt: skip
    assert_problem(post(platform, "/v1/contacts", {"channel": "call", "queue": "nada", "request_id": "x"}, system),
                   422, "unknown-queue")  # fmt: skip
    assert_problem(post(platform, "/v1/contacts", {"channel": "call", "queue": queue_name}, system), 422, "validation")
    assert_problem(put(platform, f"/v1/routing/queues/{area}-l3",
                       {"area": area, "level": 3, "steps": [{"min_proficiency": 1, "seconds": 5}], "then": "queue",
                        "then_queue": queue_name}, admin(platform)), 422, "invalid-queue-config")  # fmt: skip
    ana = agent(platform, fresh("ana"), area)
    assert_problem(post(platform, "/v1/contacts", {"channel": "call", "queue": queue_name, "request_id": "x"}, ana),
                   403)  # fmt: skip
    assert_problem(put(platform, "/v1/routing/agents/me", {"presence": "online", "queues": ["hacienda-l3"]}, ana), 422,
                   "queue-level")  # fmt: skip
    assert_problem(put(platform, "/v1/routing/agents/me", {"presence": "online", "skills": {"ibi": 9}}, ana), 422)
    missing = platform.http.get(platform.url("/v1/contacts/ctc-000000000000000000000000"), headers=ana)
    assert_problem(missing, 404, "contact-not-found")
    assert_problem(post(platform, "/v1/ivr/calls/ivr-000000000000000000000000/input", {"input": "1"}, system), 404,
                   "ivr-call-not-found")  # fmt: skip
    assert_problem(platform.http.get(platform.url("/v1/routing/stats"), params={"queue": "x", "date": "2026-13-01"},
                                     headers=ana), 422, "validation")  # fmt: skip
    citizen = platform.as_(fresh("c-rt"))
    assert_problem(platform.http.get(platform.url("/v1/routing/agents/me"), headers=citizen), 403)
