"""Surveys in the channels (issue 16): the citizen answers at ``/app/surveys/<id>?t=<link token>`` (signed in or
not; micro-app ``surveys``), and the desk lists surveys, opens and closes them and shows results with their plot
(``/desk/surveys``).

Everything goes through the public API (no store, no domain import). Conditional questions without JavaScript: the
page shows the questions the answers so far show (the API's ``show_if`` of each, evaluated here for display only;
the API stays the judge). A question that appears because of an answer just given (a low score asks "what went
wrong?") is shown on the page that comes back, with a note, before anything is sent; answers to questions hidden
meanwhile are left out. Plain forms and POST-redirect-GET.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import flask

from functions.core.errors import NotFoundError
from functions.web import i18n, service
from functions.web.api import ApiProblem
from functions.web.desk import purpose_error
from functions.web.web import Page, PageContext, redirect, render, set_session_cookie

SURVEY_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}$")
TOKEN = re.compile(r"^[A-Za-z0-9._-]{20,600}$")
DONE = {"open": "opened", "close": "closed", "create": "created"}


def _check(survey_id: str, token: str) -> None:
    if not SURVEY_ID.match(survey_id) or (token and not TOKEN.match(token)):
        raise NotFoundError("no such survey link")


# ---- pure: which questions the answers show ------------------------------------------------------------------


def _holds(condition: dict[str, Any], answer: Any) -> bool:
    if answer is None or answer in ("", []):
        return False
    given = answer if isinstance(answer, list) else [answer]
    if "equals" in condition:
        return condition["equals"] in given
    if "one_of" in condition:
        return any(v in condition["one_of"] for v in given)
    return isinstance(answer, int) and "at_least" in condition and answer >= condition["at_least"]


def shown(questions: list[dict[str, Any]], answers: dict[str, Any]) -> list[str]:
    """The ids of the questions these answers show, in order (a condition looks at an earlier, shown question)."""
    ids: list[str] = []
    for q in questions:
        cond = q.get("show_if")
        if not cond or (cond.get("question") in ids and _holds(cond, answers.get(cond.get("question")))):
            ids.append(q["id"])
    return ids


def parse_answers(questions: list[dict[str, Any]], form: Any) -> dict[str, Any]:
    """The form's answers as the API takes them: numbers for scales, a list for multiple choice."""
    answers: dict[str, Any] = {}
    for q in questions:
        name = f"q-{q['id']}"
        if q["kind"] == "multiple":
            values = [v for v in form.getlist(name) if v]
            if values:
                answers[q["id"]] = values
            continue
        value = form.get(name, "").strip()
        if not value:
            continue
        if q["kind"] in ("scale", "nps"):
            answers[q["id"]] = int(value) if re.fullmatch(r"-?[0-9]{1,3}", value) else value
        else:
            answers[q["id"]] = value
    return answers


# ---- the citizen's page -----------------------------------------------------------------------------------------


def _token_of(ctx: PageContext) -> str:
    return ctx.session.access_token if ctx.session and ctx.session.signed_in and ctx.session.role == "citizen" else ""


def _ensure_session(ctx: PageContext) -> None:
    """A public form needs a session for its CSRF token."""
    if ctx.session is None or not ctx.session.live(ctx.now):
        ctx.session = service.anonymous(ctx.now, ctx.lang)
        ctx.ports.sessions.save(ctx.session)
        set_session_cookie(ctx, ctx.session)


def _form(ctx: PageContext, survey_id: str, token: str) -> dict[str, Any]:
    params = {"language": ctx.lang, **({"t": token} if token else {})}
    found: dict[str, Any] = ctx.ports.api.call("GET", f"/v1/surveys/{survey_id}/form", _token_of(ctx),
                                               ctx.traceparent, params=params)  # fmt: skip
    return found


def survey_page(
    ctx: PageContext,
    survey_id: str,
    answers: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    appeared: list[str] | None = None,
) -> flask.Response:
    """The survey in the person's language with their answers so far (or those just sent back to them)."""
    token = ctx.request.values.get("t", "")
    _check(survey_id, token)
    _ensure_session(ctx)
    try:
        form = _form(ctx, survey_id, token)
    except ApiProblem as problem:
        if problem.status in (403, 404, 410):
            empty: dict[str, Any] = {"answers": {}, "visible": [], "errors": {}, "appeared": [], "revision": ""}
            refusal = _refusal(ctx, problem)
            return render(ctx, "app/survey.html", problem.status, form=None, refusal=refusal, token=token, done="",
                          **empty)  # fmt: skip
        raise
    current = answers if answers is not None else {q["id"]: q["answer"] for q in form["questions"] if q["answer"]}
    visible = shown(form["questions"], current)
    revision = (form.get("response") or {}).get("revision") or ""
    done = "saved" if ctx.request.args.get("done") == "saved" else ""
    shown_now = {"answers": current, "visible": visible, "errors": errors or {}, "appeared": appeared or []}
    return render(ctx, "app/survey.html", status, form=form, refusal="", token=token, done=done, revision=revision,
                  **shown_now)  # fmt: skip


