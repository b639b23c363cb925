"""The virtual assistant's web chat in the citizen app (issue 15): ``/app/assistant``, signed in or not.

Every step is the assistant's public API (no store, no domain import): the conversation is opened on the first
message (a signed-in citizen's is theirs; an anonymous one answers its key once), each message or button under a
reply is posted, and the page reads the transcript back. The conversation's id and an anonymous one's key live in
the server-side session (never in a URL or the browser), so a reload shows the transcript, signing in carries the
conversation over (the next message goes with the token *and* the key: the conversation becomes the citizen's and
a hand-over carries the whole transcript), and "start again" forgets it. Plain forms and POST-redirect-GET: it
works without JavaScript; htmx's boost only spares the reload.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import flask

from functions.core.clock import MADRID
from functions.core.errors import NotFoundError
from functions.web import apps, i18n, service
from functions.web.api import ApiProblem, ApiUnavailableError
from functions.web.web import Page, PageContext, redirect, render, set_session_cookie

BASE = "/v1/assistant/conversations"
KEY_HEADER = "X-Conversation-Key"
CONVERSATION = re.compile(r"^conv-[0-9a-f]{24}$")
ARTICLE = re.compile(r"^[a-z][a-z0-9-]{1,63}$")
CASE_ID = re.compile(r"^case-[0-9a-f]{24}$")
OPTIONS = ("talk-to-person", "callback")  # the buttons the API offers under a reply
MAX_TEXT = 1000  # the API's limit of one message
ANSWER_TIMEOUT = (2.0, 45.0)  # the assistant's first answer may wait for its retriever to load


# ---- pure: the transcript as the page shows it -----------------------------------------------------------------


def help_link(article_id: object) -> str | None:
    """The public help page of a cited article (``/app/help/<id>``), for an id that can be one."""
    return f"/app/help/{article_id}" if isinstance(article_id, str) and ARTICLE.match(article_id) else None


def official(url: object) -> str | None:
    """An article's official source, when it is a web address (nothing else becomes a link)."""
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


def madrid_time(at: object) -> str:
    """An ISO instant as Madrid's day and hour (``dd/mm/yyyy HH:MM``); "" when it is none."""
    if not isinstance(at, str) or not at:
        return ""
    try:
        instant = datetime.fromisoformat(at)
    except ValueError:
        return ""
    return instant.astimezone(MADRID).strftime("%d/%m/%Y %H:%M") if instant.tzinfo else ""


def _article(found: Any) -> dict[str, Any] | None:
    if not isinstance(found, dict) or help_link(found.get("article_id")) is None:
        return None
    return {"id": found["article_id"], "title": str(found.get("title") or found["article_id"]),
            "body": str(found.get("body") or ""), "language": found.get("language") or "es",
            "help": help_link(found["article_id"]), "source": official(found.get("source"))}  # fmt: skip


def _item(found: dict[str, Any]) -> dict[str, str]:
    """A procedure's item (a case, or a pending debt) with every field the page shows, "" where it has none."""
    cents = found.get("amount_due_cents")
    amount = f"{cents / 100:.2f} €" if isinstance(cents, int) and not isinstance(cents, bool) else ""
    return {"reference": str(found.get("reference") or ""), "subject": str(found.get("subject") or ""),
            "state": str(found.get("state") or ""), "concept": str(found.get("concept") or found.get("kind") or ""),
            "amount": amount, "until": str(found.get("until") or "")[:10]}  # fmt: skip


