"""Cases (CASE) on the channels: the citizen's "My cases" micro-app and the agents' queue and case view.

Every page is the public API with the person's own token (no store, no domain import): the citizen reads their
cases and their public history, adds information, reopens within the window and rates the attention; the agent
sets presence and queues, takes the next case, and works a case — reply or note, state, escalation, merge, link
— each call stating the case as its purpose (the case id counts as the purpose, and is in the citizen's access
log). A refusal of the API shows on the form it came from (``problem.<slug>`` in both languages).
"""

from __future__ import annotations

import re
from typing import Any

import flask

from functions.core.clock import MADRID
from functions.core.errors import NotFoundError
from functions.web import i18n
from functions.web.api import ApiProblem
from functions.web.web import Page, PageContext, redirect, render

CASE_ID = re.compile(r"^case-[0-9a-f]{24}$")
QUEUE = re.compile(r"^[a-z][a-z0-9-]{1,47}-l[123]$")
DONE = ("added", "reopened", "rated", "replied", "moved", "escalated", "merged", "linked", "presence")
STATES = ("open", "waiting-on-citizen", "waiting-on-area", "resolved", "closed")


def _case_id(case_id: str) -> str:
    if not CASE_ID.match(case_id):
        raise NotFoundError(f"no case {case_id[:80]!r}")
    return case_id


def _done(ctx: PageContext) -> str:
    done = ctx.request.args.get("done", "")
    return done if done in DONE else ""


def _refusal(ctx: PageContext, problem: ApiProblem) -> str:
    return i18n.translate_or(ctx.lang, f"problem.{problem.slug}", problem.detail)


def _text(ctx: PageContext, name: str, limit: int = 4000) -> str:
    return ctx.request.form.get(name, "").strip()[:limit]


# ---- the citizen: my cases ---------------------------------------------------------------------------------------


def my_cases(ctx: PageContext) -> flask.Response:
    """The person's cases, newest first: reference, subject, area and state."""
    cases = ctx.api("GET", ctx.citizen_path("/cases"))["cases"]
    return render(ctx, "cases.html", cases=cases)


def my_case(ctx: PageContext, case_id: str, errors: dict[str, str] | None = None, status: int = 200) -> flask.Response:
    """One case: its state, what happened (the public history), its links, and what the person may still do."""
    case = ctx.api("GET", f"/v1/cases/{_case_id(case_id)}")
    return render(ctx, "case.html", status, case=case, errors=errors or {}, done=_done(ctx))


def _act(ctx: PageContext, case_id: str, path: str, body: dict[str, Any], done: str, field: str) -> flask.Response:
    """One action on a case through the API (an agent's with the case as purpose), then back to the case's page
    with ``done``; a refusal is shown on the field it concerns."""
    desk = ctx.request.path.startswith("/desk/")
    try:
        ctx.api("POST", f"/v1/cases/{_case_id(case_id)}/{path}", body, purpose=case_id if desk else "")
    except ApiProblem as problem:
        if problem.status not in (403, 404, 409, 422):
            raise
        page = desk_case if desk else my_case
        return page(ctx, case_id, {field: _refusal(ctx, problem)}, problem.status)
    return redirect(f"{'/desk' if desk else '/app'}/cases/{case_id}?done={done}")


def add_information(ctx: PageContext, case_id: str) -> flask.Response:
    text = _text(ctx, "text")
    if not text:
        return my_case(ctx, case_id, {"text": ctx.t("cases.text_missing")}, 422)
    return _act(ctx, case_id, "messages", {"text": text}, "added", "text")


def reopen(ctx: PageContext, case_id: str) -> flask.Response:
    reason = _text(ctx, "reason", 2000)
    if len(reason) < 3:
        return my_case(ctx, case_id, {"reason": ctx.t("cases.reason_missing")}, 422)
    return _act(ctx, case_id, "reopen", {"reason": reason}, "reopened", "reason")


def rate(ctx: PageContext, case_id: str) -> flask.Response:
    score = ctx.request.form.get("score", "")
    if score not in ("1", "2", "3", "4", "5"):
        return my_case(ctx, case_id, {"score": ctx.t("cases.score_missing")}, 422)
    body = {"score": int(score), "comment": _text(ctx, "comment", 1000)}
    return _act(ctx, case_id, "rating", body, "rated", "score")


