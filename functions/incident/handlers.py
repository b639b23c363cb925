"""Incidents' use cases: one function per command, question or event, over the domain's ports.

A report is checked (known service, its attributes, a point inside the municipality) and written with its events in
one unit: ``incident.reported``; for a signed-in citizen also ``case.requested`` (the area's queue and SLA in CASE,
``request_id`` = the report's id), the report in the person's global position (``position.item.upserted``, section
``cases``, ``local_id`` = the citizen) and a service notice through NOT (``pic-incident-status``). Every later
change (an agent's stage, a "me too", a reopening, a photo) is ``incident.updated``; a change of stage also tells
the reporter and the people who said "me too" (NOT) and updates the reporter's position.

A third-party Open311 client's report (``api_key``) stays in this domain's own workflow: no case, no position, no
notice (nobody PIC knows to tell).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from events.case import CaseRequested
from events.incident import IncidentReported, IncidentUpdated, Stage
from events.notification import NotificationRequested, Recipient
from events.position import PositionItemUpserted
from events.rgpd import RgpdRequestOpened
from functions.core.clock import MADRID, Clock
from functions.core.outbox import stage_event
from functions.core.policy import Policy
from functions.core.store import Staged, UnitOfWork
from functions.incident import rights, service
from functions.incident.service import Incident, IncidentStore, Locator, Photo, Report

PRODUCER = "pic-incident"
TEMPLATE = "pic-incident-status"  # functions/notification/platform_templates.json
DEFAULT_SPAN = timedelta(days=90)  # GeoReport v2 'GET Service Requests': default and maximum span
MAX_REQUESTS = 1000  # GeoReport v2: "first 1000 requests returned"
STAGE_WORDS = {
    "received": ("recibido", "received"), "assigned": ("asignado al servicio responsable", "assigned to its service"),
    "in-progress": ("en curso", "in progress"), "reopened": ("reabierto", "reopened"),
    "resolved": ("resuelto", "resolved"), "rejected": ("rechazado", "rejected"),
    "duplicate": ("duplicado", "duplicate"),
}  # fmt: skip


@dataclass(frozen=True)
class IncidentPorts:
    """Everything the use cases need from outside: built once per process by ``bootstrap``."""

    store: IncidentStore
    policy: Policy
    clock: Clock
    locator: Locator
    api_url: str  # PIC_API_URL: the photos' public URLs and the links in notices


def key_hash(api_key: str) -> str:
    """An api_key as stored: its SHA-256 (a random 256-bit key needs no slow hash; the key itself is never kept)."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def find(incident_id: str, ports: IncidentPorts) -> Incident:
    found = ports.store.fetch_incident(service.check_id(incident_id))
    if found is None:
        raise service.IncidentNotFoundError(f"no report {incident_id!r}")
    return found


# ---- reporting -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportCmd:
    report: Report
    citizen_id: str | None  # a signed-in citizen
    api_key: str | None  # a third-party Open311 client
    channel: service.Channel


def client_of(api_key: str | None, ports: IncidentPorts) -> str:
    """The registered client's name, or ``ApiKeyError`` (GeoReport v2: 403 for an invalid api_key)."""
    if not api_key or len(api_key) > 200:
        raise service.ApiKeyError("api_key is required: register a client with the council (README, Open311)")
    name = ports.store.fetch_client(key_hash(api_key))
    if name is None:
        raise service.ApiKeyError("api_key is not registered")
    return name


def report(cmd: ReportCmd, ports: IncidentPorts, traceparent: str | None) -> Staged[Incident]:
    """A new report, checked and placed, with its events (see the module's docstring)."""
    client = None if cmd.citizen_id else client_of(cmd.api_key, ports)
    svc, place, attributes = service.checked(cmd.report, ports.locator)
    now = ports.clock.now()
    incident = service.new_incident(cmd.report, svc, place, attributes, channel=cmd.channel,
                                    citizen_id=cmd.citizen_id, client=client, now=now)  # fmt: skip
    uow = UnitOfWork()
    ports.store.stage_incident(uow, incident, None)
    reported = IncidentReported(
        incident_id=incident.id, service_code=svc.code, area=svc.area, agency_responsible=svc.agency_responsible,
        lat=incident.lat, long=incident.lon, district=place.district_code or None, barrio=place.barrio_code or None,
        citizen_id=cmd.citizen_id, channel=cmd.channel, photos=0, requested_at=now, expected_at=incident.expected_at,
    )  # fmt: skip
    _emit(uow, reported, incident, traceparent, now)
    if cmd.citizen_id:
        case = CaseRequested(
            request_id=incident.id, citizen_id=cmd.citizen_id, area=svc.area, category=svc.category,
            channel="app" if cmd.channel == "app" else "web", subject=f"Aviso {incident.id}: {svc.name['es']}"[:200],
            description=_case_text(incident, svc),
        )  # fmt: skip
        _emit(uow, case, incident, traceparent, now)
        _tell(uow, incident, [cmd.citizen_id], ports, traceparent, now)
    return Staged(uow, incident)


