"""Campaigns (CAMP) at the desk: the campaign manager's screens — segments built as a form and counted by the
channel NOT will choose, campaigns created, approved (four eyes), scheduled, paused, resumed or cancelled with
their live progress, and the impact report with its plot and CSV.

Every page is the public API with the manager's own token (``/v1/segments``, ``/v1/campaigns``): no store, no
domain import (ADR 0019). Campaign managers are agents of area ``comunicacion`` (``policies/authz``); any other
agent reaching these pages gets the API's 403 as a page. The segment form is turned into the API's filter tree
here (one ``all`` of the criteria filled in), and the API's 422 ``errors`` (paths like ``filter.all.2.age.min``)
are put back next to the field that made that criterion. The progress is a fragment htmx asks for every few
seconds (``/desk/campaigns/<id>/progress``); without JavaScript the page's refresh link shows the same.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import flask

from functions.core.clock import MADRID
from functions.core.errors import NotFoundError
from functions.core.madrid import zones
from functions.web import i18n
from functions.web.api import ApiProblem
from functions.web.web import Page, PageContext, redirect, render, side_by_side

SEGMENT_ID = re.compile(r"^seg-[0-9a-f]{16}$")
CAMPAIGN_ID = re.compile(r"^cmp-[0-9a-f]{16}$")
LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$")
CONSTANT = re.compile(r"^([a-z][a-z0-9_]{0,39})\s*=\s*(.{0,500})$")
CHANNELS = ("email", "sms", "push", "inapp")
LANGUAGES = ("es", "en")
PURPOSES = ("campaigns", "surveys")
SECTIONS = ("taxes", "fines", "cases", "appointments", "permits", "wallet")
EVERY = ("P1D", "P7D", "P1M")
KINDS = ("payment", "case", "appointment", "survey")
ACTIONS = ("approve", "schedule", "pause", "resume", "cancel")
# which manager's actions a state allows (the API decides; the page offers only these)
ALLOWED: dict[str, tuple[str, ...]] = {
    "draft": ("approve", "schedule", "cancel"),
    "approved": ("schedule", "cancel"),
    "scheduled": ("pause", "cancel"),
    "running": ("pause", "cancel"),
    "paused": ("resume", "cancel"),
}
LIVE = ("scheduled", "running", "paused")  # the progress part keeps asking while the campaign may still move
METRICS = ("sent", "delivered", "failed", "not_allowed", "opened", "clicked", "unsubscribed", "conversions")
DONE_SEGMENT = ("created", "rebuilt")
DONE_CAMPAIGN = ("created", *ACTIONS)
MAX_VARIANTS = 2


# ---- pure: the segment form as the API's filter, and its errors back on the form ---------------------------------


def _ints(form: Any, names: tuple[str, ...]) -> tuple[dict[str, int], dict[str, str]]:
    """Whole numbers of the fields filled in, and the fields that are not one (``segment.number_invalid``)."""
    found, bad = {}, {}
    for name in names:
        raw = str(form.get(name, "")).strip()
        if not raw:
            continue
        if re.fullmatch(r"-?\d{1,6}", raw):
            found[name] = int(raw)
        else:
            bad[name] = "segment.number_invalid"
    return found, bad


def segment_filter(form: Any) -> tuple[dict[str, Any], list[str], dict[str, str]]:
    """The filter tree of the segment form (``{"all": [criteria]}``), the form field each criterion came from (in
    the tree's order, to put the API's errors back), and the form's own errors (message keys).

    Only what the API cannot say is checked here (a number that is not one, nothing chosen at all): the rules
    of a filter (ages 0-130, min <= max, valid codes) are the API's, shown as it words them."""
    numbers, errors = _ints(form, ("age_min", "age_max", "interacted_days"))
    criteria: list[dict[str, Any]] = []
    fields: list[str] = []

    def add(field: str, criterion: dict[str, Any]) -> None:
        criteria.append(criterion)
        fields.append(field)

    if districts := [d for d in form.getlist("districts") if d][:200]:
        add("districts", {"district": districts})
    if barrios := [b for b in form.getlist("barrios") if b][:200]:
        add("barrios", {"barrio": barrios})
    if "age_min" in numbers or "age_max" in numbers:
        add("age_min", {"age": {k: numbers[f"age_{k}"] for k in ("min", "max") if f"age_{k}" in numbers}})
    if languages := [x for x in form.getlist("languages") if x][:2]:
        add("languages", {"language": languages})
    consent_purpose = str(form.get("consent_purpose", ""))
    channels = [c for c in form.getlist("consent_channels") if c][:4]
    if consent_purpose:
        consent: dict[str, Any] = {"purpose": consent_purpose, **({"channels": channels} if channels else {})}
        add("consent_purpose", {"consent": consent})
    elif channels:
        errors["consent_purpose"] = "segment.consent_purpose_missing"
    section = str(form.get("relation_section", ""))
    area = str(form.get("relation_area", "")).strip()[:40]
    if section:
        add("relation_section", {"relation": {"section": section, **({"area": area} if area else {})}})
    recency = str(form.get("interacted", ""))
    if recency in ("within_days", "not_within_days"):
        if "interacted_days" in numbers:
            add("interacted_days", {"interacted": {recency: numbers["interacted_days"]}})
        elif "interacted_days" not in errors:
            errors["interacted_days"] = "segment.days_missing"
    if not criteria and not errors:
        errors["form"] = "segment.no_criteria"
    return {"all": criteria}, fields, errors


