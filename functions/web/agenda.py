"""The "events near me" micro-app of the citizen app (GEO, issue 18): the council's events near the person's zones.

Every page reads and writes through the public API with the person's token: the events near each zone (home from
the Padrón, work and leisure as they chose them), filtered by dates, category, audience and free; one event, saved
to the personal agenda or downloaded as an iCalendar file; the zones, chosen by barrio (its centroid). Choosing a
place needs the consent for location: the API's refusal is said in the person's words, with the way to give it.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import flask

from functions.core import madrid_geo
from functions.web import i18n
from functions.web.api import ApiProblem
from functions.web.web import Page, PageContext, redirect, render

EVENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
BARRIO = re.compile(r"^\d{3}$")
CATEGORIES = ("musica", "teatro", "danza", "cine", "exposiciones", "conferencias", "talleres", "infantil", "fiestas",
              "deporte", "literatura", "itinerarios", "calle", "otros")  # fmt: skip
AUDIENCES = ("infantil", "familias", "jovenes", "adultos", "mayores", "todos")
RADII = (500, 1000, 1500, 2000, 3000, 5000)
KINDS = ("work", "leisure")


def streamed(ctx: PageContext, path: str) -> flask.Response:
    """A calendar file the API serves, passed on with its type and its own name."""
    answer = ctx.ports.api.download(path, ctx.me.access_token, ctx.traceparent)
    headers = {k: v for k, v in answer.headers.items() if k in ("Content-Type", "Content-Disposition")}
    return flask.Response(answer.content, status=200, headers=headers)


def _said(ctx: PageContext, problem: ApiProblem) -> str:
    return i18n.translate_or(ctx.lang, f"problem.{problem.slug}", problem.detail)


def _query(ctx: PageContext) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """The filters the form sent (kept to show them again), and the API's query parameters; field errors."""
    args = ctx.request.args
    values = {k: args.get(k, "").strip() for k in ("from", "to", "category", "audience", "free")}
    errors: dict[str, str] = {}
    for name in ("from", "to"):
        if values[name]:
            try:
                date.fromisoformat(values[name])
            except ValueError:
                errors[name] = ctx.t("agenda.date_invalid")
    if values["category"] and values["category"] not in CATEGORIES:
        errors["category"] = ctx.t("agenda.choose_valid")
    if values["audience"] and values["audience"] not in AUDIENCES:
        errors["audience"] = ctx.t("agenda.choose_valid")
    params = {k: v for k, v in values.items() if v and k not in errors}
    if params.get("free") not in (None, "true"):
        params.pop("free")
    return values, params, errors


def agenda_page(ctx: PageContext) -> flask.Response:
    """The events near each of the person's zones, grouped by zone, with the filters; the saved events below."""
    values, params, errors = _query(ctx)
    answer: dict[str, Any] = {"groups": []}
    if errors:
        errors["form"] = ctx.t("agenda.fix_filters")
    else:
        try:
            answer = ctx.api("GET", ctx.citizen_path("/agenda"), params=params)
        except ApiProblem as problem:
            if problem.status != 422:
                raise
            errors = {"form": _said(ctx, problem)}
    saved = ctx.api("GET", ctx.citizen_path("/agenda/saved"))
    status = 422 if errors else 200
    return render(ctx, "agenda/agenda.html", status, groups=answer.get("groups", []), values=values, errors=errors,
                  categories=CATEGORIES, audiences=AUDIENCES, saved=saved.get("events", []),
                  done=ctx.request.args.get("done"))  # fmt: skip


def event_page(
    ctx: PageContext, event_id: str, errors: dict[str, str] | None = None, status: int = 200
) -> flask.Response:
    if not EVENT_ID.match(event_id):
        return redirect("/app/agenda")
    event = ctx.api("GET", f"/v1/agenda/events/{event_id}")
    saved = {e["id"] for e in ctx.api("GET", ctx.citizen_path("/agenda/saved")).get("events", [])}
    return render(ctx, "agenda/event.html", status, event=event, saved=event_id in saved, errors=errors or {},
                  done=ctx.request.args.get("done") if status == 200 else None)  # fmt: skip


