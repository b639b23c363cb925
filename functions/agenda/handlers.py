"""The agenda's use cases: one function per command, question or event, over the domain's ports.

An agenda file is ingested one event per unit of work (an event, its cell key and its ``agenda.event.published``
commit together; ``job.run`` commits them and then the file's report). An event whose content hash is unchanged
writes nothing, and a file whose hash has a report is not read again: re-ingesting the same file changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime

from events.agenda import AgendaEventPublished, ZonesChanged
from events.agenda import Zone as ZoneData
from events.citizen import CitizenUpdated
from events.consent import ConsentChanged
from events.rgpd import RgpdRequestOpened
from functions.agenda import rights, service
from functions.agenda.ingest import AgendaEvent, Format, parse
from functions.agenda.service import (
    AgendaEventNotFoundError,
    AgendaStore,
    Filters,
    IngestReport,
    Stored,
    Zone,
    Zones,
    ZonesChangedError,
)
from functions.core import madrid_geo
from functions.core.clock import Clock
from functions.core.outbox import stage_event
from functions.core.policy import Policy
from functions.core.store import Staged, UnitOfWork

LOCATION_PURPOSE = "location"  # policies/consent/data.json: "Ubicación", RGPD art. 6.1.a


@dataclass(frozen=True)
class AgendaPorts:
    store: AgendaStore
    policy: Policy
    clock: Clock


# ---- ingest -------------------------------------------------------------------------------------------------------


def ingest_id(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:32]


def published(stored: Stored, now: datetime) -> AgendaEventPublished:
    event = stored.event
    return AgendaEventPublished(
        event_id=event.id, title=event.title, category=event.category, audience=list(event.audience),
        free=event.free, district=event.district, barrio=event.barrio, lat=event.lat, lon=event.lon,
        next_dates=service.next_starts(event, now), withdrawn=stored.withdrawn,
    )  # fmt: skip


def load_event(event: AgendaEvent, ports: AgendaPorts, traceparent: str | None) -> Staged[bool]:
    """One event of a file: written (and announced) when new or changed; ``False`` and nothing when unchanged."""
    previous = ports.store.fetch_event(event.id)
    stored = Stored(event, event.content_hash())
    uow = UnitOfWork()
    if previous is not None and previous.content_hash == stored.content_hash and not previous.withdrawn:
        return Staged(uow, False)
    now = ports.clock.now()
    ports.store.stage_event(uow, stored, previous)
    stage_event(uow, published(stored, now), subject=event.id, traceparent=traceparent, now=now)
    return Staged(uow, True)


def read_file(content: bytes, fmt: Format, source: str) -> tuple[IngestReport, list[AgendaEvent]]:
    """The file's report so far (records, refusals, remarks) and its events to load; AgendaFileError if unreadable."""
    from functions.agenda.ingest import FileError

    try:
        parsed = parse(content, fmt)
    except FileError as why:
        raise service.AgendaFileError(str(why)) from None
    report = IngestReport(ingest_id(content), source[:120], fmt, parsed.records, rejected=parsed.rejected,
                          warnings=parsed.warnings)  # fmt: skip
    return report, parsed.events


def finish_ingest(report: IngestReport, ports: AgendaPorts) -> Staged[IngestReport]:
    report.finished_at = ports.clock.now()
    uow = UnitOfWork()
    ports.store.stage_ingest(uow, report)
    return Staged(uow, report)


def withdraw(event_id: str, ports: AgendaPorts, traceparent: str | None) -> Staged[Stored]:
    """The council cancelled an event: kept (saved agendas still name it) but withdrawn, and announced."""
    previous = ports.store.fetch_event(event_id)
    if previous is None:
        raise AgendaEventNotFoundError(f"no event {event_id} in the agenda")
    stored = replace(previous, withdrawn=True)
    uow = UnitOfWork()
    if not previous.withdrawn:
        now = ports.clock.now()
        ports.store.stage_event(uow, stored, previous)
        stage_event(uow, published(stored, now), subject=event_id, traceparent=traceparent, now=now)
    return Staged(uow, stored)


# ---- questions ----------------------------------------------------------------------------------------------------


def find(event_id: str, ports: AgendaPorts) -> AgendaEvent:
    stored = ports.store.fetch_event(event_id)
    if stored is None or stored.withdrawn:
        raise AgendaEventNotFoundError(f"no event {event_id} in the agenda")
    return stored.event


def _around(places: list[Zone], ports: AgendaPorts) -> list[AgendaEvent]:
    """The events stored under the H3 cells covering every place's circle: one read of the keys, one of the events."""
    cells = list(dict.fromkeys(c for p in places for c in madrid_geo.cells(p.lat, p.lon, p.radius_m)))
    ids = ports.store.fetch_cells(cells)
    return [s.event for s in ports.store.fetch_events(ids) if not s.withdrawn] if ids else []