def _refusal(ctx: PageContext, problem: ApiProblem) -> str:
    return i18n.translate_or(ctx.lang, f"problem.{problem.slug}", problem.detail)


def answer_survey(ctx: PageContext, survey_id: str) -> flask.Response:
    """Send the answers: a question the answers just made appear is shown first; then the API decides."""
    token = ctx.request.form.get("t", "")
    _check(survey_id, token)
    form = _form(ctx, survey_id, token)
    questions = form["questions"]
    answers = parse_answers(questions, ctx.request.form)
    before = set(ctx.request.form.getlist("shown"))
    visible = shown(questions, answers)
    kept = {k: v for k, v in answers.items() if k in visible}
    appeared = [q for q in visible if q not in before]
    if appeared:  # show the new questions before sending (without JavaScript, the page is the step)
        return survey_page(ctx, survey_id, kept, {}, 200, appeared)
    revision = ctx.request.form.get("revision", "")
    body: dict[str, Any] = {"answers": kept, "channel": "web"}
    if revision.isdigit():
        body["revision"] = int(revision)
    try:
        path, key = f"/v1/surveys/{survey_id}/responses", f"survey-{uuid.uuid4().hex}"
        params = {"t": token} if token else None
        ctx.ports.api.call("PUT", path, _token_of(ctx), ctx.traceparent, body=body, params=params, idempotency_key=key)
    except ApiProblem as problem:
        if problem.status not in (403, 404, 409, 410, 422):
            raise
        fields = {k.removeprefix("answers."): v for k, v in _field_errors(problem).items()}
        errors = {f"q-{k}": v for k, v in fields.items() if k in visible} or {"form": _refusal(ctx, problem)}
        return survey_page(ctx, survey_id, kept, errors, problem.status)
    suffix = f"?t={token}&done=saved" if token else "?done=saved"
    return redirect(f"/app/surveys/{survey_id}{suffix}#done")


def _field_errors(problem: ApiProblem) -> dict[str, str]:
    found: dict[str, str] = {}
    for error in problem.errors or []:
        if isinstance(error, dict) and error.get("field"):
            found.setdefault(str(error["field"]), str(error.get("message") or ""))
    return found


# ---- the desk -----------------------------------------------------------------------------------------------------


def desk_surveys(ctx: PageContext) -> flask.Response:
    """Every survey with its state, and the actions its state allows."""
    surveys = ctx.api("GET", "/v1/surveys")["surveys"]
    done = ctx.request.args.get("done", "")
    return render(ctx, "desk/surveys.html", surveys=surveys, done=done if done in DONE.values() else "")


SIMPLE_KINDS = ("csat", "nps")
CAUSES = ("", "case.closed", "payment.succeeded", "office.visit")


def simple_survey(values: dict[str, str]) -> dict[str, Any]:
    """The API's body for a simple survey from the desk's form: a CSAT (a 1-5 scale, then "what went wrong?" after
    a 1 or 2) or an NPS question, its texts in both languages, an optional trigger."""

    def both(name: str) -> dict[str, str]:
        return {"es": values.get(f"{name}_es", ""), "en": values.get(f"{name}_en", "")}

    question: dict[str, Any] = {"id": "score", "text": both("question")}
    question |= {"kind": "scale", "min": 1, "max": 5} if values.get("kind") == "csat" else {"kind": "nps"}
    follow = {
        "id": "why",
        "kind": "text",
        "required": False,
        "max_length": 1000,
        "text": both("why"),
        "show_if": {"question": "score", "one_of": [1, 2] if values.get("kind") == "csat" else list(range(7))},
    }
    body: dict[str, Any] = {"id": values.get("id", ""), "title": both("title"), "mode": values.get("mode", ""),
                            "questions": [question, follow]}  # fmt: skip
    if values.get("trigger"):
        body["triggers"] = [{"on": values["trigger"]}]
    return body


