"""Citizen 360 (C360) entry points: thin. Parse, authorise, call the service, commit, answer.

- ``citizen_http``: ``GET /v1/citizens?source=&local_id=`` (which golden record a source record belongs to),
  ``GET /v1/citizens/{citizen_id}`` (the golden record with its source links), ``POST
  /v1/citizens/{citizen_id}/unmerge`` (split a source record out), ``GET /v1/citizen-reviews`` and ``POST
  /v1/citizen-reviews/{review_id}`` (the clerical review queue); Knative Service ``pic-citizen``.
- ``citizen_events``: ``es.madrid.pic.citizen.record.upserted.v1`` from the area systems (Knative Service
  ``pic-citizen-events``): resolve the record to a golden record and announce ``citizen.updated``; and
  ``es.madrid.pic.rgpd.request.opened.v1``: the domain's answer to a data-subject request (``rights.py``).

Every read of a golden record, of a lookup that finds one and of the review queue is recorded in the access
log (``functions.core.audit``, RGPD art. 5.2 and 15.1.c).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

import functions_framework
from cloudevents.http import CloudEvent
from flask import Request, Response
from pydantic import BaseModel, Field

from events.citizen import LOCAL_ID_PATTERN, CitizenRecordUpserted
from events.rgpd import RgpdRequestOpened
from functions.citizen import matching, rights, service
from functions.citizen.storage import MAX_TRANSACTION_ITEMS, DynamoCitizenStore
from functions.core import rights as core_rights
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.errors import InvalidEventError, ValidationError
from functions.core.http import HttpFunction, Reads, Reply, RequestContext, Route
from functions.core.outbox import stage_event
from functions.core.policy import Policy, get_policy
from functions.core.store import UnitOfWork

REVIEW_QUEUE = "(clerical review queue)"  # the resource named when an agent lists the whole queue
FUNCTION = "pic-citizen"


@dataclass(frozen=True)
class Deps:
    store: DynamoCitizenStore
    policy: Policy
    model: matching.Model


@lru_cache(maxsize=1)
def deps() -> Deps:
    """The real adapters and the match model, built once per process."""
    return Deps(store=DynamoCitizenStore(), policy=get_policy(), model=matching.load_model())


def now() -> datetime:
    return datetime.now(UTC)


class CitizenRef(BaseModel):
    citizen_id: str


def citizen_of_record(ctx: RequestContext, params: dict[str, str]) -> str:
    """Whose golden record a source record (``?source`` + ``?local_id``) is linked to: the route acts on
    that citizen (a citizen asking learns nothing about others: the policy answers 403 either way)."""
    args = ctx.request.args
    missing = [name for name in ("source", "local_id") if not args.get(name)]
    if missing:
        raise ValidationError(
            "source and local_id are required query parameters",
            errors=[{"field": name, "message": "required"} for name in missing],
        )
    found = deps().store.fetch_citizen_of(args["source"], args["local_id"])
    if found is None:
        raise service.CitizenNotFoundError(f"no golden record links {args['source']}#{args['local_id']}")
    return found[0]


def find_citizen(ctx: RequestContext) -> Reply:
    """The golden record a source record (``source`` + ``local_id``) is linked to."""
    assert ctx.citizen_id is not None
    return Reply(200, CitizenRef(citizen_id=ctx.citizen_id))


def get_citizen(ctx: RequestContext, citizen_id: str) -> Reply:
    """The golden record with its source links; the read (or its refusal) is in the person's access log."""
    golden = deps().store.fetch_golden(citizen_id)
    if golden is None:
        raise service.CitizenNotFoundError(f"no golden record {citizen_id}")
    return Reply(200, service.golden_view(golden, deps().store.fetch_links(citizen_id)))


def golden_summary(view: dict[str, Any]) -> dict[str, Any]:
    """Which area systems know the person and how many records each holds: no attributes, documents or
    match evidence (RGPD art. 5.1.c)."""
    sources = Counter(link["source"] for link in view["links"])
    return {"citizen_id": view["citizen_id"], "sources": dict(sorted(sources.items())), "view": "summary"}