def lines(messages: Any) -> list[dict[str, Any]]:
    """Each line of the transcript (oldest first) as the page shows it: who speaks, the words; an assistant's
    reply with its kind, the article it cites (its help page and official source) and the alternatives, a
    procedure's items, a hand-over (sign-in asked, case requested, the next opening out of hours) and the
    buttons it offers (only the ones the page knows)."""
    shown: list[dict[str, Any]] = []
    for number, message in enumerate(messages if isinstance(messages, list) else [], start=1):
        if not isinstance(message, dict):
            continue
        speaker = "assistant" if message.get("speaker") == "assistant" else "citizen"
        line: dict[str, Any] = {"n": number, "speaker": speaker, "text": str(message.get("text") or ""),
                                "at": madrid_time(message.get("at")), "kind": "", "articles": [], "alternatives": [],
                                "options": [], "sign_in": False, "requested": False, "callback": False,
                                "next_opening": "", "found": [], "empty": ""}  # fmt: skip
        reply = message.get("reply") if speaker == "assistant" else None
        if isinstance(reply, dict):
            handover: dict[str, Any] = reply["handover"] if isinstance(reply.get("handover"), dict) else {}
            result: dict[str, Any] = reply["result"] if isinstance(reply.get("result"), dict) else {}
            line.update(
                kind=str(reply.get("kind") or ""),
                articles=[a for a in map(_article, reply.get("articles") or []) if a],
                alternatives=[a for a in map(_article, reply.get("alternatives") or []) if a],
                options=[o["id"] for o in reply.get("options") or [] if isinstance(o, dict) and o.get("id") in OPTIONS],
                sign_in=bool(handover.get("sign_in")) or bool(reply.get("requires_authentication")),
                requested=bool(handover.get("requested")),
                callback=bool(handover.get("callback")),
                next_opening=madrid_time(handover.get("next_opening")),
                found=[_item(i) for i in result.get("items") or [] if isinstance(i, dict)],
                empty=str(result.get("empty") or ""),
            )
        if line["next_opening"] and line["next_opening"] in line["text"]:
            line["next_opening"] = ""  # the reply's own words already say when we open
        shown.append(line)
    return shown


def handover_case(conversation: Any) -> dict[str, Any] | None:
    """The case a hand-over opened, once the case domain opened it (its reference, and its page's id)."""
    handover = conversation.get("handover") if isinstance(conversation, dict) else None
    case = handover.get("case") if isinstance(handover, dict) else None
    if not isinstance(case, dict) or not case.get("reference"):
        return None
    case_id = case.get("id")
    return {"reference": str(case["reference"]), "id": case_id if isinstance(case_id, str) and CASE_ID.match(case_id)
            else None, "state": str(case.get("state") or "")}  # fmt: skip


# ---- the API, as whoever is chatting ---------------------------------------------------------------------------