def _case_text(incident: Incident, svc: service.Service) -> str:
    where = incident.address or (f"{incident.place.barrio_name}, {incident.place.district_name}" if incident.place
                                 else "")  # fmt: skip
    lines = [f"Servicio: {svc.name['es']} ({svc.code})", f"Lugar: {where} ({incident.lat}, {incident.lon})",
             f"Descripción: {incident.description}"]  # fmt: skip
    return "\n".join(lines)[:4000]


def _emit(uow: UnitOfWork, data: Any, incident: Incident, traceparent: str | None, now: datetime) -> None:
    stage_event(uow, data, subject=incident.id, traceparent=traceparent, now=now, producer=PRODUCER)


def _position(incident: Incident) -> PositionItemUpserted | None:
    """The reporter's global position: the report under ``cases`` (the golden record's own fact, source
    ``/pic/incident``); a rejected or duplicate report leaves it."""
    if not incident.citizen_id:
        return None
    svc = service.catalogue().find(incident.service_code)
    return PositionItemUpserted(
        local_id=incident.citizen_id, section="cases", item_id=incident.id, status=incident.stage,
        title=f"Aviso: {svc.name['es']}"[:200], area=svc.area, as_of=incident.updated_at, reference=incident.id,
        attributes={"service_code": svc.code, "reiterations": str(incident.reiterations),
                    "estimated_resolution_date": incident.expected_at.date().isoformat() if incident.expected_at
                    else ""},
        removed=incident.stage in ("rejected", "duplicate"),
    )  # fmt: skip


def _tell(uow: UnitOfWork, incident: Incident, people: list[str], ports: IncidentPorts, traceparent: str | None,
          now: datetime) -> None:  # fmt: skip
    """A service notice (RGPD art. 6.1.e: the report they made or follow, no consent needed) to each person, and
    the reporter's position."""
    svc = service.catalogue().find(incident.service_code)
    expected = incident.expected_at.astimezone(MADRID).strftime("%d/%m/%Y") if incident.expected_at else ""
    for person in people:
        notice = NotificationRequested(
            template=TEMPLATE, recipient=Recipient(citizen_id=person), reference=f"{incident.id}:{incident.version}",
            personalisation={"reference": incident.id, "service_es": svc.name["es"], "service_en": svc.name["en"],
                             "stage_es": STAGE_WORDS[incident.stage][0], "stage_en": STAGE_WORDS[incident.stage][1],
                             "notes": incident.status_notes or "-", "expected": expected or "-",
                             "url": f"{ports.api_url}/app/avisos/{incident.id}"},
        )  # fmt: skip
        stage_event(uow, notice, subject=person, traceparent=traceparent, now=now, producer=PRODUCER)
    position = _position(incident)
    if position is not None:
        stage_event(uow, position, subject=incident.citizen_id, traceparent=traceparent, now=now, producer=PRODUCER)


def _updated(uow: UnitOfWork, before: Incident, after: Incident, change: str, ports: IncidentPorts,
             traceparent: str | None, *, tell: bool) -> Staged[Incident]:  # fmt: skip
    now = after.updated_at
    ports.store.stage_incident(uow, after, before.revision)
    event = IncidentUpdated(
        incident_id=after.id, service_code=after.service_code, stage=after.stage, status=after.status,
        status_notes=after.status_notes, reiterations=after.reiterations, expected_at=after.expected_at,
        citizen_id=after.citizen_id, change=change, version=after.version, updated_at=now,  # type: ignore[arg-type]
    )  # fmt: skip
    _emit(uow, event, after, traceparent, now)
    if tell:
        people = [p for p in [after.citizen_id, *sorted(after.followers)] if p]
        _tell(uow, after, people, ports, traceparent, now)
    elif after.citizen_id and change == "me-too":
        position = _position(after)
        assert position is not None
        stage_event(uow, position, subject=after.citizen_id, traceparent=traceparent, now=now, producer=PRODUCER)
    return Staged(uow, after)


def add_photo(incident_id: str, photo: Photo, ports: IncidentPorts, traceparent: str | None) -> Staged[Incident]:
    """A photo more (at most five), while the report is open; the reporter only (the route's policy)."""
    before = find(incident_id, ports)
    after = service.with_photo(before, ports.clock.now())
    uow = UnitOfWork()
    ports.store.stage_photo(uow, after.id, after.photos, photo)
    return _updated(uow, before, after, "photo", ports, traceparent, tell=False)


def me_too(incident_id: str, citizen_id: str, ports: IncidentPorts, traceparent: str | None) -> Staged[Incident]:
    """A "me too" instead of a new report: one more reiteration, and the person follows the report."""
    before = find(incident_id, ports)
    after = service.reiterated(before, citizen_id, ports.clock.now())
    uow = UnitOfWork()
    ports.store.stage_follower(uow, after.id, citizen_id)
    return _updated(uow, before, after, "me-too", ports, traceparent, tell=False)


