"""Incidents on the public way (Avisos Madrid), pure rules: the service catalogue as data, a report checked and
placed (in the city, a known service, its attributes), Madrid's stages and the Open311 status they give, a "me too",
a reopening, the grid cells the duplicate suggestions read, and the store's port.

The API this domain speaks to third parties is Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2/,
rendered by ``open311.py``); Madrid's extensions (typology, the detailed stage, reiterations, the estimated
resolution date) are kept beside the spec's fields, never instead of them.

Duplicates: every *open* report is indexed under ``<service_code>#<cell>`` where the cell is a square of the grid
``CELL_DEG_LAT`` × ``CELL_DEG_LON`` (about 220 m × 210 m in Madrid); a suggestion for a point and a radius (at most
``MAX_RADIUS_M``, under half a cell) reads the at most four cells the circle touches and filters by exact distance.
"""

from __future__ import annotations

import json
import math
import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from events.incident import INCIDENT_ID_PATTERN, Stage
from functions.core.errors import ConflictError, ForbiddenError, NotFoundError, PicError, ValidationError

if TYPE_CHECKING:  # the port names the kernel's unit of work; this module stays free of its adapters
    from functions.core.store import UnitOfWork

DATA = Path(__file__).with_name("data") / "services.json"
Language = Literal["es", "en"]
Channel = Literal["app", "open311"]
OPEN_STAGES: frozenset[str] = frozenset({"received", "assigned", "in-progress", "reopened"})
# Madrid's stages an agent may move a report to from each (a resolved one is reopened by its citizen, not here)
TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"assigned", "in-progress", "resolved", "rejected", "duplicate"}),
    "assigned": frozenset({"in-progress", "resolved", "rejected", "duplicate"}),
    "in-progress": frozenset({"resolved", "rejected", "duplicate"}),
    "reopened": frozenset({"assigned", "in-progress", "resolved", "rejected"}),
    "resolved": frozenset(),
    "rejected": frozenset(),
    "duplicate": frozenset(),
}
REOPEN_DAYS = 30  # FixMyStreet's ask: a citizen says "not fixed" within a month of the resolution
MAX_PHOTOS = 5
MAX_FOLLOWERS = 500  # "me too" citizens notified of changes; reiterations keep counting beyond
MAX_RADIUS_M = 100
CELL_DEG_LAT = 0.002  # ≈ 222 m
CELL_DEG_LON = 0.0025  # ≈ 212 m at Madrid's latitude (40.4° N)
EARTH_RADIUS_M = 6_371_008.8
MAX_DESCRIPTION = 4000  # GeoReport v2: "free form text limited to 4,000 characters"
ID_RE = re.compile(INCIDENT_ID_PATTERN)


# ---- the domain's problems ---------------------------------------------------------------------------------


class IncidentNotFoundError(NotFoundError):
    status, slug, title = 404, "incident-not-found", "No such incident report"


class UnknownServiceError(NotFoundError):
    status, slug, title = 404, "incident-service-unknown", "No such service in the catalogue"


class OutsideCityError(ValidationError):
    status, slug, title = 422, "incident-outside-city", "The point is outside the municipality of Madrid"


class IncidentInvalidError(ValidationError):
    status, slug, title = 422, "incident-invalid", "The report is not valid"


class ApiKeyError(ForbiddenError):
    status, slug, title = 403, "incident-api-key", "A registered api_key is required to post a report"


class IncidentStateError(ConflictError):
    status, slug, title = 409, "incident-state", "The report's stage does not allow this"


class AlreadyReiteratedError(ConflictError):
    status, slug, title = 409, "incident-already-reiterated", "You already follow this report"


class PhotoInvalidError(PicError):
    status, slug, title = 422, "incident-photo-invalid", "The photo is not an accepted image"


class PhotoTooLargeError(PicError):
    status, slug, title = 413, "incident-photo-too-large", "The photo is too large"


# ---- the catalogue -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    key: str
    name: dict[str, str]