def near_point(lat: float, lon: float, radius_m: int, f: Filters, ports: AgendaPorts) -> list[service.Found]:
    if madrid_geo.locate(lat, lon) is None:
        raise service.ZoneOutsideMadridError(f"{lat:.5f},{lon:.5f} is outside the municipality of Madrid")
    place = Zone("home", "", lat, lon, radius_m, None, None)
    return service.near(_around([place], ports), lat, lon, radius_m, f)


def near_zones(citizen_id: str, f: Filters, ports: AgendaPorts) -> list[tuple[Zone, list[service.Found]]]:
    """The events near each of the person's zones (home, work, leisure), grouped by zone."""
    zones = ports.store.fetch_zones(citizen_id).all
    events = _around(list(zones), ports)
    return [(z, service.near(events, z.lat, z.lon, z.radius_m, f)) for z in zones]


def saved_events(citizen_id: str, ports: AgendaPorts) -> list[Stored]:
    ids = ports.store.fetch_saved(citizen_id)
    return sorted(ports.store.fetch_events(ids), key=lambda s: s.event.starts[0]) if ids else []


# ---- the person's zones and saved events ----------------------------------------------------------------------------


def _share(uow: UnitOfWork, zones: Zones, now: datetime, traceparent: str | None) -> Zones:
    """Announce the zones the citizen lets the platform use (``zones.changed``) when they differ from the last."""
    if zones.to_share == zones.shared:
        return zones
    data = ZonesChanged(citizen_id=zones.citizen_id, changed_at=now, zones=[ZoneData(**z.as_json())
                        for z in zones.to_share])  # fmt: skip
    stage_event(uow, data, subject=zones.citizen_id, traceparent=traceparent, now=now)
    return replace(zones, shared=zones.to_share)


def set_zones(citizen_id: str, chosen: list[Zone], home_radius_m: int | None, revision: int, ports: AgendaPorts,
              traceparent: str | None) -> Staged[Zones]:  # fmt: skip
    """The citizen's work and leisure places (all of them, replacing the earlier ones): only with the consent."""
    zones = ports.store.fetch_zones(citizen_id)
    if zones.revision != revision:
        raise ZonesChangedError(f"the zones are at revision {zones.revision}, not {revision}: read them again")
    if chosen and not zones.location_consent:
        raise service.LocationConsentRequiredError(
            "give your consent for purpose 'location' (PUT /v1/citizens/{id}/consents/location) to choose places"
        )
    uow = UnitOfWork()
    changed = replace(zones, chosen=tuple(chosen), home_radius_m=home_radius_m or zones.home_radius_m,
                      revision=zones.revision + 1)  # fmt: skip
    changed = _share(uow, changed, ports.clock.now(), traceparent)
    ports.store.stage_zones(uow, changed)
    return Staged(uow, changed)


def save(citizen_id: str, event_id: str, saved: bool, ports: AgendaPorts) -> Staged[bool]:
    if saved:
        find(event_id, ports)
    uow = UnitOfWork()
    ports.store.stage_saved(uow, citizen_id, event_id, saved)
    return Staged(uow, saved)


# ---- events in ----------------------------------------------------------------------------------------------------


def project_citizen(data: CitizenUpdated, ports: AgendaPorts, traceparent: str | None) -> UnitOfWork:
    """The Padrón's barrio is the person's home zone (a person without one in Madrid has none)."""
    uow = UnitOfWork()
    if data.profile is None:
        return uow
    barrio = data.profile.barrio if data.profile.barrio and service.home_zone(data.profile.barrio) else None
    zones = ports.store.fetch_zones(data.citizen_id)
    if barrio == zones.home_barrio:
        return uow
    changed = _share(uow, replace(zones, home_barrio=barrio, revision=zones.revision + 1), data.updated_at,
                     traceparent)  # fmt: skip
    ports.store.stage_zones(uow, changed)
    return uow


def project_consent(data: ConsentChanged, ports: AgendaPorts, traceparent: str | None) -> UnitOfWork:
    """The location consent: given, the zones are shared; withdrawn, the chosen places are erased and none shared."""
    uow = UnitOfWork()
    if data.purpose != LOCATION_PURPOSE:
        return uow
    zones = ports.store.fetch_zones(data.citizen_id)
    if zones.location_consent == data.after.granted and zones.revision:
        return uow
    changed = service.with_consent(replace(zones, revision=zones.revision + 1), data.after.granted)
    changed = _share(uow, changed, data.changed_at, traceparent)
    ports.store.stage_zones(uow, changed)
    return uow


def answer_rights(data: RgpdRequestOpened, ports: AgendaPorts, traceparent: str | None) -> UnitOfWork:
    result = rights.answer(data, ports.store, ports.policy, ports.clock.now())
    return result.unit(
        traceparent, lambda uow, plan: plan.stage(uow, lambda u, erased: rights.stage_erasure(u, erased, ports.store))
    )
