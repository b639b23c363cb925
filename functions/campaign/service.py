"""Campaigns (CAMP), pure rules: the audience projection's merge, saved segments' deltas, a campaign's request
and its lifecycle (four-eyes for a city-wide one), the A/B split, the dispatcher's pacing and page, the impact
counters' keys, and the domain's port.

Nothing here knows DynamoDB, HTTP or DuckDB: the segment engine (``segments``, ``columnar``) is called by the
handlers, the store is the ``CampaignStore`` port, the object store the ``Files`` port.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from events.notification import TEMPLATE_ID_PATTERN, BatchRecipient, NotificationBatchRequested
from functions.campaign.audience import RELATION_SECTIONS, AudienceRow
from functions.core.errors import ForbiddenError, NotFoundError, PicError, ValidationError
from functions.core.links import RecordLinks
from functions.core.madrid import find_zone

if TYPE_CHECKING:  # the port names the kernel's unit of work; this module stays free of its adapters
    from functions.core.store import UnitOfWork

CHANNELS = ("email", "sms", "push", "inapp")
Channel = Literal["email", "sms", "push", "inapp"]
ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,47}$"
PAGE = 250  # members per batch event (contracts §1 allows 500)
CITY_WIDE_TARGETED = 100_000  # contracts §7: above this (or with no district filter) a campaign needs four eyes
FILLED_BY_CAMPAIGN = ("district_name", "barrio_name", "survey_url")  # per recipient, by the dispatcher
FILLED_BY_NOT = ("unsubscribe_url",)  # contracts §4: NOT fills it for campaigns and surveys


class SegmentNotFoundError(NotFoundError):
    slug, title = "segment-not-found", "No such segment"


class CampaignNotFoundError(NotFoundError):
    slug, title = "campaign-not-found", "No such campaign"


class CampaignStateError(PicError):
    status, slug, title = 409, "campaign-state", "The campaign's state does not allow this"


class FourEyesError(ForbiddenError):
    slug, title = "four-eyes", "Another campaign manager must approve this campaign"


class ScheduleInPastError(PicError):
    status, slug, title = 422, "schedule-in-past", "The schedule is in the past"


class TemplateFieldError(PicError):
    status, slug, title = 422, "template-field", "A template uses a field the campaign cannot fill"


# ---- the audience projection -------------------------------------------------------------------------

PARTS = ("contact", "profile", "consents", "preferences", "zones", "flags", "relations", "interaction")


@dataclass(frozen=True)
class Held:
    """A citizen's audience row as stored, with the time of the latest event applied to each part (the latest
    wins, whatever the order of delivery) and the item's version (a lost race is decided again)."""

    row: AudienceRow
    times: dict[str, str] = field(default_factory=dict)  # part (or part#key) -> ISO time of the event applied
    version: int | None = None


def newer(held: Held | None, part: str, at: datetime) -> bool:
    """Whether an event of ``at`` is newer than what ``part`` holds (a redelivery or an older one is not)."""
    if held is None or part not in held.times:
        return True
    return datetime.fromisoformat(held.times[part]) < at


def apply(held: Held | None, citizen_id: str, part: str, at: datetime, **changes: Any) -> Held | None:
    """The row after one event's part, or ``None`` if the event is not newer than what the part holds."""
    if not newer(held, part, at):
        return None
    base = held or Held(AudienceRow(citizen_id=citizen_id, reachable=("inapp",)))
    row = replace(base.row, **changes)
    return Held(row, {**base.times, part: at.isoformat()}, base.version)


def reachable_of(email: str | None, phone: str | None, push: bool = False) -> tuple[str, ...]:
    """The channels with a contact point (``inapp``: any citizen known to PIC), NOT's order."""
    found = {"email": bool(email), "sms": bool(phone), "push": push, "inapp": True}
    return tuple(c for c in CHANNELS if found[c])