def segment_errors(problem: ApiProblem, fields: list[str]) -> dict[str, str]:
    """The API's 422 ``errors`` next to the fields they are about: ``filter.all.<i>...`` is criterion ``i``'s field
    (``age.max`` is the maximum age's), ``name`` and ``purpose`` are the form's own; the rest goes on top."""
    found: dict[str, str] = {}
    for error in problem.errors or []:
        if not isinstance(error, dict):
            continue
        path, message = str(error.get("field") or ""), str(error.get("message") or "")
        match = re.match(r"^filter\.all\.(\d+)(.*)$", path)
        if match and int(match.group(1)) < len(fields):
            field = fields[int(match.group(1))]
            field = "age_max" if field == "age_min" and match.group(2).startswith(".age.max") else field
        elif path in ("name", "purpose"):
            field = path
        else:
            field = "form"
        found[field] = f"{found[field]} {message}" if field in found else message
    return found


# ---- pure: the campaign form as the API's request, and its errors back on the form --------------------------------


def madrid_instant(local: str) -> str:
    """A ``datetime-local`` value (Madrid's wall clock) as an aware ISO instant."""
    return datetime.fromisoformat(local).replace(tzinfo=MADRID).isoformat()


def _constants(text: str) -> tuple[dict[str, str], bool]:
    """``name = value`` lines (the template's constants); whether any line is not one."""
    found: dict[str, str] = {}
    for line in text.splitlines()[:32]:
        if not line.strip():
            continue
        match = CONSTANT.match(line.strip())
        if match is None:
            return {}, True
        found[match.group(1)] = match.group(2).strip()
    return found, False


