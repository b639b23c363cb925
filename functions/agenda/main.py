"""Events near me (GEO) entry points: thin. Parse, map to a command, call the use case, answer.

``agenda_http`` (Knative Service ``pic-agenda``):

- anyone (``agenda.events.read``, signed in or not): the events near a point, with filters; one event; one event
  as iCalendar;
- the council (``agenda.ingest``, ``agenda.event.withdraw``: administrators and systems): ingest an agenda file
  (JSON-LD or CSV) and read its report; withdraw a cancelled event;
- the person (``agenda.read``, ``agenda.edit``: the citizen, or an agent with a purpose): their zones, the events
  near them grouped by zone, the events they saved and their personal agenda as iCalendar.

``agenda_events`` (``pic-agenda-events``): ``citizen.updated`` (the Padrón's barrio: home), ``consent.changed``
(purpose ``location``) and data-subject requests.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date
from typing import Any, Literal

import functions_framework
from cloudevents.http import CloudEvent
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from events.citizen import CitizenUpdated
from events.consent import ConsentChanged
from events.rgpd import RgpdRequestOpened
from functions.agenda import handlers, job, service
from functions.agenda.bootstrap import ports
from functions.agenda.ingest import MADRID
from functions.agenda.service import DEFAULT_RADIUS_M, MAX_RADIUS_M, Zone
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.http import HttpFunction, Reads, Reply, RequestContext, Route, parse_query
from functions.core.store import UnitOfWork

NAME = "pic-agenda"
EVENT_ID = r"^[A-Za-z0-9_-]{1,64}$"
ICAL = "text/calendar; charset=utf-8"
MAX_FILE_BODY = 6 * 1024 * 1024  # the council's 100-day agenda is about 2-3 MB as JSON-LD (base64: 4/3 of it)
Slug = Field(None, pattern=r"^[a-z0-9-]{1,40}$")


class NearQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_: date | None = Field(None, alias="from", description="first local date (default today)")
    to: date | None = Field(None, description="last local date, inclusive (default from + 30 days)")
    category: str | None = Slug
    audience: str | None = Slug
    free: bool | None = None


class PointQuery(NearQuery):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_m: int = Field(DEFAULT_RADIUS_M, ge=100, le=MAX_RADIUS_M)


def _filters(query: NearQuery) -> service.Filters:
    today = ports().clock.now().astimezone(MADRID).date()
    return service.filters(today, query.from_, query.to, query.category, query.audience, query.free)


def _found(found: list[service.Found]) -> list[dict[str, Any]]:
    now = ports().clock.now()
    return [{**service.summary(f.event, now), "distance_m": f.distance_m, "next_start": f.next_start.isoformat()}
            for f in found]  # fmt: skip


# ---- anyone -------------------------------------------------------------------------------------------------------


def get_events(ctx: RequestContext) -> Reply:
    """The events within a radius of a point (H3 cells, then exact distance), soonest first."""
    query = parse_query(ctx.request, PointQuery)
    found = handlers.near_point(query.lat, query.lon, query.radius_m, _filters(query), ports())
    return Reply(200, {"lat": query.lat, "lon": query.lon, "radius_m": query.radius_m, "events": _found(found)})


def get_event(ctx: RequestContext, event_id: str) -> Reply:
    return Reply(200, service.detail(handlers.find(event_id, ports()), ports().clock.now()))


def _ics(body: bytes, name: str) -> Reply:
    return Reply(200, body, {"Content-Type": ICAL, "Content-Disposition": f'attachment; filename="{name}.ics"'})


def get_event_ical(ctx: RequestContext, event_id: str) -> Reply:
    """One event as iCalendar (RFC 5545): its next starts (DTSTART and RDATE, Europe/Madrid)."""
    event = handlers.find(event_id, ports())
    return _ics(service.calendar([event], ports().clock.now(), event.title), f"agenda-{event_id}")


# ---- the council ----------------------------------------------------------------------------------------------------


class IngestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, max_length=120, description="where the file came from (its name or URL)")
    format: Literal["json-ld", "csv"] = "json-ld"
    content: str | None = Field(None, description="the file as text (JSON-LD)")
    content_base64: str | None = Field(None, description="the file's bytes in base64 (the CSV is windows-1252)")

    @model_validator(mode="after")
    def one_content(self) -> IngestBody:
        if (self.content is None) == (self.content_base64 is None):
            raise ValueError("send the file as content (text) or content_base64 (bytes), one of them")
        return self

    def raw(self) -> bytes:
        if self.content is not None:
            return self.content.encode("utf-8")
        try:
            return base64.b64decode(self.content_base64 or "", validate=True)
        except (binascii.Error, ValueError):
            raise service.AgendaFileError("content_base64 is not base64") from None


def post_ingest(ctx: RequestContext, body: IngestBody) -> Reply:
    """Ingest a file: every record loaded or refused with its reason; the same file again changes nothing."""
    report = job.run(body.raw(), body.format, body.source, ports(), ctx.traceparent)
    return Reply(200 if report.replayed else 201, report.as_json(),
                 {"Location": f"/v1/agenda/ingests/{report.ingest_id}"})  # fmt: skip


def get_ingest(ctx: RequestContext, ingest_id: str) -> Reply:
    report = ports().store.fetch_ingest(ingest_id)
    if report is None:
        raise service.AgendaEventNotFoundError(f"no ingest {ingest_id}")
    return Reply(200, report.as_json())


def delete_event(ctx: RequestContext, event_id: str) -> Reply:
    """The council cancelled the event: withdrawn (announced), still named in the agendas that saved it."""
    return ctx.run(lambda: handlers.withdraw(event_id, ports(), ctx.traceparent),
                   lambda s: Reply(200, {"event_id": s.event.id, "withdrawn": True}))  # fmt: skip


# ---- the person ----------------------------------------------------------------------------------------------------


def _zones_view(zones: service.Zones) -> dict[str, Any]:
    return {"citizen_id": zones.citizen_id, "revision": zones.revision, "location_consent": zones.location_consent,
            "home_barrio": zones.home_barrio, "zones": [z.as_json() for z in zones.all],
            "shared": [z.kind for z in zones.to_share]}  # fmt: skip


def zones_summary(view: dict[str, Any]) -> dict[str, Any]:
    """Which kinds of zone the person has, in which district: not the places themselves."""
    return {"zones": [{"kind": z["kind"], "district": z["district"]} for z in view.get("zones", [])],
            "view": "summary"}  # fmt: skip


def get_zones(ctx: RequestContext, citizen_id: str) -> Reply:
    return Reply(200, _zones_view(ports().store.fetch_zones(citizen_id)))


class ChosenZone(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["work", "leisure"]
    label: str | None = Field(None, max_length=80)
    barrio: str | None = Field(None, pattern=r"^\d{3}$", description="an official barrio code: its centroid")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    radius_m: int = Field(DEFAULT_RADIUS_M, ge=100, le=MAX_RADIUS_M)


class ZonesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    revision: int = Field(ge=0, description="the zones' revision the person read")
    zones: list[ChosenZone] = Field(max_length=4, description="the work and leisure places (replacing the earlier)")
    home_radius_m: int | None = Field(None, ge=100, le=MAX_RADIUS_M)


def put_zones(ctx: RequestContext, citizen_id: str, body: ZonesBody) -> Reply:
    """The person's work and leisure places (only with their consent for location)."""
    chosen: list[Zone] = [service.chosen_zone(z.kind, z.label, z.barrio, z.lat, z.lon, z.radius_m) for z in body.zones]
    cmd = (citizen_id, chosen, body.home_radius_m, body.revision)
    return ctx.run(lambda: handlers.set_zones(*cmd, ports(), ctx.traceparent), lambda z: Reply(200, _zones_view(z)))