def new_survey(ctx: PageContext, errors: dict[str, str] | None = None, status: int = 200) -> flask.Response:
    values = {k: v for k, v in ctx.request.form.items()} if ctx.request.method == "POST" else {}
    return render(ctx, "desk/survey_new.html", status, errors=errors or {}, values=values, causes=CAUSES)


def create_survey(ctx: PageContext) -> flask.Response:
    """Create the simple survey (a draft); the API's field errors shown at their fields."""
    values = {k: v.strip() for k, v in ctx.request.form.items()}
    if values.get("kind") not in SIMPLE_KINDS or values.get("trigger", "") not in CAUSES:
        raise NotFoundError("no such kind of survey or trigger")
    try:
        ctx.api("POST", "/v1/surveys", simple_survey(values), idempotency_key=f"desk-survey-{uuid.uuid4().hex}")
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors = _desk_errors(problem) or {"form": _refusal(ctx, problem)}
        return new_survey(ctx, errors, problem.status)
    return redirect("/desk/surveys?done=created")


# ---- the survey designer: up to SLOTS questions of any kind, in both languages, each maybe behind a condition ----

SLOTS = 6
DESIGN_KINDS = ("single", "multiple", "scale", "nps", "text")


def _numbers(raw: str) -> list[int] | None:
    """``"1, 2"`` as ``[1, 2]``; ``None`` when any part is not a whole number."""
    parts = [p.strip() for p in raw.replace(";", ",").split(",") if p.strip()]
    return [int(p) for p in parts] if parts and all(p.lstrip("-").isdigit() for p in parts) else None


def _lines(raw: str) -> list[str]:
    return [line.strip() for line in raw.splitlines() if line.strip()]


