"""Campaigns (CAMP) use cases: one function per command, event or question, over the domain's ports.

- The audience projection: other domains' events (C360's contact points and profile, CON's consents, preferences
  and subscriptions, RGPD flags) merged into one row per citizen, the latest event per part winning; each saved
  segment's predicate is run on the row before and after, and a person who moved in or out (or whose predicted
  channel changed) gets a delta item: the segment stays current without a rebuild.
- Segments: saved, versioned filter documents (``segments.parse`` validates them), counted per channel over the
  columnar export (``columnar.count``), rebuilt in full (``columnar.build_snapshot``) as the fallback.
- Campaigns: created (templates checked through NOT's API, the schedule, four-eyes for a city-wide one), moved
  through their lifecycle by managers, dispatched a page a tick (``dispatch_campaign``: the cursor's advance and
  the page's ``notification.batch.requested`` in ONE unit of work), and their impact projected from NOT's status
  events.
Nothing here knows HTTP, CloudEvents or DynamoDB.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from events.case import CaseUpdated
from events.citizen import CitizenUpdated
from events.consent import ERASURE_CAPTURE_CHANNEL, ConsentChanged, PreferencesChanged, SubscriptionChanged
from events.interaction import InteractionLogged
from events.notification import NotificationEngaged, NotificationStatusChanged
from events.payment import PaymentSucceeded
from events.position import PositionItemUpserted
from events.rgpd import RgpdFlagsChanged, RgpdRequestOpened
from events.survey import SurveyAnswered
from functions.campaign import columnar, rights, segments, service
from functions.campaign.audience import AudienceRow
from functions.campaign.service import Campaign, CampaignStore, Delta, Files, Held, Member, Segment
from functions.core import links, signed_links
from functions.core.clock import Clock
from functions.core.errors import ValidationError
from functions.core.outbox import stage_event
from functions.core.policy import Policy
from functions.core.store import Staged, UnitOfWork

EXPORT = "audience.parquet"
PRODUCER = "pic-campaign"


@dataclass(frozen=True)
class TemplateInfo:
    purpose: str
    fields: tuple[str, ...]


class Templates(Protocol):
    """NOT's templates as its API answers them (``GET /v1/templates/{id}``), with the caller's own token."""

    def describe(self, template_id: str, token: str | None, traceparent: str | None) -> TemplateInfo | None: ...


@dataclass(frozen=True)
class CampaignPorts:
    """Everything the use cases need from outside: built once per process by ``bootstrap``."""

    store: CampaignStore
    files: Files
    policy: Policy
    clock: Clock
    templates: Templates
    api_url: str = "http://localhost:8080"
    export_max_age: timedelta = timedelta(minutes=1)


# ---- the audience projection ------------------------------------------------------------------------


_PARSED: dict[tuple[str, int], Any] = {}  # a saved segment's parsed filter, per version (they never change)
_CHOICES: dict[tuple[Any, ...], str | None] = {}  # predictions per group of identical policy input and minute
MEMO_LIMIT = 10_000


def _parsed(segment: Segment) -> Any:
    key = (segment.id, segment.version)
    if key not in _PARSED:
        if len(_PARSED) > MEMO_LIMIT:
            _PARSED.clear()
        _PARSED[key] = segments.parse(segment.document())
    return _PARSED[key]


def _predicted(row: AudienceRow, purpose: str, ports: CampaignPorts, at: datetime) -> str | None:
    """The channel NOT would choose for the row now (``None``: not sent), reduced as ``columnar.count`` does;
    people alike (the same policy input) in the same minute share one decision, as NOT memoises them."""
    consent = row.consents.get(purpose)
    key = (
        purpose, repr(sorted(consent.items())) if consent else None, repr(row.quiet_hours), row.restricted,
        purpose in row.objections, row.reachable, row.channels, at.strftime("%Y%m%d%H%M"), id(ports.policy),
    )  # fmt: skip
    if key not in _CHOICES:
        if len(_CHOICES) > MEMO_LIMIT:
            _CHOICES.clear()
        choice = columnar.decide_row(row, purpose, ports.policy, at)
        _CHOICES[key] = choice.channel if choice.allowed else None
    return _CHOICES[key]


def _standing(segment: Segment, row: AudienceRow | None, ports: CampaignPorts, at: datetime) -> tuple[bool, str | None]:
    if row is None:
        return False, None
    member = segments.matches(_parsed(segment), row, segments.evaluation_day(at))
    return member, (_predicted(row, segment.purpose, ports, at) if member else None)


def stage_deltas(
    uow: UnitOfWork, before: AudienceRow | None, after: AudienceRow | None, citizen_id: str, at: datetime,
    ports: CampaignPorts,
) -> int:  # fmt: skip
    """A delta for each saved segment the change moves this person in or out of (or to another channel)."""
    written = 0
    now = ports.clock.now()
    for segment in ports.store.fetch_segments():
        if segment.snapshot is None:  # never built: a count reads the export, nothing to keep current
            continue
        old, new = _standing(segment, before, ports, now), _standing(segment, after, ports, now)
        if old == new:
            continue
        row = after or before
        assert row is not None
        existing = ports.store.fetch_delta(segment.id, citizen_id)
        delta = service.delta_of(segment.id, existing, old, new, row, at)
        if delta is None:
            continue
        if delta.void:
            if existing is not None:
                ports.store.stage_drop_delta(uow, existing)
        else:
            ports.store.stage_delta(uow, delta)
        written += 1
    return written


def project(citizen_id: str, part: str, at: datetime, ports: CampaignPorts, **changes: Any) -> UnitOfWork:
    """One event's part of a citizen's row: stored if newer than what the part holds, deltas for saved segments.
    A redelivered or older event stages nothing."""
    return project_many(citizen_id, [(part, changes)], at, ports)


def project_many(
    citizen_id: str, parts: list[tuple[str, dict[str, Any]]], at: datetime, ports: CampaignPorts,
    changes_of: Callable[[AudienceRow], list[tuple[str, dict[str, Any]]]] | None = None,
) -> UnitOfWork:  # fmt: skip
    uow = UnitOfWork()
    _project_into(uow, citizen_id, parts, at, ports, changes_of)
    return uow


def _project_into(
    uow: UnitOfWork, citizen_id: str, parts: list[tuple[str, dict[str, Any]]], at: datetime, ports: CampaignPorts,
    changes_of: Callable[[AudienceRow], list[tuple[str, dict[str, Any]]]] | None = None,
    holding: tuple[str, tuple[str, ...] | None] | None = None,
) -> None:  # fmt: skip
    """Stage one citizen's row after the event's parts (each if newer than what it holds) and, if given, one
    holding's relations (no time of its own: the record item staged beside it orders its changes), with the
    deltas for saved segments. Nothing when nothing changes (a redelivery, an older event)."""
    held = ports.store.fetch_audience(citizen_id)
    current: Held | None = held
    for part, changes in [*parts, *(changes_of(held.row if held else AudienceRow(citizen_id)) if changes_of else [])]:
        applied = service.apply(current, citizen_id, part, at, **changes)
        if applied is not None:
            current = applied
    if holding is not None:
        base = current or Held(AudienceRow(citizen_id=citizen_id, reachable=("inapp",)))
        changes = service.with_holding(base.row, *holding)
        if any(getattr(base.row, name) != value for name, value in changes.items()):
            current = replace(base, row=replace(base.row, **changes))
    if current is None or current is held:
        return
    ports.store.stage_audience(uow, current)
    stage_deltas(uow, held.row if held else None, current.row, citizen_id, at, ports)


def on_citizen_updated(data: CitizenUpdated, ports: CampaignPorts) -> UnitOfWork:
    """C360's contact points (reachable channels), profile (birth date, district, barrio) and the link of an
    area system's record: the relationships its items give move with it (a merge, an un-merge), the latest link
    winning whatever the order of delivery."""
    parts: list[tuple[str, dict[str, Any]]] = []
    if data.contact is not None:
        push = False
        parts.append(("contact", {"reachable": service.reachable_of(data.contact.email, data.contact.phone, push)}))
    if data.profile is not None:
        profile = data.profile
        barrio = profile.barrio if profile.barrio and len(profile.barrio) == 3 else None
        parts.append(("profile", {"birth_date": profile.birth_date, "district": profile.district, "barrio": barrio}))
    uow = UnitOfWork()
    record = ports.store.fetch_record(data.link.source, data.link.local_id)
    moved = links.relinked(record, data.citizen_id, data.updated_at)
    holding: tuple[str, tuple[str, ...] | None] | None = None
    if moved is not None:
        ports.store.stage_record(uow, moved)
        name = service.record_holding(moved.source, moved.local_id)
        if record.citizen_id is not None and record.citizen_id != moved.citizen_id:
            _project_into(uow, record.citizen_id, [], data.updated_at, ports, holding=(name, None))
        holding = (name, service.record_relations(moved))
    if parts or holding:
        _project_into(uow, data.citizen_id, parts, data.updated_at, ports, holding=holding)
    if moved is not None and record.citizen_id is None:  # appointments booked before the record's first link
        for booked in service.appointments(moved).values():
            convert("appointment", data.citizen_id, booked, ports, uow)
    return uow


def on_item_upserted(source: str, data: PositionItemUpserted, ports: CampaignPorts) -> UnitOfWork:
    """An area system's item about one of its records (a tax receipt, a fine, a card...): the relationship it
    gives (``<section>:<area>``) is the linked person's; before C360 links the record it waits in the record and
    follows the link. Withdrawn items, notices and special-category data give none. An item's older or
    redelivered fact stages nothing. A new appointment (Cita Previa) is a conversion of the campaign that reached
    the person, as a payment is."""
    record = ports.store.fetch_record(source, data.local_id)
    relation = service.relation_of(data.section, data.area, data.special_category, data.removed)
    changed = service.with_item(record, data.item_id, relation, data.as_of)
    uow = UnitOfWork()
    if changed is None:
        return uow
    ports.store.stage_record(uow, changed)
    relations = service.record_relations(changed)
    if changed.citizen_id is not None and relations != service.record_relations(record):
        holding = (service.record_holding(source, data.local_id), relations)
        _project_into(uow, changed.citizen_id, [], data.as_of, ports, holding=holding)
    booked = data.item_id in service.appointments(changed) and data.item_id not in service.appointments(record)
    if booked and changed.citizen_id is not None:  # an appointment booked: a conversion, like a payment
        convert("appointment", changed.citizen_id, data.as_of, ports, uow)
    return uow


def on_consent_changed(data: ConsentChanged, ports: CampaignPorts) -> UnitOfWork:
    """One purpose's consent (the snapshot after the change), CON's shape. The withdrawal an erasure makes
    (``capture_channel`` ``rgpd-erasure``) only changes a row still held: it never creates one (the erasure
    deleted it; NOT's projection follows the same rule)."""
    part = f"consents#{data.purpose}"
    if data.capture_channel == ERASURE_CAPTURE_CHANNEL and ports.store.fetch_audience(data.citizen_id) is None:
        return UnitOfWork()

    def changes(row: AudienceRow) -> list[tuple[str, dict[str, Any]]]:
        return [(part, {"consents": service.with_consent(row, data.purpose, data.after.model_dump())})]

    return project_many(data.citizen_id, [], data.changed_at, ports, changes)


def on_preferences_changed(data: PreferencesChanged, ports: CampaignPorts) -> UnitOfWork:
    after = data.after
    quiet = after.quiet_hours.model_dump() if after.quiet_hours else None
    changes = {"language": after.language, "channels": tuple(after.channels), "quiet_hours": quiet}
    return project(data.citizen_id, "preferences", data.changed_at, ports, **changes)


def on_subscription_changed(data: SubscriptionChanged, ports: CampaignPorts) -> UnitOfWork:
    """A zone of interest subscribed to (or not any more): the zone is the segment's, whatever the topic."""
    part = f"zones#{data.subscription_id}"

    def changes(row: AudienceRow) -> list[tuple[str, dict[str, Any]]]:
        return [(part, {"zones": service.with_zone(row.zones, data.zone, data.change == "created")})]

    return project_many(data.citizen_id, [], data.changed_at, ports, changes)


def on_flags_changed(data: RgpdFlagsChanged, ports: CampaignPorts) -> UnitOfWork:
    changes = {"restricted": data.restricted, "objections": tuple(sorted(data.objections))}
    return project(data.citizen_id, "flags", data.changed_at, ports, **changes)


def on_case_updated(data: CaseUpdated, ports: CampaignPorts) -> UnitOfWork:
    """A case in an area: a relationship ``cases:<area>`` segments filter on (kept: the case is a file the council
    keeps; a later version of the same case changes nothing here)."""
    part = f"case#{data.case_id}"
    key = f"cases:{data.area}"

    def changes(row: AudienceRow) -> list[tuple[str, dict[str, Any]]]:
        return [(part, service.with_holding(row, service.CASES, {*row.holdings.get(service.CASES, ()), key}))]

    uow = project_many(data.citizen_id, [], data.updated_at, ports, changes)
    # its first version (opened): a conversion, like a payment (a later version of the case is not)
    return convert("case", data.citizen_id, data.opened_at, ports, uow) if data.version == 1 else uow


def on_interaction_logged(data: InteractionLogged, ports: CampaignPorts) -> UnitOfWork:
    """The recency of interaction: the latest interaction's start (one recorded against an area system's record
    and not yet linked names no citizen: skipped)."""
    citizen_id = data.interaction.citizen_id
    if citizen_id is None:
        return UnitOfWork()
    started = data.interaction.started_at
    return project(citizen_id, "interaction", started, ports, last_interaction=started)


# ---- segments -----------------------------------------------------------------------------------------


def _explained(document: dict[str, Any]) -> dict[str, str]:
    parsed = segments.parse(document)
    return {language: segments.explain(parsed, language) for language in ("es", "en")}


def create_segment(post: service.SegmentPost, by: str, ports: CampaignPorts) -> Staged[Segment]:
    """Save a segment (version 1): a 422 naming every error of an invalid filter, nothing saved."""
    document = post.document()
    segments.parse(document)
    now = ports.clock.now()
    segment = Segment(
        id=f"seg-{uuid.uuid4().hex[:16]}", name=post.name, versions=(document,), purpose=post.purpose,
        created_by=by, created_at=now, updated_at=now,
    )  # fmt: skip
    uow = UnitOfWork()
    ports.store.stage_segment(uow, segment)
    return Staged(uow, segment)


def update_segment(segment_id: str, put: service.SegmentPut, ports: CampaignPorts) -> Staged[Segment]:
    """A new version of the filter (campaigns keep naming theirs); the snapshot no longer matches it."""
    document = put.document()
    segments.parse(document)
    segment = find_segment(segment_id, ports)
    changed = replace(
        segment, versions=(*segment.versions, document), name=put.name or segment.name,
        updated_at=ports.clock.now(), snapshot=None, snapshot_at=None, snapshot_counts={},
    )  # fmt: skip
    uow = UnitOfWork()
    ports.store.stage_segment(uow, changed)
    for delta in ports.store.fetch_deltas(segment_id):
        ports.store.stage_drop_delta(uow, delta)
    return Staged(uow, changed)


def find_segment(segment_id: str, ports: CampaignPorts) -> Segment:
    segment = ports.store.fetch_segment(segment_id)
    if segment is None:
        raise service.SegmentNotFoundError(f"no segment {segment_id!r}")
    return segment


def segment_view(segment: Segment, ports: CampaignPorts) -> dict[str, Any]:
    """The segment with its explanation, and its materialised count when it has a snapshot (snapshot ± deltas)."""
    view = service.segment_view(segment, _explained(segment.document()))
    if segment.snapshot is not None:
        view["members"] = service.materialised(segment, ports.store.fetch_deltas(segment.id))
    return view


def ensure_export(ports: CampaignPorts, max_age: timedelta | None = None) -> tuple[Path, datetime]:
    """The columnar export, written again from the projection if older than ``max_age`` (a minute by default);
    its path and watermark (the instant its scan began: every event before it is in the file)."""
    limit = ports.export_max_age if max_age is None else max_age
    now = ports.clock.now()
    modified = ports.files.modified(EXPORT)
    if modified is None or now - modified > limit or limit <= timedelta(0):
        path = Path(ports.files.local(EXPORT))
        columnar.write_rows(ports.store.scan_audience(), path)
        ports.files.publish(EXPORT, path)
        modified = ports.files.modified(EXPORT) or now
    return Path(ports.files.local(EXPORT)), modified


def count_segment(segment_id: str, query: service.CountPost, ports: CampaignPorts) -> dict[str, Any]:
    """The segment's count by the channel NOT will choose (one policy decision per group of alike people), the
    refusals by reason, a pseudonymised sample and the sentence it counts."""
    segment = find_segment(segment_id, ports)
    document = segment.document(query.version)
    path, as_of = ensure_export(ports, timedelta(0) if query.fresh else None)
    at = ports.clock.now()
    counted = columnar.count(path, segments.parse(document), query.purpose, ports.policy, at, sample=query.sample)
    return {
        "segment_id": segment.id,
        "version": query.version or segment.version,
        "purpose": query.purpose,
        "targeted": counted.targeted,
        "by_channel": {c: counted.by_channel.get(c, 0) for c in service.CHANNELS},
        "not_sent": dict(sorted(counted.not_sent.items())),
        "sample": counted.sample,
        "explanation": _explained(document),
        "as_of": as_of.isoformat(),
        "took_ms": round(counted.took_ms, 1),
    }


def rebuild_segment(segment_id: str, ports: CampaignPorts) -> Staged[Segment]:
    """The full rebuild: a fresh export, a new snapshot of the members, the deltas older than it dropped."""
    segment = find_segment(segment_id, ports)
    path, watermark = ensure_export(ports, timedelta(0))
    key = f"snapshots/{segment.id}/{watermark.strftime('%Y%m%dT%H%M%S%f')}.parquet"
    out = Path(ports.files.local(key))
    counted = columnar.build_snapshot(
        path, segments.parse(segment.document()), segment.purpose, ports.policy, ports.clock.now(), out
    )
    ports.files.publish(key, out)
    counts = {"targeted": counted.targeted, "by_channel": counted.by_channel, "not_sent": counted.not_sent}
    rebuilt = replace(segment, snapshot=key, snapshot_at=watermark, snapshot_counts=counts)
    uow = UnitOfWork()
    ports.store.stage_segment(uow, rebuilt)
    for delta in ports.store.fetch_deltas(segment.id):
        if delta.at <= watermark:
            ports.store.stage_drop_delta(uow, delta)
    return Staged(uow, rebuilt)


# ---- campaigns ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateCampaign:
    post: service.CampaignPost
    by: str
    token: str | None  # the manager's own bearer token: NOT's API decides the template reads as for them
    traceparent: str | None = None


def create_campaign(cmd: CreateCampaign, ports: CampaignPorts) -> Staged[Campaign]:
    """A draft campaign: its segment (version) exists, its schedule is not in the past, each template exists
    at NOT with the campaign's purpose and uses only fields the campaign fills; the count estimates how many it
    reaches (city-wide: four-eyes)."""
    post, now = cmd.post, ports.clock.now()
    service.check_schedule(post.schedule, now)
    segment = find_segment(post.segment_id, ports)
    version = post.segment_version or segment.version
    document = segment.document(version)
    for template in post.templates():
        info = ports.templates.describe(template, cmd.token, cmd.traceparent)
        if info is None:
            raise ValidationError(
                f"NOT has no template {template!r}",
                errors=[{"field": "template", "message": f"no template {template}"}],
            )
        service.check_purpose(template, info.purpose, post)
        service.check_fields(template, info.fields, post, document)
    estimate = count_segment(segment.id, service.CountPost(purpose=post.purpose, version=version, sample=0), ports)
    targeted = int(estimate["targeted"])
    campaign = Campaign(
        id=service.new_campaign_id(), post=post, state="draft", created_by=cmd.by, created_at=now,
        segment_version=version, city_wide=service.is_city_wide(document, targeted), targeted_estimate=targeted,
        history=(service.HistoryEntry("create", cmd.by, now, f"segment {segment.id} v{version}"),),
    )  # fmt: skip
    uow = UnitOfWork()
    ports.store.stage_campaign(uow, campaign)
    return Staged(uow, campaign)


def find_campaign(campaign_id: str, ports: CampaignPorts) -> Campaign:
    campaign = ports.store.fetch_campaign(campaign_id)
    if campaign is None:
        raise service.CampaignNotFoundError(f"no campaign {campaign_id!r}")
    return campaign


def act(campaign_id: str, action: str, by: str, ports: CampaignPorts, detail: str = "") -> Staged[Campaign]:
    """A manager's action (approve, schedule, pause, resume, cancel), recorded in the campaign's history; a pause
    or a cancel is seen by the dispatcher at its next tick."""
    campaign = find_campaign(campaign_id, ports)
    changed = service.transition(campaign, action, by, ports.clock.now(), detail)
    uow = UnitOfWork()
    ports.store.stage_campaign(uow, changed)
    return Staged(uow, changed)


def campaign_progress(campaign_id: str, ports: CampaignPorts) -> dict[str, Any]:
    campaign = find_campaign(campaign_id, ports)
    counters = ports.store.fetch_counters(campaign.id)
    return service.campaign_view(campaign, service.report(counters, campaign)["totals"])


def campaign_report(campaign_id: str, ports: CampaignPorts) -> dict[str, Any]:
    campaign = find_campaign(campaign_id, ports)
    return service.report(ports.store.fetch_counters(campaign.id), campaign)


# ---- dispatch ------------------------------------------------------------------------------------------


def _survey_url(api_url: str) -> Callable[[str, str, str | None, str], str]:
    def url(survey_id: str, citizen_id: str, district: str | None, campaign_key: str) -> str:
        claims = {"s": survey_id, "c": citizen_id, "n": secrets.token_urlsafe(16), "d": district, "cmp": campaign_key}
        return f"{api_url.rstrip('/')}/app/surveys/{survey_id}?t={signed_links.sign('survey', claims)}"

    return url


def _start_run(campaign: Campaign, ports: CampaignPorts, now: datetime) -> Campaign:
    """A run begins: its members' snapshot from a fresh export (the run's own file), the cursor at 0."""
    segment = find_segment(campaign.post.segment_id, ports)
    path, watermark = ensure_export(ports)
    run = campaign.run + 1
    key = f"runs/{campaign.id}/{run}.parquet"
    out = Path(ports.files.local(key))
    counted = columnar.build_snapshot(
        path, segments.parse(segment.document(campaign.segment_version)), campaign.post.purpose, ports.policy, now, out
    )
    ports.files.publish(key, out)
    entry = service.HistoryEntry("run", "dispatcher", now, f"run {run}: {counted.targeted} people")
    return replace(
        campaign, state="running", run=run, snapshot=key, cursor=0, delta_cursor=None, phase="snapshot",
        targeted=campaign.targeted + counted.targeted, run_at=campaign.run_at or now, tokens={}, tokens_at=None,
        snapshot_at=watermark, history=(*campaign.history, entry),
    )  # fmt: skip


def _run_deltas(campaign: Campaign, ports: CampaignPorts) -> dict[str, Delta]:
    """The saved segment's deltas since the run's export, when the run uses the segment's latest version."""
    segment = ports.store.fetch_segment(campaign.post.segment_id)
    if segment is None or segment.version != campaign.segment_version or campaign.snapshot_at is None:
        return {}
    return {d.citizen_id: d for d in ports.store.fetch_deltas(segment.id) if d.at > campaign.snapshot_at}


def _page(
    campaign: Campaign, ports: CampaignPorts, deltas: dict[str, Delta]
) -> tuple[list[Member], int, str | None, bool]:
    """The next members to consider: from the snapshot at the cursor, then the deltas' newcomers. Answers the
    members (latest channel), how many snapshot rows they come from, the last newcomer's id, and whether this
    is the end of the run."""
    if campaign.phase == "snapshot":
        assert campaign.snapshot is not None
        rows = columnar.page(Path(ports.files.local(campaign.snapshot)), campaign.cursor, service.PAGE)
        members = []
        for row in rows:
            delta = deltas.get(row.citizen_id)
            channel = (delta.channel if delta.member else None) if delta else row.channel
            members.append(Member(row.citizen_id, channel, row.district, row.language, row.barrio))
        return members, len(rows), None, False
    newcomers = sorted(
        (d for d in deltas.values() if d.member and not d.was and d.citizen_id > (campaign.delta_cursor or "")),
        key=lambda d: d.citizen_id,
    )[: service.PAGE]
    members = [Member(d.citizen_id, d.channel, d.district, d.language, d.barrio) for d in newcomers]
    return members, 0, newcomers[-1].citizen_id if newcomers else None, len(newcomers) < service.PAGE


def dispatch_campaign(campaign_id: str, ports: CampaignPorts) -> Staged[int]:
    """One tick of one campaign: start a due run, or send its next page. The cursor's advance (under the
    campaign's revision: two dispatchers never both commit it) and the page's batch events are ONE unit of work;
    a crash re-sends at most that page, which NOT's ids (campaign run + citizen) make harmless. Answers how many
    people were handed to NOT."""
    uow = UnitOfWork()
    campaign = ports.store.fetch_campaign(campaign_id)
    now = ports.clock.now()
    if campaign is None or campaign.state not in service.ACTIVE:
        return Staged(uow, 0)
    if campaign.state == "scheduled":
        if campaign.run_at is not None and campaign.run_at > now:
            return Staged(uow, 0)
        ports.store.stage_campaign(uow, _start_run(campaign, ports, now))
        return Staged(uow, 0)
    deltas = _run_deltas(campaign, ports)
    members, rows, _last_newcomer, ended = _page(campaign, ports, deltas)
    tokens = service.refill(campaign, now)
    sendable = [m for m in members if m.channel is not None]
    taken, left = service.take(sendable, tokens, campaign.post.rate_limits)
    chosen = sendable[:taken]
    if taken < len(sendable):  # a channel's budget ran out: the page stops at that member (order kept)
        cut = members.index(sendable[taken])
        considered, ended = members[:cut], False
    else:
        considered = members
    skipped = len(considered) - len(chosen)
    for index, (variant, group) in enumerate(service.split_by_variant(campaign, chosen)):
        batch_id = f"{campaign.key()}:{campaign.phase}:{campaign.delta_cursor or campaign.cursor}:{index}"
        event = service.batch_of(campaign, group, batch_id, _survey_url(ports.api_url))
        if variant is not None:
            template = next(v.template for v in campaign.post.variants if v.name == variant)
            event = event.model_copy(update={"template": template, "channel_templates": {}})
        stage_event(uow, event, subject=campaign.id, traceparent=None, now=now, producer=PRODUCER)
    changed = replace(
        campaign, dispatched=campaign.dispatched + len(chosen), skipped=campaign.skipped + skipped, tokens=left,
        tokens_at=now,
    )  # fmt: skip
    if campaign.phase == "snapshot":
        consumed = rows if len(considered) == len(members) else len(considered)
        changed = replace(changed, cursor=campaign.cursor + consumed)
        if len(considered) == len(members) and rows < service.PAGE:
            changed = replace(changed, phase="deltas")
    elif considered:
        changed = replace(changed, delta_cursor=considered[-1].citizen_id)
    if changed.phase == "deltas" and ended and len(considered) == len(members):
        changed = _finish_run(changed, now)
    ports.store.stage_campaign(uow, changed)
    return Staged(uow, len(chosen))


def _finish_run(campaign: Campaign, now: datetime) -> Campaign:
    following = service.next_run_at(campaign)
    if following is None:
        entry = service.HistoryEntry("finish", "dispatcher", now, f"{campaign.dispatched} handed to NOT")
        return replace(campaign, state="finished", phase="done", history=(*campaign.history, entry))
    entry = service.HistoryEntry("run-end", "dispatcher", now, f"next run at {following.isoformat()}")
    return replace(
        campaign, state="scheduled", run_at=following, snapshot=None, cursor=0, phase="snapshot", delta_cursor=None,
        history=(*campaign.history, entry),
    )  # fmt: skip


# ---- impact ---------------------------------------------------------------------------------------------


def on_status(data: NotificationStatusChanged, ports: CampaignPorts) -> UnitOfWork:
    """NOT's status of a campaign's notification: one counter up (the event's dedupe record in the same unit
    makes a redelivery count once)."""
    uow = UnitOfWork()
    found = service.campaign_of_key(data.campaign_id)
    metric = service.STATUS_METRICS.get(data.status)
    if found is None or metric is None:
        return uow
    keys = [service.counter_key(metric, data.channel, data.tags)]
    ports.store.stage_counters(uow, found[0], service.shard_of(data.notification_id), keys)
    return uow


def on_engaged(data: NotificationEngaged, ports: CampaignPorts) -> UnitOfWork:
    """A provider's feedback on a campaign's message (opened, clicked, bounced, complained) or the person's
    one-click unsubscribe: one counter up, once per event."""
    uow = UnitOfWork()
    found = service.campaign_of_key(data.campaign_id)
    metric = service.ENGAGED_METRICS.get(data.kind)
    if found is None or metric is None:
        return uow
    keys = [service.counter_key(metric, data.channel, data.tags)]
    ports.store.stage_counters(uow, found[0], service.shard_of(data.notification_id), keys)
    return uow


def on_payment(data: PaymentSucceeded, ports: CampaignPorts) -> UnitOfWork:
    """A payment: a conversion of the latest campaign that reached the payer within its window."""
    return convert("payment", data.citizen_id, data.finished_at, ports, UnitOfWork())


def convert(kind: str, citizen_id: str, at: datetime, ports: CampaignPorts, uow: UnitOfWork) -> UnitOfWork:
    """Last touch: the latest campaign counting ``kind`` whose run handed the person to NOT before ``at`` and
    within its window takes the conversion, once per person, campaign and kind. The person is looked up in the
    run's snapshot (sorted by citizen: one row group read); nothing is written per recipient at dispatch."""
    candidates = [c for c in ports.store.fetch_campaigns() if service.attributable(c, kind, at)]
    for campaign in sorted(candidates, key=lambda c: c.run_at or at, reverse=True):
        assert campaign.snapshot is not None  # attributable
        found = columnar.find(Path(ports.files.local(campaign.snapshot)), citizen_id)
        if found is None or not service.reached(campaign, found[0], found[1].channel):
            continue
        if not ports.store.fetch_conversion(citizen_id, campaign.id, kind):
            member = found[1]
            variant = service.variant_of(campaign.id, citizen_id, campaign.post.variants)
            tags = {"district": member.district or "-", "variant": variant.name if variant else "-"}
            ports.store.stage_conversion(uow, citizen_id, campaign.id, kind, at)
            keys = [service.counter_key("conversions", member.channel, tags)]
            ports.store.stage_counters(uow, campaign.id, service.shard_of(f"{citizen_id}#{kind}"), keys)
        return uow
    return uow


def on_survey_answered(data: SurveyAnswered, ports: CampaignPorts) -> UnitOfWork:
    """A first answer to a survey a campaign invited to (its link names the campaign's run): a conversion of
    that campaign, once per respondent (an anonymous answer: once per response)."""
    uow = UnitOfWork()
    found = service.campaign_of_key(data.campaign_id)
    campaign = ports.store.fetch_campaign(found[0]) if found and data.first else None
    if campaign is None or "survey" not in campaign.post.conversion.kinds:
        return uow
    who = data.citizen_id or f"resp:{data.response_id}"
    if ports.store.fetch_conversion(who, campaign.id, "survey"):
        return uow
    variant = service.variant_of(campaign.id, data.citizen_id, campaign.post.variants) if data.citizen_id else None
    ports.store.stage_conversion(uow, who, campaign.id, "survey", data.answered_at)
    keys = [service.counter_key("conversions", None, {"variant": variant.name} if variant else {})]
    ports.store.stage_counters(uow, campaign.id, service.shard_of(who), keys)
    return uow


# ---- data-subject rights (RGPD) ---------------------------------------------------------------------


def answer_rights(data: RgpdRequestOpened, ports: CampaignPorts, traceparent: str | None) -> UnitOfWork:
    """This domain's answer to a data-subject request (``rights.answer``), its erasure in the same unit."""

    def erase(uow: UnitOfWork, erased: str) -> None:
        record = service.record_of_holding(erased)
        if record is not None:
            ports.store.stage_erase_record(uow, *record)
        else:
            ports.store.stage_erase_audience(uow, erased)

    return rights.answer(data, ports.store, ports.policy, ports.clock.now()).unit(
        traceparent, lambda uow, plan: plan.stage(uow, erase)
    )