def with_consent(row: AudienceRow, purpose: str, snapshot: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The row's consents with one purpose's new snapshot (CON's shape: granted, channels)."""
    kept = {p: c for p, c in row.consents.items() if p != purpose}
    kept[purpose] = {
        "granted": bool(snapshot.get("granted")),
        "channels": list(snapshot.get("channels") or []),
        "text_version": snapshot.get("text_version"),  # the policy checks it is a published text (RGPD art. 7.1)
    }
    return kept


# ---- the areas' relationships -----------------------------------------------------------------------
#
# Area systems announce what they hold about a person (``position.item.upserted``: a tax receipt, a fine, a
# card...) against their own record of the person; C360 links each record to a golden record (``citizen.updated``
# names the link). This domain keeps one ``RecordLinks`` per record (``functions.core.links``) whose members are
# the record's items, each as ``<relation key or ->/<item id>@<as of>``: the latest fact per item wins, whatever
# the order of delivery, and the record's relation keys are the person's holding ``rec:<source>|<local_id>``.

CASES = "cases"  # the holding of the relations the person's cases give (a case is a file the council keeps)
WITHDRAWN = "-"  # an item withdrawn, or one that gives no relationship (a notice; special-category data)


def record_holding(source: str, local_id: str) -> str:
    """The holding name of an area system's record (also its erasure key)."""
    return f"rec:{source}|{local_id}"


def record_of_holding(holding: str) -> tuple[str, str] | None:
    """``(source, local_id)`` of a record holding; ``None`` for another holding."""
    if not holding.startswith("rec:"):
        return None
    source, _, local_id = holding[4:].partition("|")
    return source, local_id


def relation_of(section: str, area: str, special_category: bool, removed: bool) -> str | None:
    """The relationship an area's item gives the person: ``<section>:<area>``. Nothing for a withdrawn item, a
    notice, or special-category data (RGPD art. 9: health, social services are never a segmentation criterion)."""
    if removed or special_category or section not in RELATION_SECTIONS:
        return None
    return f"{section}:{area}"


def _item(member: str) -> tuple[str, str, str]:
    """A record member as ``(relation key or '-', item id, as of)``."""
    key, _, rest = member.partition("/")
    item_id, _, as_of = rest.rpartition("@")
    return key, item_id, as_of


def with_item(links: RecordLinks, item_id: str, relation: str | None, as_of: datetime) -> RecordLinks | None:
    """The record with one item's fact of ``as_of`` (``relation`` ``None``: it gives none now); ``None`` when the
    fact is not newer than the item's held one (a redelivery, a stale event)."""
    held = [m for m in links.members if _item(m)[1] == item_id]
    if any(datetime.fromisoformat(_item(m)[2]) >= as_of for m in held):
        return None
    member = f"{relation or WITHDRAWN}/{item_id}@{as_of.isoformat()}"
    return replace(links, members=(links.members - set(held)) | {member})


def appointments(links: RecordLinks) -> dict[str, datetime]:
    """The record's appointments still booked: item id -> when the area system announced it (a conversion's time)."""
    found = {}
    for key, item_id, as_of in map(_item, links.members):
        if key.startswith("appointments:"):
            found[item_id] = datetime.fromisoformat(as_of)
    return found


def record_relations(links: RecordLinks) -> tuple[str, ...]:
    """The relation keys a record's items give, sorted and unique."""
    return tuple(sorted({key for key, _, _ in map(_item, links.members) if key != WITHDRAWN}))


def with_holding(row: AudienceRow, holding: str, relations: Iterable[str] | None) -> dict[str, Any]:
    """The row's changes when one holding gives ``relations`` (``None``: it is not the person's any more, a record
    linked elsewhere): its holdings and the relations they add up to. A record linked to the person stays among
    the holdings while its items give nothing: the erasure finds every record item that names the person."""
    holdings = {name: keys for name, keys in row.holdings.items() if name != holding}
    if relations is not None:
        holdings[holding] = tuple(sorted(set(relations)))
    return {"holdings": holdings, "relations": tuple(sorted({k for keys in holdings.values() for k in keys}))}


def with_zone(zones: tuple[str, ...], zone: str, created: bool) -> tuple[str, ...]:
    """Zones of interest after one subscription's creation or deletion (sorted, unique)."""
    found = set(zones) | {zone} if created else set(zones) - {zone}
    return tuple(sorted(found))


# ---- saved segments and their deltas -----------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """A saved segment: its versions (each a validated filter document), the snapshot of its last full build
    (an object key, with the watermark of the export it was built from) and who made it."""

    id: str
    name: str
    versions: tuple[dict[str, Any], ...]  # the filter documents, version n at index n-1
    purpose: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    snapshot: str | None = None
    snapshot_at: datetime | None = None
    snapshot_counts: dict[str, Any] = field(default_factory=dict)  # Count of the snapshot (targeted, by_channel)
    revision: int | None = None

    @property
    def version(self) -> int:
        return len(self.versions)

    def document(self, version: int | None = None) -> dict[str, Any]:
        """The filter document of ``version`` (the latest by default), or a 404 naming the versions."""
        number = version or self.version
        if not 1 <= number <= self.version:
            raise SegmentNotFoundError(f"segment {self.id!r} has versions 1 to {self.version}, not {number}")
        return self.versions[number - 1]


@dataclass(frozen=True)
class Delta:
    """A change to a saved segment's snapshot since its build, written when a projected event flips the
    segment's predicate for a person (or changes their predicted channel). ``was``/``channel_before`` are the
    person as the snapshot holds them (kept from the first delta since the build), the rest as they are now."""

    segment_id: str
    citizen_id: str
    member: bool
    was: bool
    channel: str | None
    channel_before: str | None
    district: str | None
    language: str
    at: datetime
    barrio: str | None = None

    @property
    def void(self) -> bool:
        """The person is back as the snapshot holds them: the delta says nothing."""
        return self.member == self.was and (not self.member or self.channel == self.channel_before)


def delta_of(
    segment_id: str, existing: Delta | None, before: tuple[bool, str | None], after: tuple[bool, str | None],
    row: AudienceRow, at: datetime,
) -> Delta | None:  # fmt: skip
    """The delta after an event moved a person (``before``/``after``: membership and predicted channel), relative
    to the snapshot: the first delta since the build takes the row before the event as the snapshot's; ``None``
    when nothing changed for this segment."""
    if before == after:
        return None
    was, channel_before = (existing.was, existing.channel_before) if existing else before
    member, channel = after
    return Delta(
        segment_id, row.citizen_id, member, was, channel, channel_before, row.district, row.language, at, row.barrio
    )


def materialised(segment: Segment, deltas: Iterable[Delta]) -> dict[str, Any]:
    """A saved segment's members now: the snapshot's count and channels, with the deltas' ins and outs."""
    targeted = int(segment.snapshot_counts.get("targeted", 0))
    by_channel: dict[str, int] = {c: int(n) for c, n in dict(segment.snapshot_counts.get("by_channel", {})).items()}
    for delta in deltas:
        if delta.void:
            continue
        targeted += int(delta.member) - int(delta.was)
        if delta.was and delta.channel_before:
            by_channel[delta.channel_before] = by_channel.get(delta.channel_before, 0) - 1
        if delta.member and delta.channel:
            by_channel[delta.channel] = by_channel.get(delta.channel, 0) + 1
    return {
        "targeted": targeted,
        "by_channel": by_channel,
        "snapshot_at": segment.snapshot_at.isoformat() if segment.snapshot_at else None,
    }


# ---- campaigns: the request ----------------------------------------------------------------------------


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SegmentPost(Body):
    """A segment to save: its name, the filter's schema version and its filter (``segments.parse`` validates it,
    naming every error by its path)."""

    name: str = Field(min_length=1, max_length=120, examples=["Arganzuela 65+"])
    version: int = Field(1, description="the filter's schema version")
    filter: dict[str, Any]
    purpose: Literal["campaigns", "surveys"] = "campaigns"

    def document(self) -> dict[str, Any]:
        return {"version": self.version, "filter": self.filter}


class SegmentPut(Body):
    """A new version of a segment's filter (the earlier versions are kept: a campaign names its version)."""

    version: int = Field(1, description="the filter's schema version")
    filter: dict[str, Any]
    name: str | None = Field(None, min_length=1, max_length=120)

    def document(self) -> dict[str, Any]:
        return {"version": self.version, "filter": self.filter}


class CountPost(Body):
    purpose: Literal["campaigns", "surveys"] = "campaigns"
    version: int | None = Field(None, ge=1)
    sample: int = Field(10, ge=0, le=50)
    fresh: bool = Field(False, description="export the projection again first (else an export up to a minute old)")


class Schedule(Body):
    """When: ``at`` (aware, not in the past; ``None``: now), and for a recurring campaign ``every`` + ``until``."""

    at: AwareDatetime | None = None
    every: Literal["P1D", "P7D", "P1M"] | None = None
    until: AwareDatetime | None = None

    @model_validator(mode="after")
    def _recurring(self) -> Schedule:
        if (self.every is None) != (self.until is None):
            raise ValueError("a recurring schedule gives both every and until")
        return self


class Variant(Body):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$")
    template: str = Field(pattern=TEMPLATE_ID_PATTERN)
    share: int = Field(ge=1, le=100)


class Conversion(Body):
    days: int = Field(14, ge=1, le=90)
    kinds: list[Literal["payment", "case", "appointment", "survey"]] = Field(default_factory=list)


class CampaignPost(Body):
    """A campaign: a segment (and version), NOT's templates (one default, one per channel), personalisation
    constants, a schedule, rate limits per channel (messages a minute), an optional A/B split, an optional
    survey (contracts §6) and a conversion window."""

    name: str = Field(min_length=1, max_length=120)
    segment_id: str = Field(pattern=ID_PATTERN)
    segment_version: int | None = Field(None, ge=1)
    purpose: Literal["campaigns", "surveys"] = "campaigns"
    template: str = Field(pattern=TEMPLATE_ID_PATTERN)
    channel_templates: dict[Channel, str] = Field(default_factory=dict)
    personalisation: dict[str, str | int | float | bool] = Field(default_factory=dict, max_length=32)
    schedule: Schedule = Field(default_factory=Schedule)
    rate_limits: dict[Channel, int] = Field(default_factory=dict)
    variants: list[Variant] = Field(default_factory=list, max_length=4)
    survey_id: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
    conversion: Conversion = Field(default_factory=Conversion)

    @model_validator(mode="after")
    def _checks(self) -> CampaignPost:
        for channel, template in self.channel_templates.items():
            if not re.match(TEMPLATE_ID_PATTERN, template):
                raise ValueError(f"channel_templates.{channel}: not a template id")
        for channel, rate in self.rate_limits.items():
            if not 1 <= rate <= 1_000_000:
                raise ValueError(f"rate_limits.{channel}: 1 to 1,000,000 messages a minute")
        if self.variants:
            if sum(v.share for v in self.variants) != 100:
                raise ValueError("variants: the shares sum to 100")
            if len({v.name for v in self.variants}) != len(self.variants):
                raise ValueError("variants: each name once")
        return self

    def templates(self) -> list[str]:
        """Every template the campaign may send (default, per channel, per variant), each once."""
        found = [self.template, *self.channel_templates.values(), *(v.template for v in self.variants)]
        return list(dict.fromkeys(found))


def check_schedule(schedule: Schedule, now: datetime) -> None:
    """A time in the past is refused (a minute's grace for the request's own travel)."""
    grace = now - timedelta(minutes=1)
    if schedule.at is not None and schedule.at < grace:
        raise ScheduleInPastError(f"schedule.at {schedule.at.isoformat()} is before now ({now.isoformat()})")
    if schedule.until is not None and schedule.until < (schedule.at or now):
        raise ScheduleInPastError("schedule.until is before the first run")


# The place names the dispatcher fills from the member's residence, and the filter leaves that guarantee every
# member has one (a barrio lies in one district); without such a leaf the campaign must give a default.
PLACE_FIELDS = {"district_name": ("district", "barrio"), "barrio_name": ("barrio",)}


def required_leaves(document: Mapping[str, Any]) -> set[str]:
    """The kinds of leaf every member of the filter satisfies: the root's, or those of the ``all`` nodes nested
    from it (under ``any`` or ``not`` nothing is guaranteed)."""
    found: set[str] = set()
    stack = [document.get("filter", {})]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping) and "all" in node:
            stack.extend(node["all"])
        elif isinstance(node, Mapping):
            found.update(k for k in node if k not in ("any", "not"))
    return found


def check_fields(template: str, fields: Iterable[str], post: CampaignPost, document: Mapping[str, Any]) -> None:
    """A template field the campaign cannot fill for every member (not a constant, nor filled per recipient: a
    place's name only where the segment guarantees the place, ``survey_url`` with a survey) is a 422 naming it."""
    fillable = set(post.personalisation) | set(FILLED_BY_CAMPAIGN) | set(FILLED_BY_NOT)
    if post.survey_id is None:
        fillable.discard("survey_url")
    leaves = required_leaves(document)
    for name, guaranteeing in PLACE_FIELDS.items():
        if name not in post.personalisation and not leaves.intersection(guaranteeing):
            fillable.discard(name)
    missing = sorted(set(fields) - fillable)
    if missing:
        raise TemplateFieldError(
            f"template {template!r} uses {', '.join(missing)}, which this campaign cannot fill",
            errors=[
                {"field": f"personalisation.{name}", "message": f"used by template {template}"} for name in missing
            ],
        )


def check_purpose(template: str, purpose: str, post: CampaignPost) -> None:
    """Every template of a campaign shares its purpose (NOT refuses a mixed batch whole, contracts §1)."""
    if purpose != post.purpose:
        raise ValidationError(
            f"template {template!r} is for purpose {purpose!r}, the campaign's is {post.purpose!r}",
            errors=[{"field": "template", "message": f"purpose {purpose}, not {post.purpose}"}],
        )


def is_city_wide(document: Mapping[str, Any], targeted: int) -> bool:
    """Contracts §7: no district (or barrio) filter anywhere in the tree, or more than 100,000 targeted."""
    return targeted > CITY_WIDE_TARGETED or not _names_place(document)


def _names_place(node: Any) -> bool:
    if isinstance(node, Mapping):
        if "not" in node:  # "not in Arganzuela" is still the rest of the city
            return False
        return any(k in ("district", "barrio") or _names_place(v) for k, v in node.items())
    if isinstance(node, list):
        return any(_names_place(v) for v in node)
    return False


# ---- campaigns: the lifecycle --------------------------------------------------------------------------

State = Literal["draft", "approved", "scheduled", "running", "paused", "finished", "cancelled"]
ACTIVE: frozenset[str] = frozenset({"scheduled", "running"})
# action -> (states it may leave, state it reaches)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "approve": (frozenset({"draft"}), "approved"),
    "schedule": (frozenset({"draft", "approved"}), "scheduled"),
    "pause": (frozenset({"scheduled", "running"}), "paused"),
    "resume": (frozenset({"paused"}), "running"),
    "cancel": (frozenset({"draft", "approved", "scheduled", "running", "paused"}), "cancelled"),
}


