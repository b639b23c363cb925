"""Events near me (GEO): the rules. A person's zones, what "near" means, the filters, the iCalendar export.

- **Zones** (``Zones``): home comes from the Padrón (the barrio ``citizen.updated`` carries; its centroid), work
  and leisure are places the citizen chooses (a barrio, or a point in Madrid). Storing chosen places needs the
  citizen's consent for purpose ``location`` (RGPD art. 6.1.a; ``policies/consent/data.json``); withdrawing it
  erases them. Only with that consent are zones shared with the platform (``zones.changed``, which REC reads).
- **Near**: the H3 cells covering a circle (``functions.core.madrid_geo``) are the store keys; what they hold is
  then filtered by exact distance, the dates, the category, the audience and free.
- **iCalendar** (RFC 5545): one VEVENT per event, its first start in the window as DTSTART (TZID Europe/Madrid)
  and the later ones as RDATE; the personal agenda is a VCALENDAR of the events a person saved.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol

import icalendar

from functions.agenda.ingest import MADRID, AgendaEvent
from functions.core import madrid_geo
from functions.core.errors import ConflictError, NotFoundError, PicError, ValidationError

if TYPE_CHECKING:
    from functions.core.store import UnitOfWork

ZoneKind = Literal["home", "work", "leisure"]
DEFAULT_RADIUS_M = 1500
MAX_RADIUS_M = 5000
MAX_DAYS = 100  # the agenda publishes the next 100 days
MAX_RESULTS = 100
PRODID = "-//Ayuntamiento de Madrid//PIC agenda//ES"
UID_DOMAIN = "agenda.pic.madrid.es"


class AgendaEventNotFoundError(NotFoundError):
    slug, title = "agenda-event-not-found", "No such event in the agenda"


class AgendaFileError(ValidationError):
    slug, title = "agenda-file-unreadable", "The agenda file cannot be read"


class ZoneOutsideMadridError(ValidationError):
    slug, title = "zone-outside-madrid", "The place is not in the municipality of Madrid"


class LocationConsentRequiredError(PicError):
    status, slug, title = 409, "location-consent-required", "Choosing places needs your consent for location"


class ZonesChangedError(ConflictError):
    slug, title = "zones-changed", "The zones changed since they were read"


class AgendaQueryError(ValidationError):
    slug, title = "agenda-query-invalid", "The search is not valid"


@dataclass(frozen=True)
class Zone:
    """A place a person cares about, with the circle "near" means there."""

    kind: ZoneKind
    label: str
    lat: float
    lon: float
    radius_m: int
    district: str | None
    barrio: str | None

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "label": self.label, "lat": self.lat, "lon": self.lon, "radius_m": self.radius_m,
                "district": self.district, "barrio": self.barrio}  # fmt: skip


@dataclass(frozen=True)
class Zones:
    """A citizen's zones as stored: ``home_barrio`` from the Padrón, the chosen ones, the location consent,
    and what was last shared (``shared``: the zones.changed last emitted) so a change is announced once."""

    citizen_id: str
    home_barrio: str | None = None
    home_radius_m: int = DEFAULT_RADIUS_M
    chosen: tuple[Zone, ...] = ()
    location_consent: bool = False
    shared: tuple[Zone, ...] = ()
    revision: int = 0

    @property
    def home(self) -> Zone | None:
        return home_zone(self.home_barrio, self.home_radius_m) if self.home_barrio else None

    @property
    def all(self) -> tuple[Zone, ...]:
        return ((self.home,) if self.home else ()) + self.chosen

    @property
    def to_share(self) -> tuple[Zone, ...]:
        """The zones the citizen lets the platform use for location: all of them with consent, none without."""
        return self.all if self.location_consent else ()


def home_zone(barrio_code: str, radius_m: int = DEFAULT_RADIUS_M) -> Zone | None:
    try:
        found = madrid_geo.barrio(barrio_code)
    except madrid_geo.UnknownAreaError:
        return None
    return Zone("home", found.name, found.centroid_lat, found.centroid_lon, radius_m, found.district_code, found.code)


def chosen_zone(kind: ZoneKind, label: str | None, barrio: str | None, lat: float | None, lon: float | None,
                radius_m: int) -> Zone:  # fmt: skip
    """A work or leisure zone from a barrio code (its centroid) or a point, which must be in Madrid."""
    if barrio:
        try:
            found = madrid_geo.barrio(barrio)
        except madrid_geo.UnknownAreaError:
            raise ZoneOutsideMadridError(f"{barrio!r} is not one of Madrid's 131 barrio codes") from None
        return Zone(kind, label or found.name, found.centroid_lat, found.centroid_lon, radius_m, found.district_code,
                    found.code)  # fmt: skip
    if lat is None or lon is None:
        raise AgendaQueryError(f"a {kind} zone needs a barrio, or lat and lon")
    place = madrid_geo.locate(lat, lon)
    if place is None:
        raise ZoneOutsideMadridError(f"{lat:.5f},{lon:.5f} is outside the municipality of Madrid")
    return Zone(kind, label or place.barrio_name, round(lat, 6), round(lon, 6), radius_m, place.district_code,
                place.barrio_code)  # fmt: skip


@dataclass(frozen=True)
class Filters:
    """What a person narrows "near me" by: local dates (inclusive), category, audience, free only."""

    first: date
    last: date
    category: str | None = None
    audience: str | None = None
    free: bool | None = None

    def window(self) -> tuple[datetime, datetime]:
        return (datetime.combine(self.first, time(0, 0), tzinfo=MADRID),
                datetime.combine(self.last + timedelta(days=1), time(0, 0), tzinfo=MADRID))  # fmt: skip


def filters(today: date, first: date | None, last: date | None, category: str | None = None,
            audience: str | None = None, free: bool | None = None, days: int = 30) -> Filters:  # fmt: skip
    first = first or today
    last = last or first + timedelta(days=days)
    if last < first:
        raise AgendaQueryError("to is before from")
    if (last - first).days > MAX_DAYS:
        raise AgendaQueryError(f"at most {MAX_DAYS} days at once (the agenda publishes the next {MAX_DAYS})")
    return Filters(first, last, category, audience, free)


def next_starts(event: AgendaEvent, since: datetime, until: datetime | None = None, most: int = 10) -> list[datetime]:
    found = [s for s in event.starts if s >= since and (until is None or s < until)]
    return found[:most]


@dataclass(frozen=True)
class Found:
    """An event near a place: how far, and its next start in the window."""

    event: AgendaEvent
    distance_m: int
    next_start: datetime


def near(events: list[AgendaEvent], lat: float, lon: float, radius_m: int, f: Filters) -> list[Found]:
    """The events within ``radius_m`` (exact distance) matching the filters, soonest first, then nearest.

    Cheapest tests first (the filters, the distance), then the first start in the window by bisection (an event's
    starts are in order)."""
    start, end = f.window()
    found: list[Found] = []
    for event in events:
        if event.lat is None or event.lon is None:
            continue
        if (f.category is not None and event.category != f.category) or (
            f.audience is not None and f.audience not in event.audience
        ):
            continue
        if f.free is not None and event.free != f.free:
            continue
        distance = madrid_geo.distance_m(lat, lon, event.lat, event.lon)
        if distance > radius_m:
            continue
        at = bisect_left(event.starts, start)
        if at < len(event.starts) and event.starts[at] < end:
            found.append(Found(event, round(distance), event.starts[at]))
    found.sort(key=lambda x: (x.next_start, x.distance_m, x.event.id))
    return found[:MAX_RESULTS]


def summary(event: AgendaEvent, now: datetime) -> dict[str, Any]:
    """What a list shows of an event (no description)."""
    return {"id": event.id, "title": event.title, "category": event.category, "audience": list(event.audience),
            "free": event.free, "price": event.price, "venue": event.venue, "district": event.district,
            "barrio": event.barrio, "lat": event.lat, "lon": event.lon, "all_day": event.all_day,
            "next_dates": [s.isoformat() for s in next_starts(event, now)]}  # fmt: skip


def detail(event: AgendaEvent, now: datetime) -> dict[str, Any]:
    return {**summary(event, now), "description": event.description, "address": event.address, "link": event.link,
            "organization": event.organization, "minutes": event.minutes,
            "place": _place_names(event)}  # fmt: skip


def _place_names(event: AgendaEvent) -> dict[str, str | None]:
    district = madrid_geo.district(event.district).name if event.district else None
    barrio = madrid_geo.barrio(event.barrio).name if event.barrio else None
    return {"district": district, "barrio": barrio}


# ---- iCalendar (RFC 5545) -----------------------------------------------------------------------------------------


def _vevent(event: AgendaEvent, now: datetime, starts: list[datetime]) -> icalendar.Event:
    # in Madrid's zone, not the fixed offset a stored instant reads back with: a calendar then says
    # TZID=Europe/Madrid (with its VTIMEZONE) and moves the time correctly across the summer-time change
    starts = [s.astimezone(MADRID) for s in starts]
    vevent = icalendar.Event()
    vevent.add("uid", f"{event.id}@{UID_DOMAIN}")
    vevent.add("dtstamp", now)
    vevent.add("summary", event.title)
    if event.description:
        vevent.add("description", event.description)
    where = ", ".join(x for x in (event.venue, event.address) if x)
    if where:
        vevent.add("location", where)
    if event.lat is not None and event.lon is not None:
        vevent.add("geo", (event.lat, event.lon))
    if event.link:
        vevent.add("url", event.link)
    vevent.add("categories", [event.category])
    if event.all_day:
        vevent.add("dtstart", starts[0].date())
        if len(starts) > 1:
            vevent.add("rdate", [s.date() for s in starts[1:]])
    else:
        vevent.add("dtstart", starts[0])
        vevent.add("duration", timedelta(minutes=event.minutes or 120))
        if len(starts) > 1:
            vevent.add("rdate", starts[1:])
    return vevent


def calendar(events: list[AgendaEvent], now: datetime, name: str) -> bytes:
    """A VCALENDAR with one VEVENT per event that still has a start from now on (others are left out)."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    for event in events:
        starts = next_starts(event, now, most=MAX_DAYS * 2)
        if starts:
            cal.add_component(_vevent(event, now, starts))
    cal.add_missing_timezones()
    return bytes(cal.to_ical())