# ---- the agent: my queue and the case view -------------------------------------------------------------------------


def desk_queue(ctx: PageContext, errors: dict[str, str] | None = None, status: int = 200) -> flask.Response:
    """The agent's presence, capacity and queues, their open cases and the head of each queue with its clocks."""
    desk = ctx.api("GET", "/v1/agents/me/queue")
    return render(ctx, "desk/cases.html", status, desk=desk, errors=errors or {}, done=_done(ctx))


def set_presence(ctx: PageContext) -> flask.Response:
    form = ctx.request.form
    presence = form.get("presence", "")
    queues = [q for q in re.split(r"[\s,]+", form.get("queues", "")) if q][:30]
    errors: dict[str, str] = {}
    if presence not in ("online", "busy", "away", "offline"):
        errors["presence"] = ctx.t("desk.cases.presence_missing")
    if not form.get("capacity", "").isdigit() or not 0 <= int(form["capacity"]) <= 50:
        errors["capacity"] = ctx.t("desk.cases.capacity_invalid")
    if any(not QUEUE.match(q) for q in queues):
        errors["queues"] = ctx.t("desk.cases.queues_invalid")
    if errors:
        return desk_queue(ctx, errors, 422)
    try:
        ctx.api("PUT", "/v1/agents/me", {"presence": presence, "capacity": int(form["capacity"]), "queues": queues})
    except ApiProblem as problem:
        if problem.status not in (403, 422):
            raise
        return desk_queue(ctx, {"queues": _refusal(ctx, problem)}, problem.status)
    return redirect("/desk/cases?done=presence")


def take_next(ctx: PageContext) -> flask.Response:
    """Pull the most urgent case of my queues and open it."""
    try:
        taken = ctx.api("POST", "/v1/agents/me/next")
    except ApiProblem as problem:
        if problem.status != 404:
            raise
        return desk_queue(ctx, {"next": _refusal(ctx, problem)}, 404)
    return redirect(f"/desk/cases/{taken['id']}")


def desk_case(
    ctx: PageContext, case_id: str, errors: dict[str, str] | None = None, status: int = 200
) -> flask.Response:
    """The case as the agent may see it (its purpose: the case itself): history with notes, SLA clocks, the
    transcript, and the forms to work it; a case above the agent's level or area shows its summary only."""
    case = ctx.api("GET", f"/v1/cases/{_case_id(case_id)}", purpose=case_id)
    return render(ctx, "desk/case.html", status, case=case, errors=errors or {}, done=_done(ctx), states=STATES)


def desk_reply(ctx: PageContext, case_id: str) -> flask.Response:
    text = _text(ctx, "text")
    if not text:
        return desk_case(ctx, case_id, {"text": ctx.t("cases.text_missing")}, 422)
    internal = ctx.request.form.get("internal") == "yes"
    return _act(ctx, case_id, "messages", {"text": text, "internal": internal}, "replied", "text")


def desk_move(ctx: PageContext, case_id: str) -> flask.Response:
    state = ctx.request.form.get("state", "")
    if state not in STATES:
        return desk_case(ctx, case_id, {"state": ctx.t("desk.cases.state_missing")}, 422)
    return _act(ctx, case_id, "state", {"state": state, "reason": _text(ctx, "reason", 2000)}, "moved", "state")


def desk_escalate(ctx: PageContext, case_id: str) -> flask.Response:
    level, reason = ctx.request.form.get("level", ""), _text(ctx, "escalation_reason", 2000)
    errors = {}
    if level not in ("2", "3"):
        errors["level"] = ctx.t("desk.cases.level_missing")
    if len(reason) < 3:
        errors["escalation_reason"] = ctx.t("cases.reason_missing")
    if errors:
        return desk_case(ctx, case_id, errors, 422)
    return _act(ctx, case_id, "escalation", {"level": int(level), "reason": reason}, "escalated", "level")