@dataclass(frozen=True)
class Attribute:
    """One of a service's extra fields (GeoReport v2 'GET Service Definition')."""

    code: str
    datatype: str  # string, number, datetime, text, singlevaluelist, multivaluelist
    required: bool
    order: int
    description: dict[str, str]
    values: tuple[Value, ...] = ()

    def check(self, given: str | list[str] | None) -> str | list[str] | None:
        """The answer as kept, or ``IncidentInvalidError`` naming the attribute."""
        if given in (None, "", []):
            if self.required:
                raise _invalid(f"attribute[{self.code}]", "required")
            return None
        keys = {v.key for v in self.values}
        if self.datatype == "multivaluelist":
            chosen = given if isinstance(given, list) else [given]
            if not all(isinstance(c, str) and c in keys for c in chosen):
                raise _invalid(f"attribute[{self.code}]", f"each one of {sorted(keys)}")
            return sorted(set(chosen))
        text = given[0] if isinstance(given, list) and len(given) == 1 else given
        if not isinstance(text, str) or len(text) > 500:
            raise _invalid(f"attribute[{self.code}]", "one value of at most 500 characters")
        if self.datatype == "singlevaluelist" and text not in keys:
            raise _invalid(f"attribute[{self.code}]", f"one of {sorted(keys)}")
        if self.datatype == "number" and not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
            raise _invalid(f"attribute[{self.code}]", "a number")
        return text


@dataclass(frozen=True)
class Service:
    """A type of report, its area and its targets (functions/incident/data/services.json)."""

    code: str
    group: str
    name: dict[str, str]
    description: dict[str, str]
    keywords: str
    type: Literal["realtime", "batch", "blackbox"]
    area: str
    category: str
    agency_responsible: str
    service_notice: dict[str, str]
    expected_days: int
    duplicate_radius_m: int
    attributes: tuple[Attribute, ...]

    @property
    def metadata(self) -> bool:
        return bool(self.attributes)


@dataclass(frozen=True)
class Catalogue:
    jurisdiction_id: str
    services: tuple[Service, ...]

    def find(self, code: str) -> Service:
        for service in self.services:
            if service.code == code:
                return service
        raise UnknownServiceError(f"service_code {code[:64]!r} is not in the catalogue")


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    services = tuple(
        Service(
            code=s["service_code"], group=s["group"], name=s["name"], description=s["description"],
            keywords=s["keywords"], type=s["type"], area=s["area"], category=s["category"],
            agency_responsible=s["agency_responsible"], service_notice=s["service_notice"],
            expected_days=int(s["expected_days"]), duplicate_radius_m=int(s["duplicate_radius_m"]),
            attributes=tuple(
                Attribute(a["code"], a["datatype"], bool(a["required"]), int(a["order"]), a["description"],
                          tuple(Value(v["key"], v["name"]) for v in a.get("values", [])))
                for a in s["attributes"]
            ),
        )
        for s in data["services"]
    )  # fmt: skip
    return Catalogue(data["jurisdiction_id"], services)


# ---- places ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """Where a point lies (``functions.core.madrid_geo.Place``'s fields)."""

    district_code: str
    district_name: str
    barrio_code: str
    barrio_name: str


class Locator(Protocol):
    """The in-city check: the district and barrio of a point, or None outside the municipality."""

    def locate(self, lat: float, lon: float) -> Place | None: ...


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in metres: exact enough for tens of metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def cell_of(lat: float, lon: float) -> str:
    return f"{math.floor(lat / CELL_DEG_LAT)}:{math.floor(lon / CELL_DEG_LON)}"


def cells_near(lat: float, lon: float, radius_m: float) -> list[str]:
    """The grid cells a circle of ``radius_m`` around the point touches (at most four: the radius is under half a
    cell), sorted: the keys a duplicate suggestion reads."""
    dlat = radius_m / 111_320
    dlon = radius_m / (111_320 * math.cos(math.radians(lat)))
    return sorted({cell_of(la, lo) for la in (lat - dlat, lat + dlat) for lo in (lon - dlon, lon + dlon)})


# ---- the report ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Photo:
    """A photo as kept: re-encoded, EXIF location removed unless the citizen allowed it."""

    content_type: str
    data: bytes
    width: int
    height: int
    located: bool  # whether its EXIF GPS was kept (the citizen allowed it)


@dataclass(frozen=True)
class StageChange:
    stage: Stage
    at: datetime
    note: str
    by: str  # "citizen", "agent:<id>", "system"