@dataclass(frozen=True)
class HistoryEntry:
    action: str
    by: str
    at: datetime
    detail: str = ""

    def view(self) -> dict[str, str]:
        return {"action": self.action, "by": self.by, "at": self.at.isoformat(), "detail": self.detail}


@dataclass(frozen=True)
class Campaign:
    """A campaign as stored: its request, state, the run in progress and the dispatcher's cursor."""

    id: str
    post: CampaignPost
    state: str
    created_by: str
    created_at: datetime
    segment_version: int
    city_wide: bool
    targeted_estimate: int
    history: tuple[HistoryEntry, ...]
    approved_by: str | None = None
    run: int = 0
    run_at: datetime | None = None  # when the current (or next) run starts
    snapshot: str | None = None  # the run's members (object key)
    snapshot_at: datetime | None = None  # the watermark of the export the run's snapshot was built from
    cursor: int = 0  # next offset in the snapshot; then ``delta_cursor`` over the deltas' newcomers
    delta_cursor: str | None = None
    phase: str = "snapshot"  # snapshot -> deltas -> done
    targeted: int = 0
    dispatched: int = 0
    skipped: int = 0  # predicted not sent (no consent, no channel) or left the segment since the snapshot
    tokens: dict[str, float] = field(default_factory=dict)
    tokens_at: datetime | None = None
    revision: int | None = None

    def key(self) -> str:
        """The exactly-once key of this run (NOT derives its notification ids from it and the citizen)."""
        return f"{self.id}:{self.run}"