def desk_merge(ctx: PageContext, case_id: str) -> flask.Response:
    into, reason = ctx.request.form.get("into", "").strip(), _text(ctx, "merge_reason", 2000)
    if not CASE_ID.match(into) or len(reason) < 3:
        return desk_case(ctx, case_id, {"into": ctx.t("desk.cases.merge_invalid")}, 422)
    return _act(ctx, case_id, "merge", {"into": into, "reason": reason}, "merged", "into")


def desk_link(ctx: PageContext, case_id: str) -> flask.Response:
    other, kind = ctx.request.form.get("other", "").strip(), ctx.request.form.get("kind", "")
    if not CASE_ID.match(other) or kind not in ("child", "related"):
        return desk_case(ctx, case_id, {"other": ctx.t("desk.cases.link_invalid")}, 422)
    return _act(ctx, case_id, "links", {"case_id": other, "kind": kind}, "linked", "other")


# ---- the SLA report ------------------------------------------------------------------------------------------------

MONTH = re.compile(r"^20[0-9]{2}-(0[1-9]|1[0-2])$")
BY = ("agent", "queue", "area", "level")


def _report_query(ctx: PageContext) -> tuple[str, str]:
    month = ctx.request.args.get("month", "") or ctx.now.astimezone(MADRID).strftime("%Y-%m")
    by = ctx.request.args.get("by", "agent")
    if not MONTH.match(month) or by not in BY:
        raise NotFoundError("no such report: month YYYY-MM, by agent, queue, area or level")
    return month, by


def sla_report(ctx: PageContext) -> flask.Response:
    """% SLA met per agent, queue, area or level for a month: the table, its plot and the CSV to download."""
    month, by = _report_query(ctx)
    found = ctx.api("GET", "/v1/case-reports/sla", params={"month": month, "by": by})
    return render(ctx, "desk/report.html", report=found, month=month, by=by, choices=BY)


def sla_report_file(ctx: PageContext, fmt: str) -> flask.Response:
    """The report's plot (SVG) or CSV, streamed from the API with its type and name."""
    if fmt not in ("svg", "csv"):
        raise NotFoundError(f"no report format {fmt[:8]!r}")
    month, by = _report_query(ctx)
    path = f"/v1/case-reports/sla?month={month}&by={by}&format={fmt}&language={ctx.lang}"
    answer = ctx.ports.api.download(path, ctx.me.access_token, ctx.traceparent)
    headers = {k: v for k, v in answer.headers.items() if k in ("Content-Type", "Content-Disposition")}
    return flask.Response(answer.content, status=200, headers=headers)


PAGES = [
    Page("/app/cases", "GET", my_cases, "My cases: reference, subject, area and state", app="cases"),
    Page("/app/cases/<case_id>", "GET", my_case, "One of my cases: its state and history", app="cases"),
    Page("/app/cases/<case_id>/messages", "POST", add_information, "Add information to my case", app="cases"),
    Page("/app/cases/<case_id>/reopen", "POST", reopen, "Reopen my resolved case", app="cases"),
    Page("/app/cases/<case_id>/rating", "POST", rate, "Rate the attention of my case", app="cases"),
    Page("/desk/cases", "GET", desk_queue, "My queues, presence and open cases", "agent"),
    Page("/desk/cases/presence", "POST", set_presence, "Set my presence, capacity and queues", "agent"),
    Page("/desk/cases/next", "POST", take_next, "Take the most urgent case of my queues", "agent"),
    Page("/desk/cases/report", "GET", sla_report, "The SLA report: % met per agent, queue, area, level", "agent"),
    Page("/desk/cases/report.<fmt>", "GET", sla_report_file, "The SLA report's plot (SVG) or CSV", "agent"),
    Page("/desk/cases/<case_id>", "GET", desk_case, "A case: history, SLA clocks, and working it", "agent"),
    Page("/desk/cases/<case_id>/messages", "POST", desk_reply, "Reply to the citizen or write a note", "agent"),
    Page("/desk/cases/<case_id>/state", "POST", desk_move, "Move the case to another state", "agent"),
    Page("/desk/cases/<case_id>/escalation", "POST", desk_escalate, "Escalate the case", "agent"),
    Page("/desk/cases/<case_id>/merge", "POST", desk_merge, "Merge the case into another", "agent"),
    Page("/desk/cases/<case_id>/links", "POST", desk_link, "Link the case to another", "agent"),
]
