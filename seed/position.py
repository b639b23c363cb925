"""Area facts and interactions for the synthetic city, so that its people have a global position.

``python -m seed.position --people 200 --seed 1 [--url http://127.0.0.1:8080] [--showcase 3]``
regenerates the same city as ``seed.city`` (same people and seed, hence the same local_ids)
and sends, through the broker ingress, what the area systems and channels would:

- ``es.madrid.pic.position.item.upserted.v1`` from each system a person is in: Tributos (taxes, a payment
  notice), Multas (a fine, its notification), Cita Previa (an appointment), SER (a resident permit and its
  wallet card), Deportes (a sports pass, a court booking), Cultura (a library card), Servicios Sociales (a
  case and an appointment, special categories of RGPD art. 9), Padrón (a certificate request);
- ``es.madrid.pic.interaction.recorded.v1`` from the queue manager, 010, the chat assistant, WhatsApp, the
  e-mail mailbox and the app, about one of the person's records.

The first ``--showcase`` people with a clean identity document are also given a record in every system
they lack (``es.madrid.pic.citizen.record.upserted.v1``, matched by their document), one interaction of
every kind, and (once C360 has resolved them) a consent through the consent API, so that each of them has
data in every section. Event ids are hashes of their content: sending twice changes nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import requests

from local.senders import SenderTokens
from seed.city import (
    SYSTEMS_BY_NAME,
    CityConfig,
    NoiseRates,
    PeopleFactory,
    Person,
    SystemRecord,
    generate,
    make_record,
)

ITEM_UPSERTED = "es.madrid.pic.position.item.upserted.v1"
INTERACTION_RECORDED = "es.madrid.pic.interaction.recorded.v1"
RECORD_UPSERTED = "es.madrid.pic.citizen.record.upserted.v1"
SHOWCASE_SYSTEMS = ("tributos", "multas", "cita-previa", "ser", "deportes", "cultura", "servicios-sociales")
CHANNEL_SOURCES = {
    "office-visit": "/legacy/gestor-colas",
    "call": "/legacy/linea-madrid-010",
    "chat": "/legacy/asistente-virtual",
    "whatsapp": "/legacy/whatsapp",
    "email": "/legacy/buzon-atencion",
    "app": "/legacy/madrid-movil",
}
OFFICES = ("OAC Arganzuela", "OAC Centro", "OAC Chamberí", "OAC Latina", "OAC Puente de Vallecas", "OAC Tetuán")


@dataclass(frozen=True)
class Event:
    """One CloudEvent to send: its type, source, subject and data; the id is a hash of all of them."""

    type: str
    source: str
    subject: str
    data: dict[str, Any]

    @property
    def id(self) -> str:
        content = json.dumps([self.type, self.source, self.data], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(content.encode()).hexdigest()[:32]


def send(
    session: requests.Session,
    base_url: str,
    event: Event,
    *,
    tokens: SenderTokens,
    structured: bool = False,
    event_id: str | None = None,
) -> requests.Response:
    """POST one CloudEvent to the broker ingress, in binary (default) or structured mode, as the system that
    owns the event's source (its sender token from ``tokens``)."""
    url = f"{base_url.rstrip('/')}/events"
    ident = event_id or event.id
    auth = tokens.headers_for(event.source)
    if structured:
        envelope = {
            "specversion": "1.0",
            "id": ident,
            "source": event.source,
            "type": event.type,
            "subject": event.subject,
            "datacontenttype": "application/json",
            "data": event.data,
        }
        headers = {"content-type": "application/cloudevents+json", **auth}
        return session.post(url, data=json.dumps(envelope, ensure_ascii=False).encode(), headers=headers, timeout=30)
    headers = {
        "ce-specversion": "1.0",
        "ce-id": ident,
        "ce-source": event.source,
        "ce-type": event.type,
        "ce-subject": event.subject,
        "content-type": "application/json",
        **auth,
    }
    return session.post(url, data=json.dumps(event.data, ensure_ascii=False).encode(), headers=headers, timeout=30)


# ---- facts ---------------------------------------------------------------------------------------------


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def fact(
    system: str,
    local_id: str,
    section: str,
    item_id: str,
    title: str,
    status: str,
    area: str,
    as_of: datetime,
    **fields: Any,
) -> Event:
    data: dict[str, Any] = {
        "local_id": local_id,
        "section": section,
        "item_id": item_id,
        "status": status,
        "title": title,
        "area": area,
        "as_of": _iso(as_of),
    }
    data.update({k: v for k, v in fields.items() if v is not None})
    return Event(ITEM_UPSERTED, SYSTEMS_BY_NAME[system].source, local_id, data)