def agenda_summary(view: dict[str, Any]) -> dict[str, Any]:
    return {"groups": [{"zone": {"kind": g["zone"]["kind"]}, "count": len(g["events"])} for g in view["groups"]],
            "view": "summary"}  # fmt: skip


def get_agenda(ctx: RequestContext, citizen_id: str) -> Reply:
    """The events near each of the person's zones, grouped by zone, with the filters."""
    query = parse_query(ctx.request, NearQuery)
    groups = handlers.near_zones(citizen_id, _filters(query), ports())
    return Reply(200, {"citizen_id": citizen_id,
                       "groups": [{"zone": z.as_json(), "events": _found(f)} for z, f in groups]})  # fmt: skip


def saved_summary(view: dict[str, Any]) -> dict[str, Any]:
    return {"count": len(view.get("events", [])), "view": "summary"}


def get_saved(ctx: RequestContext, citizen_id: str) -> Reply:
    now = ports().clock.now()
    events = [{**service.summary(s.event, now), "withdrawn": s.withdrawn}
              for s in handlers.saved_events(citizen_id, ports())]  # fmt: skip
    return Reply(200, {"citizen_id": citizen_id, "events": events})


def get_saved_ical(ctx: RequestContext, citizen_id: str) -> Reply:
    """The personal agenda (the saved events still on) as one iCalendar file."""
    events = [s.event for s in handlers.saved_events(citizen_id, ports()) if not s.withdrawn]
    return _ics(service.calendar(events, ports().clock.now(), "Mi agenda · Madrid"), "mi-agenda")