class UnmergeRequest(BaseModel):
    source: str = Field(min_length=2, max_length=200, pattern=r"^/[^#\s]*$", examples=["/legacy/multas"])
    local_id: str = Field(pattern=LOCAL_ID_PATTERN, examples=["MUL0001234"])


class MovedLinkView(BaseModel):
    source: str
    local_id: str


class UnmergeResult(BaseModel):
    citizen_id: str
    restored_citizen_id: str
    links: list[MovedLinkView]


def unmerge_citizen(ctx: RequestContext, citizen_id: str, body: UnmergeRequest) -> Reply:
    """Split a source record out of a golden record: the merge that brought it is undone exactly, or the
    record alone becomes a new golden record. 409 when there is nothing to split or a concurrent change."""
    store = deps().store
    golden = store.fetch_golden(citizen_id)
    if golden is None:
        raise service.CitizenNotFoundError(f"no golden record {citizen_id}")
    plan = service.unmerge(
        golden,
        store.fetch_links(citizen_id),
        body.source,
        body.local_id,
        store.fetch_merges(citizen_id),
        by=ctx.subject.id,
        now=now(),
    )
    uow = UnitOfWork()
    stage_plan(uow, plan, ctx.traceparent)
    restored = plan.goldens[1].citizen_id
    moved = [MovedLinkView(source=a.source, local_id=a.local_id) for _, a in plan.moved]
    return ctx.commit(uow, Reply(200, UnmergeResult(citizen_id=citizen_id, restored_citizen_id=restored, links=moved)))


def stage_plan(uow: UnitOfWork, plan: service.MovePlan, traceparent: str | None) -> None:
    deps().store.stage_plan(uow, plan)
    at = next((g.updated_at for g in plan.goldens if g.updated_at), None)
    for event in plan.events:
        stage_event(uow, event, subject=getattr(event, "citizen_id", None), traceparent=traceparent, now=at)


class ComparisonView(BaseModel):
    comparison: str
    level: str
    weight: float


class ReviewView(BaseModel):
    review_id: str
    status: Literal["open", "match", "no-match"]
    citizen_id: str = Field(description="the golden record the new source record was given")
    candidate_id: str = Field(description="the golden record it resembles")
    source: str
    local_id: str
    score: float = Field(description="match probability (Fellegi-Sunter)")
    match_weight: float
    comparisons: list[ComparisonView]
    created_at: str
    decided_by: str | None = None
    decided_at: str | None = None


class ReviewPageView(BaseModel):
    items: list[ReviewView]
    next_cursor: str | None


class ReviewDecision(BaseModel):
    decision: Literal["match", "no-match"]


def review_view(review: service.Review) -> ReviewView:
    return ReviewView(
        review_id=review.review_id,
        status=review.status,
        citizen_id=review.citizen_id,
        candidate_id=review.candidate_id,
        source=review.source,
        local_id=review.local_id,
        score=review.score,
        match_weight=review.match_weight,
        comparisons=[ComparisonView(comparison=c, level=lv, weight=w) for c, lv, w in review.comparisons],
        created_at=review.created_at.isoformat(),
        decided_by=review.decided_by,
        decided_at=review.decided_at.isoformat() if review.decided_at else None,
    )


def review_queue(ctx: RequestContext, params: dict[str, str]) -> str:
    """The queue is the resource: it names many people, each recorded as the page shows them."""
    return REVIEW_QUEUE