def _money(rng: random.Random, low: int, high: int) -> str:
    return str(Decimal(rng.randint(low * 100, high * 100)) / 100)


def facts_for(record: SystemRecord, rng: random.Random, now: datetime) -> list[Event]:
    """What one area system holds about the person behind one of its records."""
    lid = record.record["local_id"]
    year = now.year
    as_of = now - timedelta(hours=rng.randint(1, 72))
    today = now.date()
    due = today + timedelta(days=rng.randint(10, 90))
    system = record.system
    if system == "tributos":
        return [
            fact(
                system,
                lid,
                "taxes",
                f"IBI-{year}-{lid}",
                f"IBI {year}, primer plazo",
                "pending",
                "hacienda",
                as_of,
                amount_eur=_money(rng, 180, 950),
                due_date=due.isoformat(),
                reference=f"{rng.randint(10**9, 10**10 - 1)}",
                attributes={
                    "cadastral_reference": f"{rng.randint(10**6, 10**7 - 1)}VK4797S0001WX",
                    "payment_plan": rng.choice(["PAC", "none"]),
                },
            ),
            fact(
                system,
                lid,
                "taxes",
                f"IVTM-{year}-{lid}",
                f"Impuesto de vehículos {year}",
                "paid",
                "hacienda",
                as_of,
                amount_eur=_money(rng, 60, 160),
                reference=f"{rng.randint(10**9, 10**10 - 1)}",
                attributes={
                    "vehicle_plate": f"{rng.randint(1000, 9999)} {''.join(rng.choices('BCDFGHJKLMNPRSTVWXYZ', k=3))}"
                },
            ),
            fact(
                system,
                lid,
                "notifications",
                f"NOT-IBI-{year}-{lid}",
                "Aviso de cargo del IBI",
                "delivered",
                "hacienda",
                as_of,
                reference=f"N{rng.randint(10**6, 10**7 - 1)}",
            ),
        ]
    if system == "multas":
        return [
            fact(
                system,
                lid,
                "fines",
                f"MUL-{lid}-1",
                "Estacionamiento en zona SER sin título",
                "pending",
                "movilidad",
                as_of,
                amount_eur="90.00",
                due_date=due.isoformat(),
                reference=f"EXP-{rng.randint(10**7, 10**8 - 1)}",
                attributes={
                    "plate": f"{rng.randint(1000, 9999)} KLM",
                    "street": "Calle de Alcalá",
                    "reduced_if_paid_by": (today + timedelta(days=20)).isoformat(),
                },
            ),
            fact(
                system,
                lid,
                "notifications",
                f"NOT-MUL-{lid}-1",
                "Notificación de denuncia",
                "delivered",
                "movilidad",
                as_of,
            ),
        ]
    if system == "cita-previa":
        starts = now.replace(minute=0, second=0, microsecond=0) + timedelta(
            days=rng.randint(2, 20), hours=rng.randint(0, 6)
        )
        return [
            fact(
                system,
                lid,
                "appointments",
                f"CIT-{lid}-1",
                "Empadronamiento (alta o cambio de domicilio)",
                "booked",
                "atencion-ciudadania",
                as_of,
                starts_at=_iso(starts),
                reference=f"C{rng.randint(10**5, 10**6 - 1)}",
                attributes={"office": rng.choice(OFFICES)},
            ),
        ]
    if system == "ser":
        until = date(year + 1, 3, 31)
        return [
            fact(
                system,
                lid,
                "permits",
                f"SER-RES-{lid}",
                "Distintivo de residente SER",
                "valid",
                "movilidad",
                as_of,
                valid_until=until.isoformat(),
                reference=f"SER{rng.randint(10**6, 10**7 - 1)}",
                attributes={"barrio": f"{rng.randint(11, 219):03d}"},
            ),
            fact(
                system,
                lid,
                "wallet",
                f"CARD-SER-{lid}",
                "Tarjeta de residente SER (digital)",
                "active",
                "movilidad",
                as_of,
                valid_until=until.isoformat(),
            ),
        ]
    if system == "deportes":
        return [
            fact(
                system,
                lid,
                "wallet",
                f"ABONO-{lid}",
                "Abono Deporte Madrid",
                "active",
                "deportes",
                as_of,
                valid_until=date(year, 12, 31).isoformat(),
                amount_eur=_money(rng, 20, 45),
            ),
            fact(
                system,
                lid,
                "appointments",
                f"PISTA-{lid}",
                "Reserva de pista de pádel",
                "booked",
                "deportes",
                as_of,
                starts_at=_iso(now + timedelta(days=rng.randint(1, 10))),
            ),
        ]
    if system == "cultura":
        return [
            fact(
                system,
                lid,
                "wallet",
                f"BIB-{lid}",
                "Carné de Bibliotecas Públicas Municipales",
                "active",
                "cultura",
                as_of,
                reference=f"B{rng.randint(10**7, 10**8 - 1)}",
            ),
        ]
    if system == "servicios-sociales":
        return [
            fact(
                system,
                lid,
                "cases",
                f"SAD-{lid}",
                "Servicio de Ayuda a Domicilio",
                "open",
                "servicios-sociales",
                as_of,
                special_category=True,
                reference=f"SS-{rng.randint(10**5, 10**6 - 1)}",
                attributes={"social_worker": f"TS-{rng.randint(100, 999)}", "assessment": "dependencia grado I"},
            ),
            fact(
                system,
                lid,
                "appointments",
                f"TS-{lid}",
                "Cita con su trabajador social",
                "booked",
                "servicios-sociales",
                as_of,
                special_category=True,
                starts_at=_iso(now + timedelta(days=rng.randint(3, 15))),
            ),
        ]
    if system == "padron":
        return [
            fact(
                system,
                lid,
                "cases",
                f"CERT-{lid}",
                "Certificado de empadronamiento",
                "resolved",
                "atencion-ciudadania",
                as_of,
                reference=f"PAD-{rng.randint(10**6, 10**7 - 1)}",
            ),
        ]
    return []  # pragma: no cover - every system of the city is handled above