def new_campaign_id() -> str:
    return f"cmp-{uuid.uuid4().hex[:16]}"


def transition(campaign: Campaign, action: str, by: str, now: datetime, detail: str = "") -> Campaign:
    """The campaign after a manager's action, or ``CampaignStateError`` (409) naming the states that allow it.
    Four-eyes: a city-wide campaign is scheduled only once approved, by a manager other than its creator."""
    allowed, reached = TRANSITIONS[action]
    if campaign.state not in allowed:
        raise CampaignStateError(
            f"cannot {action} a campaign that is {campaign.state}; only one that is {' or '.join(sorted(allowed))}"
        )
    changes: dict[str, Any] = {"state": reached}
    if action == "approve":
        if by == campaign.created_by:
            raise FourEyesError(f"{by} created campaign {campaign.id}: another campaign manager approves it")
        changes["approved_by"] = by
    if action == "schedule":
        if campaign.city_wide and campaign.approved_by is None:
            raise FourEyesError(
                f"campaign {campaign.id} is city-wide (no district filter, or more than {CITY_WIDE_TARGETED:,} "
                "people): another campaign manager must approve it first"
            )
        changes["run_at"] = campaign.post.schedule.at or now
    if action == "resume" and campaign.snapshot is None:
        changes["state"] = "scheduled"  # paused before its first page: it starts when due
    entry = HistoryEntry(action, by, now, detail)
    return replace(campaign, **changes, history=(*campaign.history, entry))