def list_reviews(ctx: RequestContext) -> Reply:
    """The clerical review queue, oldest first: ``?status=open|match|no-match&limit=1..100&cursor=``.

    A page shows, per pair, both golden records' match evidence: the kernel records one access per person on
    the page (resource ``citizen-review``) before the page leaves."""
    args = ctx.request.args
    status = args.get("status", "open")
    errors = []
    if status not in ("open", "match", "no-match"):
        errors.append({"field": "status", "message": "one of open, match, no-match"})
    limit_text = args.get("limit", "20")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= 100:
        errors.append({"field": "limit", "message": "an integer from 1 to 100"})
    cursor = args.get("cursor") or None
    if cursor is not None and not cursor.startswith("rev-"):
        errors.append({"field": "cursor", "message": "a next_cursor from a previous page"})
    if errors:
        raise ValidationError("invalid query parameters", errors=errors)
    page = deps().store.list_reviews(status, int(limit_text), cursor)
    ctx.shown_citizens = sorted({cid for r in page.items for cid in (r.citizen_id, r.candidate_id)})
    return Reply(200, ReviewPageView(items=[review_view(r) for r in page.items], next_cursor=page.next_cursor))


def citizen_of_review(ctx: RequestContext, params: dict[str, str]) -> str:
    review = deps().store.fetch_review(params["review_id"])
    if review is None:
        raise service.CitizenNotFoundError(f"no review {params['review_id']}")
    ctx.resource = review
    return review.citizen_id


def resolve_review(ctx: RequestContext, review_id: str, body: ReviewDecision) -> Reply:
    """An agent decides a review: ``match`` merges the record's golden record into the candidate's (one
    transaction: goldens, links, pointers, documents, snapshot, events, the review); ``no-match`` closes it.
    409 if it was already decided or either golden record changed (merged elsewhere) meanwhile."""
    store = deps().store
    review: service.Review = ctx.resource
    if review.status != "open":
        raise service.MergeConflictError(f"review {review_id} was already decided: {review.status}")
    at = now()
    uow = UnitOfWork()
    if body.decision == "match":
        target = store.fetch_golden(review.candidate_id)
        absorbed = store.fetch_golden(review.citizen_id)
        if target is None or absorbed is None:
            gone = review.candidate_id if target is None else review.citizen_id
            raise service.MergeConflictError(f"golden record {gone} no longer exists (merged meanwhile?)")
        plan = service.merge(
            target,
            store.fetch_links(target.citizen_id),
            absorbed,
            store.fetch_links(absorbed.citizen_id),
            reason="review",
            score=round(review.score, 6),
            evidence=[f"{c}: {lv} ({w:+.2f})" for c, lv, w in review.comparisons],
            by=ctx.subject.id,
            now=at,
            review_id=review_id,
        )
        stage_plan(uow, plan, ctx.traceparent)
    decided = dataclasses.replace(review, status=body.decision, decided_by=ctx.subject.id, decided_at=at)
    store.stage_review(uow, decided)
    ctx.shown_citizens = [review.citizen_id, review.candidate_id]
    return ctx.commit(uow, Reply(200, review_view(decided)))


GOLDEN = ("golden-record", "source-links")
REVIEW = Reads("citizen-review", ("match-review",))
ROUTES = [
    Route(
        "/v1/citizens",
        "GET",
        find_citizen,
        "The golden record id a source record (?source, ?local_id) belongs to",
        response_model=CitizenRef,
        action="citizen.read",
        citizen=citizen_of_record,
        reads=Reads("citizen-lookup", GOLDEN, lambda ref: {**ref, "view": "summary"}),
    ),
    Route(
        "/v1/citizens/<citizen_id>",
        "GET",
        get_citizen,
        "The golden record with its source links",
        action="citizen.read",
        reads=Reads("citizen", GOLDEN, golden_summary),
    ),
    Route(
        "/v1/citizens/<citizen_id>/unmerge",
        "POST",
        unmerge_citizen,
        "Split a source record out of a golden record (undoing the merge that brought it, exactly)",
        request_model=UnmergeRequest,
        response_model=UnmergeResult,
        idempotent_writes=True,
        action="citizen.unmerge",
    ),
    Route(
        "/v1/citizen-reviews",
        "GET",
        list_reviews,
        "The clerical review queue of possible matches (agents)",
        response_model=ReviewPageView,
        action="citizen.review",
        citizen=review_queue,
        reads=REVIEW,
    ),
    Route(
        "/v1/citizen-reviews/<review_id>",
        "POST",
        resolve_review,
        "Decide a possible match: merge the two golden records (match) or not (no-match)",
        request_model=ReviewDecision,
        response_model=ReviewView,
        idempotent_writes=True,
        action="citizen.review",
        citizen=citizen_of_review,
        reads=REVIEW,
    ),
]