# ---- interactions --------------------------------------------------------------------------------------


def interaction(kind: str, source: str, local_id: str, rng: random.Random, now: datetime, n: int) -> Event:
    """One interaction of ``kind`` about the record ``source``/``local_id``, as its channel would record it."""
    started = now - timedelta(days=rng.randint(1, 60), minutes=rng.randint(0, 600))
    ended = started + timedelta(minutes=rng.randint(3, 25))
    channel: dict[str, Any]
    area, topic = "atencion-ciudadania", "Consulta general"
    if kind == "office-visit":
        issued = started - timedelta(minutes=rng.randint(2, 30))
        channel = {
            "kind": kind,
            "office": rng.choice(OFFICES),
            "service": "Padrón y certificados",
            "ticket": f"A{rng.randint(1, 199):03d}",
            "issued_at": _iso(issued),
            "called_at": _iso(started),
            "desk": str(rng.randint(1, 12)),
        }
        topic = "Cambio de domicilio en el padrón"
    elif kind == "call":
        channel = {"kind": kind, "direction": "inbound", "line": "010", "queue": "tributos"}
        area, topic = "hacienda", "Duda sobre el recibo del IBI"
    elif kind == "chat":
        channel = {"kind": kind, "conversation_id": f"chat-{rng.getrandbits(48):012x}", "bot_only": rng.random() < 0.5}
        area, topic = "movilidad", "Cómo pagar una multa"
    elif kind == "whatsapp":
        channel = {"kind": kind, "conversation_id": f"wa-{rng.getrandbits(48):012x}", "direction": "inbound"}
        topic = "Recordatorio de cita previa"
    elif kind == "email":
        channel = {"kind": kind, "direction": "inbound", "mailbox": "atencion@madrid.es"}
        area, topic = "cultura", "Renovación del carné de biblioteca"
    else:
        channel = {"kind": "app", "app": "madrid-movil", "action": "consulta de recibos"}
        area, topic = "hacienda", "Consulta de recibos en la app"
    data = {
        "interaction_id": f"{kind}-{local_id}-{n}",
        "record": {"source": source, "local_id": local_id},
        "channel": channel,
        "area": area,
        "topic": topic,
        "outcome": "resolved",
        "started_at": _iso(started),
        "ended_at": _iso(ended),
    }
    return Event(INTERACTION_RECORDED, CHANNEL_SOURCES[kind], local_id, data)


# ---- the city ------------------------------------------------------------------------------------------


def clean_identity(person: Person, records: Sequence[SystemRecord]) -> bool:
    """A person whose every record carries their valid document: C360 links new records to them surely."""
    return (
        person.document is not None
        and person.document["type"] in ("DNI", "NIE")
        and all(
            r.record["document"] is not None and not {"missing_document", "wrong_check_letter"} & set(r.noise)
            for r in records
        )
    )