def reopen(incident_id: str, note: str, ports: IncidentPorts, traceparent: str | None) -> Staged[Incident]:
    """The reporter says it is not fixed: open again (its area sees it in the same queue)."""
    before = find(incident_id, ports)
    after = service.reopened(before, note, ports.clock.now())
    return _updated(UnitOfWork(), before, after, "reopened", ports, traceparent, tell=True)


@dataclass(frozen=True)
class StageCmd:
    incident_id: str
    stage: Stage
    note: str
    by: str
    expected_at: datetime | None = None
    duplicate_of: str | None = None


def set_stage(cmd: StageCmd, ports: IncidentPorts, traceparent: str | None) -> Staged[Incident]:
    """An agent of the area moves the report on; its people are told, its public status changes."""
    before = find(cmd.incident_id, ports)
    if cmd.duplicate_of is not None:
        find(cmd.duplicate_of, ports)
    after = service.staged(before, cmd.stage, cmd.note, cmd.by, ports.clock.now(), cmd.expected_at, cmd.duplicate_of)
    return _updated(UnitOfWork(), before, after, "stage", ports, traceparent, tell=True)


# ---- questions -----------------------------------------------------------------------------------------------


def suggest(service_code: str, lat: float, lon: float, ports: IncidentPorts) -> list[tuple[Incident, float]]:
    """Open reports of the same service near the point, before a new one is sent (nearest first)."""
    svc = service.catalogue().find(service_code)
    radius = min(svc.duplicate_radius_m, service.MAX_RADIUS_M)
    cells = service.cells_near(lat, lon, radius)
    return service.suggestions(ports.store.fetch_near(svc.code, cells), svc, lat, lon, radius)


@dataclass(frozen=True)
class RequestsQuery:
    """GeoReport v2 'GET Service Requests' arguments, parsed."""

    ids: list[str]
    service_codes: list[str]
    start: datetime | None
    end: datetime | None
    statuses: list[str]


def requests(query: RequestsQuery, ports: IncidentPorts) -> list[Incident]:
    """The spec's search: ids override everything; else a span of at most 90 days (the last 90 by default),
    filtered by service codes and statuses, newest first, at most 1000."""
    if query.ids:
        return ports.store.fetch_incidents([i for i in query.ids if service.ID_RE.match(i)][:MAX_REQUESTS])
    end = query.end or ((query.start + DEFAULT_SPAN) if query.start else ports.clock.now())
    start = query.start or end - DEFAULT_SPAN
    if end < start:
        raise service.IncidentInvalidError("end_date is before start_date",
                                           errors=[{"field": "end_date", "message": "before start_date"}])  # fmt: skip
    if end - start > DEFAULT_SPAN:
        raise service.IncidentInvalidError(
            "start_date and end_date may not span more than 90 days",
            errors=[{"field": "start_date", "message": "span over 90 days"}],
        )
    for code in query.service_codes:
        service.catalogue().find(code)
    wanted = set(query.service_codes)
    statuses = set(query.statuses)
    found = ports.store.fetch_between(start, end, MAX_REQUESTS if not (wanted or statuses) else 20 * MAX_REQUESTS)
    kept = [i for i in found if (not wanted or i.service_code in wanted) and (not statuses or i.status in statuses)]
    return kept[:MAX_REQUESTS]


def token(token_id: str, ports: IncidentPorts) -> str:
    found = ports.store.fetch_token(token_id) if len(token_id) <= 64 else None
    if found is None:
        raise service.IncidentNotFoundError(f"no token {token_id[:64]!r}")
    return found


def photo(incident_id: str, n: int, ports: IncidentPorts) -> Photo:
    found = ports.store.fetch_photo(service.check_id(incident_id), n)
    if found is None:
        raise service.IncidentNotFoundError(f"no photo {n} of {incident_id!r}")
    return found


def of_citizen(citizen_id: str, ports: IncidentPorts) -> list[Incident]:
    return sorted(ports.store.fetch_of_citizen(citizen_id), key=lambda i: i.requested_at, reverse=True)


def register_client(name: str, api_key: str, ports: IncidentPorts) -> UnitOfWork:
    """An Open311 client's key, stored hashed (``python -m functions.incident.keys``)."""
    uow = UnitOfWork()
    ports.store.stage_client(uow, key_hash(api_key), name)
    return uow


# ---- data-subject requests ------------------------------------------------------------------------------------


def answer_rights(data: RgpdRequestOpened, ports: IncidentPorts, traceparent: str | None) -> UnitOfWork:
    """This domain's answer to a data-subject request (``rights.answer``), its erasures in the same unit."""
    found = rights.answer(data, ports.store, ports.policy, ports.clock.now())
    return found.unit(
        traceparent,
        lambda uow, plan: plan.stage(uow, lambda u, item: ports.store.stage_erase(u, item, data.citizen_id)),
    )
