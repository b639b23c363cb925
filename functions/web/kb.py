"""The knowledge base (KB) on the channels: the agents' search and editor in the desk, and the public help pages.

Every page is the public API (no store, no domain import): agents search what an audience sees, list the articles
with their state and stale translations, write an article with its Spanish and English texts side by side, save
the draft over the revision they read (another editor's save in between is shown, never overwritten), publish now
or at an instant, archive and restore, and turn a solved case's resolution into a draft. Anyone reads the public
articles and searches them at ``/app/help``, and says whether one was useful.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

import flask

from functions.core.clock import MADRID
from functions.core.errors import NotFoundError
from functions.web import i18n
from functions.web.api import ApiProblem
from functions.web.web import Page, PageContext, redirect, render

SLUG = re.compile(r"^[a-z][a-z0-9-]{1,63}$")
LANGUAGES = ("es", "en")
AUDIENCES = ("public", "assistant", "internal")
FIELDS = ("id", "areas", "audiences", "categories", "source", "es_title", "es_body", "es_keywords", "en_title",
          "en_body", "en_keywords", "at")  # fmt: skip
DONE = ("created", "saved", "published", "scheduled", "archived", "restored", "proposed", "voted")


def _slug(article_id: str) -> str:
    if not SLUG.match(article_id):
        raise NotFoundError(f"no article {article_id[:80]!r}")
    return article_id


def _done(ctx: PageContext) -> str:
    done = ctx.request.args.get("done", "")
    return done if done in DONE else ""


def _refusal(ctx: PageContext, problem: ApiProblem) -> str:
    return i18n.translate_or(ctx.lang, f"problem.{problem.slug}", problem.detail)


def _public(ctx: PageContext, path: str, params: dict[str, str] | None = None, body: Any = None) -> Any:
    """The public API, no token (the knowledge base's public routes)."""
    method = "POST" if body is not None else "GET"
    return ctx.ports.api.call(method, path, "", ctx.traceparent, body=body, params=params)


# ---- the desk: search and list ------------------------------------------------------------------------------------


def desk_kb(ctx: PageContext) -> flask.Response:
    """Search what an audience sees (internal by default) and every article with its state and stale texts."""
    args = ctx.request.args
    q, language = args.get("q", "").strip()[:300], args.get("language", ctx.lang)
    audience = args.get("audience", "internal")
    if language not in LANGUAGES or audience not in AUDIENCES:
        raise NotFoundError("language es or en; audience public, assistant or internal")
    results = None
    if q:
        found = ctx.api("GET", "/v1/kb/internal/search", params={"q": q, "language": language, "audience": audience})
        results = found["results"]
    articles = ctx.api("GET", "/v1/kb/articles")["articles"]
    return render(ctx, "desk/kb.html", q=q, language=language, audience=audience, results=results,
                  articles=articles, done=_done(ctx), audiences=AUDIENCES)  # fmt: skip


# ---- the desk: the editor -------------------------------------------------------------------------------------------


def _form_article(ctx: PageContext) -> dict[str, Any]:
    """The article as the form sends it: both languages' texts, and where the editor translated one from."""
    form = ctx.request.form

    def words(name: str) -> list[str]:
        return [w for w in re.split(r"\s*,\s*", form.get(name, "").strip()) if w][:60]

    translations: dict[str, Any] = {}
    for lang in LANGUAGES:
        title, body = form.get(f"{lang}_title", "").strip(), form.get(f"{lang}_body", "").strip()
        if lang == "en" and not title and not body:
            continue
        text: dict[str, Any] = {"title": title, "body": body, "keywords": words(f"{lang}_keywords")}
        if form.get(f"{lang}_translated_from", "").isdigit():
            text["translated_from"] = int(form[f"{lang}_translated_from"])
        translations[lang] = text
    article: dict[str, Any] = {
        "areas": words("areas"),
        "audiences": [a for a in AUDIENCES if form.get(f"audience_{a}") == "yes"],
        "categories": words("categories"),
        "translations": translations,
    }
    if form.get("source", "").strip():
        article["source"] = form["source"].strip()
    return article


def _errors(ctx: PageContext, problem: ApiProblem) -> dict[str, str]:
    """A refusal's field errors on the editor's fields (``translations.en.body`` -> ``en_body``)."""
    errors: dict[str, str] = {}
    for error in problem.errors or []:
        if not isinstance(error, dict):
            continue
        name = str(error.get("field") or "").removeprefix("article.").replace("translations.", "")
        field = re.sub(r"\.\d+$", "", name).replace(".", "_")
        errors.setdefault(field if field in FIELDS else "form", str(error.get("message") or ""))
    return errors or {"form": _refusal(ctx, problem)}


def new_article(ctx: PageContext, errors: dict[str, str] | None = None, status: int = 200) -> flask.Response:
    form = ctx.request.form if ctx.request.method == "POST" else {}
    return render(ctx, "desk/kb_article.html", status, article=None, form=form, errors=errors or {}, done="",
                  audiences=AUDIENCES)  # fmt: skip


def create_article(ctx: PageContext) -> flask.Response:
    article_id = ctx.request.form.get("id", "").strip()
    if not SLUG.match(article_id):
        return new_article(ctx, {"id": ctx.t("desk.kb.id_invalid")}, 422)
    try:
        ctx.api("POST", "/v1/kb/articles", {"id": article_id, **_form_article(ctx)})
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        return new_article(ctx, _errors(ctx, problem) if problem.status == 422 else {"id": _refusal(ctx, problem)},
                           problem.status)  # fmt: skip
    return redirect(f"/desk/kb/{article_id}?done=created")


def article_page(
    ctx: PageContext, article_id: str, errors: dict[str, str] | None = None, status: int = 200
) -> flask.Response:
    """The editor: the versions and their states, both languages side by side (stale ones flagged), the actions."""
    article = ctx.api("GET", f"/v1/kb/articles/{_slug(article_id)}")
    form = ctx.request.form if ctx.request.method == "POST" and errors else {}
    return render(ctx, "desk/kb_article.html", status, article=article, form=form, errors=errors or {},
                  done=_done(ctx), audiences=AUDIENCES)  # fmt: skip


def _revision(ctx: PageContext) -> int:
    revision = ctx.request.form.get("revision", "")
    return int(revision) if revision.isdigit() else 0


def _act(ctx: PageContext, article_id: str, path: str, body: dict[str, Any], done: str) -> flask.Response:
    try:
        ctx.api("POST" if path != "draft" else "PUT", f"/v1/kb/articles/{_slug(article_id)}/{path}", body)
    except ApiProblem as problem:
        if problem.status not in (404, 409, 422):
            raise
        field_errors = problem.status == 422 and path == "draft"
        errors = _errors(ctx, problem) if field_errors else {"form": _refusal(ctx, problem)}
        return article_page(ctx, article_id, errors, problem.status)
    return redirect(f"/desk/kb/{article_id}?done={done}")


def save_draft(ctx: PageContext, article_id: str) -> flask.Response:
    """Save the draft over the revision the editor read (a published article gets a new draft)."""
    return _act(ctx, article_id, "draft", {"revision": _revision(ctx), "article": _form_article(ctx)}, "saved")


def publish(ctx: PageContext, article_id: str) -> flask.Response:
    """Publish now, or at the date and time given (Madrid time)."""
    at = ctx.request.form.get("at", "").strip()
    body: dict[str, Any] = {"revision": _revision(ctx)}
    if at:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", at):
            return article_page(ctx, article_id, {"at": ctx.t("desk.kb.at_invalid")}, 422)
        body["at"] = _madrid(at)
    return _act(ctx, article_id, "publication", body, "scheduled" if at else "published")


def _madrid(local: str) -> str:
    """A ``datetime-local`` field's value (Madrid's wall clock) as an instant."""
    return datetime.fromisoformat(local).replace(tzinfo=MADRID).isoformat()


def archive(ctx: PageContext, article_id: str) -> flask.Response:
    return _act(ctx, article_id, "archive", {"revision": _revision(ctx)}, "archived")


def restore(ctx: PageContext, article_id: str) -> flask.Response:
    return _act(ctx, article_id, "restore", {"revision": _revision(ctx)}, "restored")


def propose_from_case(ctx: PageContext, case_id: str) -> flask.Response:
    """A solved case's resolution (the text the agent gave when resolving it) proposed as a draft for the editors,
    read with the case as the purpose; the knowledge base keeps it without the case's personal data."""
    case = ctx.api("GET", f"/v1/cases/{case_id}", purpose=case_id)
    resolved = [e for e in case.get("history", []) if e.get("state") == "resolved" and e.get("text")]
    if not resolved or len(resolved[-1]["text"]) < 20:
        raise NotFoundError("this case has no resolution text to propose (resolve it with the answer first)")
    body = {"case_id": case["id"], "area": case["area"], "category": case["category"], "subject": case["subject"],
            "resolution": resolved[-1]["text"], "language": "es"}  # fmt: skip
    draft = ctx.api("POST", "/v1/kb/drafts-from-cases", body)
    return redirect(f"/desk/kb/{draft['id']}?done=proposed")


# ---- the public: help pages -----------------------------------------------------------------------------------------


def help_search(ctx: PageContext) -> flask.Response:
    """Search the council's public articles (Spanish or English, as the page's language)."""
    q = ctx.request.args.get("q", "").strip()[:300]
    results = _public(ctx, "/v1/kb/search", {"q": q, "language": ctx.lang})["results"] if q else None
    return render(ctx, "help.html", q=q, results=results, article=None, done="")


def help_article(ctx: PageContext, article_id: str) -> flask.Response:
    """One public article in the page's language, with its source and "was this useful"."""
    try:
        article = _public(ctx, f"/v1/kb/public/articles/{_slug(article_id)}", {"language": ctx.lang})
    except ApiProblem as problem:
        if problem.status == 404:
            raise NotFoundError(f"no public article {article_id!r}") from None
        raise
    return render(ctx, "help.html", q="", results=None, article=article, done=_done(ctx))


def help_feedback(ctx: PageContext, article_id: str) -> flask.Response:
    """Was this useful: counted once per browser session (its hash, never who it is)."""
    form = ctx.request.form
    version = form.get("version", "")
    useful = form.get("useful", "")
    if not version.isdigit() or useful not in ("yes", "no") or form.get("language") not in LANGUAGES:
        raise NotFoundError("version, language and useful (yes or no) are required")
    session = ctx.session.id if ctx.session is not None else ctx.traceparent
    voter = "web-" + hashlib.sha256(session.encode()).hexdigest()[:32]
    body = {"version": int(version), "language": form["language"], "useful": useful == "yes", "voter": voter}
    _public(ctx, f"/v1/kb/public/articles/{_slug(article_id)}/feedback", body=body)
    return redirect(f"/app/help/{article_id}?done=voted")


PAGES = [
    Page("/desk/kb", "GET", desk_kb, "Knowledge base: search an audience's articles, and every article", "agent"),
    Page("/desk/kb/new", "GET", new_article, "A new article: both languages side by side", "agent"),
    Page("/desk/kb/new", "POST", create_article, "Create the article (a draft)", "agent"),
    Page("/desk/kb/<article_id>", "GET", article_page, "An article's editor: versions, languages, actions", "agent"),
    Page("/desk/kb/<article_id>/draft", "POST", save_draft, "Save the article's draft", "agent"),
    Page("/desk/kb/<article_id>/publication", "POST", publish, "Publish the draft now or at an instant", "agent"),
    Page("/desk/kb/<article_id>/archive", "POST", archive, "Archive the article", "agent"),
    Page("/desk/kb/<article_id>/restore", "POST", restore, "Restore an archived article", "agent"),
    Page("/desk/cases/<case_id>/kb-draft", "POST", propose_from_case, "Propose the case's resolution as a KB draft",
         "agent"),
    Page("/app/help", "GET", help_search, "Help: search the council's public articles", "public"),
    Page("/app/help/<article_id>", "GET", help_article, "Help: one public article", "public"),
    Page("/app/help/<article_id>/feedback", "POST", help_feedback, "Help: was this article useful", "public"),
]  # fmt: skip