def _designed_question(
    i: int, values: dict[str, str], used: dict[int, dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Slot ``i`` of the designer's form as the API's question (id ``q<i>``), and the errors only the form can
    name (options that do not pair up across languages, a condition on a question that is not before it)."""
    kind, errors = values.get(f"q{i}_kind", ""), {}
    text = {"es": values.get(f"q{i}_es", ""), "en": values.get(f"q{i}_en", "")}
    question: dict[str, Any] = {"id": f"q{i}", "kind": kind, "required": not values.get(f"q{i}_optional"), "text": text}
    if kind in ("single", "multiple"):
        es, en = _lines(values.get(f"q{i}_choices_es", "")), _lines(values.get(f"q{i}_choices_en", ""))
        if len(es) != len(en) or len(es) < 2:
            errors[f"q{i}_choices_es"] = "choices"
        pairs = enumerate(zip(es, en, strict=False), 1)  # unpaired ones are the error above
        question["choices"] = [{"id": f"c{n}", "label": {"es": a, "en": b}} for n, (a, b) in pairs]
    if kind == "scale":
        bounds = _numbers(f"{values.get(f'q{i}_min', '')},{values.get(f'q{i}_max', '')}")
        if bounds is None or len(bounds) != 2:
            errors[f"q{i}_min"] = "bounds"
        else:
            question["min"], question["max"] = bounds
    after = values.get(f"q{i}_after", "")
    if after:
        target = used.get(int(after)) if after.isdigit() else None
        wanted = _numbers(values.get(f"q{i}_when", ""))
        if target is None or target["kind"] == "text":
            errors[f"q{i}_after"] = "after"
        elif wanted is None:
            errors[f"q{i}_when"] = "when"
        else:
            chosen = [f"c{n}" for n in wanted] if target["kind"] in ("single", "multiple") else wanted
            question["show_if"] = {"question": target["id"], "one_of": chosen}
    return question, errors


def designed_survey(values: dict[str, str]) -> tuple[dict[str, Any], dict[str, str], list[int]]:
    """The API's body for the designer's form: the slots with a kind, in order; the errors the form names itself
    (field -> message key); and the slot of each question (an API error's index is the slot's position here)."""
    questions: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    slots: list[int] = []
    used: dict[int, dict[str, Any]] = {}
    for i in range(1, SLOTS + 1):
        if values.get(f"q{i}_kind", "") not in DESIGN_KINDS:
            continue
        question, found = _designed_question(i, values, used)
        questions.append(question)
        errors |= found
        slots.append(i)
        used[i] = question
    if not questions:
        errors["q1_kind"] = "none"
    title = {"es": values.get("title_es", ""), "en": values.get("title_en", "")}
    body: dict[str, Any] = {
        "id": values.get("id", ""),
        "title": title,
        "mode": values.get("mode", ""),
        "questions": questions,
    }
    if values.get("trigger"):
        body["triggers"] = [{"on": values["trigger"]}]
    return body, errors, slots


def design_survey(ctx: PageContext, errors: dict[str, str] | None = None, status: int = 200) -> flask.Response:
    values = {k: v for k, v in ctx.request.form.items()} if ctx.request.method == "POST" else {}
    return render(ctx, "desk/survey_design.html", status, errors=errors or {}, values=values, causes=CAUSES,
                  slots=range(1, SLOTS + 1), kinds=DESIGN_KINDS)  # fmt: skip


def create_designed_survey(ctx: PageContext) -> flask.Response:
    """Create the designed survey (a draft): the form's own errors first, then the API's at their fields."""
    values = {k: v.strip() for k, v in ctx.request.form.items()}
    if values.get("trigger", "") not in CAUSES:
        raise NotFoundError("no such trigger")
    body, errors, slots = designed_survey(values)
    if errors:
        return design_survey(ctx, {k: ctx.t(f"survey.design.error_{v}") for k, v in errors.items()}, 422)
    try:
        ctx.api("POST", "/v1/surveys", body, idempotency_key=f"desk-survey-{uuid.uuid4().hex}")
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        found = _designed_errors(problem, slots) or {"form": _refusal(ctx, problem)}
        return design_survey(ctx, found, problem.status)
    return redirect("/desk/surveys?done=created")


def _designed_errors(problem: ApiProblem, slots: list[int]) -> dict[str, str]:
    """The API's field errors at the designer's fields (``questions.2.text.en`` is the third question's slot)."""
    found: dict[str, str] = {}
    for error in problem.errors or []:
        if not isinstance(error, dict):
            continue
        where = (
            str(error.get("field") or error.get("loc") or "").replace("body.", "").replace("[", ".").replace("]", "")
        )
        parts = where.split(".")
        name = {"id": "id", "title.es": "title_es", "title.en": "title_en", "mode": "mode"}.get(where)
        if parts[0] == "questions" and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(slots):
            slot, rest = slots[int(parts[1])], parts[2:]
            field = {"text": f"_{rest[-1]}" if rest[1:] else "_es", "choices": "_choices_es", "min": "_min",
                     "max": "_min", "show_if": "_when"}.get(rest[0] if rest else "", "_kind")  # fmt: skip
            name = f"q{slot}{field}"
        if name:
            found.setdefault(name, str(error.get("message") or error.get("msg") or ""))
    if problem.slug == "survey-exists":
        found["id"] = problem.detail
    return found


DESK_FIELDS = {"id": "id", "title.es": "title_es", "title.en": "title_en", "mode": "mode",
               "questions.0.text.es": "question_es", "questions.0.text.en": "question_en",
               "questions.1.text.es": "why_es", "questions.1.text.en": "why_en"}  # fmt: skip


def _desk_errors(problem: ApiProblem) -> dict[str, str]:
    found: dict[str, str] = {}
    for error in problem.errors or []:
        if not isinstance(error, dict):
            continue
        where = str(error.get("field") or error.get("loc") or "").replace("body.", "")
        name = DESK_FIELDS.get(where) or DESK_FIELDS.get(where.replace("[", ".").replace("]", ""))
        if name:
            found.setdefault(name, str(error.get("message") or error.get("msg") or ""))
    if problem.slug == "survey-exists":
        found["id"] = problem.detail
    return found


def _act(ctx: PageContext, survey_id: str, action: str) -> flask.Response:
    _check(survey_id, "")
    revision = ctx.request.form.get("revision", "")
    if not revision.isdigit():
        raise NotFoundError("no revision")
    ctx.api("POST", f"/v1/surveys/{survey_id}/{action}", {"revision": int(revision)},
            idempotency_key=f"{survey_id}-{action}-{revision}")  # fmt: skip
    return redirect(f"/desk/surveys?done={DONE[action]}")


def open_survey(ctx: PageContext, survey_id: str) -> flask.Response:
    return _act(ctx, survey_id, "open")


def close_survey(ctx: PageContext, survey_id: str) -> flask.Response:
    return _act(ctx, survey_id, "close")


def results_page(
    ctx: PageContext, survey_id: str, errors: dict[str, str] | None = None, status: int = 200
) -> flask.Response:
    """The results: rate, the headline NPS or CSAT, each question, the breakdowns, the plot and the CSV; and the
    form that invites citizens (with the agent's purpose)."""
    _check(survey_id, "")
    found = ctx.api("GET", f"/v1/surveys/{survey_id}/results", params={"language": ctx.lang})
    values = {k: v for k, v in ctx.request.form.items() if k != "csrf"} if ctx.request.method == "POST" else {}
    invited = ctx.request.args.get("invited", "")
    return render(ctx, "desk/survey_results.html", status, results=found, survey_id=survey_id, errors=errors or {},
                  values=values, invited=invited if invited.isdigit() else "")  # fmt: skip


MAX_INVITED_AT_ONCE = 1_000  # the API's own limit (functions/survey handlers.MAX_INVITATIONS)


def invite(ctx: PageContext, survey_id: str) -> flask.Response:
    """Invite the citizens listed (one id per line) for the purpose the agent states: every citizen named is in
    their access log under it, and NOT decides each invitation by the consent for surveys."""
    _check(survey_id, "")
    purpose = ctx.request.form.get("purpose", "").strip()
    ids = [line.strip() for line in ctx.request.form.get("citizens", "").splitlines() if line.strip()]
    errors: dict[str, str] = {}
    if problem := purpose_error(ctx, purpose):
        errors["purpose"] = problem
    if not 1 <= len(ids) <= MAX_INVITED_AT_ONCE:
        errors["citizens"] = ctx.t("survey.invite.count", limit=f"{MAX_INVITED_AT_ONCE:,}")
    if errors:
        return results_page(ctx, survey_id, errors, 422)
    try:
        done = ctx.api("POST", f"/v1/surveys/{survey_id}/invitations", {"citizen_ids": ids}, purpose=purpose,
                       idempotency_key=f"desk-invite-{uuid.uuid4().hex}")  # fmt: skip
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        wrong = [str(e.get("field", "")) for e in problem.errors or [] if isinstance(e, dict)]
        lines = [int(w.split("[")[1].rstrip("]")) + 1 for w in wrong if w.startswith("citizen_ids[")]
        found = {"citizens": ctx.t("survey.invite.wrong", lines=", ".join(map(str, lines)))} if lines else {}
        return results_page(ctx, survey_id, found or {"invite": _refusal(ctx, problem)}, problem.status)
    return redirect(f"/desk/surveys/{survey_id}/results?invited={int(done.get('invited', 0))}")


def results_file(ctx: PageContext, survey_id: str, fmt: str) -> flask.Response:
    """The plot (PNG, SVG) or the CSV, passed through from the API."""
    _check(survey_id, "")
    if fmt not in ("png", "svg", "csv"):
        raise NotFoundError(f"no format {fmt[:8]!r}")
    path = f"/v1/surveys/{survey_id}/results?format={fmt}&language={ctx.lang}"
    answer = ctx.ports.api.download(path, ctx.me.access_token, ctx.traceparent)
    headers = {k: v for k, v in answer.headers.items() if k.lower() in ("content-type", "content-disposition")}
    return flask.Response(answer.content, status=200, headers=headers)


PAGES = [
    Page("/app/surveys/<survey_id>", "GET", survey_page, "A survey to answer, from its invitation link (or signed in)",
         "public", app="surveys"),
    Page("/app/surveys/<survey_id>", "POST", answer_survey, "Send the survey's answers (or see a question appear)",
         "public", app="surveys"),
    Page("/desk/surveys", "GET", desk_surveys, "Surveys: state, open, close, results", "agent"),
    Page("/desk/surveys/new", "GET", new_survey, "A simple survey: CSAT or NPS, both languages, a trigger", "agent"),
    Page("/desk/surveys/new", "POST", create_survey, "Create the simple survey (a draft)", "agent"),
    Page("/desk/surveys/design", "GET", design_survey, "Design a survey: up to six questions of any kind, conditions",
         "agent"),
    Page("/desk/surveys/design", "POST", create_designed_survey, "Create the designed survey (a draft)", "agent"),
    Page("/desk/surveys/<survey_id>/open", "POST", open_survey, "Open a survey for answers", "agent"),
    Page("/desk/surveys/<survey_id>/close", "POST", close_survey, "Close a survey now", "agent"),
    Page("/desk/surveys/<survey_id>/results", "GET", results_page, "A survey's results with its plot", "agent"),
    Page("/desk/surveys/<survey_id>/results.<fmt>", "GET", results_file, "A survey's plot or CSV", "agent"),
    Page("/desk/surveys/<survey_id>/invite", "POST", invite, "Invite citizens to a survey, for a stated purpose",
         "agent"),
]  # fmt: skip
