"""Functional: an erasure sticks. A person with data in every domain asks for erasure; once the request has
completed and the platform has settled (nothing pending at the broker nor in the outbox about them), a scan
of EVERY table of DynamoDB Local (ListTables + Scan, over HTTP) for their id, e-mail, phone, name and
document finds only what the domains' answers say they keep — each item mapped to the retention category
(``policies/rgpd/retention``) of a ``kept`` action in its domain's answer — and the request itself.

Issue 11 item 14: the position's ``consents`` section and the notification domain's consent projection were
re-created seconds after the erasure by the erasure's own consent withdrawal, and the notifications sent to
the person (address, subject, body with their name) were neither erased nor accounted for."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from boto3.dynamodb.types import Binary
from stdnum.es import dni as spanish_dni

from local.harness import Platform
from seed.position import ITEM_UPSERTED, Event, send
from tests.functional.consent_support import GIVE, citizen_url, put_consent
from tests.functional.notification_support import (
    CAMPAIGN,
    IBI_VALUES,
    UPSERTED,
    fresh_template,
    notify,
    profile,
    send_event,
    system,
    unique_mobile,
    wait_status,
)

pytestmark = pytest.mark.functional

NOW = datetime.now(UTC).replace(microsecond=0)
Place = tuple[str, str] | str  # (domain, retention category) of a kept action, or REQUEST
REQUEST = "the request itself"  # the rgpd function's record of the request: the evidence of having answered


@dataclass(frozen=True)
class Person:
    citizen_id: str
    email: str
    phone: str  # national significant number: found in "+34..." and in "6..." alike
    surname: str
    document: str
    notifications: tuple[str, ...]

    def tokens(self) -> dict[str, str]:
        return {
            "id": self.citizen_id,
            "e-mail": self.email,
            "phone": self.phone,
            "name": self.surname,
            "document": self.document,
        }


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def lookup(platform: Platform, source: str, local_id: str) -> str | None:
    answer = platform.http.get(
        platform.url("/v1/citizens"), params={"source": source, "local_id": local_id}, headers=system(platform)
    )
    return str(answer.json()["citizen_id"]) if answer.status_code == 200 else None


def sections(platform: Platform, citizen_id: str, headers: dict[str, str]) -> dict[str, int]:
    answer = platform.http.get(platform.url(f"/v1/citizens/{citizen_id}/position"), headers=headers, timeout=15)
    assert answer.status_code == 200, answer.text
    return {s["section"]: s["summary"]["count"] for s in answer.json()["sections"]}


def a_person_in_every_domain(platform: Platform) -> Person:
    """C360 records (Padrón and Tributos, with name, DNI, e-mail, phone), a tax receipt in the position, a
    consent, preferences, a subscription, an office visit, a campaign to their citizen id and a legal notice
    to their e-mail address (both with their name in the body), and an agent's read of their position."""
    tag = uuid.uuid4().hex[:8]
    surname = f"Zubiaurre{tag}"
    number = f"{uuid.uuid4().int % 10**8:08d}"
    document = number + spanish_dni.calc_check_digit(number)
    email = f"ines.{tag}@example.org"
    mobile = unique_mobile()
    person: dict[str, Any] = {"given_name": "Inés", "first_surname": surname, "birth_date": "1980-05-17",
                              "email": email, "document": {"type": "DNI", "number": document}}  # fmt: skip
    padron, tributos = f"PAD{tag}", f"TRB{tag}"
    send_event(platform, UPSERTED, {**person, "local_id": padron, "phone": mobile}, source="/legacy/padron",
               event_id=str(uuid.uuid4()))  # fmt: skip
    citizen_id = str(platform.wait_for(lambda: lookup(platform, "/legacy/padron", padron), what="the golden record"))
    send_event(platform, UPSERTED, {**person, "local_id": tributos}, source="/legacy/tributos",
               event_id=str(uuid.uuid4()))  # fmt: skip
    receipt = {"local_id": tributos, "section": "taxes", "item_id": f"IBI-{tag}", "status": "pending",
               "title": "IBI 2026", "area": "hacienda", "as_of": iso(NOW), "amount_eur": "312.45"}  # fmt: skip
    assert send(
        platform.http,
        platform.base,
        Event(ITEM_UPSERTED, "/legacy/tributos", tributos, receipt),
        tokens=platform.senders,
    ).ok

    me = {**platform.as_(citizen_id), "content-type": "application/json"}
    assert put_consent(platform, citizen_id, "campaigns", {**GIVE, "channels": ["email"]}, me).status_code == 200
    prefs = {"language": "es", "channels": ["email"]}
    assert platform.http.put(citizen_url(platform, citizen_id, "/preferences"), json=prefs, headers=me).ok
    subscription = {"topic": "traffic", "zone": "01"}
    assert platform.http.post(citizen_url(platform, citizen_id, "/subscriptions"), json=subscription, headers=me).ok
    agent = platform.as_("agente-oac", role="agent", level=3, area="hacienda")
    visit = {
        "interaction_id": f"it-{tag}",
        "citizen_id": citizen_id,
        "channel": {"kind": "office-visit", "office": "OAC Arganzuela", "service": "Padrón", "ticket": "A042",
                    "issued_at": iso(NOW - timedelta(minutes=20))},
        "area": "hacienda",
        "topic": "Cambio de domicilio",
        "started_at": iso(NOW - timedelta(minutes=5)),
    }  # fmt: skip
    at_the_desk = {**agent, "Access-Purpose": f"OAC-{tag}", "Idempotency-Key": str(uuid.uuid4())}
    recorded = platform.http.post(platform.url("/v1/interactions"), json=visit, headers=at_the_desk)
    assert recorded.status_code == 201, recorded.text

    def projected() -> bool:
        held = profile(platform, citizen_id)
        counts = sections(platform, citizen_id, platform.as_(citizen_id))
        return (
            held["consents"].get("campaigns", {}).get("granted") is True
            and "email" in held["reachable"]
            and held["subscriptions"] == ["traffic.01"]
            and [counts["taxes"], counts["consents"], counts["interactions"]] == [1, 1, 1]
        )

    platform.wait_for(projected, timeout=45, what="the person in the position and in NOT's projection")
    name = {"name": f"Inés {surname}"}
    campaign = notify(platform, {"template": fresh_template(platform, CAMPAIGN),
                                 "recipient": {"citizen_id": citizen_id}, "personalisation": name})  # fmt: skip
    notice = notify(platform, {"template": fresh_template(platform), "recipient": {"email": email},
                               "personalisation": {**IBI_VALUES, **name}})  # fmt: skip
    ids = []
    for created in (campaign, notice):
        assert created.status_code == 201, created.text
        done = wait_status(platform, created.json()["id"])
        assert done["status"] == "delivered" and done["channel"] == "email", done
        ids.append(str(created.json()["id"]))
    read = platform.http.get(platform.url(f"/v1/citizens/{citizen_id}/position"),
                             headers={**agent, "Access-Purpose": f"EXP-{tag}"})  # fmt: skip
    assert read.status_code == 200, read.text
    return Person(citizen_id, email, mobile[-9:], surname, document, tuple(ids))