def next_run_at(campaign: Campaign) -> datetime | None:
    """When a recurring campaign's next run starts (``None``: no more runs)."""
    schedule = campaign.post.schedule
    if schedule.every is None or campaign.run_at is None or schedule.until is None:
        return None
    at = campaign.run_at
    step = {"P1D": timedelta(days=1), "P7D": timedelta(days=7)}.get(schedule.every)
    following = at + step if step else _add_month(at)
    return following if following <= schedule.until else None


def _add_month(at: datetime) -> datetime:
    month = at.month % 12 + 1
    year = at.year + (1 if at.month == 12 else 0)
    day = min(at.day, 28)
    return at.replace(year=year, month=month, day=day)


# ---- A/B split and pacing ------------------------------------------------------------------------------


def variant_of(campaign_id: str, citizen_id: str, variants: list[Variant]) -> Variant | None:
    """A stable assignment: a hash of campaign + citizen into 100 buckets, cut by the variants' shares."""
    if not variants:
        return None
    bucket = int.from_bytes(hashlib.sha256(f"{campaign_id}\n{citizen_id}".encode()).digest()[:8], "big") % 100
    edge = 0
    for variant in variants:
        edge += variant.share
        if bucket < edge:
            return variant
    return variants[-1]  # pragma: no cover - shares sum to 100


