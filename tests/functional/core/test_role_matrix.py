"""The role matrix, executable: every route of every HTTP function (discovered from the route table, so a
new route joins by existing) called over HTTP by every kind of caller, against what this table says each
action allows. A new action fails here until its row is written; then the access log is checked for every
read the matrix made (allowed or refused), so no route can forget to record one.

Callers: the citizen themselves and another citizen; agents of level 0 to 3, with and without a purpose,
inside and outside the data's area, without an area, and of the Data Protection Officer's office; an
administrator; an internal system; no token, a token without a role claim, a token with an empty subject.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
import requests

from events.generate import discover_routes
from functions.core.http import Route
from local.harness import Platform
from local.idp import KID, ensure_key
from tests.contract.test_route_table import ACTIONS
from tests.functional.notification_support import UPSERTED, send_event

FINE = "es.madrid.pic.fine.issued.v1"

pytestmark = pytest.mark.functional

PURPOSE = "CITA-0042"


@dataclass(frozen=True)
class Caller:
    name: str
    claims: dict[str, Any] | None  # None: no Authorization header
    purpose: bool = True
    raw: bool = False  # claims signed as they are (the dev IdP always adds a role)


CALLERS = [
    Caller("citizen-self", {"role": "citizen"}),
    Caller("citizen-other", {"sub": "c-matrix-other", "role": "citizen"}),
    Caller("agent-0", {"sub": "ag-m0", "role": "agent", "level": 0, "area": "atencion-ciudadania"}),
    Caller("agent-1-no-purpose", {"sub": "ag-m1n", "role": "agent", "level": 1, "area": "atencion-ciudadania"}, False),
    Caller("agent-1", {"sub": "ag-m1", "role": "agent", "level": 1, "area": "atencion-ciudadania"}),
    Caller("agent-2-other-area", {"sub": "ag-m2", "role": "agent", "level": 2, "area": "hacienda"}),
    Caller("agent-2-no-area", {"sub": "ag-m2n", "role": "agent", "level": 2}),
    Caller("agent-3", {"sub": "ag-m3", "role": "agent", "level": 3, "area": "atencion-ciudadania"}),
    Caller("dpo", {"sub": "ag-mdpo", "role": "agent", "level": 2, "area": "proteccion-datos"}),
    # a campaign manager: an agent of the communication area (policies/authz agent_areas, issue 16)
    Caller("campaign-manager", {"sub": "ag-mcm", "role": "agent", "level": 2, "area": "comunicacion"}),
    Caller("admin", {"sub": "adm-m", "role": "admin"}),
    Caller("system", {"sub": "svc-matrix", "role": "system"}),
    Caller("anonymous", None),
    Caller("no-role", {"sub": "c-matrix-norole"}, raw=True),
    Caller("empty-subject", {"sub": "", "role": "citizen"}, raw=True),
]

# ---- the table: who may do each action (the expectation, written by hand, never read from the policy) ----
SELF = {"citizen-self"}
AGENTS = {"agent-1", "agent-2-other-area", "agent-2-no-area", "agent-3", "dpo", "campaign-manager"}  # level 1-3
STAFF = AGENTS | {"agent-1-no-purpose"}  # platform actions name no citizen: no purpose to state
ON_A_CITIZEN = SELF | AGENTS
EXPECTED: dict[str, dict[str, set[str]]] = {
    # action: {"citizen": allowed when the route names a citizen, "platform": when it names none}
    "consent.read": {"citizen": ON_A_CITIZEN},
    "consent.write": {"citizen": ON_A_CITIZEN},
    "preferences.read": {"citizen": ON_A_CITIZEN},
    "preferences.write": {"citizen": ON_A_CITIZEN},
    "subscriptions.read": {"citizen": ON_A_CITIZEN},
    "subscriptions.write": {"citizen": ON_A_CITIZEN},
    "contact.decide": {"citizen": ON_A_CITIZEN | {"system"}},
    "citizen.read": {"citizen": ON_A_CITIZEN | {"system"}},
    "citizen.review": {"citizen": AGENTS},
    "citizen.search": {"citizen": AGENTS},
    "citizen.unmerge": {"citizen": AGENTS},
    "position.read": {"citizen": ON_A_CITIZEN},
    "interaction.record": {"citizen": AGENTS | {"system"}},
    "interaction.read": {"citizen": ON_A_CITIZEN},
    "debt.read": {"citizen": ON_A_CITIZEN},
    "payment.create": {"citizen": ON_A_CITIZEN},
    "direct-debit.write": {"citizen": SELF | {"agent-2-other-area"}},  # the citizen; Hacienda's agents (an office)
    "payment.read": {"citizen": ON_A_CITIZEN},
    "payment.refund": {"citizen": {"agent-2-other-area", "system"}},  # Hacienda only (its "other area" caller)
    "payment.collect": {"platform": {"system"}},
    "payment.reconcile": {"platform": {"system", "agent-2-other-area"}},  # Hacienda only
    "rgpd.request": {"citizen": ON_A_CITIZEN},
    "rgpd.read": {"citizen": ON_A_CITIZEN},
    "rgpd.extend": {"citizen": AGENTS},
    "rgpd.export": {"citizen": SELF},
    "access-log.read": {"citizen": SELF | {"dpo"}},
    "inbox.read": {"citizen": ON_A_CITIZEN},
    "inbox.write": {"citizen": ON_A_CITIZEN},
    "template.read": {"platform": STAFF | {"system", "admin"}},
    "template.write": {"platform": STAFF | {"system", "admin"}},
    "notification.send": {"platform": STAFF | {"system"}},
    "notification.read": {"platform": STAFF | {"system"}, "citizen": AGENTS | {"system"}},
    "notification.list": {"citizen": ON_A_CITIZEN},
    "notification.feedback": {"platform": {"anonymous"}},  # a provider: no token, trusted by its signature
    # the signed link is the authority: anyone holding it (signed in or not) reaches the route
    "notification.unsubscribe": {"platform": {"citizen-self", "citizen-other", "anonymous"}},
    "apps.read": {"citizen": ON_A_CITIZEN},
    "apps.write": {"citizen": ON_A_CITIZEN},
    "flags.change": {"platform": {"admin"}},
    "flags.history": {"platform": {"admin"}},
    # self-service: anyone opens a conversation of their own (no one's record); a signed-in one is its citizen's
    "assistant.converse": {"citizen": SELF, "platform": {"citizen-self", "citizen-other", "anonymous"}},
    "case.open": {"citizen": ON_A_CITIZEN | {"system"}},  # a channel's system (the assistant, 010) opens them too
    "case.read": {"citizen": ON_A_CITIZEN},
    "case.message": {"citizen": ON_A_CITIZEN},
    "case.work": {"citizen": AGENTS},
    "case.reopen": {"citizen": ON_A_CITIZEN},
    "case.rate": {"citizen": SELF},
    "case.desk": {"platform": STAFF},
    "case.report": {"platform": STAFF | {"admin"}},
    "case.config.read": {"platform": STAFF | {"admin"}},
    "case.config.write": {"platform": {"admin"}},
    "kb.read": {"platform": STAFF | {"admin"}},
    "kb.edit": {"platform": STAFF | {"admin"}},
    "kb.publish": {"platform": STAFF | {"admin"}},
    "routing.desk": {"platform": STAFF},
    "routing.connect": {"platform": {"system"}},  # a CCaaS, PBX or chat connector
    "routing.contact.read": {"platform": STAFF | {"system"}},
    "routing.config.read": {"platform": STAFF | {"admin"}},
    "routing.config.write": {"platform": {"admin"}},
    "routing.report": {"platform": STAFF | {"admin"}},
    "survey.read": {"platform": STAFF | {"admin"}},
    "survey.edit": {"platform": STAFF | {"admin"}},
    "survey.results": {"platform": STAFF | {"admin"}},
    "survey.invite": {"platform": AGENTS | {"system"}},  # it reaches the citizens it names: an agent states a purpose
    # self-service from the invitation link: anyone holding it (the link says who was invited), or signed in
    "survey.answer": {"platform": {"citizen-self", "citizen-other", "anonymous"}},
    # campaigns (issue 16): the campaign team only, agents of area comunicacion; four-eyes is the domain's rule
    "segment.read": {"platform": {"campaign-manager"}},
    "segment.edit": {"platform": {"campaign-manager"}},
    "campaign.read": {"platform": {"campaign-manager"}},
    "campaign.edit": {"platform": {"campaign-manager"}},
    "campaign.approve": {"platform": {"campaign-manager"}},
    "campaign.send": {"platform": {"campaign-manager"}},
    # the wallet (issue 17): the offer's tx_code is shown to the citizen alone; revocation also by the citizen
    "wallet.cards.read": {"citizen": ON_A_CITIZEN},
    "wallet.offer": {"citizen": SELF},
    "wallet.card.revoke": {"citizen": ON_A_CITIZEN | {"system"}},
    "wallet.card.suspend": {"citizen": AGENTS | {"system"}},
    "wallet.grant": {"citizen": AGENTS | {"system"}},
    "wallet.card-type.edit": {"platform": {"admin"}},
    # the wallet's verifier (issue 17): agents with a purpose and systems ask and read their verdicts; the holder's
    # wallet answers without PIC credentials (signed in or not)
    "verifier.types": {"platform": STAFF | {"system"}},  # a catalogue: no purpose to state
    "verifier.request": {"platform": AGENTS | {"system"}},
    "verifier.result": {"platform": AGENTS | {"system"}},
    "verifier.respond": {"platform": {"citizen-self", "citizen-other", "anonymous"}},
    # events near me (issue 18): the open agenda for anyone; its files for the council; a person's zones and agenda
    "agenda.events.read": {"platform": {"citizen-self", "citizen-other", "anonymous"}},
    "agenda.ingest": {"platform": {"admin", "system"}},
    "agenda.event.withdraw": {"platform": {"admin", "system"}},
    # the legacy adapters (issue 19): the area systems' files and their reports, for the systems and the engineers
    "intake.submit": {"platform": {"admin", "system"}},
    "intake.read": {"platform": {"admin", "system"}},
    "agenda.read": {"citizen": ON_A_CITIZEN},
    "agenda.edit": {"citizen": ON_A_CITIZEN},
    # ZBE authorisations (issue 18): the citizen applies and reads their own; agents review with a purpose; the
    # cameras' plate list is for a system alone (it names no person, so no purpose)
    "zbe.apply": {"citizen": ON_A_CITIZEN},
    "zbe.read": {"citizen": ON_A_CITIZEN},
    "zbe.review": {"citizen": AGENTS},
    "zbe.decide": {"citizen": AGENTS},
    "zbe.plates": {"citizen": {"system"}},
    # bookings (issue 18): the citizen or an agent on their behalf; no-shows by the centre (agent or its system)
    "booking.read": {"citizen": ON_A_CITIZEN},
    "booking.write": {"citizen": ON_A_CITIZEN},
    "booking.no-show": {"citizen": AGENTS | {"system"}},
    # incidents on the public way (issue 18): Open311's POST without a token is a third-party client (its api_key is
    # checked by the domain); the reporter alone adds photos and reopens; the area's agents and systems move stages
    "incident.report": {"platform": {"citizen-self", "citizen-other", "anonymous"}},
    "incident.me-too": {"platform": {"citizen-self", "citizen-other"}},
    "incident.photo": {"citizen": SELF},
    "incident.reopen": {"citizen": SELF},
    "incident.manage": {"platform": STAFF | {"system"}},
    "incident.read": {"citizen": ON_A_CITIZEN},
    "incident.clients": {"platform": {"admin"}},
    "consumers.read": {"platform": {"admin"}},
    # recommendations (issue 18): profiling for the citizen's own use, so only the citizen; agents see none
    "recommend.suggestions.read": {"citizen": SELF},
    "recommend.suggestions.feedback": {"citizen": SELF},
    # the published contracts (issue 19): documentation, no one's data; anyone, signed in or not (an agent of level 0
    # is no agent, and a token without a role or a subject is refused as everywhere)
    "docs.read": {"platform": STAFF | {"citizen-self", "citizen-other", "admin", "system", "anonymous"}},
    # the data platform's exports (issue 19): the catalogue (no personal data) for staff and systems; a partition's
    # pseudonymised rows and a flush for platform engineers (admin) and systems only
    "lake.catalogue.read": {"platform": STAFF | {"admin", "system"}},
    "lake.partition.read": {"platform": {"admin", "system"}},
    "lake.flush": {"platform": {"admin", "system"}},
}
# The API's bearer routes. The channels' pages (functions/web PAGES) are session routes (a cookie and a CSRF
# token, then the API with the person's own token, which this matrix checks): tests/functional/web/test_page_audit.py
# audits every page; tests/contract/test_route_table.py fails for an HTTP function that is neither.
ROUTES = [route for routes in discover_routes().values() for route in routes if not route.public]


@dataclass
class World:
    """A citizen with data in every function, and the ids the routes take."""

    citizen: str
    params: dict[str, str]
    query: dict[str, str]
    headers: dict[str, dict[str, str]]


def _raw_token(platform: Platform, claims: dict[str, Any]) -> str:
    now = int(time.time())
    payload = {"iss": platform.base, "aud": "pic", "iat": now, "exp": now + 600, **claims}
    return jwt.encode(payload, ensure_key(platform.data_dir), algorithm="RS256", headers={"kid": KID})


def _headers(platform: Platform, caller: Caller, citizen: str) -> dict[str, str]:
    if caller.claims is None:
        return {}
    claims = {"sub": citizen, **caller.claims} if "sub" not in caller.claims else dict(caller.claims)
    if caller.raw:
        token = _raw_token(platform, claims)
    else:
        sub = claims.pop("sub")
        token = platform.token(sub, **claims)
    headers = {"Authorization": f"Bearer {token}"}
    if caller.purpose:
        headers["Access-Purpose"] = PURPOSE
    return headers


def _ok(response: requests.Response) -> dict[str, Any]:
    assert response.status_code < 300, (response.request.method, response.request.url, response.text)
    return dict(response.json()) if response.content else {}


@pytest.fixture(scope="module")
def world(platform: Platform) -> World:
    """GIVEN a citizen (a golden record from the Padrón) with consents, a subscription, an interaction, a
    notification and a completed access request; a template and a bulk job of an internal system."""
    system = platform.as_("svc-matrix", role="system")
    url = platform.url
    record = {"source": "/legacy/padron", "local_id": f"PADM{uuid.uuid4().hex[:10]}"}
    data = {"local_id": record["local_id"], "given_name": "Ana", "first_surname": "Matriz", "birth_date": "1980-02-29"}
    send_event(platform, UPSERTED, data, source=record["source"], event_id=str(uuid.uuid4()))
    citizen = str(
        platform.wait_for(
            lambda: (
                (r := platform.http.get(url("/v1/citizens"), params=record, headers=system, timeout=10)).ok
                and r.json()["citizen_id"]
            ),
            timeout=30,
            what="the golden record",
        )
    )
    me = platform.as_(citizen)
    put = platform.http.put
    _ok(
        put(
            url(f"/v1/citizens/{citizen}/consents/personalisation"),
            json={"granted": True, "text_version": "2026-01"},
            headers=me,
        )
    )
    _ok(put(url(f"/v1/citizens/{citizen}/preferences"), json={"language": "es", "channels": ["email"]}, headers=me))
    sub = _ok(
        platform.http.post(
            url(f"/v1/citizens/{citizen}/subscriptions"), json={"topic": "traffic", "zone": "01"}, headers=me
        )
    )
    interaction = _ok(platform.http.post(url("/v1/interactions"), json=_interaction(citizen), headers=system))
    template = f"matrix-{uuid.uuid4().hex[:8]}"
    _ok(put(url(f"/v1/templates/{template}"), json=_template(), headers=system))
    note = _ok(
        platform.http.post(
            url("/v1/notifications"),
            json={"template": template, "recipient": {"citizen_id": citizen}, "personalisation": {"name": "Ana"}},
            headers=system,
        )
    )
    bulk = _ok(
        platform.http.post(
            url("/v1/notifications/bulk"),
            json={
                "template": template,
                "recipients": [{"recipient": {"email": "matrix@example.org"}, "personalisation": {"name": "Ana"}}],
            },
            headers=system,
        )
    )
    fine_id = f"MATRIX-{uuid.uuid4().hex[:10]}"
    send_event(platform, FINE, _fine(citizen, fine_id), source="/legacy/multas", event_id=str(uuid.uuid4()))
    platform.wait_for(
        lambda: platform.http.get(url(f"/v1/citizens/{citizen}/debts"), headers=me, timeout=10).json()["debts"],
        what="the fine",
    )
    payment = _ok(platform.http.post(url("/v1/payments"), json=_payment(f"fine-{fine_id}"), headers=me))
    request = _ok(
        platform.http.post(url(f"/v1/citizens/{citizen}/rgpd-requests"), json={"right": "access"}, headers=me)
    )
    rid = request["request_id"]
    platform.wait_for(
        lambda: (
            platform.http.get(url(f"/v1/rgpd-requests/{rid}"), headers=me, timeout=10).json()["status"] == "completed"
        ),
        timeout=90,
        what="the access request to complete",
    )
    case = _ok(platform.http.post(url("/v1/cases"), json=_case(citizen), headers=me))  # level 2: agent-1 sees a summary
    conversation = _ok(platform.http.post(url("/v1/assistant/conversations"), json={}, headers=me))
    incident = _ok(platform.http.post(url("/v1/incidents"), json={"service_code": "grafiti", "lat": 40.4169,
                                                                  "long": -3.7036}, headers=me))  # fmt: skip
    params = {
        "case_id": case["id"],
        "conversation_id": conversation["id"],
        "area": "hacienda",
        "citizen_id": citizen,
        "purpose": "personalisation",
        "subscription_id": sub["id"],
        "interaction_id": interaction["id"],
        "template_id": template,
        "notification_id": note["id"],
        "bulk_id": bulk["id"],
        "request_id": rid,
        "payment_id": payment["id"],
        "debt_id": f"fine-{fine_id}",
        "tax_object": "9872023VH5797S0001WX",
        "review_id": "rev-none-such",
        "day": "2026-03-10",
        "contact_id": "ctc-000000000000000000000000",  # none such: 404 to whom may look, 409 to whom may act
        "queue": "hacienda-l1",
        "flow": "matrix-none",
        "call_id": "ivr-000000000000000000000000",
        "flag": "events",  # a coming micro-app (off): the matrix's empty body changes nothing (422)
        "article_id": "padron-alta",  # a shipped article (the matrix's empty bodies change nothing: 422)
        "version": "1",
        "survey_id": "matrix-none",  # none such: 404 to whom may look or answer (a survey's answer needs its link)
        "provider": "ses",
        "token": "not-a-signed-link",  # 404 link-invalid to whom may look
        "segment_id": "seg-none-such",  # campaigns: none such, 404 to the campaign team, 403 to everyone else
        "campaign_id": "cmp-none-such",
        "card_type": "zbe",  # the wallet: a shipped card type (the matrix's empty body changes nothing: 422)
        "card_id": "card-00000000000000000000000000000000",  # none such: 404 to whom may act on the citizen's cards
        "event_id": "matrix-none",  # the agenda: none such, 404 to whom may look or save it
        "ingest_id": "matrix-none",  # the agenda's file reports: none such, 404 to the council
        "application_id": "zbe-00000000000000000000",  # ZBE: none such, 404 to whom may decide, 403 to the others
        "resource_id": "piscina-barcelo",  # bookings: a shipped resource (its slots are public)
        "booking_id": "bk-0000000000000000",  # none such: 404 to whom may look or act on the citizen's bookings
        "incident_id": incident["service_request_id"],  # the citizen's report (photos and reopening: the reporter)
        "suggestion_id": "madrid-mayor",  # not shown (the matrix's citizen is in mode a): 404 to the citizen alone
        "domain": "consent",  # the published contracts (issue 19): an API domain, an event type, a published file
        "event_type": "es.madrid.pic.consent.changed.v1",
        "schema_file": "openapi.json",
        "client_id": "quiosco-pruebas",  # API consumers: a registered client (its usage, to admins)
        "system": "padron",  # the legacy adapters: the matrix's empty body names no file (422 to the systems)
        "file_id": "padron-00000000000000000000",  # none such: 404 to the systems and the engineers
        "table": "cases",  # the data platform: an exported table ("day" above: an empty partition)
    }
    headers = {caller.name: _headers(platform, caller, citizen) for caller in CALLERS}
    return World(citizen=citizen, params=params, query=record, headers=headers)


def _interaction(citizen: str) -> dict[str, Any]:
    return {
        "interaction_id": f"matrix-{citizen}",
        "citizen_id": citizen,
        "channel": {"kind": "call", "direction": "inbound", "line": "010"},
        "area": "atencion-ciudadania",
        "topic": "Duda sobre el padrón",
        "started_at": datetime.now(UTC).isoformat(),
    }


def _case(citizen: str) -> dict[str, Any]:
    return {"citizen_id": citizen, "area": "hacienda", "category": "fraccionamiento", "channel": "web",
            "subject": "Fraccionar el IBI de 2026"}  # fmt: skip


def _fine(citizen: str, fine_id: str) -> dict[str, Any]:
    return {
        "fine_id": fine_id,
        "citizen_id": citizen,
        "infraction": {"article": "RGC art. 94.2.e", "description": "Estacionar en zona de carga y descarga"},
        "severity": "grave",
        "regime": "traffic",
        "amount_cents": 20000,
        "notified_at": datetime.now(UTC).isoformat(),
    }


def _payment(debt_id: str) -> dict[str, Any]:
    return {"debt_ids": [debt_id], "method": "card"}


def _template() -> dict[str, Any]:
    return {
        "purpose": "service-notifications",
        "subject": {"es": "Aviso", "en": "Notice"},
        "body": {"es": "Hola, {{ name }}.", "en": "Hello {{ name }}."},
    }


def _path(route: Route, params: dict[str, str]) -> str:
    path = route.rule
    for name, value in params.items():
        path = path.replace(f"<{name}>", value)
    assert "<" not in path, f"the matrix has no value for a parameter of {route.rule}: add it to world()"
    return path


def _body(route: Route, world: World) -> Any:
    """What each route is sent: the interaction to record and the payment to make (their bodies name the
    citizen), else an empty object —
    enough to tell a refusal (403, decided before the body is read) from a caller let through (422 or 2xx)."""
    if route.rule == "/v1/interactions" and route.method == "POST":
        return _interaction(world.citizen)
    if route.rule == "/v1/cases" and route.method == "POST":
        return _case(world.citizen)
    if route.rule == "/v1/payments" and route.method == "POST":  # the citizen's fine, already being paid: 409
        return _payment(world.params["debt_id"])
    return {} if route.method in ("POST", "PUT") else None


def _expected(route: Route) -> set[str]:
    assert route.action in EXPECTED, f"{route.action}: a new action — write its row in EXPECTED"
    row = EXPECTED[route.action]
    kind = "citizen" if route.names_citizen else "platform"
    assert kind in row, f"{route.action} on {route.rule}: the matrix has no row for routes that name a {kind}"
    # an action anyone may use without signing in, on a route that asks for a token, is the token's (incident.report:
    # Open311's POST takes an api_key instead, the app's POST /v1/incidents a citizen's token)
    return row[kind] if route.anonymous else row[kind] - {"anonymous"}


def test_the_matrix_names_every_declared_action() -> None:
    assert set(EXPECTED) == set(ACTIONS)


@dataclass(frozen=True)
class Outcome:
    caller: str
    route: Route
    status: int


@pytest.fixture(scope="module")
def outcomes(platform: Platform, world: World) -> list[Outcome]:
    """WHEN every caller calls every route."""
    found = []
    for route in ROUTES:
        for caller in CALLERS:
            response = platform.http.request(
                route.method,
                platform.url(_path(route, world.params)),
                params=world.query if route.rule == "/v1/citizens" else None,
                json=_body(route, world),
                headers=world.headers[caller.name],
                timeout=30,
            )
            found.append(Outcome(caller.name, route, response.status_code))
            assert response.status_code < 500, (caller.name, route.method, route.rule, response.text)
            if response.status_code >= 400 and route.problem_body is None:  # else the route's own format (Open311)
                assert response.headers["content-type"].startswith("application/problem+json"), response.text
            if caller.name == "agent-1" and response.status_code == 200 and route.reads and route.reads.summary:
                # an agent of level 1 sees summaries only, on every route that shows a section of data
                body = response.json()
                assert body.get("view") == "summary", (route.rule, body)
    return found


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.rule}")
def test_each_route_lets_through_exactly_the_callers_its_action_allows(outcomes: list[Outcome], route: Route) -> None:
    # THEN a caller the table allows is never refused (401/403), and every other caller is
    expected = _expected(route)
    for outcome in (o for o in outcomes if o.route is route):
        refused = outcome.status in (401, 403)
        assert refused != (outcome.caller in expected), (outcome.caller, route.method, route.rule, outcome.status)


def test_tokens_without_a_role_or_with_an_empty_subject_and_no_token_are_401(outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        if outcome.caller == "anonymous" and outcome.route.anonymous:  # self-service: no token is the role anonymous
            assert outcome.status != 401, (outcome.caller, outcome.route.rule, outcome.status)
        elif outcome.caller in ("anonymous", "no-role", "empty-subject"):
            assert outcome.status == 401, (outcome.caller, outcome.route.rule, outcome.status)


def test_every_read_the_matrix_made_is_in_the_access_log(
    platform: Platform, world: World, outcomes: list[Outcome]
) -> None:
    # GIVEN every read of the citizen's data the matrix made: shown (2xx), or refused to an authenticated caller
    wanted: set[tuple[str, str, str]] = set()
    for o in outcomes:
        if o.route.reads is None or not o.route.names_citizen or o.caller in ("anonymous", "no-role", "empty-subject"):
            continue
        if o.route.rule.startswith("/v1/citizen-reviews") or o.route.names_several:  # they name other people
            continue
        if 200 <= o.status < 300:
            wanted.add((_reader(o.caller, world), o.route.reads.resource, "allowed"))
        elif o.status == 403:
            wanted.add((_reader(o.caller, world), o.route.reads.resource, "denied"))
    assert len(wanted) > 40  # the matrix did read

    # THEN each is in the citizen's access log (the audit function appends them from the outbox's events)
    me = platform.as_(world.citizen)

    def missing() -> set[tuple[str, str, str]]:
        entries, cursor = [], None
        while True:
            params = {"limit": "200", **({"cursor": cursor} if cursor else {})}
            page = platform.http.get(
                platform.url(f"/v1/citizens/{world.citizen}/access-log"), params=params, headers=me, timeout=30
            ).json()
            entries += page["entries"]
            cursor = page["next_cursor"]
            if not cursor:
                break
        seen = {(e["reader"]["id"], e["resource"], e["decision"]) for e in entries}
        return wanted - seen

    left = platform.wait_for(lambda: not missing() or None, timeout=120, what="every read in the access log")
    assert left, missing()


def _reader(caller: str, world: World) -> str:
    claims = next(c.claims for c in CALLERS if c.name == caller)
    assert claims is not None
    return str(claims.get("sub", world.citizen))