def extra_records(person: Person, records: Sequence[SystemRecord], index: int) -> list[SystemRecord]:
    """A record in every showcase system the person lacks (they booked, paid, applied...), with their document."""
    have = {r.system for r in records}
    base = records[0].record
    extra = []
    for name in SHOWCASE_SYSTEMS:
        if name in have:
            continue
        system = SYSTEMS_BY_NAME[name]
        record = {**base, "local_id": f"{system.id_prefix}X{index:07d}", "document": dict(person.document or {})}
        extra.append(SystemRecord(name, record, ()))  # type: ignore[arg-type]
    return extra


@dataclass
class Plan:
    events: list[Event]
    showcase: list[tuple[str, str]]  # (source, local_id) of a record of each showcase person


def plan(config: CityConfig, showcase: int = 3, now: datetime | None = None) -> Plan:
    """Every event to send for the city of ``config`` (deterministic for a given ``now``)."""
    now = now or datetime.now(UTC).replace(microsecond=0)
    rng = random.Random(f"{config.seed}:position")  # noqa: S311 (reproducible test data)
    events: list[Event] = []
    chosen: list[tuple[str, str]] = []
    for person, records in generate(config):
        index = int(person.person_id.rsplit("-", 1)[1])
        mine = list(records)
        if len(chosen) < showcase and clean_identity(person, records):
            extra = extra_records(person, records, index)
            events += [Event(RECORD_UPSERTED, r.source, r.record["local_id"], dict(r.record)) for r in extra]
            mine += extra
            chosen.append((records[0].source, records[0].record["local_id"]))
            kinds: Sequence[str] = tuple(CHANNEL_SOURCES)
            about_first = True  # the record the walk-through names (their Padrón record, usually)
        else:
            kinds = rng.sample(tuple(CHANNEL_SOURCES), k=rng.randint(0, 2))
            about_first = False
        for record in mine:
            events += facts_for(record, rng, now)
        for n, kind in enumerate(kinds):
            about = mine[0] if about_first else rng.choice(mine)
            events.append(interaction(kind, about.source, about.record["local_id"], rng, now, n))
    return Plan(events, chosen)


def send_all(base_url: str, events: Sequence[Event], session: requests.Session | None = None) -> tuple[int, list[str]]:
    """Send every event; returns how many the ingress accepted and the refusals."""
    session = session or requests.Session()
    tokens = SenderTokens(base_url, session)
    accepted, refused = 0, []
    for event in events:
        try:
            answer = send(session, base_url, event, tokens=tokens)
        except (requests.RequestException, ValueError) as exc:  # ValueError: no sender owns the source
            refused.append(f"{event.type} {event.subject}: {exc}")
            continue
        if answer.status_code in (200, 202):
            accepted += 1
        else:
            refused.append(f"{event.type} {event.subject}: {answer.status_code} {answer.text[:200]}")
    return accepted, refused


def _token(session: requests.Session, base_url: str, **claims: Any) -> dict[str, str]:
    answer = session.post(f"{base_url}/dev/token", json=claims, timeout=10)
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def golden_id(session: requests.Session, base_url: str, source: str, local_id: str, timeout: float) -> str | None:
    """The golden record C360 made of a record, waiting up to ``timeout`` seconds for it: asked as the area
    system whose record it is (an internal system reads which golden record its records belong to)."""
    headers = _token(session, base_url, sub=f"svc-{source.rsplit('/', 1)[-1]}", role="system", level=0)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = session.get(
            f"{base_url}/v1/citizens", params={"source": source, "local_id": local_id}, headers=headers, timeout=10
        )
        if answer.status_code == 200:
            return str(answer.json()["citizen_id"])
        time.sleep(0.5)
    return None


def give_consents(base_url: str, showcase: Sequence[tuple[str, str]], timeout: float = 120.0) -> list[str]:
    """Each showcase person, as themselves, consents to personalisation: the consents section fills in."""
    session = requests.Session()
    found = []
    for source, local_id in showcase:
        citizen_id = golden_id(session, base_url, source, local_id, timeout)
        if citizen_id is None:
            continue
        headers = _token(session, base_url, sub=citizen_id, role="citizen", level=0)
        body = {"granted": True, "text_version": "2026-01", "capture_channel": "app"}
        session.put(
            f"{base_url}/v1/citizens/{citizen_id}/consents/personalisation", json=body, headers=headers, timeout=15
        ).raise_for_status()
        found.append(citizen_id)
    return found


def seed(base_url: str, config: CityConfig, showcase: int = 3) -> tuple[int, list[str], list[str]]:
    """Send the city's facts and interactions, then the showcase consents; (accepted, refused, showcase ids)."""
    the_plan = plan(config, showcase)
    accepted, refused = send_all(base_url, the_plan.events)
    return accepted, refused, give_consents(base_url, the_plan.showcase)