def campaign_request(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """``POST /v1/campaigns``'s body from the form, and the form's own errors (message keys): a Madrid time that is
    not one, a number that is not one, a constant line that is not ``name = value``. The rest is the API's."""
    errors: dict[str, str] = {}
    body: dict[str, Any] = {
        "name": str(form.get("name", "")).strip()[:200],
        "segment_id": str(form.get("segment_id", "")),
        "purpose": str(form.get("purpose", "campaigns")),
        "template": str(form.get("template", "")).strip()[:80],
    }
    templates = {c: str(form.get(f"template_{c}", "")).strip()[:80] for c in CHANNELS}
    body["channel_templates"] = {c: t for c, t in templates.items() if t}
    constants, bad = _constants(str(form.get("personalisation", ""))[:8000])
    if bad:
        errors["personalisation"] = "campaign.constants_invalid"
    body["personalisation"] = constants
    rates, bad_rates = _ints(form, tuple(f"rate_{c}" for c in CHANNELS))
    errors.update(bad_rates)
    body["rate_limits"] = {name.removeprefix("rate_"): n for name, n in rates.items()}
    body["schedule"] = _schedule(form, errors)
    variants = []
    for i in range(1, MAX_VARIANTS + 1):
        name = str(form.get(f"variant{i}_name", "")).strip()
        template = str(form.get(f"variant{i}_template", "")).strip()
        share, bad_share = _ints(form, (f"variant{i}_share",))
        errors.update(bad_share)
        if name or template or share:
            variants.append({"name": name[:16], "template": template[:80], "share": share.get(f"variant{i}_share", 0)})
    if variants:
        body["variants"] = variants
    if survey := str(form.get("survey_id", "")).strip()[:64]:
        body["survey_id"] = survey
    days, bad_days = _ints(form, ("conversion_days",))
    errors.update(bad_days)
    kinds = [k for k in form.getlist("conversion_kinds") if k in KINDS]
    body["conversion"] = {"days": days.get("conversion_days", 14), "kinds": kinds}
    return body, errors


def _instant(local: str) -> str | None:
    """A Madrid wall-clock field as an instant, or ``None`` if it is not a real date and time (30 February)."""
    if not LOCAL_TIME.match(local):
        return None
    try:
        return madrid_instant(local)
    except ValueError:
        return None


def _schedule(form: Any, errors: dict[str, str]) -> dict[str, Any]:
    when = str(form.get("when", "now"))
    schedule: dict[str, Any] = {}
    if when in ("at", "recurring"):
        at = str(form.get("at", "")).strip()
        if (instant := _instant(at)) is not None:
            schedule["at"] = instant
        elif at or when == "at":
            errors["at"] = "campaign.at_invalid"
    if when == "recurring":
        until = _instant(str(form.get("until", "")).strip())
        if until is None:
            errors["until"] = "campaign.at_invalid"
        else:
            schedule["until"] = until
        schedule["every"] = str(form.get("every", "P7D"))
    return schedule


FIELD_OF = {
    "name": "name", "segment_id": "segment_id", "segment_version": "segment_id", "purpose": "purpose",
    "template": "template", "personalisation": "personalisation", "survey_id": "survey_id",
    "schedule.at": "at", "schedule.until": "until", "schedule.every": "every", "schedule": "at",
    "variants": "variants", "conversion.days": "conversion_days", "conversion.kinds": "conversion_kinds",
}  # fmt: skip


def campaign_field(path: str) -> str:
    """The form field of an API error's path (``channel_templates.sms`` -> ``template_sms``); ``form`` if none."""
    for prefix, field in (("channel_templates.", "template_"), ("rate_limits.", "rate_")):
        if path.startswith(prefix) and path.removeprefix(prefix).split(".")[0] in CHANNELS:
            return field + path.removeprefix(prefix).split(".")[0]
    if path.startswith("personalisation"):
        return "personalisation"
    if path.startswith("variants"):
        return "variants"
    return FIELD_OF.get(path, "form")


def campaign_errors(problem: ApiProblem, fallback: str) -> dict[str, str]:
    """The API's refusal of a new campaign on the form: each error next to its field; a past schedule next to the
    time; a model's own rule (shares not summing to 100: ``variants: ...``) by the name it starts with."""
    found: dict[str, str] = {}
    for error in problem.errors or []:
        if not isinstance(error, dict):
            continue
        message = str(error.get("message") or "").removeprefix("Value error, ")
        field = campaign_field(str(error.get("field") or ""))
        if field == "form" and (named := re.match(r"^([a-z_]+(?:\.[a-z]+)?):", message)):
            field = campaign_field(named.group(1))
        found[field] = f"{found[field]} {message}" if field in found else message
    if not found:
        found["at" if problem.slug == "schedule-in-past" else "form"] = fallback
    return found


def actions_of(campaign: dict[str, Any]) -> tuple[str, ...]:
    """The buttons a campaign's state offers (approve only for a city-wide one not yet approved)."""
    allowed = ALLOWED.get(str(campaign.get("state")), ())
    if not campaign.get("city_wide") or campaign.get("approved_by"):
        allowed = tuple(a for a in allowed if a != "approve")
    return allowed


def percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole > 0 else 0


def report_alt(report: dict[str, Any], t: Any) -> str:
    """The plot's text alternative: the figures it draws, in words."""
    totals = report.get("totals", {})
    figures = ", ".join(f"{t('campaign.metric.' + m)} {totals.get(m, 0)}" for m in ("targeted", "dispatched", *METRICS))
    return str(t("campaign.plot_alt", figures=figures))


# ---- pages: segments ------------------------------------------------------------------------------------------------


def _segment_id(segment_id: str) -> str:
    if not SEGMENT_ID.match(segment_id):
        raise NotFoundError(f"no segment {segment_id[:80]!r}")
    return segment_id


def _campaign_id(campaign_id: str) -> str:
    if not CAMPAIGN_ID.match(campaign_id):
        raise NotFoundError(f"no campaign {campaign_id[:80]!r}")
    return campaign_id


def _done(ctx: PageContext, allowed: tuple[str, ...]) -> str:
    done = ctx.request.args.get("done", "")
    return done if done in allowed else ""


def _refusal(ctx: PageContext, problem: ApiProblem) -> str:
    return i18n.translate_or(ctx.lang, f"campaign.problem.{problem.slug}", problem.detail)


def _readers(form: Any) -> dict[str, Any]:
    """The form's values as sent (a refused form is shown again as it was), for the template: ``v(name)`` one
    value, ``vs(name)`` a field's values (checkboxes, a multiple select)."""
    return {
        "v": lambda name: str(form.get(name, "")) if form is not None else "",
        "vs": lambda name: list(form.getlist(name)) if form is not None else [],
    }


def _places() -> tuple[list[Any], list[Any]]:
    """The official districts and barrios (codes and names) for the form's choices."""
    found = sorted(zones().values(), key=lambda z: z.code)
    return [z for z in found if z.kind == "district"], [z for z in found if z.kind == "barrio"]


def segments_desk(ctx: PageContext, errors: dict[str, str] | None = None, status: int = 200) -> flask.Response:
    """The saved segments, and the form to build one."""
    found = ctx.api("GET", "/v1/segments")["segments"]
    districts, barrios = _places()
    form = ctx.request.form if ctx.request.method == "POST" else None
    return render(ctx, "desk/segments.html", status, segments=found, errors=errors or {}, **_readers(form),
                  districts=districts, barrios=barrios, sections=SECTIONS, channels=CHANNELS,
                  purposes=PURPOSES, languages=LANGUAGES)  # fmt: skip


def create_segment(ctx: PageContext) -> flask.Response:
    """Save the segment built on the form; the API's errors go back next to their fields."""
    tree, fields, keys = segment_filter(ctx.request.form)
    name = ctx.request.form.get("name", "").strip()
    if not name:
        keys["name"] = "segment.name_missing"
    if keys:
        return segments_desk(ctx, {field: ctx.t(key) for field, key in keys.items()}, 422)
    purpose = ctx.request.form.get("purpose", "campaigns")
    try:
        made = ctx.api("POST", "/v1/segments", {"name": name[:120], "filter": tree, "purpose": purpose})
    except ApiProblem as problem:
        if problem.status != 422:
            raise
        return segments_desk(ctx, segment_errors(problem, fields) or {"form": _refusal(ctx, problem)}, 422)
    return redirect(f"/desk/segments/{made['id']}?done=created")


def segment_page(ctx: PageContext, segment_id: str, count: dict[str, Any] | None = None) -> flask.Response:
    """A segment: its explanation in words, its filter, its members now (when built), and its count by channel."""
    segment = ctx.api("GET", f"/v1/segments/{_segment_id(segment_id)}")
    names = {z.code: z.name for z in zones().values()}
    return render(ctx, "desk/segment.html", segment=segment, count=count, channels=CHANNELS, purposes=PURPOSES,
                  done=_done(ctx, DONE_SEGMENT), names=names, fresh=ctx.request.args.get("fresh") == "yes")  # fmt: skip


def count_segment(ctx: PageContext, segment_id: str) -> flask.Response:
    """How many the segment reaches by the channel NOT will choose, why the others are not sent, and a sample."""
    purpose = ctx.request.args.get("purpose", "campaigns")
    if purpose not in PURPOSES:
        raise NotFoundError("purpose campaigns or surveys")
    body: dict[str, Any] = {"purpose": purpose, "sample": 10}
    if ctx.request.args.get("fresh") == "yes":
        body["fresh"] = True  # the projection exported again first (else an export up to a minute old)
    found = ctx.api("POST", f"/v1/segments/{_segment_id(segment_id)}/count", body)
    return segment_page(ctx, segment_id, found)


def rebuild_segment(ctx: PageContext, segment_id: str) -> flask.Response:
    ctx.api("POST", f"/v1/segments/{_segment_id(segment_id)}/rebuild", {})
    return redirect(f"/desk/segments/{segment_id}?done=rebuilt")


# ---- pages: campaigns -----------------------------------------------------------------------------------------------


def campaigns_desk(ctx: PageContext) -> flask.Response:
    """The campaigns with their states, newest first."""
    found = ctx.api("GET", "/v1/campaigns")["campaigns"]
    return render(ctx, "desk/campaigns.html", campaigns=found)


def new_campaign(ctx: PageContext, errors: dict[str, str] | None = None, status: int = 200) -> flask.Response:
    """The form of a new campaign: a saved segment, NOT's templates, when, limits, A/B, survey, conversions."""
    found = ctx.api("GET", "/v1/segments")["segments"]
    form = ctx.request.form if ctx.request.method == "POST" else None
    chosen = ctx.request.args.get("segment", "")
    return render(ctx, "desk/campaign_new.html", status, segments=found, errors=errors or {}, **_readers(form),
                  chosen=chosen, channels=CHANNELS, purposes=PURPOSES, every=EVERY, kinds=KINDS,
                  variants=range(1, MAX_VARIANTS + 1))  # fmt: skip


def create_campaign(ctx: PageContext) -> flask.Response:
    body, keys = campaign_request(ctx.request.form)
    if not SEGMENT_ID.match(body["segment_id"]):
        keys["segment_id"] = "campaign.segment_missing"
    if keys:
        return new_campaign(ctx, {field: ctx.t(key) for field, key in keys.items()}, 422)
    try:
        made = ctx.api("POST", "/v1/campaigns", body)
    except ApiProblem as problem:
        if problem.status not in (404, 409, 422):
            raise
        return new_campaign(ctx, campaign_errors(problem, _refusal(ctx, problem)), problem.status)
    return redirect(f"/desk/campaigns/{made['id']}?done=created")


def _view(ctx: PageContext, campaign: dict[str, Any]) -> dict[str, Any]:
    """What the campaign page and its progress part show."""
    progress = campaign.get("progress", {})
    targeted, dispatched = int(progress.get("targeted", 0)), int(progress.get("dispatched", 0))
    return {"campaign": campaign, "actions": actions_of(campaign), "live": campaign.get("state") in LIVE,
            "targeted": targeted, "dispatched": dispatched, "done_percent": percent(dispatched, targeted),
            "impact": progress.get("impact", {}), "metrics": METRICS, "oob": False}  # fmt: skip


def campaign_page(ctx: PageContext, campaign_id: str, refusal: str = "", status: int = 200) -> flask.Response:
    """A campaign: its request, the buttons its state allows, its live progress, its history."""
    campaign = ctx.api("GET", f"/v1/campaigns/{_campaign_id(campaign_id)}")
    return render(ctx, "desk/campaign.html", status, **_view(ctx, campaign), refusal=refusal,
                  done=_done(ctx, DONE_CAMPAIGN), clock=_clock, news="")  # fmt: skip


def progress_fragment(ctx: PageContext, campaign_id: str) -> flask.Response:
    """The progress part as htmx asks for it (the page itself without JavaScript). It says a new state once in the
    page's polite live region, never the counts (not chatty)."""
    if not ctx.request.headers.get("HX-Request"):
        return redirect(f"/desk/campaigns/{_campaign_id(campaign_id)}")
    campaign = ctx.api("GET", f"/v1/campaigns/{_campaign_id(campaign_id)}")
    seen = ctx.request.args.get("state", "")
    state = str(campaign["state"])
    news = ctx.t("campaign.news", state=ctx.t(f"campaign.state.{state}")) if seen != state else ""
    return render(ctx, "desk/campaign_progress.html", **_view(ctx, campaign), news=news)


def _clock(at: str | None) -> str:
    """An ISO instant as Madrid's date and time."""
    return datetime.fromisoformat(at).astimezone(MADRID).strftime("%Y-%m-%d %H:%M:%S") if at else ""


def _act(ctx: PageContext, campaign_id: str, action: str) -> flask.Response:
    """A manager's action; a refusal (four eyes, a state that does not allow it) is said on the page."""
    try:
        ctx.api("POST", f"/v1/campaigns/{_campaign_id(campaign_id)}/{action}", {})
    except ApiProblem as problem:
        if problem.status not in (403, 409, 422):
            raise
        return campaign_page(ctx, campaign_id, _refusal(ctx, problem), problem.status)
    return redirect(f"/desk/campaigns/{campaign_id}?done={action}")


def approve(ctx: PageContext, campaign_id: str) -> flask.Response:
    return _act(ctx, campaign_id, "approve")


def schedule(ctx: PageContext, campaign_id: str) -> flask.Response:
    return _act(ctx, campaign_id, "schedule")


def pause(ctx: PageContext, campaign_id: str) -> flask.Response:
    return _act(ctx, campaign_id, "pause")


def resume(ctx: PageContext, campaign_id: str) -> flask.Response:
    return _act(ctx, campaign_id, "resume")


def cancel(ctx: PageContext, campaign_id: str) -> flask.Response:
    return _act(ctx, campaign_id, "cancel")


# ---- pages: the impact report ---------------------------------------------------------------------------------------


def report_page(ctx: PageContext, campaign_id: str) -> flask.Response:
    """The impact: totals, by district, channel and variant as tables; the plot with its figures in words; CSV."""
    reads = {
        "campaign": lambda: ctx.api("GET", f"/v1/campaigns/{_campaign_id(campaign_id)}"),
        "report": lambda: ctx.api("GET", f"/v1/campaigns/{campaign_id}/report"),
    }
    read = side_by_side(reads)
    names = {z.code: z.name for z in zones().values()}
    return render(ctx, "desk/campaign_report.html", campaign=read["campaign"], report=read["report"],
                  metrics=("targeted", "dispatched", *METRICS), breakdown=METRICS,
                  alt=report_alt(read["report"], ctx.t),
                  label_district=lambda code: names.get(code, code),
                  label_channel=lambda channel: i18n.translate_or(ctx.lang, f"campaign.channel.{channel}", channel),
                  label_variant=lambda name: name)  # fmt: skip


def report_file(ctx: PageContext, campaign_id: str, fmt: str) -> flask.Response:
    """The API's plot (PNG, SVG) in the page's language, or its CSV, passed through with its type and name."""
    if fmt not in ("png", "svg", "csv"):
        raise NotFoundError("a report is png, svg or csv")
    path = f"/v1/campaigns/{_campaign_id(campaign_id)}/report?format={fmt}&language={ctx.lang}"
    answer = ctx.ports.api.download(path, ctx.me.access_token, ctx.traceparent)
    headers = {k: v for k, v in answer.headers.items() if k in ("Content-Type", "Content-Disposition")}
    return flask.Response(answer.content, status=200, headers=headers)


PAGES = [
    Page("/desk/segments", "GET", segments_desk, "Campaign segments: the saved ones and a form to build one", "agent"),
    Page("/desk/segments", "POST", create_segment, "Save a segment built on the form", "agent"),
    Page("/desk/segments/<segment_id>", "GET", segment_page, "A segment: its words, filter and members", "agent"),
    Page("/desk/segments/<segment_id>/count", "GET", count_segment,
         "A segment's count by the channel NOT will choose, with a pseudonymised sample", "agent"),
    Page("/desk/segments/<segment_id>/rebuild", "POST", rebuild_segment, "Rebuild a segment's snapshot", "agent"),
    Page("/desk/campaigns", "GET", campaigns_desk, "Campaigns and their states", "agent"),
    Page("/desk/campaigns/new", "GET", new_campaign, "A new campaign's form", "agent"),
    Page("/desk/campaigns/new", "POST", create_campaign, "Create the campaign (a draft)", "agent"),
    Page("/desk/campaigns/<campaign_id>", "GET", campaign_page, "A campaign: actions, live progress, history",
         "agent"),
    Page("/desk/campaigns/<campaign_id>/progress", "GET", progress_fragment,
         "A campaign's progress (the page's polled fragment)", "agent"),
    Page("/desk/campaigns/<campaign_id>/approve", "POST", approve, "Approve the campaign (four eyes)", "agent"),
    Page("/desk/campaigns/<campaign_id>/schedule", "POST", schedule, "Schedule the campaign", "agent"),
    Page("/desk/campaigns/<campaign_id>/pause", "POST", pause, "Pause the campaign", "agent"),
    Page("/desk/campaigns/<campaign_id>/resume", "POST", resume, "Resume the campaign", "agent"),
    Page("/desk/campaigns/<campaign_id>/cancel", "POST", cancel, "Cancel the campaign", "agent"),
    Page("/desk/campaigns/<campaign_id>/report", "GET", report_page, "A campaign's impact report", "agent"),
    Page("/desk/campaigns/<campaign_id>/report/<fmt>", "GET", report_file,
         "A campaign's impact report as PNG, SVG or CSV", "agent"),
]  # fmt: skip