@dataclass(frozen=True)
class Incident:
    id: str
    service_code: str
    lat: float
    lon: float
    address: str
    description: str
    attributes: dict[str, Any]
    place: Place | None
    channel: Channel
    citizen_id: str | None  # the reporter, a signed-in citizen; None for a third-party client's report
    client: str | None  # the Open311 client (api key's name) that posted it
    contact: dict[str, str]  # what an Open311 client gave (email, name, phone): never shown on the API
    requested_at: datetime
    updated_at: datetime
    expected_at: datetime | None
    stage: Stage = "received"
    status_notes: str = ""
    history: tuple[StageChange, ...] = ()
    reiterations: int = 0
    followers: frozenset[str] = frozenset()
    photos: int = 0
    media_url: str | None = None  # an Open311 client's own media URL
    token: str | None = None  # a batch service's token (GeoReport v2 'GET service_request_id from a token')
    resolved_at: datetime | None = None
    duplicate_of: str | None = None
    revision: int = 0
    version: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> Literal["open", "closed"]:
        return "open" if self.stage in OPEN_STAGES else "closed"

    @property
    def is_open(self) -> bool:
        return self.status == "open"


def new_id(now: datetime) -> str:
    return f"AV-{now.year}-{secrets.token_hex(4).upper()}"


def check_id(incident_id: str) -> str:
    if not ID_RE.match(incident_id):
        raise IncidentNotFoundError(f"{incident_id[:64]!r} is not a report's id (AV-yyyy-XXXXXXXX)")
    return incident_id


def _invalid(name: str, message: str) -> IncidentInvalidError:
    return IncidentInvalidError(f"{name}: {message}", errors=[{"field": name, "message": message}])


@dataclass(frozen=True)
class Report:
    """What a reporter sends (the Open311 POST's fields, or the app's JSON)."""

    service_code: str
    lat: float | None
    lon: float | None
    address: str = ""
    description: str = ""
    attributes: dict[str, str | list[str]] = field(default_factory=dict)
    media_url: str | None = None
    contact: dict[str, str] = field(default_factory=dict)


def checked(report: Report, locator: Locator) -> tuple[Service, Place, dict[str, Any]]:
    """The service, the place and the attributes of a report, or the problem naming what is wrong.

    Madrid locates every report by its point (the app sends the device's or the map's); an ``address_string``
    alone cannot be placed without a geocoder, so ``lat``/``long`` are required here (a documented deviation)."""
    service = catalogue().find(report.service_code)
    if report.lat is None or report.lon is None:
        raise _invalid("lat", "lat and long are required (Madrid places every report by its point)")
    if not (-90 <= report.lat <= 90 and -180 <= report.lon <= 180):
        raise _invalid("lat", "lat in [-90, 90] and long in [-180, 180]")
    if len(report.description) > MAX_DESCRIPTION:
        raise _invalid("description", f"at most {MAX_DESCRIPTION} characters")
    if "<" in report.description and re.search(r"<[a-zA-Z/!]", report.description):
        raise _invalid("description", "plain text: no HTML or code (GeoReport v2)")
    place = locator.locate(report.lat, report.lon)
    if place is None:
        raise OutsideCityError(
            f"({report.lat}, {report.lon}) is outside the municipality of Madrid: report it to its own council",
            errors=[{"field": "lat", "message": "outside the city"}],
        )
    known = {a.code: a for a in service.attributes}
    unknown = sorted(set(report.attributes) - set(known))
    if unknown:
        raise _invalid(f"attribute[{unknown[0]}]", f"not an attribute of {service.code}")
    answers = {code: a.check(report.attributes.get(code)) for code, a in known.items()}
    return service, place, {k: v for k, v in answers.items() if v is not None}


def new_incident(
    report: Report, service: Service, place: Place, attributes: dict[str, Any], *, channel: Channel,
    citizen_id: str | None, client: str | None, now: datetime,
) -> Incident:  # fmt: skip
    assert report.lat is not None and report.lon is not None
    token = secrets.token_hex(8) if service.type == "batch" else None
    return Incident(
        id=new_id(now), service_code=service.code, lat=round(report.lat, 6), lon=round(report.lon, 6),
        address=report.address.strip()[:300], description=report.description.strip(), attributes=attributes,
        place=place, channel=channel, citizen_id=citizen_id, client=client, contact=dict(report.contact),
        requested_at=now, updated_at=now, expected_at=now + timedelta(days=service.expected_days),
        history=(StageChange("received", now, "", "citizen" if citizen_id else f"client:{client}"),),
        media_url=report.media_url, token=token,
    )  # fmt: skip