def _call(ctx: PageContext, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
    """The assistant's API with the signed-in citizen's token (none: anonymous) and the conversation's key."""
    session = ctx.session
    token = session.access_token if session is not None and session.signed_in and session.role == "citizen" else ""
    key = {KEY_HEADER: session.chat_key} if session is not None and session.chat_key else None
    return ctx.ports.api.call(method, path, token, ctx.traceparent, body=body, extra_headers=key, **kwargs)


def _keep(ctx: PageContext, chat: str, key: str) -> None:
    """The conversation in this browser's session (an anonymous one's session lives on while it is used)."""
    session = ctx.session
    assert session is not None
    changed = replace(session, chat=chat, chat_key=key)
    if not session.signed_in:
        changed = replace(changed, expires_at=max(session.expires_at,
                                                  ctx.now + timedelta(minutes=service.ANONYMOUS_MINUTES)))  # fmt: skip
    ctx.ports.sessions.save(changed)
    ctx.session = changed
    if changed.expires_at != session.expires_at:
        set_session_cookie(ctx, changed)


def _ensure_session(ctx: PageContext) -> None:
    """A public page with forms needs a session for its CSRF token (and to keep the conversation)."""
    if ctx.session is None or not ctx.session.live(ctx.now):
        ctx.session = service.anonymous(ctx.now, ctx.lang)
        ctx.ports.sessions.save(ctx.session)
        set_session_cookie(ctx, ctx.session)


def _citizen(ctx: PageContext) -> bool:
    return ctx.session is not None and ctx.session.signed_in and ctx.session.role == "citizen"


# ---- pages -------------------------------------------------------------------------------------------------------


def chat_page(
    ctx: PageContext, errors: dict[str, str] | None = None, status: int = 200, text: str = "", nonce: str = ""
) -> flask.Response:
    """The conversation so far (read back from the API), newest at the bottom, and the form to write."""
    _ensure_session(ctx)
    assert ctx.session is not None
    conversation: Any = None
    if ctx.session.chat:
        try:
            conversation = _call(ctx, "GET", f"{BASE}/{ctx.session.chat}")
        except ApiProblem as problem:
            if problem.status not in (403, 404):
                raise
            _keep(ctx, "", "")  # gone (30 days after its last message) or not this person's: start afresh
    shown = lines(conversation.get("messages") if isinstance(conversation, dict) else [])
    last = next((line for line in reversed(shown) if line["speaker"] == "assistant"), None)
    signed = _citizen(ctx)
    subject, district = (ctx.session.subject, ctx.session.district) if signed else (None, None)
    done = "restarted" if ctx.request.args.get("done") == "restarted" else ""
    return render(ctx, "assistant.html", status, lines=shown, request_done=done, errors=errors or {}, text=text,
                  nonce=nonce or uuid.uuid4().hex, case=handover_case(conversation),
                  handed_over=bool(isinstance(conversation, dict) and conversation.get("handover")),
                  continue_handover=bool(signed and last and last.get("sign_in")), signed_in=signed,
                  cases_on=signed and apps.enabled("cases", subject, district), max_text=MAX_TEXT)  # fmt: skip


def _refusal(ctx: PageContext, problem: ApiProblem) -> str:
    return i18n.translate_or(ctx.lang, f"problem.{problem.slug}", problem.detail)


def send(ctx: PageContext) -> flask.Response:
    """A message, or a button under a reply (a person, a call back): the conversation opened on the first one."""
    form = ctx.request.form
    option, text = form.get("option", ""), form.get("text", "").strip()
    nonce = form.get("nonce", "")
    nonce = nonce if re.fullmatch(r"[0-9a-f]{32}", nonce) else uuid.uuid4().hex
    if option and option not in OPTIONS:
        raise NotFoundError(f"no option {option[:40]!r}")
    if not option and not text:
        return chat_page(ctx, {"text": ctx.t("assistant.text_missing")}, 422, nonce=nonce)
    if len(text) > MAX_TEXT:
        return chat_page(ctx, {"text": ctx.t("assistant.text_too_long", max=MAX_TEXT)}, 422, text, nonce)
    body = {"option": option} if option else {"text": text}
    try:
        _say(ctx, body, nonce)
    except ApiProblem as problem:
        if problem.status not in (403, 404, 409, 413, 422):
            raise
        return chat_page(ctx, {"text": _refusal(ctx, problem)}, problem.status, text, nonce)
    except ApiUnavailableError:
        return chat_page(ctx, {"text": ctx.t("assistant.slow")}, 503, text, nonce)
    return redirect("/app/assistant#assistant-form")


def _say(ctx: PageContext, body: dict[str, str], nonce: str) -> None:
    """Post the message to this browser's conversation; none yet, or one no longer reachable: a new one."""
    session = ctx.session
    assert session is not None
    if session.chat and CONVERSATION.match(session.chat):
        try:
            _post(ctx, session.chat, body, nonce)
            return
        except ApiProblem as problem:
            if problem.status not in (403, 404):
                raise
    opened = _call(ctx, "POST", BASE, {"channel": "web", "language": ctx.lang})
    _keep(ctx, str(opened["id"]), str(opened.get("key") or ""))
    _post(ctx, ctx.session.chat, body, nonce)  # type: ignore[union-attr]


def _post(ctx: PageContext, chat: str, body: dict[str, str], nonce: str) -> None:
    _call(ctx, "POST", f"{BASE}/{chat}/messages", body, idempotency_key=f"{chat}-{nonce}", timeout=ANSWER_TIMEOUT)
    if _citizen(ctx) and ctx.session is not None and ctx.session.chat_key:
        _keep(ctx, chat, "")  # sent with the token and the key: the conversation is now the citizen's


def restart(ctx: PageContext) -> flask.Response:
    """Start again: this browser forgets the conversation (the assistant's store erases it in 30 days)."""
    _keep(ctx, "", "")
    return redirect("/app/assistant?done=restarted")


PAGES = [
    Page("/app/assistant", "GET", chat_page, "The virtual assistant's chat: the conversation and the form",
         "public", app="assistant"),
    Page("/app/assistant/messages", "POST", send, "Write to the assistant, or press a button under its reply",
         "public", app="assistant"),
    Page("/app/assistant/restart", "POST", restart, "Start a new conversation with the assistant", "public",
         app="assistant"),
]  # fmt: skip