def refill(campaign: Campaign, now: datetime) -> dict[str, float]:
    """Each rate-limited channel's budget now: a token bucket of at most one minute's messages."""
    limits = campaign.post.rate_limits
    if not limits:
        return {}
    elapsed = (now - campaign.tokens_at).total_seconds() if campaign.tokens_at else 60.0
    elapsed = max(0.0, min(elapsed, 60.0))
    return {c: min(float(r), campaign.tokens.get(c, 0.0) + r * elapsed / 60.0) for c, r in limits.items()}


@dataclass(frozen=True)
class Member:
    """One person of a run's page: who, the channel NOT is predicted to choose, what the report breaks down by."""

    citizen_id: str
    channel: str | None
    district: str | None
    language: str
    barrio: str | None = None


def take(members: list[Member], tokens: dict[str, float], limited: Iterable[str]) -> tuple[int, dict[str, float]]:
    """How many members from the page's start fit the channels' budgets (the page stops at the first that does
    not: the order of the snapshot is kept), and the budgets left."""
    left = dict(tokens)
    limited = set(limited)
    taken = 0
    for member in members:
        channel = member.channel
        if channel in limited:
            if left.get(channel, 0.0) < 1.0:
                break
            left[channel] = left[channel] - 1.0
        taken += 1
    return taken, left


def batch_of(
    campaign: Campaign, members: list[Member], batch_id: str, survey_url: Any = None
) -> NotificationBatchRequested:
    """The page as one ``notification.batch.requested`` (contracts §1): templates, the run's exactly-once key,
    per recipient the district's and barrio's names, the survey link and the tags the report breaks down by.
    ``survey_url``: a function of (survey_id, citizen_id, district, campaign_key) giving the signed link."""
    post = campaign.post
    recipients = []
    for member in members:
        personalisation: dict[str, Any] = dict(post.personalisation)
        tags: dict[str, str] = {}
        zone = find_zone(member.district) if member.district else None
        if zone is not None:
            personalisation["district_name"] = zone.name
            tags["district"] = zone.code
        barrio = find_zone(member.barrio) if member.barrio else None
        if barrio is not None:
            personalisation["barrio_name"] = barrio.name
        variant = variant_of(campaign.id, member.citizen_id, post.variants)
        if variant is not None:
            tags["variant"] = variant.name
        if post.survey_id and survey_url is not None:
            personalisation["survey_url"] = survey_url(
                post.survey_id, member.citizen_id, member.district, campaign.key()
            )
            tags["survey"] = post.survey_id[:64]
        recipients.append(BatchRecipient(citizen_id=member.citizen_id, personalisation=personalisation, tags=tags))
    return NotificationBatchRequested(
        batch_id=batch_id,
        template=post.template,
        channel_templates=dict(post.channel_templates),
        campaign_id=campaign.key(),
        recipients=recipients,
        reference=post.name[:128],
    )