def staged(incident: Incident, stage: Stage, note: str, by: str, now: datetime,
           expected_at: datetime | None = None, duplicate_of: str | None = None) -> Incident:  # fmt: skip
    """An agent's (or an area system's) change of stage, with its public note."""
    if stage not in TRANSITIONS[incident.stage]:
        allowed = sorted(TRANSITIONS[incident.stage]) or "none"
        raise IncidentStateError(f"a report {incident.stage} cannot become {stage} (allowed: {allowed})")
    if stage == "duplicate" and (duplicate_of is None or duplicate_of == incident.id):
        raise _invalid("duplicate_of", "the other report's id is required for a duplicate")
    if len(note) > 1000:
        raise _invalid("note", "at most 1000 characters")
    resolved = now if stage == "resolved" else incident.resolved_at
    return replace(
        incident, stage=stage, status_notes=note, updated_at=now, resolved_at=resolved,
        expected_at=expected_at or incident.expected_at, duplicate_of=duplicate_of or incident.duplicate_of,
        history=(*incident.history, StageChange(stage, now, note, by)), version=incident.version + 1,
    )  # fmt: skip


def reiterated(incident: Incident, citizen_id: str, now: datetime) -> Incident:
    """A "me too": the report counts one more person affected, and that person follows its changes."""
    if not incident.is_open:
        raise IncidentStateError(f"the report is {incident.stage}: report it anew if it happens again")
    if citizen_id == incident.citizen_id or citizen_id in incident.followers:
        raise AlreadyReiteratedError("you already reported or follow this incident")
    followers = incident.followers | {citizen_id} if len(incident.followers) < MAX_FOLLOWERS else incident.followers
    return replace(incident, reiterations=incident.reiterations + 1, followers=followers, updated_at=now,
                   version=incident.version + 1)  # fmt: skip


def reopened(incident: Incident, note: str, now: datetime) -> Incident:
    """The reporter says it is not fixed: a resolved report opens again within ``REOPEN_DAYS``."""
    if incident.stage != "resolved" or incident.resolved_at is None:
        raise IncidentStateError(f"only a resolved report can be reopened; this one is {incident.stage}")
    if now > incident.resolved_at + timedelta(days=REOPEN_DAYS):
        raise IncidentStateError(f"resolved more than {REOPEN_DAYS} days ago: report it anew")
    if not 3 <= len(note.strip()) <= 1000:
        raise _invalid("note", "say in 3 to 1000 characters what is still wrong")
    service = catalogue().find(incident.service_code)
    return replace(
        incident, stage="reopened", status_notes=note.strip(), updated_at=now, resolved_at=None,
        expected_at=now + timedelta(days=service.expected_days),
        history=(*incident.history, StageChange("reopened", now, note.strip(), "citizen")),
        version=incident.version + 1,
    )  # fmt: skip


def with_photo(incident: Incident, now: datetime) -> Incident:
    if incident.photos >= MAX_PHOTOS:
        raise IncidentStateError(f"a report has at most {MAX_PHOTOS} photos")
    if not incident.is_open:
        raise IncidentStateError(f"the report is {incident.stage}: no more photos")
    return replace(incident, photos=incident.photos + 1, updated_at=now, version=incident.version + 1)


def suggestions(candidates: list[Incident], service: Service, lat: float, lon: float, radius_m: float,
                limit: int = 10) -> list[tuple[Incident, float]]:  # fmt: skip
    """The open reports of the service within the radius, nearest first (the keys' cells may hold farther ones)."""
    near = [(i, distance_m(lat, lon, i.lat, i.lon)) for i in candidates if i.service_code == service.code and i.is_open]
    return sorted([(i, d) for i, d in near if d <= radius_m], key=lambda pair: (pair[1], pair[0].id))[:limit]


# ---- views ---------------------------------------------------------------------------------------------------


