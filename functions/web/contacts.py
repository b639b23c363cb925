"""Contact routing (CCAAS) at the desk: the agent's routing profile and presence for contacts, the contacts offered
to them (accept or decline before the offer ends) and those they attend (end with a topic), and a queue's day.

Every page is the public API with the agent's own token (``/v1/routing/agents/me``, ``/v1/contacts/{id}/...``,
``/v1/routing/stats``); a contact never carries the citizen's id here (the API gives ``citizen_known`` only). The
offers refresh as a fragment polled by htmx (``/desk/contacts/offers``); without JavaScript the page's own
refresh link and a reload show the same. An accept that lost a race is said in words on the page
(``problem.<slug>``), not as an error page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import flask

from functions.core.clock import MADRID
from functions.web import i18n
from functions.web.api import ApiProblem
from functions.web.web import Page, PageContext, redirect, render, side_by_side

CONTACT_ID = re.compile(r"^ctc-[0-9a-f]{24}$")
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")  # routing's skill and queue names
DAY = re.compile(r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
PRESENCES = ("online", "busy", "away", "offline")
CHANNELS = ("call", "chat", "whatsapp")
OUTCOMES = ("resolved", "redirected", "pending")
DONE = ("profile", "accepted", "rejected", "ended")
REFUSED = (404, 409, 422)  # said on the page: the contact went elsewhere, was not offered, or is not in that state
MAX_CAPACITY = 20
MAX_SKILLS = 50
MAX_QUEUES = 30


# ---- pure helpers ------------------------------------------------------------------------------------------------


def parse_profile(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The routing profile the API expects from the form, and each field's error key (``desk.contacts.*``)."""
    errors: dict[str, str] = {}
    presence = str(form.get("presence", ""))
    if presence not in PRESENCES:
        errors["presence"] = "desk.contacts.presence_missing"
    capacity: dict[str, int] = {}
    for channel in CHANNELS:
        raw = str(form.get(f"capacity_{channel}", "")).strip()
        if not raw.isdigit() or int(raw) > MAX_CAPACITY:
            errors[f"capacity_{channel}"] = "desk.contacts.capacity_invalid"
        else:
            capacity[channel] = int(raw)
    skills, bad = parse_skills(str(form.get("skills", "")))
    if bad:
        errors["skills"] = "desk.contacts.skills_invalid"
    queues = [q for q in re.split(r"[\s,]+", str(form.get("queues", "")).strip().lower()) if q]
    if len(queues) > MAX_QUEUES or any(not NAME.match(q) for q in queues):
        errors["queues"] = "desk.contacts.queues_invalid"
    body = {"presence": presence, "capacity": capacity, "skills": skills, "queues": list(dict.fromkeys(queues))}
    return body, errors


def parse_skills(text: str) -> tuple[dict[str, int], bool]:
    """``skill:proficiency`` pairs separated by spaces or commas (proficiency 1-5); whether any pair is bad."""
    skills: dict[str, int] = {}
    pairs = [p for p in re.split(r"[\s,]+", text.strip().lower()) if p]
    if len(pairs) > MAX_SKILLS:
        return {}, True
    for pair in pairs:
        skill, sep, level = pair.partition(":")
        if not sep or not NAME.match(skill) or level not in ("1", "2", "3", "4", "5"):
            return {}, True
        skills[skill] = int(level)
    return skills, False


def skills_text(skills: dict[str, int]) -> str:
    return " ".join(f"{skill}:{level}" for skill, level in sorted(skills.items()))


def seconds_since(at: str | None, now: datetime) -> int:
    """Whole seconds from an ISO time to now (0 when unknown or in the future)."""
    if not at:
        return 0
    return max(0, int((now - datetime.fromisoformat(at)).total_seconds()))


def seconds_until(at: str | None, now: datetime) -> int:
    """Whole seconds from now to an ISO time (0 when unknown or past)."""
    if not at:
        return 0
    return max(0, int((datetime.fromisoformat(at) - now).total_seconds()))


def clock(at: str | None) -> str:
    """An ISO time as Madrid's HH:MM:SS (empty when unknown): stays true while the page is shown."""
    return datetime.fromisoformat(at).astimezone(MADRID).strftime("%H:%M:%S") if at else ""


def minutes_seconds(total: int | float | None) -> tuple[int, int] | None:
    """A duration as (minutes, seconds), or None when there is none (a figure of a day with nothing answered)."""
    if total is None:
        return None
    whole = max(0, round(float(total)))
    return whole // 60, whole % 60


