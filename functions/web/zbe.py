"""The ZBE micro-app of the citizen app and the desk's review screen (issue 18): low-emission zone access
authorisations, through the public API with the person's (or the agent's) own token — no store, no domain import.

- ``/app/zbe``: the person's applications (state, the reasons in their language, validity) and the form to apply
  (plate, zone, category, a note for the reviewer). A granted authorisation points to ``/app/wallet``, where the
  ``zbe`` card is offered. Works without JavaScript (a plain form, 303 after the POST).
- ``/desk/zbe``: the applications awaiting review, for the purpose the agent states (a GET form), each with a form
  to approve or refuse it with a reason.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import flask

from functions.web import i18n
from functions.web.api import ApiProblem
from functions.web.desk import purpose_error
from functions.web.web import Page, PageContext, redirect, render

ZONES = ("distrito-centro", "plaza-eliptica", "madrid")
CATEGORIES = ("residente", "invitado", "comercio", "servicios", "pmr", "garaje")
APPLICATION_ID = re.compile(r"^zbe-[a-f0-9]{20}$")
MAX_PLATE, MAX_NOTE, MAX_REASON = 16, 500, 300
# the API's refusals a person can act on, shown by the field they concern
FIELD_OF_PROBLEM = {"zbe-invalid-plate": "plate", "zbe-vehicle-unknown": "plate", "zbe-application-exists": "form"}


def _said(ctx: PageContext, problem: ApiProblem) -> str:
    return i18n.translate_or(ctx.lang, f"zbe.problem.{problem.slug}", problem.detail)


def zbe_page(
    ctx: PageContext, errors: dict[str, str] | None = None, values: dict[str, str] | None = None, status: int = 200
) -> flask.Response:
    """The person's applications, newest first, and the form to apply."""
    apps = ctx.api("GET", ctx.citizen_path("/zbe/applications")).get("applications", [])
    done = ctx.request.args.get("done") if status == 200 else None
    return render(ctx, "zbe/applications.html", status, apps=apps, errors=errors or {}, values=values or {},
                  zones=ZONES, categories=CATEGORIES, done=done if done in ("applied",) else None)  # fmt: skip


def apply(ctx: PageContext) -> flask.Response:
    """Apply: the fields checked here for the person's sake, then the API decides (a 422 shown by its field)."""
    form = ctx.request.form
    values = {k: form.get(k, "").strip() for k in ("plate", "zone", "category", "note")}
    errors: dict[str, str] = {}
    if not values["plate"] or len(values["plate"]) > MAX_PLATE:
        errors["plate"] = ctx.t("zbe.plate_required")
    if values["zone"] not in ZONES:
        errors["zone"] = ctx.t("zbe.zone_required")
    if values["category"] not in CATEGORIES:
        errors["category"] = ctx.t("zbe.category_required")
    if len(values["note"]) > MAX_NOTE:
        errors["note"] = ctx.t("zbe.note_too_long", max=MAX_NOTE)
    if errors:
        return zbe_page(ctx, errors, values, 422)
    body: dict[str, Any] = {k: values[k] for k in ("plate", "zone", "category")}
    if values["note"]:
        body["note"] = values["note"]
    try:
        made = ctx.api("POST", ctx.citizen_path("/zbe/applications"), body)
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        field = FIELD_OF_PROBLEM.get(problem.slug, "form")
        found = {k: v for k, v in problem.field_errors().items() if k in values}
        return zbe_page(ctx, found or {field: _said(ctx, problem)}, values, problem.status)
    return redirect(f"/app/zbe?done=applied#app-{made['id']}")


# ---- the desk ----------------------------------------------------------------------------------------


def desk_queue(ctx: PageContext, errors: dict[str, str] | None = None, status: int = 200) -> flask.Response:
    """The review queue for the purpose stated (asked first: no purpose, no queue)."""
    source = ctx.request.form if ctx.request.method == "POST" else ctx.request.args
    purpose = source.get("purpose", "").strip()
    errors = dict(errors or {})
    apps: list[dict[str, Any]] | None = None
    wrong = purpose_error(ctx, purpose) if purpose else None
    if wrong:
        errors["purpose"] = wrong
    elif purpose:
        apps = ctx.api("GET", "/v1/zbe/review-queue", purpose=purpose).get("applications", [])
    done = ctx.request.args.get("done") if status == 200 else None
    return render(ctx, "zbe/desk.html", status, apps=apps, errors=errors, values={"purpose": purpose},
                  done=done if done in ("approve", "refuse") else None)  # fmt: skip


def desk_decide(ctx: PageContext, application_id: str) -> flask.Response:
    """Approve or refuse one application with a reason, for the purpose stated; back to the queue."""
    if not APPLICATION_ID.match(application_id):
        return desk_queue(ctx, {"form": ctx.t("zbe.desk.unknown")}, 422)
    form = ctx.request.form
    purpose, decision, reason = (
        form.get("purpose", "").strip(),
        form.get("decision", ""),
        form.get("reason", "").strip(),
    )
    key = f"app-{application_id}"
    if wrong := purpose_error(ctx, purpose):
        return desk_queue(ctx, {"purpose": wrong}, 422)
    if decision not in ("approve", "refuse"):
        return desk_queue(ctx, {key: ctx.t("zbe.desk.decision_required")}, 422)
    if not 3 <= len(reason) <= MAX_REASON:
        return desk_queue(ctx, {key: ctx.t("zbe.desk.reason_required", max=MAX_REASON)}, 422)
    try:
        ctx.api("POST", f"/v1/zbe/applications/{application_id}/decision", {"decision": decision, "reason": reason},
                purpose=purpose)  # fmt: skip
    except ApiProblem as problem:
        if problem.status not in (404, 409, 422):
            raise
        return desk_queue(ctx, {key: _said(ctx, problem)}, problem.status)
    return redirect(f"/desk/zbe?purpose={quote(purpose, safe='')}&done={decision}")


PAGES = [
    Page("/app/zbe", "GET", zbe_page, "The person's ZBE applications and the form to apply", app="zbe"),
    Page("/app/zbe", "POST", apply, "Apply for a ZBE access authorisation", app="zbe"),
    Page("/desk/zbe", "GET", desk_queue, "ZBE applications awaiting review, for the purpose stated", "agent"),
    Page("/desk/zbe/<application_id>", "POST", desk_decide, "Approve or refuse a ZBE application", "agent"),
]