def _w3(at: datetime | None) -> str | None:
    """GeoReport v2's w3 date format, in UTC (``Z``)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if at else None


def photo_url(api_url: str, incident_id: str, n: int) -> str:
    return f"{api_url}/v1/incidents/{incident_id}/photos/{n}"


def open311_request(incident: Incident, api_url: str, language: Language = "es") -> dict[str, Any]:
    """GeoReport v2 'GET Service Request' fields, in the spec's order; never the reporter's contact details."""
    service = catalogue().find(incident.service_code)
    media = photo_url(api_url, incident.id, 1) if incident.photos else incident.media_url
    return {
        "service_request_id": incident.id,
        "status": incident.status,
        "status_notes": incident.status_notes or None,
        "service_name": service.name[language],
        "service_code": service.code,
        "description": incident.description or None,
        "agency_responsible": service.agency_responsible,
        "service_notice": service.service_notice[language],
        "requested_datetime": _w3(incident.requested_at),
        "updated_datetime": _w3(incident.updated_at),
        "expected_datetime": _w3(incident.expected_at) if incident.is_open else None,
        "address": incident.address or _place_text(incident.place),
        "address_id": None,
        "zipcode": None,
        "lat": incident.lat,
        "long": incident.lon,
        "media_url": media,
    }


def _place_text(place: Place | None) -> str | None:
    return f"{place.barrio_name}, {place.district_name}, Madrid" if place and place.barrio_name else None


def madrid_view(incident: Incident, api_url: str, language: Language = "es") -> dict[str, Any]:
    """The Open311 fields plus Madrid's extensions (README "Madrid's extensions"): typology, stage and its
    history, reiterations, the estimated date, district and barrio, the photos."""
    service = catalogue().find(incident.service_code)
    return {
        **open311_request(incident, api_url, language),
        "typology": {"group": service.group, "area": service.area, "category": service.category},
        "stage": incident.stage,
        "stages": [{"stage": c.stage, "at": _w3(c.at), "note": c.note} for c in incident.history],
        "reiterations": incident.reiterations,
        "estimated_resolution_date": incident.expected_at.date().isoformat() if incident.expected_at else None,
        "district": incident.place.district_code if incident.place else None,
        "district_name": incident.place.district_name if incident.place else None,
        "barrio": incident.place.barrio_code if incident.place else None,
        "attributes": incident.attributes,
        "photos": [photo_url(api_url, incident.id, n) for n in range(1, incident.photos + 1)],
        "duplicate_of": incident.duplicate_of,
        "reopen_until": _w3(incident.resolved_at + timedelta(days=REOPEN_DAYS)) if incident.resolved_at else None,
    }


# ---- the store's port ----------------------------------------------------------------------------------------


class IncidentStore(Protocol):
    def fetch_incident(self, incident_id: str) -> Incident | None: ...

    def fetch_incidents(self, incident_ids: list[str]) -> list[Incident]: ...

    def fetch_near(self, service_code: str, cells: list[str]) -> list[Incident]:
        """The open reports of a service indexed under these cells."""
        ...

    def fetch_between(self, start: datetime, end: datetime, limit: int) -> list[Incident]:
        """Reports requested in [start, end], newest first, at most ``limit``."""
        ...

    def fetch_of_citizen(self, citizen_id: str) -> list[Incident]:
        """Reports the citizen made or follows."""
        ...

    def fetch_token(self, token: str) -> str | None: ...

    def fetch_client(self, key_hash: str) -> str | None:
        """The registered Open311 client's name for an api_key's hash, if any."""
        ...

    def fetch_photo(self, incident_id: str, n: int) -> Photo | None: ...

    def stage_incident(self, uow: UnitOfWork, incident: Incident, read_revision: int | None) -> None: ...

    def stage_photo(self, uow: UnitOfWork, incident_id: str, n: int, photo: Photo) -> None: ...

    def stage_client(self, uow: UnitOfWork, key_hash: str, name: str) -> None: ...

    def stage_follower(self, uow: UnitOfWork, incident_id: str, citizen_id: str) -> None:
        """A "me too" citizen's marker (what an RGPD request finds them by)."""
        ...

    def stage_erase(self, uow: UnitOfWork, incident: Incident, citizen_id: str) -> None:
        """The citizen removed from the report (reporter or follower): the public report stays, anonymous."""
        ...
