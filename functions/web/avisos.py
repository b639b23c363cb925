"""The Avisos micro-app of the citizen app (issue 18): report a problem on the street, see whether someone reported
it already, follow its status, say "me too", add a photo, reopen it if it was not fixed.

The pages read and write through the public API with the citizen's token, like every micro-app: the service list is
Open311's (``/open311/v2/services.json``), the duplicate suggestions ``/v1/incidents/suggestions`` (asked before a
new report is sent: a near open report of the same service is offered as "me too" first), the report
``POST /v1/incidents`` and the person's reports ``/v1/citizens/{id}/incidents``. No JavaScript is needed: the point
is typed (or filled by the form's own fields); a photo is a plain file upload.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import flask

from functions.web import i18n
from functions.web.api import ApiProblem
from functions.web.web import Page, PageContext, redirect, render

INCIDENT_ID = re.compile(r"^AV-[0-9]{4}-[0-9A-F]{8}$")
SERVICE = re.compile(r"^[a-z][a-z0-9-]{1,47}$")
PHOTO_FORM_BYTES = 9 * 1024 * 1024  # a phone's photo (the API refuses over 8 MB) and the form around it


def _services(ctx: PageContext) -> list[dict[str, Any]]:
    found = ctx.api("GET", "/open311/v2/services.json", params={"locale": ctx.lang})
    return [s for s in found if isinstance(s, dict)] if isinstance(found, list) else []


def _definition(ctx: PageContext, code: str) -> dict[str, Any]:
    found = ctx.api("GET", f"/open311/v2/services/{code}.json", params={"locale": ctx.lang})
    return found if isinstance(found, dict) else {"attributes": []}


def _mine(ctx: PageContext) -> list[dict[str, Any]]:
    found = ctx.api("GET", ctx.citizen_path("/incidents"))
    return [i for i in found.get("incidents", []) if isinstance(i, dict)] if isinstance(found, dict) else []


def _said(ctx: PageContext, problem: ApiProblem) -> str:
    return i18n.translate_or(ctx.lang, f"problem.{problem.slug}", problem.detail)


def home(ctx: PageContext) -> flask.Response:
    """The person's reports (made or followed) and the services to report a new one."""
    done = ctx.request.args.get("done")
    return render(ctx, "avisos/home.html", incidents=_mine(ctx), services=_services(ctx), done=done)


def _form_values(form: Any) -> dict[str, str]:
    keys = ("service_code", "lat", "long", "address_string", "description")
    values = {k: str(form.get(k, "")).strip() for k in keys}
    values.update({k: str(v).strip() for k, v in form.items() if k.startswith("attribute-")})
    return values


def new_page(ctx: PageContext, values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
             suggestions: list[dict[str, Any]] | None = None, status: int = 200) -> flask.Response:  # fmt: skip
    """The report's form for one service: where (a point), what, and the service's own questions."""
    values = values or {"service_code": ctx.request.args.get("service", "")}
    code = values.get("service_code", "")
    names = {s["service_code"]: s.get("service_name", code) for s in _services(ctx)}
    if not SERVICE.match(code) or code not in names:  # only a service of the list (Open311 answers its own errors)
        return redirect("/app/avisos")
    definition = _definition(ctx, code)
    return render(ctx, "avisos/new.html", status, values=values, errors=errors or {},
                  service_name=names.get(code, code), attributes=definition.get("attributes", []),
                  suggestions=suggestions)  # fmt: skip


def new_form(ctx: PageContext) -> flask.Response:
    return new_page(ctx)


def detail_page(ctx: PageContext, incident_id: str) -> flask.Response:
    return detail(ctx, incident_id)


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return None


def send_report(ctx: PageContext) -> flask.Response:
    """Check the point, offer the open reports of the same service nearby ("me too") unless the person already
    saw them and chose to send a new one, then send it."""
    values = _form_values(ctx.request.form)
    lat, lon = _number(values["lat"]), _number(values["long"])
    errors = {name: ctx.t("avisos.number_invalid") for name, v in (("lat", lat), ("long", lon)) if v is None}
    if errors:
        return new_page(ctx, values, errors, status=422)
    if ctx.request.form.get("confirm") != "new":
        near = ctx.api("GET", "/v1/incidents/suggestions", params={"service_code": values["service_code"],
                                                                   "lat": str(lat), "long": str(lon)})  # fmt: skip
        found = near.get("suggestions", []) if isinstance(near, dict) else []
        if found:
            return new_page(ctx, values, suggestions=found)
    attributes = {k.removeprefix("attribute-"): v for k, v in values.items() if k.startswith("attribute-") and v}
    body = {"service_code": values["service_code"], "lat": lat, "long": lon, "address_string": values["address_string"],
            "description": values["description"], "attributes": attributes}  # fmt: skip
    try:
        made = ctx.api("POST", "/v1/incidents", body)
    except ApiProblem as problem:
        if problem.status not in (404, 422):
            raise
        field = _field_of(problem)
        return new_page(ctx, values, {field: _said(ctx, problem)}, status=422)
    return redirect(f"/app/avisos/{made['service_request_id']}?done=avisos-reported")


