"""The suggestions micro-app of the citizen app (REC, issue 18): explainable proactive suggestions, only for a
person who consented to personalisation (mode b).

The pages read and write through the public API with the citizen's token, like every micro-app: each suggestion
with its reason in the person's language, the data it used (each with the event it came from), its legal source,
a link to act and three feedback buttons (useful; not useful: hides it; don't show again: hides its rule). In mode
a, or after an objection or a restriction, the page says why there are none (the policy's reasons) and links to
the consents page. The home page (``/app/``) lists the first few (``home_suggestions``).
"""

from __future__ import annotations

import re
from typing import Any

import flask

from functions.web import apps, i18n
from functions.web.api import ApiProblem
from functions.web.web import Page, PageContext, redirect, render

APP = "suggestions"
SUGGESTION_ID = re.compile(r"^[a-z][a-z-]{1,39}(\.[A-Za-z0-9][A-Za-z0-9._:-]{0,63})?$")  # the API's own pattern
FEEDBACKS = ("useful", "not-useful", "dont-show-again")
ON_HOME = 3  # suggestions the home page lists


def _answer(ctx: PageContext) -> dict[str, Any]:
    answer = ctx.api("GET", ctx.citizen_path("/suggestions"))
    return answer if isinstance(answer, dict) else {"allowed": False, "reasons": [], "suggestions": []}


def suggestions_page(ctx: PageContext, errors: dict[str, str] | None = None, status: int = 200) -> flask.Response:
    """Every suggestion with its reason, the data used, its source, a link to act and the feedback buttons; or,
    when there are none by policy, why (mode a, an objection, a restriction) and the way to the consents page."""
    answer = _answer(ctx)
    done = ctx.request.args.get("done") if status == 200 else None
    done = done if done in FEEDBACKS else None
    unmet = [r for r in answer.get("reasons", []) if isinstance(r, dict) and r.get("met") is False]
    return render(ctx, "suggestions/list.html", status, answer=answer, unmet=unmet, errors=errors or {}, done=done,
                  feedbacks=FEEDBACKS)  # fmt: skip


def give_feedback(ctx: PageContext, suggestion_id: str) -> flask.Response:
    """One of the three buttons; then back to the list (a hidden suggestion is gone from it)."""
    feedback = ctx.request.form.get("feedback", "")
    if not SUGGESTION_ID.match(suggestion_id) or feedback not in FEEDBACKS:
        return suggestions_page(ctx, {"form": ctx.t("suggestions.feedback_invalid")}, 422)
    try:
        ctx.api("POST", ctx.citizen_path(f"/suggestions/{suggestion_id}/feedback"), {"feedback": feedback})
    except ApiProblem as problem:
        if problem.status not in (404, 422):
            raise
        said = i18n.translate_or(ctx.lang, f"problem.{problem.slug}", problem.detail)
        return suggestions_page(ctx, {"form": said}, 422)
    return redirect(f"/app/suggestions?done={feedback}")


def home_suggestions(ctx: PageContext, mode: str | None) -> list[dict[str, Any]] | None:
    """The first few suggestions for the home page, in mode b with the micro-app on; ``None``: not shown."""
    session = ctx.session
    if mode != "b" or session is None or not apps.enabled(APP, session.subject, session.district):
        return None
    try:
        answer = _answer(ctx)
    except ApiProblem:  # the home page shows the position even if suggestions cannot be read now
        return None
    found = [s for s in answer.get("suggestions", []) if isinstance(s, dict)]
    return found[:ON_HOME]


PAGES = [
    Page("/app/suggestions", "GET", suggestions_page,
         "Suggestions for me (mode b): each with its reason, the data used and a link; or why there are none",
         app=APP),
    Page("/app/suggestions/<suggestion_id>/feedback", "POST", give_feedback,
         "Feedback on a suggestion: useful, not useful (hides it), don't show again (hides its rule)", app=APP),
]  # fmt: skip