def erase(platform: Platform, person: Person) -> dict[str, Any]:
    """Open an erasure as the person, wait until every domain answered, and answer the request's view."""
    me = platform.as_(person.citizen_id)
    opened = platform.http.post(
        citizen_url(platform, person.citizen_id, "/rgpd-requests"), json={"right": "erasure"}, headers=me
    )
    assert opened.status_code == 202, opened.text
    request_id = opened.json()["request_id"]

    def completed() -> dict[str, Any] | None:
        view = dict(platform.http.get(platform.url(f"/v1/rgpd-requests/{request_id}"), headers=me).json())
        assert view["status"] != "action-required", view
        return view if view["status"] == "completed" else None

    return dict(platform.wait_for(completed, timeout=60, what=f"erasure {request_id} completed"))


# ---- where each item found belongs -------------------------------------------------------------------------


def domain_of_function(function: str) -> str:
    return function.removeprefix("pic-").removesuffix("-events").removesuffix("-delivery")


def _consent(item: dict[str, Any], person: Person, request_id: str) -> Place | None:
    if str(item.get("item", "")).startswith("proof#"):
        return "consent", "consent-proofs"
    return ("consent", "flags") if item.get("item") == "rgpd-flags" else None


def _citizen(item: dict[str, Any], person: Person, request_id: str) -> Place | None:
    pk, sk = str(item["pk"]), str(item["sk"])
    mine = pk == person.citizen_id
    padron = (
        (mine and (sk == "golden" or sk.startswith("link#/legacy/padron#")))
        or pk.startswith("src#/legacy/padron#")
        or (pk.startswith("doc#") and item.get("citizen_id") == person.citizen_id)
    )
    return ("citizen", "padron-record") if padron else None


def _position(item: dict[str, Any], person: Person, request_id: str) -> Place | None:
    if item["pk"] != f"cit#{person.citizen_id}":
        return None
    return {"erased": ("position", "erasure-marker"), "flags": ("position", "flags")}.get(str(item["sk"]))


def _interaction(item: dict[str, Any], person: Person, request_id: str) -> Place | None:
    return ("interaction", "case-interactions") if '"case_id": "' in json.dumps(item, default=str) else None


def _audit(item: dict[str, Any], person: Person, request_id: str) -> Place | None:
    return "audit", "access-log"


def _notification(item: dict[str, Any], person: Person, request_id: str) -> Place | None:
    pk, sk = str(item["pk"]), str(item["sk"])
    if pk.startswith("ntf#") and json.loads(str(item["doc"])).get("purpose") == "service-notifications":
        return "notification", "legal-notices"
    if pk == f"inbox#{person.citizen_id}":
        return "notification", "legal-notices"
    if pk == f"cit#{person.citizen_id}" and sk == "profile":
        parts = set(json.loads(str(item["parts"])))
        return ("notification", "erasure-marker") if parts <= {"erased", "flags"} else None
    return None


def _rgpd(item: dict[str, Any], person: Person, request_id: str) -> Place | None:
    return REQUEST if item["pk"] in (f"req#{request_id}", f"flags#{person.citizen_id}") else None