def save_event(ctx: PageContext, event_id: str) -> flask.Response:
    """Save the event to the personal agenda, or take it out (``saved=no``)."""
    if not EVENT_ID.match(event_id):
        return redirect("/app/agenda")
    keep = ctx.request.form.get("saved", "yes") != "no"
    try:
        ctx.api("PUT" if keep else "DELETE", ctx.citizen_path(f"/agenda/saved/{event_id}"))
    except ApiProblem as problem:
        if problem.status not in (404, 409, 422):
            raise
        return event_page(ctx, event_id, {"form": _said(ctx, problem)}, problem.status)
    return redirect(f"/app/agenda/events/{event_id}?done={'agenda-saved' if keep else 'agenda-unsaved'}")


def event_ical(ctx: PageContext, event_id: str) -> flask.Response:
    if not EVENT_ID.match(event_id):
        return redirect("/app/agenda")
    return streamed(ctx, f"/v1/agenda/events/{event_id}/ical")


def saved_ical(ctx: PageContext) -> flask.Response:
    return streamed(ctx, ctx.citizen_path("/agenda/saved/ical"))


def _barrios() -> list[dict[str, str]]:
    return [{"code": b.code, "name": f"{b.name} ({b.district_name})"} for b in madrid_geo.barrios()]


def zones_page(ctx: PageContext, errors: dict[str, str] | None = None, status: int = 200,
               values: dict[str, str] | None = None, consent_needed: bool = False) -> flask.Response:  # fmt: skip
    """The person's zones: home (from the Padrón), and work and leisure chosen by barrio."""
    zones = ctx.api("GET", ctx.citizen_path("/agenda/zones"))
    chosen = {z["kind"]: z for z in zones.get("zones", []) if z["kind"] in KINDS}
    values = values or {
        **{f"{k}_barrio": str(chosen[k]["barrio"] or "") for k in chosen},
        **{f"{k}_radius": str(chosen[k]["radius_m"]) for k in chosen},
    }
    return render(ctx, "agenda/zones.html", status, zones=zones, values=values, errors=errors or {}, barrios=_barrios(),
                  radii=RADII, kinds=KINDS, done=ctx.request.args.get("done") if status == 200 else None,
                  consent_needed=consent_needed)  # fmt: skip


def save_zones(ctx: PageContext) -> flask.Response:
    form = ctx.request.form
    values = {k: form.get(k, "").strip() for k in ("work_barrio", "work_radius", "leisure_barrio", "leisure_radius")}
    errors: dict[str, str] = {}
    chosen: list[dict[str, Any]] = []
    for kind in KINDS:
        barrio, radius = values[f"{kind}_barrio"], values[f"{kind}_radius"] or "1500"
        if not barrio:
            continue
        if not BARRIO.match(barrio):
            errors[f"{kind}_barrio"] = ctx.t("agenda.choose_valid")
        elif not radius.isdigit() or int(radius) not in RADII:
            errors[f"{kind}_radius"] = ctx.t("agenda.choose_valid")
        else:
            chosen.append({"kind": kind, "barrio": barrio, "radius_m": int(radius)})
    revision = form.get("revision", "")
    if not revision.isdigit():
        errors["form"] = ctx.t("agenda.reload")
    if errors:
        return zones_page(ctx, errors, 422, values)
    try:
        ctx.api("PUT", ctx.citizen_path("/agenda/zones"), {"revision": int(revision), "zones": chosen})
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        needed = problem.slug == "location-consent-required"
        return zones_page(ctx, {"form": _said(ctx, problem)}, problem.status, values, needed)
    return redirect("/app/agenda/zones?done=agenda-zones")


PAGES = [
    Page("/app/agenda", "GET", agenda_page, "Events near the person's zones, grouped by zone, with filters",
         app="agenda"),
    Page("/app/agenda/events/<event_id>", "GET", event_page, "One event: save it, download it", app="agenda"),
    Page("/app/agenda/events/<event_id>/save", "POST", save_event, "Save or unsave an event", app="agenda"),
    Page("/app/agenda/events/<event_id>/ical", "GET", event_ical, "One event as an iCalendar file", app="agenda"),
    Page("/app/agenda/saved.ics", "GET", saved_ical, "The personal agenda as an iCalendar file", app="agenda"),
    Page("/app/agenda/zones", "GET", zones_page, "The person's zones: home, work, leisure", app="agenda"),
    Page("/app/agenda/zones", "POST", save_zones, "Choose the work and leisure places", app="agenda"),
]  # fmt: skip