def _save(ctx: RequestContext, citizen_id: str, event_id: str, saved: bool) -> Reply:
    return ctx.run(lambda: handlers.save(citizen_id, event_id, saved, ports()),
                   lambda s: Reply(200, {"event_id": event_id, "saved": s}))  # fmt: skip


def put_saved(ctx: RequestContext, citizen_id: str, event_id: str) -> Reply:
    return _save(ctx, citizen_id, event_id, True)


def delete_saved(ctx: RequestContext, citizen_id: str, event_id: str) -> Reply:
    return _save(ctx, citizen_id, event_id, False)


def ical_summary(view: Any) -> dict[str, Any]:
    """The calendar file is the person's: an agent whose view is a summary is told only that it exists."""
    return {"view": "summary"}


AGENDA = "/v1/agenda"
PERSON = "/v1/citizens/<citizen_id>/agenda"
ROUTES = [
    Route(f"{AGENDA}/events", "GET", get_events, "Events near a point (radius, dates, category, audience, free)",
          action="agenda.events.read", anonymous=True, app="agenda"),
    Route(f"{AGENDA}/events/<event_id>", "GET", get_event, "One event of the agenda", action="agenda.events.read",
          anonymous=True, app="agenda"),
    Route(f"{AGENDA}/events/<event_id>/ical", "GET", get_event_ical, "One event as iCalendar (RFC 5545)",
          action="agenda.events.read", anonymous=True, app="agenda"),
    Route(f"{AGENDA}/events/<event_id>", "DELETE", delete_event, "Withdraw a cancelled event (announced)",
          action="agenda.event.withdraw"),
    Route(f"{AGENDA}/ingests", "POST", post_ingest, "Ingest an agenda file (JSON-LD or CSV): a report per record",
          request_model=IngestBody, status=201, action="agenda.ingest", max_body_bytes=MAX_FILE_BODY,
          links={"ingest_id": "/ingest_id"}),
    Route(f"{AGENDA}/ingests/<ingest_id>", "GET", get_ingest, "An agenda file's report", action="agenda.ingest"),
    Route(f"{PERSON}/zones", "GET", get_zones, "The person's zones (home, work, leisure) and location consent",
          action="agenda.read", reads=Reads("agenda", ("agenda",), zones_summary), app="agenda"),
    Route(f"{PERSON}/zones", "PUT", put_zones, "Choose the work and leisure places (needs the location consent)",
          request_model=ZonesBody, idempotent_writes=True, action="agenda.edit", app="agenda"),
    Route(PERSON, "GET", get_agenda, "The events near each of the person's zones, grouped by zone",
          action="agenda.read", reads=Reads("agenda", ("agenda",), agenda_summary), app="agenda"),
    Route(f"{PERSON}/saved", "GET", get_saved, "The events the person saved", action="agenda.read",
          reads=Reads("agenda", ("agenda",), saved_summary), app="agenda"),
    Route(f"{PERSON}/saved/ical", "GET", get_saved_ical, "The personal agenda as iCalendar (RFC 5545)",
          action="agenda.read", reads=Reads("agenda", ("agenda",), ical_summary), app="agenda"),
    Route(f"{PERSON}/saved/<event_id>", "PUT", put_saved, "Save an event to the personal agenda",
          idempotent_writes=True, action="agenda.edit", app="agenda"),
    Route(f"{PERSON}/saved/<event_id>", "DELETE", delete_saved, "Take an event out of the personal agenda",
          idempotent_writes=True, action="agenda.edit", app="agenda"),
]  # fmt: skip

http_api = HttpFunction(NAME, ROUTES)


@functions_framework.http
def agenda_http(request: Request) -> Response:
    return http_api(request)


# ---- events --------------------------------------------------------------------------------------------------------


def on_citizen_updated(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, CitizenUpdated)
    return handlers.project_citizen(data, ports(), ctx.traceparent)


def on_consent_changed(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, ConsentChanged)
    return handlers.project_consent(data, ports(), ctx.traceparent)


def on_rgpd_request_opened(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, RgpdRequestOpened)
    return handlers.answer_rights(data, ports(), ctx.traceparent)


event_api = EventFunction(
    "pic-agenda-events",
    {
        "es.madrid.pic.citizen.updated.v1": on_citizen_updated,
        "es.madrid.pic.consent.changed.v1": on_consent_changed,
        "es.madrid.pic.rgpd.request.opened.v1": on_rgpd_request_opened,
    },
)


@functions_framework.cloud_event
def agenda_events(event: CloudEvent) -> None:
    event_api(event)
