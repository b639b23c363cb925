"""The agent desktop (issue 13): server-rendered pages at ``/desk/...`` for attention levels 1 to 3.

Same function and page kernel as the citizen app (ADR 0019): the agent signs in through the same OpenID
Connect client (``login_hint=agent``; the council's IdP asserts ``role``, ``level`` and ``area``), every read
and write goes through the public API with the agent's token, and the policies decide what the agent sees
exactly as they do for any API client. What the desk adds is the agent's duty (RGPD art. 5.1.b, 5.2): no
citizen is searched or opened without a stated purpose (a case, an appointment, the call being attended),
kept in the session while the attention lasts and sent as ``Access-Purpose`` on every call, so the
citizen's access log names the agent and the purpose. Ending the attention forgets it.

The 360 view is a list of ``Panel`` s, each one API read that may be refused on its own (the policy's
reason is shown in its place): the attention platform (issue 15) adds its cases and queues as panels and
navigation entries here, without touching the others.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any
from urllib.parse import quote

import flask

from functions.core.audit import MAX_PURPOSE, PURPOSE_PATTERN
from functions.core.errors import NotFoundError
from functions.web import i18n, rights_form
from functions.web.api import ApiProblem
from functions.web.service import PurposeRequiredError
from functions.web.web import Page, PageContext, redirect, render, side_by_side

DOCUMENT_TYPES = ("DNI", "NIE", "PASSPORT")
SEARCH_KINDS = ("document", "name", "phone", "email")
REVIEW_PURPOSE = "C360 review queue"  # the queue's own purpose: deciding possible duplicates (RGPD art. 5.1.d)
CITIZEN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
LIST_LIMIT = "10"


def purpose_error(ctx: PageContext, purpose: str) -> str | None:
    """The purpose a reference or a few words (the API's own rule, checked here to show it by the field)."""
    if not purpose:
        return ctx.t("desk.purpose_required")
    if len(purpose) > MAX_PURPOSE or not re.match(PURPOSE_PATTERN, purpose):
        return ctx.t("desk.purpose_invalid")
    return None


def _citizen(citizen_id: str) -> str:
    if not CITIZEN_ID.match(citizen_id):
        raise ApiProblem(404, {"title": "No such citizen"})
    return quote(citizen_id, safe="")


def _problem_errors(problem: ApiProblem) -> dict[str, str]:
    return problem.field_errors() or {"form": problem.detail}


# ---- home and search ---------------------------------------------------------------------------------------------


def desk_home(ctx: PageContext) -> flask.Response:
    """Signed out (or signed in as a citizen): what the desk is and the agents' sign-in. An agent: the search."""
    session = ctx.session
    if session is not None and session.signed_in and session.live(ctx.now) and session.role == "admin":
        return redirect("/desk/apps")
    if session is None or not session.signed_in or not session.live(ctx.now) or not session.is_agent:
        return render(ctx, "desk/landing.html", wrong_role=bool(session and session.signed_in and not session.is_agent))
    return render(
        ctx, "desk/search.html", errors={}, values={"kind": "document"}, results=None, done=ctx.request.args.get("done")
    )


def _criteria(ctx: PageContext, form: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    """The API's search body for the kind of search chosen; missing or malformed fields into ``errors``."""
    kind = form.get("kind", "")
    if kind == "document":
        number = form.get("document_number", "").strip().upper().replace(" ", "").replace("-", "")
        if form.get("document_type") not in DOCUMENT_TYPES:
            errors["document_type"] = ctx.t("form.invalid_choice")
        if not 5 <= len(number) <= 20 or not number.isalnum():
            errors["document_number"] = ctx.t("desk.document_invalid")
        return {"document": {"type": form.get("document_type", ""), "number": number}}
    if kind == "name":
        name, birth = form.get("name", "").strip(), form.get("birth_date", "").strip()
        if not 1 <= len(name) <= 100:
            errors["name"] = ctx.t("desk.name_required")
        if not DATE.match(birth):
            errors["birth_date"] = ctx.t("desk.date_invalid")
        body = {"name": name, "birth_date": birth}
        if form.get("surname", "").strip():
            body["surname"] = form["surname"].strip()[:100]
        return body
    if kind in ("phone", "email"):
        value = form.get(kind, "").strip()
        if not 3 <= len(value) <= 254:
            errors[kind] = ctx.t(f"desk.{kind}_invalid")
        return {kind: value}
    errors["kind"] = ctx.t("form.invalid_choice")
    return {}


def search(ctx: PageContext) -> flask.Response:
    """Find a citizen (``POST /v1/citizen-search``: no personal data in URLs) for the purpose stated; each
    match found is in that citizen's access log under this agent and purpose."""
    form = {k: v for k, v in ctx.request.form.items() if k != "csrf"}
    purpose = form.get("purpose", "").strip()
    errors: dict[str, str] = {}
    if problem := purpose_error(ctx, purpose):
        errors["purpose"] = problem
    body = _criteria(ctx, form, errors)
    if errors:
        return render(ctx, "desk/search.html", 422, errors=errors, values=form, results=None, done=None)
    try:
        found = ctx.api("POST", "/v1/citizen-search", body, purpose=purpose)
    except ApiProblem as problem:
        if problem.status in (400, 422):
            return render(
                ctx, "desk/search.html", 422, errors=_problem_errors(problem), values=form, results=None, done=None
            )
        raise
    return render(ctx, "desk/search.html", errors={}, values=form, results=found, done=None)


# ---- attending a citizen: the purpose ------------------------------------------------------------------------


def attend(ctx: PageContext, citizen_id: str) -> flask.Response:
    """Open a citizen for a purpose: kept in the session while the attention lasts, sent on every call."""
    _citizen(citizen_id)
    purpose = ctx.request.form.get("purpose", "").strip()
    if problem := purpose_error(ctx, purpose):
        return render(ctx, "desk/purpose.html", 422, errors={"purpose": problem}, citizen_id=citizen_id)
    ctx.session = replace(ctx.me, attending=citizen_id, purpose=purpose)
    ctx.ports.sessions.save(ctx.session)
    return redirect(f"/desk/citizens/{quote(citizen_id, safe='')}")


def end_attention(ctx: PageContext) -> flask.Response:
    """The attention is over: the purpose forgotten, so the next citizen needs a new one."""
    ctx.session = replace(ctx.me, attending="", purpose="")
    ctx.ports.sessions.save(ctx.session)
    return redirect("/desk/?done=ended")


def _purpose_for(ctx: PageContext, citizen_id: str) -> str:
    """The purpose stated for this citizen; none (or stated for another citizen): the purpose form."""
    if ctx.me.attending != citizen_id or not ctx.me.purpose:
        raise PurposeRequiredError(citizen_id)
    return ctx.me.purpose


# ---- the 360 view ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    """One part of the 360 view: an API read for this citizen; a refusal shows the policy's reason."""

    name: str
    read: Callable[[PageContext, str, str], Any]


def _get(path: str, params: dict[str, str] | None = None) -> Callable[[PageContext, str, str], Any]:
    def read(ctx: PageContext, citizen: str, purpose: str) -> Any:
        return ctx.api("GET", f"/v1/citizens/{citizen}{path}", params=params, purpose=purpose)

    return read


PANELS = (
    Panel("record", _get("")),
    Panel("position", _get("/position")),
    Panel("consents", _get("/consents")),
    Panel("consent_history", _get("/consents/history")),
    Panel("interactions", _get("/interactions", {"limit": LIST_LIMIT})),
    Panel("notifications", _get("/notifications", {"limit": LIST_LIMIT})),
    Panel("rgpd", _get("/rgpd-requests")),
    Panel("debts", _get("/debts")),
    Panel("agenda", _get("/agenda/zones")),  # GEO (issue 18): the person's zones and their agenda
    Panel("agenda_saved", _get("/agenda/saved")),
    Panel("zbe", _get("/zbe/applications")),  # ZBE authorisations (issue 18): state, reasons, validity
    Panel("bookings", _get("/bookings")),  # issue 18: sports facilities, classes, cultural activities
    Panel("incidents", _get("/incidents")),  # Avisos (issue 18): the reports the citizen made or follows
)


@dataclass(frozen=True)
class Shown:
    """A panel's answer, or why the agent may not see it (the policy's reason, in its words)."""

    data: Any = None
    refused: str = ""
    status: int = 200


def _read(ctx: PageContext, panel: Panel, citizen: str, purpose: str) -> Shown:
    try:
        return Shown(panel.read(ctx, citizen, purpose))
    except ApiProblem as problem:
        if problem.status in (403, 404, 451):
            return Shown(refused=problem.detail or problem.title, status=problem.status)
        raise


# The 360 view's first HTML reads the golden record and the position; the later panels (each one or two reads, and
# the published terms their forms need) load as fragments once the page is shown (htmx ``hx-trigger="load"``; a
# link to the same fragment as a page without JavaScript). A form sent back with its errors reads them all.
FIRST = ("record", "position")
LATER: dict[str, tuple[str, ...]] = {
    "consents": ("consents", "consent_history", "terms"),
    "interactions": ("interactions",),
    "notifications": ("notifications",),
    "rgpd": ("rgpd", "terms"),
    "debts": ("debts",),
    "agenda": ("agenda", "agenda_saved"),
    "zbe": ("zbe",),
    "bookings": ("bookings",),
    "incidents": ("incidents",),
}


def _read_panels(ctx: PageContext, citizen: str, purpose: str, names: tuple[str, ...]) -> dict[str, Any]:
    """The panels' reads named (and the consent terms, ``terms``), side by side."""
    reads: dict[str, Callable[[], Any]] = {
        panel.name: partial(_read, ctx, panel, citizen, purpose) for panel in PANELS if panel.name in names
    }
    if "terms" in names:
        reads["terms"] = partial(_terms, ctx)
    shown: dict[str, Any] = side_by_side(reads)
    return shown


def _terms(ctx: PageContext) -> dict[str, Any]:
    """The published consent terms in the desk's language: the consent form's purposes, the objectable ones."""
    terms = ctx.ports.api.call(
        "GET", "/v1/consent-terms", ctx.me.access_token, ctx.traceparent, params={"language": ctx.lang}
    )
    return dict(terms)


def citizen_view(ctx: PageContext, citizen_id: str, errors: dict[str, str] | None = None,
                 status: int = 200) -> flask.Response:  # fmt: skip
    """The golden record with its sources and the position as the agent's level and area allow (hidden sections
    with the policy's reasons); consents and their proofs, interactions, notifications sent, data-subject requests
    and debts follow as fragments (``panel_view``). Every read states the purpose."""
    citizen = _citizen(citizen_id)
    purpose = _purpose_for(ctx, citizen_id)
    everything = tuple({*FIRST, *(name for names in LATER.values() for name in names)})
    shown = _read_panels(ctx, citizen, purpose, everything if errors else FIRST)
    if shown["record"].status == 404:
        raise ApiProblem(404, {"title": "No such citizen"})
    return render(ctx, "desk/citizen.html", status, **_panel_context(ctx, citizen_id, purpose, shown, errors),
                  later=tuple(LATER), lazy=() if errors else tuple(LATER))  # fmt: skip


def panel_view(ctx: PageContext, citizen_id: str, panel: str) -> flask.Response:
    """One later panel of the 360 view: the fragment the page loads, or a page of its own without JavaScript."""
    if panel not in LATER:
        raise NotFoundError(f"no panel {panel[:40]!r}")
    citizen = _citizen(citizen_id)
    purpose = _purpose_for(ctx, citizen_id)
    shown = _read_panels(ctx, citizen, purpose, LATER[panel])
    template = "desk/panel.html" if ctx.request.headers.get("HX-Request") else "desk/panel_page.html"
    return render(ctx, template, **_panel_context(ctx, citizen_id, purpose, shown, None), panel=panel)


def _panel_context(
    ctx: PageContext, citizen_id: str, purpose: str, shown: dict[str, Any], errors: dict[str, str] | None
) -> dict[str, Any]:
    terms = shown.pop("terms", {"purposes": [], "channels": []})
    return {
        "citizen_id": citizen_id,
        "purpose": purpose,
        "shown": shown,
        "terms": terms,
        "rights": rights_form.RIGHTS,
        "objectable": rights_form.objectable(terms),
        "errors": errors or {},
        "done": ctx.request.args.get("done"),
        "pay_key": str(uuid.uuid4()),
    }


def record_consent(ctx: PageContext, citizen_id: str, purpose_id: str) -> flask.Response:
    """A consent the citizen signed on paper (or withdrew), recorded on their behalf: the proof names the
    agent and the capture channel ``paper``; the stated purpose (e.g. the form's registry number) is logged."""
    citizen = _citizen(citizen_id)
    purpose = _purpose_for(ctx, citizen_id)
    form = ctx.request.form
    action = form.get("action")
    field = f"consent-{purpose_id}"
    if action not in ("give", "withdraw"):
        return citizen_view(ctx, citizen_id, {field: ctx.t("form.choose_action")}, 422)
    body = {
        "granted": action == "give",
        "channels": form.getlist("channels")[:16],
        "text_version": form.get("text_version") or None,
        "language": form.get("language") if form.get("language") in ("es", "en") else "es",
        "capture_channel": "paper",
    }
    try:
        ctx.api("PUT", f"/v1/citizens/{citizen}/consents/{quote(purpose_id, safe='')}", body, purpose=purpose)
    except ApiProblem as problem:
        if problem.status in (400, 403, 422):
            return citizen_view(ctx, citizen_id, {field: problem.detail or problem.title}, 422)
        raise
    return redirect(f"/desk/citizens/{citizen}?done=consent-{action}#panel-consents")


def phone_payment(ctx: PageContext, citizen_id: str) -> flask.Response:
    """A payment the citizen makes by phone: the agent pays the chosen debts for them (the payment records the
    agent and the purpose) and goes on to the gateway's page, where the citizen's card is entered or a Bizum
    request sent to their phone."""
    citizen = _citizen(citizen_id)
    purpose = _purpose_for(ctx, citizen_id)
    form = ctx.request.form
    debt_ids, method, key = form.getlist("debt")[:20], form.get("method", ""), form.get("key", "")
    if not debt_ids or method not in ("card", "bizum"):
        return citizen_view(ctx, citizen_id, {"debts": ctx.t("pay.choose_one")}, 422)
    body = {"debt_ids": debt_ids, "method": method}
    try:
        payment = ctx.api("POST", "/v1/payments", body, purpose=purpose, idempotency_key=key[:64])
    except ApiProblem as problem:
        if problem.status in (403, 404, 409, 422):
            return citizen_view(ctx, citizen, {"debts": problem.detail or problem.title}, problem.status)
        raise
    return render(ctx, "pay_redirect.html", payment=payment)


INCIDENT_STAGES = ("assigned", "in-progress", "resolved", "rejected")


def move_incident(ctx: PageContext, citizen_id: str, incident_id: str) -> flask.Response:
    """An agent of the area moves one of the citizen's reports to a stage, with its public note (Avisos, issue 18):
    the citizen and whoever said "me too" are told; the purpose stated is sent with it."""
    citizen = _citizen(citizen_id)
    purpose = _purpose_for(ctx, citizen_id)
    form = ctx.request.form
    stage, note = form.get("stage", ""), form.get("note", "").strip()[:1000]
    if stage not in INCIDENT_STAGES or not re.match(r"^AV-[0-9]{4}-[0-9A-F]{8}$", incident_id):
        return citizen_view(ctx, citizen_id, {"incidents": ctx.t("desk.incident_stage_invalid")}, 422)
    try:
        ctx.api("POST", f"/v1/incidents/{incident_id}/stage", {"stage": stage, "note": note}, purpose=purpose)
    except ApiProblem as problem:
        if problem.status in (403, 404, 409, 422):
            said = i18n.translate_or(ctx.lang, f"problem.{problem.slug}", problem.detail or problem.title)
            return citizen_view(ctx, citizen, {"incidents": said}, problem.status)
        raise
    return redirect(f"/desk/citizens/{quote(citizen_id, safe='')}?done=incident-moved#panel-incidents")


def payment_view(ctx: PageContext, payment_id: str) -> flask.Response:
    """Where the gateway sends the agent back: the payment as the notification stored it, read for the citizen
    attended with the purpose stated."""
    if not ctx.me.attending or not ctx.me.purpose:
        raise PurposeRequiredError(ctx.me.attending or "(none)")
    payment = ctx.api("GET", f"/v1/payments/{quote(payment_id, safe='')}", purpose=ctx.me.purpose)
    template = "payment_state.html" if ctx.request.headers.get("HX-Request") else "desk/payment.html"
    return render(ctx, template, payment=payment, citizen_id=ctx.me.attending, payments_path="/desk/payments")


def open_rights_request(ctx: PageContext, citizen_id: str) -> flask.Response:
    """A data-subject request the citizen makes through the agent (RGPD art. 12.2: the controller helps
    the exercise of rights), opened on their behalf with the purpose stated."""
    citizen = _citizen(citizen_id)
    purpose = _purpose_for(ctx, citizen_id)
    terms = _terms(ctx)
    form = ctx.request.form
    body, errors = rights_form.request_body(form, ctx.t, rights_form.objectable(terms), form.getlist("purposes"))
    if body is None:
        return citizen_view(ctx, citizen_id, errors, 422)
    try:
        ctx.api("POST", f"/v1/citizens/{citizen}/rgpd-requests", body, purpose=purpose)
    except ApiProblem as problem:
        if problem.status in (400, 403, 422):
            return citizen_view(ctx, citizen_id, _problem_errors(problem) | {"right": problem.detail}, 422)
        raise
    return redirect(f"/desk/citizens/{citizen}?done=request-opened#panel-rgpd")


# ---- C360's review queue --------------------------------------------------------------------------------------


def reviews(ctx: PageContext) -> flask.Response:
    """Possible duplicates waiting for a person's decision, with the comparisons that scored them."""
    cursor = ctx.request.args.get("cursor", "")
    params = {"status": "open", "limit": "20", **({"cursor": cursor[:512]} if cursor else {})}
    try:
        page = ctx.api("GET", "/v1/citizen-reviews", params=params, purpose=REVIEW_PURPOSE)
    except ApiProblem as problem:
        if problem.status != 403:
            raise
        return render(ctx, "desk/reviews.html", 403, page=None, refused=problem.detail, done=None)
    return render(ctx, "desk/reviews.html", page=page, refused="", done=ctx.request.args.get("done"))


def decide_review(ctx: PageContext, review_id: str) -> flask.Response:
    decision = ctx.request.form.get("decision", "")
    if decision not in ("match", "no-match") or not CITIZEN_ID.match(review_id):
        raise ApiProblem(422, {"title": "Choose match or no match"})
    ctx.api("POST", f"/v1/citizen-reviews/{quote(review_id, safe='')}", {"decision": decision},
            purpose=REVIEW_PURPOSE)  # fmt: skip
    return redirect(f"/desk/reviews?done={decision}")


PAGES = [
    Page("/desk/", "GET", desk_home, "The desk: the agents' sign-in, or the citizen search", "public"),
    Page("/desk/search", "POST", search, "Find a citizen by document, name and birth date, phone or e-mail", "agent"),
    Page("/desk/citizens/<citizen_id>", "GET", citizen_view, "The 360 view of the citizen attended", "agent"),
    Page("/desk/citizens/<citizen_id>/attend", "POST", attend, "State the purpose and open the citizen", "agent"),
    Page("/desk/citizens/<citizen_id>/panels/<panel>", "GET", panel_view, "One panel of the 360 view", "agent"),
    Page(
        "/desk/citizens/<citizen_id>/consents/<purpose_id>",
        "POST",
        record_consent,
        "Record a paper consent form on the citizen's behalf",
        "agent",
    ),
    Page(
        "/desk/citizens/<citizen_id>/rgpd-requests",
        "POST",
        open_rights_request,
        "Open a data-subject request on the citizen's behalf",
        "agent",
    ),
    Page("/desk/citizens/<citizen_id>/payments", "POST", phone_payment, "Pay debts for the citizen by phone", "agent"),
    Page(
        "/desk/citizens/<citizen_id>/incidents/<incident_id>/stage",
        "POST",
        move_incident,
        "Move one of the citizen's reports (Avisos) to a stage",
        "agent",
    ),
    Page(
        "/desk/payments/<payment_id>",
        "GET",
        payment_view,
        "A phone payment's outcome (the gateway's way back)",
        "agent",
    ),
    Page("/desk/attention/end", "POST", end_attention, "End the attention: the purpose forgotten", "agent"),
    Page("/desk/reviews", "GET", reviews, "C360's review queue of possible duplicates", "agent"),
    Page("/desk/reviews/<review_id>", "POST", decide_review, "Decide a possible duplicate", "agent"),
]
