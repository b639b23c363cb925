"""Citizen 360 (C360) entry points: thin. Parse, map to a use case (``handlers``), commit, answer.

- ``citizen_http``: ``GET /v1/citizens?source=&local_id=`` (which golden record a source record belongs to),
  ``GET /v1/citizens/{citizen_id}`` (the golden record with its source links), ``POST /v1/citizen-search``
  (agents find a citizen by document, name and birth date, phone or e-mail), ``POST
  /v1/citizens/{citizen_id}/unmerge`` (split a source record out), ``GET /v1/citizen-reviews`` and ``POST
  /v1/citizen-reviews/{review_id}`` (the clerical review queue); Knative Service ``pic-citizen``.
- ``citizen_events``: ``es.madrid.pic.citizen.record.upserted.v1`` from the area systems (Knative Service
  ``pic-citizen-events``): resolve the record to a golden record and announce ``citizen.updated``; and
  ``es.madrid.pic.rgpd.request.opened.v1``: the domain's answer to a data-subject request (``rights.py``).

The use cases are in ``handlers.py``, on the adapters ``bootstrap.py`` builds. Every read of a golden record,
of a lookup that finds one and of the review queue is recorded in the access log by the kernel, from each
route's ``reads`` (``functions.core.audit``, RGPD art. 5.2 and 15.1.c).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any, Literal

import functions_framework
from cloudevents.http import CloudEvent
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from events.citizen import LOCAL_ID_PATTERN, CitizenRecordUpserted
from events.rgpd import RgpdRequestOpened
from functions.citizen import handlers, service
from functions.citizen.bootstrap import ports
from functions.citizen.identity import DocumentType
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.errors import ValidationError
from functions.core.http import SUMMARY, HttpFunction, Reads, Reply, RequestContext, Route, Several
from functions.core.store import UnitOfWork

REVIEW_QUEUE = "(clerical review queue)"  # the resource named when an agent lists the whole queue
SEARCH = "(citizen search)"  # the resource named when an agent searches: whoever matches is found
FUNCTION = "pic-citizen"


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
    return handlers.citizen_of_record(args["source"], args["local_id"], ports())


def find_citizen(ctx: RequestContext) -> Reply:
    """The golden record a source record (``source`` + ``local_id``) is linked to."""
    assert ctx.citizen_id is not None
    return Reply(200, CitizenRef(citizen_id=ctx.citizen_id))


def get_citizen(ctx: RequestContext, citizen_id: str) -> Reply:
    """The golden record with its source links; the read (or its refusal) is in the person's access log."""
    return Reply(200, handlers.golden_record(citizen_id, ports()))


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

    def reply(done: handlers.Unmerged) -> Reply:
        moved = [MovedLinkView(source=source, local_id=local_id) for source, local_id in done.links]
        return Reply(
            200, UnmergeResult(citizen_id=done.citizen_id, restored_citizen_id=done.restored_citizen_id, links=moved)
        )

    return ctx.run(
        lambda: handlers.unmerge(citizen_id, body.source, body.local_id, ctx.subject.id, ports(), ctx.traceparent),
        reply,
    )


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
    page = handlers.review_queue(status, int(limit_text), cursor, ports())
    ctx.shown_citizens = sorted({cid for r in page.items for cid in (r.citizen_id, r.candidate_id)})
    return Reply(200, ReviewPageView(items=[review_view(r) for r in page.items], next_cursor=page.next_cursor))


def citizen_of_review(ctx: RequestContext, params: dict[str, str]) -> str:
    review = handlers.find_review(params["review_id"], ports())
    ctx.resource = review
    return review.citizen_id


def resolve_review(ctx: RequestContext, review_id: str, body: ReviewDecision) -> Reply:
    """An agent decides a review: ``match`` merges the record's golden record into the candidate's (one
    transaction: goldens, links, pointers, documents, snapshot, events, the review); ``no-match`` closes it.
    409 if it was already decided or either golden record changed (merged elsewhere) meanwhile."""
    first_read = iter([ctx.resource])  # the resolver's read serves the first attempt; a retry reads again

    def reply(decided: service.Review) -> Reply:
        ctx.shown_citizens = [decided.citizen_id, decided.candidate_id]
        return Reply(200, review_view(decided))

    return ctx.run(
        lambda: handlers.decide_review(
            review_id, body.decision, ctx.subject.id, ports(), ctx.traceparent, read=next(first_read, None)
        ),
        reply,
    )


class SearchDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: DocumentType
    number: str = Field(min_length=1, max_length=32, examples=["12345678Z"])


class CitizenSearch(BaseModel):
    """Exactly one criterion: ``document``; ``name`` (+ ``surname``) with ``birth_date``; ``phone``; ``email``.
    In the body, never in the URL: query strings land in logs."""

    model_config = ConfigDict(extra="forbid")

    document: SearchDocument | None = None
    name: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="the given name; without surname, the full name (given name, then surnames)",
        examples=["María"],
    )
    surname: str | None = Field(None, min_length=1, max_length=200, description="one or both surnames")
    birth_date: date | None = Field(None, description="with name", examples=["1980-05-17"])
    phone: str | None = Field(None, min_length=1, max_length=40, examples=["+34 600 000 000"])
    email: str | None = Field(None, min_length=1, max_length=254, examples=["x@example.org"])


class SearchMatchView(BaseModel):
    citizen_id: str
    name: str = Field(description="the display name of the golden record")
    birth_date: str | None
    district: str | None = Field(description="as the golden record holds it (the official district code)")
    matched_on: Literal["document", "name-birth-date", "phone", "email"]


class SearchResultView(BaseModel):
    matches: list[SearchMatchView]
    count: int
    truncated: bool = Field(description=f"more than {service.MAX_SEARCH_MATCHES} matched: narrow the search")


def search_citizens(ctx: RequestContext, body: CitizenSearch) -> Reply:
    """An agent finds a citizen (the desk): golden records that hold exactly what was searched, at most 20; an
    empty list when none does. Each person listed has the search in their access log (the kernel, ``Several``)."""
    criterion = service.search_criterion(
        document=(body.document.type, body.document.number) if body.document else None,
        name=body.name,
        surname=body.surname,
        birth_date=body.birth_date.isoformat() if body.birth_date else None,
        phone=body.phone,
        email=body.email,
    )
    found = handlers.search_citizens(criterion, ports())
    ctx.shown_citizens = [match.citizen_id for match in found.matches]
    matches = [
        SearchMatchView(
            citizen_id=m.citizen_id, name=m.name, birth_date=m.birth_date, district=m.district, matched_on=m.matched_on
        )
        for m in found.matches
    ]
    return Reply(200, SearchResultView(matches=matches, count=len(matches), truncated=found.truncated))


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
        "/v1/citizen-search",
        "POST",
        search_citizens,
        "Find citizens by identity document, name and birth date, phone or e-mail (agents, with a purpose)",
        request_model=CitizenSearch,
        response_model=SearchResultView,
        action="citizen.search",
        citizen=Several(SEARCH),
        reads=Reads("citizen-search", ("golden-record",), view=SUMMARY),
    ),
    Route(
        "/v1/citizen-reviews",
        "GET",
        list_reviews,
        "The clerical review queue of possible matches (agents)",
        response_model=ReviewPageView,
        action="citizen.review",
        citizen=Several(REVIEW_QUEUE),  # the queue names many people, each recorded as a page shows them
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
    """An area system's record (the event ``source`` is the system), resolved against the whole base; a lost
    race (a block claim) is decided again by the kernel, then answered 409 for the broker to redeliver."""
    assert isinstance(data, CitizenRecordUpserted)
    return handlers.resolve_record(ctx.source, data, ports(), ctx.traceparent)


# ---- data-subject rights (RGPD) -------------------------------------------------------------------


def on_rgpd_request_opened(ctx: EventContext, data: Any) -> UnitOfWork:
    """C360's answer to a data-subject request, with what it erased or rectified."""
    assert isinstance(data, RgpdRequestOpened)
    return handlers.answer_rights(data, ports(), ctx.traceparent)


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