# ---- the port -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """An event as stored: the event and the hash of what a person sees of it (unchanged: nothing written)."""

    event: AgendaEvent
    content_hash: str
    withdrawn: bool = False


@dataclass
class IngestReport:
    """What one agenda file did: loaded (new or changed), unchanged, refused (with reasons), remarks."""

    ingest_id: str
    source: str
    format: str
    records: int = 0
    loaded: list[str] = field(default_factory=list)
    unchanged: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    finished_at: datetime | None = None
    replayed: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"ingest_id": self.ingest_id, "source": self.source, "format": self.format, "records": self.records,
                "loaded": len(self.loaded), "loaded_ids": self.loaded[:500], "unchanged": self.unchanged,
                "rejected": self.rejected, "warnings": self.warnings,
                "finished_at": self.finished_at.isoformat() if self.finished_at else None,
                "replayed": self.replayed}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IngestReport:
        return cls(data["ingest_id"], data["source"], data["format"], data["records"], list(data["loaded_ids"]),
                   data["unchanged"], data["rejected"], data["warnings"],
                   datetime.fromisoformat(data["finished_at"]) if data.get("finished_at") else None)  # fmt: skip


class AgendaStore(Protocol):
    def fetch_event(self, event_id: str) -> Stored | None: ...
    def fetch_events(self, event_ids: set[str]) -> list[Stored]: ...
    def fetch_cells(self, cells: list[str]) -> set[str]: ...
    def fetch_upcoming(self, limit: int) -> list[Stored]: ...
    def fetch_ingest(self, ingest_id: str) -> IngestReport | None: ...
    def fetch_zones(self, citizen_id: str) -> Zones: ...
    def fetch_saved(self, citizen_id: str) -> set[str]: ...
    def stage_event(self, uow: UnitOfWork, stored: Stored, previous: Stored | None) -> None: ...
    def stage_ingest(self, uow: UnitOfWork, report: IngestReport) -> None: ...
    def stage_zones(self, uow: UnitOfWork, zones: Zones) -> None: ...
    def stage_saved(self, uow: UnitOfWork, citizen_id: str, event_id: str, saved: bool) -> None: ...
    def stage_erase_person(self, uow: UnitOfWork, citizen_id: str) -> None: ...


def with_consent(zones: Zones, granted: bool) -> Zones:
    """The location consent changed: withdrawn, the chosen places go (RGPD art. 7.3: as easy to withdraw)."""
    return replace(zones, location_consent=granted, chosen=zones.chosen if granted else ())