# ---- a fresh person, for one run of a walk-through -------------------------------------------------------


@dataclass(frozen=True)
class FreshPerson:
    """A new person of the city's kind: a record with their DNI in the Padrón and every showcase system, facts
    in every section and an interaction of every kind about them, and one more record WITHOUT a document (a
    second sports registration), which C360 can only merge by probability: the one a walk-through un-merges."""

    person: Person
    records: list[SystemRecord]
    undocumented: SystemRecord
    events: list[Event]

    def describe(self) -> dict[str, Any]:
        first, loose, who = self.records[0], self.undocumented, self.person
        return {
            "person": " ".join(n for n in (who.given_name, who.first_surname, who.second_surname) if n),
            "document": who.document,  # synthetic: what the person shows an agent at the desk (a walk-through)
            "record": {"source": first.source, "local_id": first.record["local_id"]},
            "undocumented_record": {"source": loose.source, "local_id": loose.record["local_id"]},
            "records": [{"source": r.source, "local_id": r.record["local_id"]} for r in [*self.records, loose]],
        }


def fresh_person(tag: str, now: datetime | None = None) -> FreshPerson:
    """The person of ``tag`` (the same tag gives the same person; a new tag, a new person, documents and local
    ids that no city of ``seed.city`` uses): an adult resident with a DNI."""
    now = now or datetime.now(UTC).replace(microsecond=0)
    rng = random.Random(f"fresh:{tag}")  # noqa: S311 (reproducible test data)
    factory = PeopleFactory(CityConfig(people=1, seed=rng.randrange(2**31)))
    person = next(
        p
        for p in (factory.person(i) for i in range(1, 10_000))
        if p.resident and p.document and p.document["type"] == "DNI" and 18 <= p.age() < 65 and p.email
    )
    ids = iter(rng.sample(range(10**8), k=len(SHOWCASE_SYSTEMS) + 2))

    def record_in(name: str) -> SystemRecord:
        system = SYSTEMS_BY_NAME[name]
        local_id = f"{system.id_prefix}9{next(ids):08d}"  # nine digits: never one of a city's (seven or eight)
        record, _ = make_record(person, system, local_id, NoiseRates.none(), rng)
        record = {**record, "birth_date": person.birth_date.isoformat(), "address": person.address.copy()}
        return SystemRecord(name, record, ())  # type: ignore[arg-type]

    records = [record_in(name) for name in ("padron", *SHOWCASE_SYSTEMS)]
    loose = record_in("deportes")
    loose = SystemRecord(loose.system, {**loose.record, "document": None, "email": person.email}, ("missing_document",))
    events = [Event(RECORD_UPSERTED, r.source, r.record["local_id"], dict(r.record)) for r in records]
    for record in records:
        events += facts_for(record, rng, now)
    first = records[0]
    events += [
        interaction(kind, first.source, first.record["local_id"], rng, now, n) for n, kind in enumerate(CHANNEL_SOURCES)
    ]
    return FreshPerson(person, records, loose, events)


def seed_fresh_person(base_url: str, fresh: FreshPerson, timeout: float = 600.0) -> str | None:
    """Send the person's records, facts and interactions; once C360 has made their golden record, the record
    without a document (merged by probability) and a consent to personalisation. Their citizen id, or
    ``None`` if C360 did not resolve them within ``timeout`` seconds (the broker's backlog)."""
    _, refused = send_all(base_url, fresh.events)
    if refused:
        raise RuntimeError(f"the broker refused {len(refused)} of the fresh person's events: {refused[0]}")
    first = fresh.records[0]
    citizen_id = golden_id(requests.Session(), base_url, first.source, first.record["local_id"], timeout)
    if citizen_id is None:
        return None
    loose = fresh.undocumented
    send_all(base_url, [Event(RECORD_UPSERTED, loose.source, loose.record["local_id"], dict(loose.record))])
    give_consents(base_url, [(first.source, first.record["local_id"])], timeout)
    return citizen_id


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seed.position", description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--showcase", type=int, default=3)
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    args = parser.parse_args(argv)
    accepted, refused, ids = seed(args.url, CityConfig(people=args.people, seed=args.seed), args.showcase)
    for line in refused:
        print(f"refused {line}", file=sys.stderr)
    print(f"{accepted} events accepted, {len(refused)} refused; people with data in every section: {', '.join(ids)}")
    return 0 if not refused else 1


if __name__ == "__main__":
    sys.exit(main())