def split_by_variant(campaign: Campaign, members: list[Member]) -> list[tuple[str | None, list[Member]]]:
    """A page split by A/B variant (a batch has one default template): each variant's members together."""
    if not members:
        return []
    if not campaign.post.variants:
        return [(None, members)]
    groups: dict[str, list[Member]] = {}
    for member in members:
        variant = variant_of(campaign.id, member.citizen_id, campaign.post.variants)
        assert variant is not None
        groups.setdefault(variant.name, []).append(member)
    return sorted(groups.items())


# ---- impact ------------------------------------------------------------------------------------------

IMPACT_SHARDS = 8  # counters of one campaign spread over partitions (a city-wide campaign's writes)
STATUS_METRICS = {"accepted": "sent", "not-allowed": "not_allowed", "delivered": "delivered",
                  "permanent-failure": "failed"}  # fmt: skip
METRICS = ("targeted", "dispatched", "sent", "not_allowed", "delivered", "failed", "opened", "clicked",
           "bounced", "complained", "unsubscribed", "conversions")  # fmt: skip


ENGAGED_METRICS = {"opened": "opened", "clicked": "clicked", "bounced": "bounced", "complained": "complained",
                   "unsubscribed": "unsubscribed"}  # fmt: skip


def attributable(campaign: Campaign, kind: str, at: datetime) -> bool:
    """A conversion of ``kind`` at ``at`` may be this campaign's: it counts that kind, its run had begun and its
    window since has not passed (last touch: the latest such campaign that reached the person takes it)."""
    if kind not in campaign.post.conversion.kinds or campaign.run_at is None or campaign.snapshot is None:
        return False
    return campaign.run_at <= at <= campaign.run_at + timedelta(days=campaign.post.conversion.days)


def reached(campaign: Campaign, position: int, channel: str | None) -> bool:
    """Whether the run handed the person at ``position`` of its snapshot to NOT (the cursor passed them) on a
    channel (predicted not sent: no touch)."""
    return channel is not None and (campaign.phase != "snapshot" or position < campaign.cursor)


def campaign_of_key(key: str | None) -> tuple[str, int] | None:
    """``cmp-…:<run>`` (the batch's ``campaign_id``) → the campaign and the run; ``None`` if not a campaign's."""
    if not key or not key.startswith("cmp-") or ":" not in key:
        return None
    campaign_id, _, run = key.rpartition(":")
    return (campaign_id, int(run)) if run.isdigit() else None


def counter_key(metric: str, channel: str | None, tags: Mapping[str, str]) -> str:
    """One counter's key: the metric and its breakdown (channel, district, variant; ``-`` when unknown)."""
    return "|".join((metric, channel or "-", tags.get("district", "-"), tags.get("variant", "-")))


def shard_of(notification_id: str) -> int:
    return int(hashlib.sha256(notification_id.encode()).hexdigest()[:4], 16) % IMPACT_SHARDS


def report(counters: Mapping[str, int], campaign: Campaign) -> dict[str, Any]:
    """The impact report: totals and breakdowns by district, channel and variant, from the counters."""
    totals = {m: 0 for m in METRICS}
    by: dict[str, dict[str, dict[str, int]]] = {"district": {}, "channel": {}, "variant": {}}
    for key, n in counters.items():
        metric, channel, district, variant = key.split("|")
        if metric not in totals:
            continue
        totals[metric] += n
        for name, value in (("district", district), ("channel", channel), ("variant", variant)):
            if value != "-":
                cell = by[name].setdefault(value, {m: 0 for m in METRICS})
                cell[metric] += n
    totals["targeted"] = campaign.targeted
    totals["dispatched"] = campaign.dispatched
    return {"campaign_id": campaign.id, "state": campaign.state, "run": campaign.run, "totals": totals, **{
        f"by_{name}": dict(sorted(cells.items())) for name, cells in by.items()}}  # fmt: skip


# ---- views ---------------------------------------------------------------------------------------------


def segment_view(segment: Segment, explanation: dict[str, str]) -> dict[str, Any]:
    return {
        "id": segment.id,
        "name": segment.name,
        "version": segment.version,
        "filter": segment.document(),
        "purpose": segment.purpose,
        "explanation": explanation,
        "created_by": segment.created_by,
        "created_at": segment.created_at.isoformat(),
        "updated_at": segment.updated_at.isoformat(),
        "snapshot_at": segment.snapshot_at.isoformat() if segment.snapshot_at else None,
    }