def _outbox(item: dict[str, Any], person: Person, request_id: str) -> Place | None:
    """The request's own messages (opened, each domain's answer, completed) are the request; any other row
    is an event its domain published, kept until its TTL."""
    if str(item["type"]).startswith("es.madrid.pic.rgpd."):
        return REQUEST
    return str(item["source"]).removeprefix("/pic/"), "outbox-events"


def _idempotency(item: dict[str, Any], person: Person, request_id: str) -> Place | None:
    kind, function, *_ = str(item["key"]).split("#")
    if kind not in ("http", "event"):
        return None
    domain = domain_of_function(function)
    return REQUEST if domain == "rgpd" else (domain, "request-replays")


PLACES: dict[str, Callable[[dict[str, Any], Person, str], Place | None]] = {
    "consent": _consent,
    "citizen": _citizen,
    "position": _position,
    "interaction": _interaction,
    "audit": _audit,
    "notification": _notification,
    "rgpd": _rgpd,
    "outbox": _outbox,
    "idempotency": _idempotency,
}


def _text(value: Any) -> str:
    """An attribute as text to search: a binary one (a status list's bits) as hex, where no identifier hides."""
    return value.value.hex() if isinstance(value, Binary) else str(value)


def unaccounted(
    tables: dict[str, list[dict[str, Any]]], person: Person, view: dict[str, Any]
) -> tuple[list[str], set[Place]]:
    """Every item that holds one of the person's identifiers and that no ``kept`` action of its domain's
    answer (by retention category) nor the request itself accounts for, said with why; and where the items
    accounted for belong."""
    kept = {(d["domain"], a.get("category")) for d in view["domains"] for a in d["actions"] if a["result"] == "kept"}
    found, places = [], set()
    for table, items in sorted(tables.items()):
        place_of = PLACES.get(table.removeprefix("pic-"))
        for item in items:
            text = json.dumps(item, default=_text)
            holds = [kind for kind, token in person.tokens().items() if token in text]
            if not holds:
                continue
            place = place_of(item, person, view["request_id"]) if place_of else None
            if place == REQUEST or (place is not None and place in kept):
                places.add(place)
                continue
            why = "no rule says what it is" if place is None else f"{place} is not among the answers' kept actions"
            found.append(f"{table}: {text[:300]} — holds {', '.join(holds)}; {why}")
    return found, places


# ---- the test --------------------------------------------------------------------------------------------------


@pytest.mark.units_of_work
def test_after_an_erasure_every_table_holds_only_what_the_answers_say_is_kept(platform: Platform) -> None:
    # GIVEN a person with data in every domain: C360 records with name, DNI, e-mail and phone; a tax receipt
    # in the position; consents, preferences and a subscription; an office visit; a campaign to their
    # citizen id and a legal notice to their e-mail address; an agent's read of their position
    person = a_person_in_every_domain(platform)

    # WHEN they ask for erasure, every domain answers, and the platform settles: nothing about them (nor
    # about the notifications sent to them) is waiting at the broker or in the outbox
    view = erase(platform, person)
    platform.settle(*person.tokens().values(), *person.notifications)

    # THEN every item of every table that holds their id, e-mail, phone, name or document is one the
    # answers account for (kept, with its retention category) or the request itself
    tables = platform.scan_tables()
    assert {t.removeprefix("pic-") for t in tables} >= set(PLACES), sorted(tables)
    left, places = unaccounted(tables, person, view)
    assert not left, "held after the erasure and not accounted for:\n" + "\n".join(left)

    # AND what must be kept is there: the Padrón, the consent proofs, the access log, the legal notice sent to
    # their address, the markers that keep the projections from re-creating what was erased, the outbox rows
    assert places >= {
        ("citizen", "padron-record"),
        ("consent", "consent-proofs"),
        ("audit", "access-log"),
        ("notification", "legal-notices"),
        ("notification", "erasure-marker"),
        ("position", "erasure-marker"),
        ("consent", "outbox-events"),
        REQUEST,
    }, places

    # AND what the answers keep has its legal basis
    for answer in view["domains"]:
        for action in answer["actions"]:
            assert action["result"] != "kept" or action["legal_basis"], (answer["domain"], action)

    # AND nothing about them was dead-lettered
    tokens = [*person.tokens().values(), *person.notifications]
    assert not [d for d in platform.deadletters() if any(t in json.dumps(d) for t in tokens)]

    # WHEN the person gives a consent again after the erasure THEN it is new processing: both projections
    # show it (the marker drops what came before the erasure, not what comes after)
    me = {**platform.as_(person.citizen_id), "content-type": "application/json"}
    again = put_consent(platform, person.citizen_id, "campaigns", {**GIVE, "channels": ["email"]}, me)
    assert again.status_code == 200, again.text
    platform.wait_for(
        lambda: (
            sections(platform, person.citizen_id, platform.as_(person.citizen_id))["consents"] == 1
            and profile(platform, person.citizen_id)["consents"].get("campaigns", {}).get("granted") is True
        ),
        timeout=30,
        what="the new consent in the position and in NOT's projection",
    )