http_api = HttpFunction("pic-citizen", ROUTES)


@functions_framework.http
def citizen_http(request: Request) -> Response:
    return http_api(request)


# ---- events ----------------------------------------------------------------------------------------


def on_record_upserted(ctx: EventContext, data: Any) -> UnitOfWork:
    """Resolve an area system's record (the event ``source`` is the system) against the whole base and stage
    the result: link, golden record, blocks and their claims, review if any, and the event, in one unit of work.

    The block claims make concurrent arrivals safe: a record that joined one of this record's blocks after it
    was read cancels this commit (a conflict), and the kernel decides the record again on what that one wrote
    (``functions.core.cloudevent.CONFLICT_ATTEMPTS``; then the broker redelivers on 409)."""
    assert isinstance(data, CitizenRecordUpserted)
    if not ctx.source.startswith("/") or "#" in ctx.source:
        raise InvalidEventError(f"source {ctx.source!r} is not an area system's URI such as /legacy/padron")
    if ctx.source == service.DATA_SUBJECT:
        raise InvalidEventError(
            f"source {service.DATA_SUBJECT} is the person's own contact data, written only by an RGPD rectification"
        )
    store, model = deps().store, deps().model
    existing = store.fetch_link(ctx.source, data.local_id)
    document = service.document_of(data)  # an unknown type is a 422 problem: dead-lettered with the reason
    owner = store.fetch_document_owner(document)
    features = matching.features_from_dict(f"{ctx.source}#{data.local_id}", data.model_dump(mode="json"))
    keys = matching.blocking_keys(features)
    verdict, bridge, blocks = None, None, None
    if existing is None and owner is None:
        blocks = store.fetch_blocks(features, keys)
        verdict = matching.best_match(model, features, blocks.candidates)
    target = service.target_citizen(existing, owner, verdict)
    golden = store.fetch_golden(target) if target else None
    links = store.fetch_links(target) if target else []
    if existing is None and owner is not None:  # its document decides; does it resemble ANOTHER golden record?
        blocks = store.fetch_blocks(features, keys, known={lk.key for lk in links})
        bridge = matching.best_match(model, features, [c for c in blocks.candidates if c.citizen_id != owner])
    at = now()
    outcome = service.resolve(
        ctx.source,
        data,
        existing=existing,
        document_owner=owner,
        golden=golden,
        other_links=links,
        now=at,
        verdict=verdict,
        bridge=bridge,
    )
    if outcome.event is None:
        return UnitOfWork()
    old_keys: set[str] = set()
    if existing is not None:
        old_keys = matching.blocking_keys(
            matching.features_from_dict(existing.key, existing.record.model_dump(mode="json"))
        )
    claims = service.block_claims(keys - old_keys, blocks.seen if blocks else None)
    merge = auto_merge(outcome, links, service.bridged(verdict, bridge), at)
    uow = stage_upsert(ctx, outcome, keys, old_keys, claims, merge)
    if merge is not None and len(uow) >= MAX_TRANSACTION_ITEMS:  # the kernel adds the idempotency record
        uow = stage_upsert(ctx, outcome, keys, old_keys, claims, None)  # the merge waits for a later record
    return uow