def _field_of(problem: ApiProblem) -> str:
    """The form's field a problem names (``lat``, ``attribute[x]`` → ``attribute-x``), else the whole form."""
    errors = problem.errors
    if errors and isinstance(errors[0], dict):
        name = str(errors[0].get("field", ""))
        match = re.match(r"^attribute\[(.+)\]$", name) or re.match(r"^attributes\.(.+)$", name)
        if match:
            return f"attribute-{match.group(1)}"
        if name in ("lat", "long", "description", "address_string"):
            return name
    return "form"


def detail(ctx: PageContext, incident_id: str, errors: dict[str, str] | None = None,
           status: int = 200) -> flask.Response:  # fmt: skip
    """A report: its stage and their history, the estimated date, "me too" count and photos; the person's actions."""
    if not INCIDENT_ID.match(incident_id):
        return redirect("/app/avisos")
    incident = ctx.api("GET", f"/v1/incidents/{incident_id}", params={"locale": ctx.lang})
    role = next((i.get("role") for i in _mine(ctx) if i.get("service_request_id") == incident_id), None)
    done = ctx.request.args.get("done") if status == 200 else None
    return render(ctx, "avisos/detail.html", status, incident=incident, role=role, errors=errors or {}, done=done,
                  api_url=ctx.ports.settings.api_url)  # fmt: skip


def _act(ctx: PageContext, incident_id: str, path: str, body: Any, done: str, field: str) -> flask.Response:
    if not INCIDENT_ID.match(incident_id):
        return redirect("/app/avisos")
    try:
        ctx.api("POST", f"/v1/incidents/{incident_id}/{path}", body)
    except ApiProblem as problem:
        if problem.status not in (404, 409, 413, 422):
            raise
        return detail(ctx, incident_id, {field: _said(ctx, problem)}, 422 if problem.status == 413 else problem.status)
    return redirect(f"/app/avisos/{incident_id}?done={done}")


def me_too(ctx: PageContext, incident_id: str) -> flask.Response:
    return _act(ctx, incident_id, "me-too", {}, "avisos-me-too", "me-too")


def reopen(ctx: PageContext, incident_id: str) -> flask.Response:
    note = ctx.request.form.get("note", "").strip()
    if not 3 <= len(note) <= 1000:
        return detail(ctx, incident_id, {"note": ctx.t("avisos.note_invalid")}, 422)
    return _act(ctx, incident_id, "reopen", {"note": note}, "avisos-reopened", "note")


def add_photo(ctx: PageContext, incident_id: str) -> flask.Response:
    """A photo of the person's own report: the file as sent (the API checks it by its content), its location kept
    only if the person ticks it."""
    upload = ctx.request.files.get("photo")
    raw = upload.read() if upload else b""
    if not raw:
        return detail(ctx, incident_id, {"photo": ctx.t("avisos.photo_missing")}, 422)
    body = {"image_base64": base64.b64encode(raw).decode("ascii"),
            "keep_location": ctx.request.form.get("keep_location") == "yes"}  # fmt: skip
    return _act(ctx, incident_id, "photos", body, "avisos-photo", "photo")


PAGES = [
    Page("/app/avisos", "GET", home, "The person's reports and the services to report", app="avisos"),
    Page("/app/avisos/new", "GET", new_form, "A new report's form for one service", app="avisos"),
    Page("/app/avisos/new", "POST", send_report, "Send a report (the near ones offered first)", app="avisos"),
    Page("/app/avisos/<incident_id>", "GET", detail_page, "A report: its stages, estimated date, me too and photos",
         app="avisos"),
    Page("/app/avisos/<incident_id>/me-too", "POST", me_too, "Me too on an open report", app="avisos"),
    Page("/app/avisos/<incident_id>/reopen", "POST", reopen, "Reopen one's resolved report", app="avisos"),
    Page("/app/avisos/<incident_id>/photos", "POST", add_photo, "Add a photo to one's report", app="avisos",
         max_form_bytes=PHOTO_FORM_BYTES),
]  # fmt: skip
