"""Incidents on the public way (Avisos Madrid) entry points: thin. Parse, map to a command, call the use case, answer.

``incident_http`` (Knative Service ``pic-incident``) serves two APIs:

- **Open311 GeoReport v2** at ``/open311/v2/`` exactly as the spec (http://wiki.open311.org/GeoReport_v2/):
  ``services``, ``services/<service_code>``, ``requests`` (GET with its filters; POST form-encoded, with a
  registered ``api_key`` or a citizen's bearer token), ``requests/<id>``, ``tokens/<token>``, each ``.json`` and
  ``.xml``; refusals as the spec's ``[{code, description}]`` (``open311.py``). Reading needs no key (the spec's
  "Requires API Key: No"): the routes are public and show nothing personal.
- **PIC's own** under ``/v1/incidents``: the app's report (JSON), Madrid's extended view, duplicate suggestions,
  photos, "me too", reopening; the agents' stage changes; a citizen's reports (``/v1/citizens/<id>/incidents``).

``incident_events`` (``pic-incident-events``): data-subject requests.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

import functions_framework
from cloudevents.http import CloudEvent
from flask import Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from events.incident import SERVICE_CODE_PATTERN, Stage
from events.rgpd import RgpdRequestOpened
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.errors import MalformedRequestError, UnsupportedMediaTypeError, ValidationError
from functions.core.http import HttpFunction, Reads, Reply, RequestContext, Route, parse_json, parse_query
from functions.core.store import UnitOfWork
from functions.incident import handlers, open311, photos, service
from functions.incident.bootstrap import ports
from functions.incident.open311 import Format
from functions.incident.service import Incident, Report

NAME = "pic-incident"
O311 = "/open311/v2"
INCIDENT = "/v1/incidents/<incident_id>"
MAX_FORM = 64 * 1024
MAX_PHOTO_BODY = photos.MAX_UPLOAD * 4 // 3 + 4096  # a photo, base64 in JSON
ATTRIBUTE = re.compile(r"^attribute\[([a-z0-9][a-z0-9_-]{0,47})\](\[\])?$")


def _reply(fmt: Format, root: str, body: list[Any] | dict[str, Any], status: int = 200) -> Reply:
    code, raw, content_type = open311.answer(fmt, root, body, status)
    return Reply(code, raw, {"Content-Type": content_type})


def _language(ctx: RequestContext) -> service.Language:
    return "en" if (ctx.request.args.get("locale") or "").lower().startswith("en") else "es"


def _jurisdiction(ctx: RequestContext) -> None:
    """``jurisdiction_id`` is optional for a one-jurisdiction endpoint (the spec); another one is a 404."""
    given = ctx.request.values.get("jurisdiction_id")
    if given and given != service.catalogue().jurisdiction_id:
        raise service.IncidentNotFoundError(f"jurisdiction_id {given[:64]!r} not found: this endpoint serves madrid.es")


# ---- Open311 GeoReport v2 --------------------------------------------------------------------------------------


def _service_entry(s: service.Service, language: service.Language) -> dict[str, Any]:
    return {"service_code": s.code, "service_name": s.name[language], "description": s.description[language],
            "metadata": s.metadata, "type": s.type, "keywords": s.keywords, "group": s.group}  # fmt: skip


def _definition(s: service.Service, language: service.Language) -> dict[str, Any]:
    return {
        "service_code": s.code,
        "attributes": [
            {"variable": True, "code": a.code, "datatype": a.datatype, "required": a.required,
             "datatype_description": None, "order": a.order, "description": a.description[language],
             "values": [{"key": v.key, "name": v.name[language]} for v in a.values]}
            for a in sorted(s.attributes, key=lambda a: a.order)
        ],
    }  # fmt: skip


def _w3(name: str, text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationError(f"{name}: w3 format, e.g. 2010-01-01T00:00:00Z",
                              errors=[{"field": name, "message": "w3 date-time with zone"}]) from exc  # fmt: skip
    if at.tzinfo is None:
        raise ValidationError(f"{name}: the zone is required (Z or ±hh:mm)",
                              errors=[{"field": name, "message": "w3 date-time with zone"}])  # fmt: skip
    return at


def _list(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _requests_query(ctx: RequestContext) -> handlers.RequestsQuery:
    args = ctx.request.args
    statuses = _list(args.get("status"))
    bad = [s for s in statuses if s not in ("open", "closed")]
    if bad:
        raise ValidationError(f"status: open or closed, not {bad[0][:20]!r}",
                              errors=[{"field": "status", "message": "open or closed"}])  # fmt: skip
    ids = _list(args.get("service_request_id"))
    return handlers.RequestsQuery(ids[:1000], _list(args.get("service_code"))[:50],
                                  _w3("start_date", args.get("start_date")), _w3("end_date", args.get("end_date")),
                                  statuses)  # fmt: skip


def _form_report(ctx: RequestContext) -> tuple[Report, str | None]:
    """The POST's form fields (application/x-www-form-urlencoded, the spec's only request format)."""
    request = ctx.request
    if request.mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise UnsupportedMediaTypeError("send Content-Type: application/x-www-form-urlencoded; charset=utf-8")
    if (request.content_length or 0) > MAX_FORM:
        raise MalformedRequestError(f"the form is larger than {MAX_FORM} bytes")
    form = request.form
    code = form.get("service_code")
    if not code:
        raise ValidationError(
            "service_code was not provided", errors=[{"field": "service_code", "message": "required"}]
        )
    attributes: dict[str, str | list[str]] = {}
    for key in form:
        match = ATTRIBUTE.match(key)
        if match:
            attributes[match.group(1)] = form.getlist(key) if match.group(2) else form.get(key, "")
    contact = {k: form[k][:200] for k in ("email", "first_name", "last_name", "phone", "device_id", "account_id")
               if form.get(k)}  # fmt: skip
    report = Report(code[:64], _float(form, "lat"), _float(form, "long"), form.get("address_string", "")[:300],
                    form.get("description", ""), attributes, (form.get("media_url") or None), contact)  # fmt: skip
    return report, form.get("api_key")


def _float(form: Any, name: str) -> float | None:
    text = form.get(name)
    if text in (None, ""):
        return None
    try:
        value = float(text)
    except ValueError as exc:
        message = [{"field": name, "message": "a number"}]
        raise ValidationError(f"{name}: a decimal number (WGS84)", errors=message) from exc
    if value != value or value in (float("inf"), float("-inf")):
        raise ValidationError(f"{name}: a finite number", errors=[{"field": name, "message": "a number"}])
    return value


def _citizen(ctx: RequestContext) -> str | None:
    return ctx.subject.id if ctx.subject.role == "citizen" else None


def _open311(fmt: Format) -> dict[str, Callable[..., Reply]]:
    """The six GeoReport v2 methods answering in ``fmt`` (one handler each, named for the OpenAPI operation)."""

    def get_services(ctx: RequestContext) -> Reply:
        _jurisdiction(ctx)
        language = _language(ctx)
        return _reply(fmt, "services", [_service_entry(s, language) for s in service.catalogue().services])

    def get_service_definition(ctx: RequestContext, service_code: str) -> Reply:
        _jurisdiction(ctx)
        return _reply(fmt, "service_definition", _definition(service.catalogue().find(service_code), _language(ctx)))

    def get_requests(ctx: RequestContext) -> Reply:
        _jurisdiction(ctx)
        found = handlers.requests(_requests_query(ctx), ports())
        language = _language(ctx)
        return _reply(fmt, "service_requests", [service.open311_request(i, ports().api_url, language) for i in found])

    def post_request(ctx: RequestContext) -> Reply:
        _jurisdiction(ctx)
        report, api_key = _form_report(ctx)
        citizen = _citizen(ctx)
        cmd = handlers.ReportCmd(report, citizen, None if citizen else api_key, "open311")

        def reply(incident: Incident) -> Reply:
            svc = service.catalogue().find(incident.service_code)
            entry: dict[str, Any] = {"token": incident.token} if incident.token else {"service_request_id": incident.id}
            entry.update(service_notice=svc.service_notice[_language(ctx)], account_id=report.contact.get("account_id"))
            return _reply(fmt, "service_requests", [entry])

        return ctx.run(lambda: handlers.report(cmd, ports(), ctx.traceparent), reply)

    def get_request(ctx: RequestContext, service_request_id: str) -> Reply:
        _jurisdiction(ctx)
        found = handlers.find(service_request_id, ports())
        return _reply(fmt, "service_requests", [service.open311_request(found, ports().api_url, _language(ctx))])

    def get_token(ctx: RequestContext, token: str) -> Reply:
        _jurisdiction(ctx)
        return _reply(fmt, "service_requests", [{"service_request_id": handlers.token(token, ports()), "token": token}])

    made: dict[str, Callable[..., Reply]] = {
        "get_services": get_services, "get_service_definition": get_service_definition, "get_requests": get_requests,
        "post_request": post_request, "get_request": get_request, "get_token": get_token,
    }  # fmt: skip
    for name, handler in made.items():
        handler.__name__ = f"open311_{name}_{fmt}"
    return made


CHANGESET = "2026-12-07T00:00:00Z"  # when this endpoint's catalogue or behaviour last changed (Service Discovery)


def _discovery(fmt: Format) -> Callable[..., Reply]:
    """Open311 Service Discovery (http://wiki.open311.org/Service_Discovery): where the GeoReport v2 endpoint is,
    its formats and whom to contact for an api_key."""

    def get_discovery(ctx: RequestContext) -> Reply:
        base = ports().api_url
        body = {
            "changeset": CHANGESET,
            "contact": "Ayuntamiento de Madrid, Avisos Madrid: https://avisos.madrid.es",
            "key_service": f"{base}/v1/open311-clients",
            "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2", "url": f"{base}{O311}",
                           "changeset": CHANGESET, "type": "production",
                           "formats": ["text/xml", "application/json"]}],
        }  # fmt: skip
        return _reply(fmt, "discovery", body)

    get_discovery.__name__ = f"open311_get_discovery_{fmt}"
    return get_discovery


def _open311_routes(fmt: Format) -> list[Route]:
    h = _open311(fmt)
    errors = open311.problem_body(fmt)
    return [
        Route(f"/open311/discovery.{fmt}", "GET", _discovery(fmt), f"Open311 Service Discovery ({fmt})", public=True,
              problem_body=errors),
        Route(f"{O311}/services.{fmt}", "GET", h["get_services"], f"GeoReport v2 GET Service List ({fmt})",
              public=True, problem_body=errors),
        Route(f"{O311}/services/<service_code>.{fmt}", "GET", h["get_service_definition"],
              f"GeoReport v2 GET Service Definition ({fmt})", public=True, problem_body=errors),
        Route(f"{O311}/requests.{fmt}", "GET", h["get_requests"], f"GeoReport v2 GET Service Requests ({fmt})",
              public=True, problem_body=errors),
        Route(f"{O311}/requests.{fmt}", "POST", h["post_request"],
              f"GeoReport v2 POST Service Request ({fmt}): api_key, or a citizen's bearer token",
              action="incident.report", anonymous=True, problem_body=errors, max_body_bytes=MAX_FORM),
        Route(f"{O311}/requests/<service_request_id>.{fmt}", "GET", h["get_request"],
              f"GeoReport v2 GET Service Request ({fmt})", public=True, problem_body=errors),
        Route(f"{O311}/tokens/<token>.{fmt}", "GET", h["get_token"],
              f"GeoReport v2 GET service_request_id from a token ({fmt})", public=True, problem_body=errors),
    ]  # fmt: skip


# ---- PIC's own API ---------------------------------------------------------------------------------------------


class IncidentBody(BaseModel):
    """The app's report: the Open311 fields, in JSON."""

    model_config = ConfigDict(extra="forbid")

    service_code: str = Field(pattern=SERVICE_CODE_PATTERN)
    lat: float = Field(ge=-90, le=90)
    long: float = Field(ge=-180, le=180)
    address_string: str = Field("", max_length=300)
    description: str = Field("", max_length=service.MAX_DESCRIPTION)
    attributes: dict[str, str | list[str]] = Field(default_factory=dict, max_length=20)


def _madrid(status: int = 200) -> Callable[[Incident], Reply]:
    def reply(incident: Incident) -> Reply:
        location = {"Location": f"/v1/incidents/{incident.id}"}
        return Reply(status, service.madrid_view(incident, ports().api_url), location)

    return reply


def post_incident(ctx: RequestContext, body: IncidentBody) -> Reply:
    """A citizen's report from the app (the duplicates were shown before: ``/v1/incidents/suggestions``)."""
    report = Report(body.service_code, body.lat, body.long, body.address_string, body.description,
                    dict(body.attributes))  # fmt: skip
    cmd = handlers.ReportCmd(report, ctx.subject.id, None, "app")
    return ctx.run(lambda: handlers.report(cmd, ports(), ctx.traceparent), _madrid(201))


def get_incident(ctx: RequestContext, incident_id: str) -> Reply:
    """Madrid's view: the Open311 fields plus typology, stages, reiterations, estimated date, photos."""
    return Reply(200, service.madrid_view(handlers.find(incident_id, ports()), ports().api_url, _language(ctx)))


class SuggestionsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_code: str = Field(pattern=SERVICE_CODE_PATTERN)
    lat: float = Field(ge=-90, le=90)
    long: float = Field(ge=-180, le=180)


def get_suggestions(ctx: RequestContext) -> Reply:
    """Open reports of the same service near the point: "me too" instead of a new report."""
    query = parse_query(ctx.request, SuggestionsQuery)
    found = handlers.suggest(query.service_code, query.lat, query.long, ports())
    api = ports().api_url
    return Reply(200, {"suggestions": [{**service.madrid_view(i, api), "distance_m": round(d, 1)} for i, d in found]})


def _reporter(ctx: RequestContext, params: dict[str, str]) -> str:
    """Whose report the path names ("" for a third-party client's anonymous one); an unknown id is a 404."""
    return handlers.find(params["incident_id"], ports()).citizen_id or ""


def _photo_bytes(ctx: RequestContext) -> tuple[bytes, bool]:
    """The photo: the raw image (``Content-Type: image/...``) or JSON ``{"image_base64", "keep_location"}``."""
    request = ctx.request
    keep = (request.args.get("keep_location") or "").lower() == "true"
    if request.mimetype.startswith("image/"):
        return request.get_data(cache=False), keep
    if request.mimetype == "application/json":
        data = parse_json(request.get_data(cache=False))
        if not isinstance(data, dict) or not isinstance(data.get("image_base64"), str):
            raise ValidationError("image_base64 is required", errors=[{"field": "image_base64", "message": "required"}])
        try:
            raw = base64.b64decode(data["image_base64"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise service.PhotoInvalidError("image_base64 is not base64") from exc
        return raw, bool(data.get("keep_location", keep))
    raise UnsupportedMediaTypeError("send the photo as image/jpeg, image/png or image/webp (or JSON image_base64)")


def post_photo(ctx: RequestContext, incident_id: str) -> Reply:
    """A photo of the report (the reporter, while open, at most five): checked, EXIF location dropped unless
    ``keep_location=true``."""
    raw, keep = _photo_bytes(ctx)
    photo = photos.prepared(raw, keep)
    return ctx.run(lambda: handlers.add_photo(incident_id, photo, ports(), ctx.traceparent), _madrid(201))


def get_photo(ctx: RequestContext, incident_id: str, n: str) -> Reply:
    if not n.isdigit() or not 1 <= int(n) <= service.MAX_PHOTOS:
        raise service.IncidentNotFoundError(f"photos are numbered 1 to {service.MAX_PHOTOS}")
    photo = handlers.photo(incident_id, int(n), ports())
    return Reply(200, photo.data, {"Content-Type": photo.content_type, "Cache-Control": "public, max-age=86400",
                                   "X-Content-Type-Options": "nosniff"})  # fmt: skip


def post_me_too(ctx: RequestContext, incident_id: str) -> Reply:
    """A "me too": one more reiteration; the citizen follows the report's changes."""
    return ctx.run(lambda: handlers.me_too(incident_id, ctx.subject.id, ports(), ctx.traceparent), _madrid())


class ReopenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=3, max_length=1000, description="what is still wrong")


def post_reopen(ctx: RequestContext, incident_id: str, body: ReopenBody) -> Reply:
    """The reporter says it is not fixed (within 30 days of its resolution)."""
    return ctx.run(lambda: handlers.reopen(incident_id, body.note, ports(), ctx.traceparent), _madrid())


class StageBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: Stage
    note: str = Field("", max_length=1000, description="public: shown as Open311's status_notes")
    expected_at: AwareDatetime | None = Field(None, description="a new estimated resolution date")
    duplicate_of: str | None = Field(None, max_length=20)


def post_stage(ctx: RequestContext, incident_id: str, body: StageBody) -> Reply:
    """An agent of the area (or its system) moves the report on; the reporter and followers are told."""
    cmd = handlers.StageCmd(incident_id, body.stage, body.note, f"{ctx.subject.role}:{ctx.subject.id}",
                            body.expected_at, body.duplicate_of)  # fmt: skip
    return ctx.run(lambda: handlers.set_stage(cmd, ports(), ctx.traceparent), _madrid())


def get_citizen_incidents(ctx: RequestContext, citizen_id: str) -> Reply:
    """The reports a citizen made or follows (the app's list, the desk's panel)."""
    api = ports().api_url
    found = handlers.of_citizen(citizen_id, ports())
    return Reply(200, {"incidents": [{**service.madrid_view(i, api), "role": "reporter" if i.citizen_id == citizen_id
                                      else "follower"} for i in found]})  # fmt: skip


class ClientBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{2,63}$", description="the client's name, e.g. fixmystreet-es")


def post_client(ctx: RequestContext, body: ClientBody) -> Reply:
    """Register a third-party Open311 client: its api_key is shown this once; only its SHA-256 is stored."""
    api_key = secrets.token_urlsafe(32)
    uow = handlers.register_client(body.name, api_key, ports())
    return ctx.commit(uow, Reply(201, {"name": body.name, "api_key": api_key}))


def _summary(body: dict[str, Any]) -> dict[str, Any]:
    keep = ("service_request_id", "service_code", "status", "stage", "requested_datetime", "role")
    return {"view": "summary", "incidents": [{k: i.get(k) for k in keep} for i in body.get("incidents", [])]}


ROUTES: list[Route] = [
    *_open311_routes("json"),
    *_open311_routes("xml"),
    Route("/v1/incidents", "POST", post_incident, "Report an incident on the public way (the app, JSON)",
          request_model=IncidentBody, status=201, idempotent_writes=True, action="incident.report", app="avisos",
          links={"incident_id": "/service_request_id"}),
    Route("/v1/incidents/suggestions", "GET", get_suggestions,
          "Open reports of the same service near a point (duplicates, before reporting)", public=True),
    Route(INCIDENT, "GET", get_incident, "A report with Madrid's extensions (stages, reiterations, estimated date)",
          public=True),
    Route(f"{INCIDENT}/photos", "POST", post_photo, "Add a photo (image/jpeg, png, webp; EXIF location dropped)",
          status=201, idempotent_writes=True, action="incident.photo", citizen=_reporter, app="avisos",
          max_body_bytes=MAX_PHOTO_BODY),
    Route(f"{INCIDENT}/photos/<n>", "GET", get_photo, "A report's photo", public=True),
    Route(f"{INCIDENT}/me-too", "POST", post_me_too, "Me too: reiterate an open report and follow it",
          idempotent_writes=True, action="incident.me-too", app="avisos"),
    Route(f"{INCIDENT}/reopen", "POST", post_reopen, "Reopen a resolved report (its reporter, within 30 days)",
          request_model=ReopenBody, idempotent_writes=True, action="incident.reopen", citizen=_reporter, app="avisos"),
    Route(f"{INCIDENT}/stage", "POST", post_stage, "Move a report to a stage (the area's agents and systems)",
          request_model=StageBody, idempotent_writes=True, action="incident.manage"),
    Route("/v1/open311-clients", "POST", post_client, "Register a third-party Open311 client (its api_key, once)",
          request_model=ClientBody, status=201, action="incident.clients"),
    Route("/v1/citizens/<citizen_id>/incidents", "GET", get_citizen_incidents,
          "The reports a citizen made or follows", action="incident.read",
          reads=Reads("incidents", ("cases",), _summary)),
]  # fmt: skip

http_api = HttpFunction(NAME, ROUTES)


@functions_framework.http
def incident_http(request: Request) -> Response:
    return http_api(request)


# ---- events --------------------------------------------------------------------------------------------------------


def on_rgpd_request_opened(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, RgpdRequestOpened)
    return handlers.answer_rights(data, ports(), ctx.traceparent)


event_api = EventFunction("pic-incident-events", {"es.madrid.pic.rgpd.request.opened.v1": on_rgpd_request_opened})


@functions_framework.cloud_event
def incident_events(event: CloudEvent) -> None:
    event_api(event)