def stage_upsert(
    ctx: EventContext,
    outcome: service.Resolution,
    keys: set[str],
    old_keys: set[str],
    claims: tuple[service.BlockClaim, ...],
    merge: service.MovePlan | None,
) -> UnitOfWork:
    """One upsert's unit of work: the resolution, the blocks and their claims, the review, the event and the
    bridging merge if any (which then writes the golden record)."""
    assert outcome.event is not None
    store, at = deps().store, outcome.link.received_at
    uow = UnitOfWork()
    store.stage_resolution(uow, outcome.link, outcome.golden, outcome.claim_document, golden_too=merge is None)
    store.stage_blocks(uow, outcome.link.key, keys, old_keys, claims)
    if outcome.review is not None:
        store.stage_review(uow, outcome.review)
    stage_event(uow, outcome.event, subject=outcome.link.citizen_id, traceparent=ctx.traceparent, now=at)
    if merge is not None:
        stage_plan(uow, merge, ctx.traceparent)
    return uow


def auto_merge(
    outcome: service.Resolution,
    links: list[service.Link],
    other: tuple[str, matching.Score] | None,
    at: datetime,
) -> service.MovePlan | None:
    """When the new record matches a second golden record too (``service.bridged``: at or above auto-merge, no
    veto), the two are one person that the new record bridges: merge the second into the first in the same unit
    of work (as Splink's clustering joins connected matches). One per record; a merge too big for one
    transaction is left alone (the pair scores again at the next record)."""
    if other is None or outcome.event is None:
        return None
    other_id, score = other
    store = deps().store
    found = store.fetch_golden(other_id)
    if found is None:
        return None
    try:
        return service.merge(
            outcome.golden,
            [lk for lk in links if lk.key != outcome.link.key] + [outcome.link],
            found,
            store.fetch_links(other_id),
            reason="auto",
            score=round(score.probability, 6),
            evidence=[f"{outcome.link.key} matches both golden records", *score.text()],
            by=service.PIC,
            now=at,
        )
    except service.MergeConflictError:
        return None


# ---- data-subject rights (RGPD) -------------------------------------------------------------------


def on_rgpd_request_opened(ctx: EventContext, data: Any) -> UnitOfWork:
    """Answer a data-subject request for C360 (``rights.answer``) in the same unit of work as what it erased or
    rectified; a larger erasure commits its first deletions before (``core_rights.stage_deletions``)."""
    assert isinstance(data, RgpdRequestOpened)
    store, at = deps().store, now()
    result = rights.answer(data, rights.holding_of(data.citizen_id, store), deps().policy, at)
    uow = result.unit(ctx.traceparent, stage_erasure)
    fix = result.rectification
    if fix is not None and fix.link is not None and fix.golden is not None and fix.event is not None:
        store.stage_link(uow, fix.link)
        store.stage_golden(uow, fix.golden)
        stage_event(uow, fix.event, subject=data.citizen_id, traceparent=ctx.traceparent, now=at)
    return uow


def stage_erasure(uow: UnitOfWork, plan: rights.ErasurePlan) -> None:
    """The plan's deletions that fit go in ``uow`` with the golden record; the others are committed first."""
    core_rights.stage_deletions(
        uow,
        plan.steps(),
        stage_erasure_step,
        room=rights.ROOM_FOR_STEPS,
        size=rights.step_size,
        unit=rights.MAX_ITEMS_IN_TRANSACTION,
    )
    store = deps().store
    if plan.rebuilt is not None:
        store.stage_golden(uow, plan.rebuilt)
    if plan.erase_golden is not None:
        store.stage_erase_golden(uow, plan.erase_golden)


def stage_erasure_step(uow: UnitOfWork, step: rights.ErasedLink | service.Review | service.MergeRecord) -> None:
    store = deps().store
    if isinstance(step, rights.ErasedLink):
        store.stage_erase_link(uow, step.link, step.blocks, step.release)
    elif isinstance(step, service.Review):
        store.stage_erase_review(uow, step)
    else:
        store.stage_erase_merge(uow, step)


event_api = EventFunction(
    "pic-citizen-events",
    {
        "es.madrid.pic.citizen.record.upserted.v1": on_record_upserted,
        "es.madrid.pic.rgpd.request.opened.v1": on_rgpd_request_opened,
    },
)


@functions_framework.cloud_event
def citizen_events(event: CloudEvent) -> None:
    event_api(event)