def campaign_view(campaign: Campaign, impact: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": campaign.id,
        **campaign.post.model_dump(mode="json"),
        "segment_version": campaign.segment_version,
        "state": campaign.state,
        "city_wide": campaign.city_wide,
        "created_by": campaign.created_by,
        "created_at": campaign.created_at.isoformat(),
        "approved_by": campaign.approved_by,
        "run": campaign.run,
        "run_at": campaign.run_at.isoformat() if campaign.run_at else None,
        "progress": {
            "targeted": campaign.targeted or campaign.targeted_estimate,
            "dispatched": campaign.dispatched,
            "skipped": campaign.skipped,
            "impact": dict(impact or {}),
        },
        "history": [h.view() for h in campaign.history],
    }


def age_band(birth: date | None, today: date) -> str:
    if birth is None:
        return "unknown"
    years = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    low = min(years // 10 * 10, 90)
    return f"{low}+" if low == 90 else f"{low}-{low + 9}"


def utc(at: datetime) -> datetime:
    return at.astimezone(UTC)


# ---- the domain's port ------------------------------------------------------------------------------


class CampaignStore(Protocol):
    """What the campaign domain reads and stages (``storage.DynamoCampaignStore``; an in-memory fake in the
    unit tests). Versioned items (audience rows, segments, campaigns) are written only if still at the version
    read: a lost race is decided again."""

    def fetch_audience(self, citizen_id: str) -> Held | None: ...
    def stage_audience(self, uow: UnitOfWork, held: Held) -> None: ...
    def stage_erase_audience(self, uow: UnitOfWork, citizen_id: str) -> None: ...
    def scan_audience(self, segments: int = 4) -> Iterable[AudienceRow]:
        """Every audience row (a parallel Scan in ``segments``): what the columnar export writes."""
        ...

    def fetch_record(self, source: str, local_id: str) -> RecordLinks:
        """An area system's record as this domain knows it (empty, version ``None``, when it knows nothing)."""
        ...

    def stage_record(self, uow: UnitOfWork, links: RecordLinks) -> None: ...
    def stage_erase_record(self, uow: UnitOfWork, source: str, local_id: str) -> None: ...

    def fetch_segment(self, segment_id: str) -> Segment | None: ...
    def fetch_segments(self) -> list[Segment]:
        """Every saved segment (the projection checks each one's predicate on a changed row)."""
        ...

    def stage_segment(self, uow: UnitOfWork, segment: Segment) -> None: ...
    def fetch_delta(self, segment_id: str, citizen_id: str) -> Delta | None: ...
    def fetch_deltas(self, segment_id: str) -> list[Delta]: ...
    def stage_delta(self, uow: UnitOfWork, delta: Delta) -> None: ...
    def stage_drop_delta(self, uow: UnitOfWork, delta: Delta) -> None: ...

    def fetch_campaign(self, campaign_id: str) -> Campaign | None: ...
    def fetch_campaigns(self) -> list[Campaign]: ...
    def fetch_active(self) -> list[Campaign]:
        """Campaigns scheduled or running (a sparse index): what the dispatcher looks at each tick."""
        ...

    def stage_campaign(self, uow: UnitOfWork, campaign: Campaign) -> None: ...
    def stage_counters(self, uow: UnitOfWork, campaign_id: str, shard: int, keys: list[str]) -> None:
        """Add one to each counter (an ADD: no read, no race)."""
        ...

    def fetch_counters(self, campaign_id: str) -> dict[str, int]: ...
    def fetch_conversion(self, who: str, campaign_id: str, kind: str) -> bool:
        """Whether this person's (``who``: a citizen id, or ``resp:<response id>``) conversion of ``kind`` was
        already counted for the campaign."""
        ...

    def stage_conversion(self, uow: UnitOfWork, who: str, campaign_id: str, kind: str, at: datetime) -> None:
        """Counted once: the marker, on condition that it does not exist (a race is decided again)."""
        ...


class Files(Protocol):
    """The domain's object store (``.pic-data/campaign/`` locally, S3 when ``PIC_CAMPAIGN_BUCKET`` is set):
    the columnar export and the snapshots, as local paths DuckDB reads."""

    def local(self, key: str) -> Any:
        """A local path to read ``key`` from (downloaded first from S3); it may not exist yet."""
        ...

    def publish(self, key: str, path: Any) -> None:
        """Make the file at ``path`` the object ``key`` (an upload to S3; locally it is already there)."""
        ...

    def modified(self, key: str) -> datetime | None: ...