def split_contacts(contacts: list[dict[str, Any]], now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The contacts offered to the agent (with how long each waited and how long its offer has left), oldest
    first, and those they attend; nothing else the API returns (the citizen's id is never in it)."""
    offered, active = [], []
    for c in contacts:
        shown = {
            "id": c["id"], "channel": c["channel"], "queue": c["queue"], "priority": c.get("priority", 0),
            "topic": c.get("topic") or "", "citizen_known": bool(c.get("citizen_known")),
            "waited": seconds_since(c.get("queued_at") or c.get("created_at"), now),
            "since": clock(c.get("queued_at") or c.get("created_at")),
        }  # fmt: skip
        if c.get("state") == "offered":
            expires = c.get("offer_expires_at")
            offered.append({**shown, "left": seconds_until(expires, now), "until": clock(expires)})
        elif c.get("state") == "active":
            active.append({**shown, "handling": seconds_since(c.get("accepted_at"), now),
                           "accepted": clock(c.get("accepted_at"))})  # fmt: skip
    offered.sort(key=lambda c: -c["waited"])
    active.sort(key=lambda c: -c["handling"])
    return offered, active


def seen_ids(raw: str) -> set[str]:
    return {part for part in raw.split(",")[:50] if CONTACT_ID.match(part)}


# ---- pages -------------------------------------------------------------------------------------------------------


def _done(ctx: PageContext) -> str:
    done = ctx.request.args.get("done", "")
    return done if done in DONE else ""


def _refusal(ctx: PageContext, problem: ApiProblem) -> str:
    return i18n.translate_or(ctx.lang, f"problem.{problem.slug}", ctx.t("desk.contacts.refused"))


def _profile(ctx: PageContext) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = ctx.api("GET", "/v1/routing/agents/me")
    except ApiProblem as problem:
        if problem.status != 404:
            raise
        return None  # no routing profile yet: the form starts from the API's defaults
    return found


def _mine(ctx: PageContext) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return split_contacts(ctx.api("GET", "/v1/routing/agents/me/contacts")["contacts"], ctx.now)


def contacts_desk(
    ctx: PageContext,
    errors: dict[str, str] | None = None,
    status: int = 200,
    form: dict[str, Any] | None = None,
    refusal: str = "",
) -> flask.Response:
    """My presence and routing profile for contacts, the contacts offered to me and those I attend."""
    reads: dict[str, Callable[[], Any]] = {"profile": lambda: _profile(ctx), "mine": lambda: _mine(ctx)}
    read = side_by_side(reads)
    profile = read["profile"]
    offered, active = read["mine"]
    values = form or {
        "presence": profile["presence"] if profile else "offline",
        "capacity": {"call": 1, "chat": 3, "whatsapp": 0, **(profile["capacity"] if profile else {})},
        "skills": skills_text(profile["skills"]) if profile else "",
        "queues": " ".join(profile["queues"]) if profile else "",
    }
    return render(ctx, "desk/contacts.html", status, profile=profile, values=values, offered=offered,
                  active=active, errors=errors or {}, done=_done(ctx), refusal=refusal, news="",
                  today=ctx.now.astimezone(MADRID).date().isoformat())  # fmt: skip


def offers_fragment(ctx: PageContext) -> flask.Response:
    """The offers as the page polls them: 204 while they are the ones shown (``seen``), else the new list, a new
    offer told once in the page's polite live region. Without JavaScript the page itself is the list."""
    if not ctx.request.headers.get("HX-Request"):
        return redirect("/desk/contacts")
    offered, _ = _mine(ctx)
    seen = seen_ids(ctx.request.args.get("seen", ""))
    if {c["id"] for c in offered} == seen:
        return flask.Response(status=204)  # nothing new: the list stays as it is (focus, and what is being read)
    new = [c for c in offered if c["id"] not in seen]
    news = ""
    if new:
        c = new[0]
        news = ctx.t("desk.contacts.news", channel=ctx.t(f"desk.contacts.channel.{c['channel']}"), queue=c["queue"])
    elif (profile := _profile(ctx)) is not None and profile["presence"] == "away":
        news = ctx.t("desk.contacts.expired_news")  # an offer gone unanswered: the sweep set them away
    return render(ctx, "desk/contacts_offers.html", offered=offered, news=news)


def save_profile(ctx: PageContext) -> flask.Response:
    body, keys = parse_profile(ctx.request.form)
    sent = ctx.request.form
    form = {**body, "capacity": {c: sent.get(f"capacity_{c}", "") for c in CHANNELS},
            "skills": sent.get("skills", "")[:2000], "queues": sent.get("queues", "")[:2000]}  # fmt: skip
    if keys:
        return contacts_desk(ctx, {field: ctx.t(key) for field, key in keys.items()}, 422, form)
    try:
        ctx.api("PUT", "/v1/routing/agents/me", body)
    except ApiProblem as problem:
        if problem.status not in (403, 422):
            raise
        named = {f: m for f, m in problem.field_errors().items() if f in ("presence", "skills", "queues")}
        errors = {f: _refusal(ctx, problem) for f in named} or {
            "queues" if problem.slug in ("queue-level", "unknown-queue") else "form": _refusal(ctx, problem)
        }
        return contacts_desk(ctx, errors, problem.status, form)
    return redirect("/desk/contacts?done=profile")


def _act(ctx: PageContext, contact_id: str, action: str, body: dict[str, Any], done: str) -> flask.Response:
    if not CONTACT_ID.match(contact_id):
        return contacts_desk(ctx, status=404, refusal=ctx.t("problem.contact-not-found"))
    try:
        ctx.api("POST", f"/v1/contacts/{contact_id}/{action}", body)
    except ApiProblem as problem:
        if problem.status not in REFUSED:
            raise
        return contacts_desk(ctx, status=problem.status, refusal=_refusal(ctx, problem))
    return redirect(f"/desk/contacts?done={done}")


def accept(ctx: PageContext, contact_id: str) -> flask.Response:
    return _act(ctx, contact_id, "accept", {}, "accepted")


def reject(ctx: PageContext, contact_id: str) -> flask.Response:
    return _act(ctx, contact_id, "reject", {}, "rejected")


def end(ctx: PageContext, contact_id: str) -> flask.Response:
    topic = ctx.request.form.get("topic", "").strip()
    outcome = ctx.request.form.get("outcome", "resolved")
    if not topic or len(topic) > 200 or outcome not in OUTCOMES:
        field = f"topic-{contact_id}" if CONTACT_ID.match(contact_id) else "form"
        return contacts_desk(ctx, {field: ctx.t("desk.contacts.topic_missing")}, 422)
    return _act(ctx, contact_id, "end", {"outcome": outcome, "topic": topic}, "ended")


# ---- a queue's day -----------------------------------------------------------------------------------------------


def _stats_query(ctx: PageContext) -> tuple[str, str, dict[str, str]]:
    queue = ctx.request.args.get("queue", "").strip().lower()[:48]
    day = ctx.request.args.get("date", "") or ctx.now.astimezone(MADRID).date().isoformat()
    errors = {}
    if queue and not NAME.match(queue):
        errors["queue"] = ctx.t("desk.contacts.queue_invalid")
    if not DAY.match(day) or not _real_day(day):
        errors["date"] = ctx.t("desk.contacts.date_invalid")
    return queue, day, errors


def _real_day(day: str) -> bool:
    try:
        date.fromisoformat(day)
    except ValueError:
        return False
    return True


def queue_day(ctx: PageContext) -> flask.Response:
    """A queue's day: offered, answered, abandoned, timed out, waits p50/p90, handling, service level; the CSV."""
    queue, day, errors = _stats_query(ctx)
    stats = None
    if queue and not errors:
        stats = ctx.api("GET", "/v1/routing/stats", params={"queue": queue, "date": day})
    status = 422 if errors else 200
    return render(ctx, "desk/contacts_stats.html", status, queue=queue, day=day, errors=errors, stats=stats,
                  duration=minutes_seconds)  # fmt: skip


def queue_day_csv(ctx: PageContext) -> flask.Response:
    """The queue's day as the API's CSV, streamed with its type and name."""
    queue, day, errors = _stats_query(ctx)
    if not queue or errors:
        return queue_day(ctx)
    path = f"/v1/routing/stats?queue={queue}&date={day}&format=csv"
    answer = ctx.ports.api.download(path, ctx.me.access_token, ctx.traceparent)
    headers = {k: v for k, v in answer.headers.items() if k in ("Content-Type", "Content-Disposition")}
    return flask.Response(answer.content, status=200, headers=headers)


PAGES = [
    Page("/desk/contacts", "GET", contacts_desk, "My presence for contacts, the contacts offered to me and attended",
         "agent"),
    Page("/desk/contacts/offers", "GET", offers_fragment, "The contacts offered to me (the page's polled fragment)",
         "agent"),
    Page("/desk/contacts/profile", "POST", save_profile, "Set my routing profile: presence, capacity, skills, queues",
         "agent"),
    Page("/desk/contacts/stats", "GET", queue_day, "A queue's day: offered, answered, waits, service level", "agent"),
    Page("/desk/contacts/stats.csv", "GET", queue_day_csv, "A queue's day as CSV", "agent"),
    Page("/desk/contacts/<contact_id>/accept", "POST", accept, "Accept the contact offered to me", "agent"),
    Page("/desk/contacts/<contact_id>/reject", "POST", reject, "Decline the contact offered to me", "agent"),
    Page("/desk/contacts/<contact_id>/end", "POST", end, "End the contact I attend, with its topic", "agent"),
]  # fmt: skip
