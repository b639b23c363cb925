"""Citizen 360 (C360) use cases: one function per command, event or question, over the domain's ports.

An area system's record is resolved against the whole base (``resolve_record``): the handler reads the record's
link, its document's owner and its blocks through the ``CitizenStore`` port, decides with the pure rules of
``service`` and ``matching``, and stages the link, the golden record, the block claims, a review or a bridging
merge and the events in ONE unit of work. The entry point commits it with the idempotency record and, when the
commit lost a race (a block claim, a version), runs the handler again on what the winner wrote
(``functions.core.retry``, through ``EventFunction`` and ``RequestContext.run``). Nothing here knows HTTP,
CloudEvents or DynamoDB; the unit tests run these handlers on an in-memory fake of the store
(``tests/unit/citizen/test_handlers.py``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from events.citizen import CitizenRecordUpserted
from events.rgpd import RgpdRequestOpened
from functions.citizen import matching, rights, service
from functions.citizen.service import CitizenStore, Golden, Link, MovePlan, Resolution, Review, ReviewPage
from functions.core.clock import Clock
from functions.core.errors import InvalidEventError
from functions.core.outbox import stage_event
from functions.core.policy import Policy
from functions.core.store import Staged, UnitOfWork


@dataclass(frozen=True)
class CitizenPorts:
    """Everything the use cases need from outside: built once per process by ``bootstrap``."""

    store: CitizenStore
    policy: Policy
    model: matching.Model
    clock: Clock


# ---- events: an area system's record ------------------------------------------------------------------


def resolve_record(
    source: str, record: CitizenRecordUpserted, ports: CitizenPorts, traceparent: str | None
) -> UnitOfWork:
    """Resolve an area system's record (``source`` is the system) against the whole base and stage the result:
    link, golden record, blocks and their claims, review if any, the event and a bridging merge, in one unit.

    The block claims make concurrent arrivals safe: a record that joined one of this record's blocks after it
    was read makes this unit's commit lose the race, and the kernel decides the record again on what that one
    wrote. The same record again with the same content stages nothing."""
    check_source(source)
    store, model = ports.store, ports.model
    existing = store.fetch_link(source, record.local_id)
    document = service.document_of(record)  # an unknown type is a 422 problem: dead-lettered with the reason
    owner = store.fetch_document_owner(document)
    features = matching.features_from_dict(f"{source}#{record.local_id}", record.model_dump(mode="json"))
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
    at = ports.clock.now()
    outcome = service.resolve(
        source,
        record,
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
    merge = bridging_merge(outcome, links, service.bridged(verdict, bridge), at, store)
    uow = stage_upsert(store, outcome, keys, old_keys, claims, merge, traceparent)
    if merge is not None and not store.fits_one_transaction(uow):
        uow = stage_upsert(store, outcome, keys, old_keys, claims, None, traceparent)  # the merge waits
    return uow


def check_source(source: str) -> None:
    """An area system sends as itself (``/legacy/<system>``); the person's own source is written only by an
    RGPD rectification (``answer_rights``), never by a system posing as them."""
    if not source.startswith("/") or "#" in source:
        raise InvalidEventError(f"source {source!r} is not an area system's URI such as /legacy/padron")
    if source == service.DATA_SUBJECT:
        raise InvalidEventError(
            f"source {service.DATA_SUBJECT} is the person's own contact data, written only by an RGPD rectification"
        )


def stage_upsert(
    store: CitizenStore,
    outcome: Resolution,
    keys: set[str],
    old_keys: set[str],
    claims: tuple[service.BlockClaim, ...],
    merge: MovePlan | None,
    traceparent: str | None,
) -> UnitOfWork:
    """One upsert's unit of work: the resolution, the blocks and their claims, the review, the event and the
    bridging merge if any (which then writes the golden record)."""
    assert outcome.event is not None
    at = outcome.link.received_at
    uow = UnitOfWork()
    store.stage_resolution(uow, outcome.link, outcome.golden, outcome.claim_document, golden_too=merge is None)
    store.stage_blocks(uow, outcome.link.key, keys, old_keys, claims)
    if outcome.review is not None:
        store.stage_review(uow, outcome.review)
    stage_event(uow, outcome.event, subject=outcome.link.citizen_id, traceparent=traceparent, now=at)
    if merge is not None:
        stage_move(uow, store, merge, traceparent)
    return uow


def bridging_merge(
    outcome: Resolution,
    links: list[Link],
    other: tuple[str, matching.Score] | None,
    at: datetime,
    store: CitizenStore,
) -> MovePlan | None:
    """When the new record matches a second golden record too (``service.bridged``: at or above auto-merge, no
    veto), the two are one person that the new record bridges: merge the second into the first in the same unit
    of work (as Splink's clustering joins connected matches). One per record; a merge that cannot be made (too
    many links, merged meanwhile) is left alone: the pair scores again at the next record."""
    if other is None or outcome.event is None:
        return None
    other_id, score = other
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


def stage_move(uow: UnitOfWork, store: CitizenStore, plan: MovePlan, traceparent: str | None) -> None:
    """A merge or un-merge with its events (``citizen.merged``/``unmerged`` and one ``citizen.updated`` per
    moved link), stamped with the plan's time."""
    store.stage_plan(uow, plan)
    at = next((g.updated_at for g in plan.goldens if g.updated_at), None)
    for event in plan.events:
        stage_event(uow, event, subject=getattr(event, "citizen_id", None), traceparent=traceparent, now=at)


# ---- commands: the clerical review and un-merge --------------------------------------------------------


def decide_review(
    review_id: str,
    decision: Literal["match", "no-match"],
    by: str,
    ports: CitizenPorts,
    traceparent: str | None,
    *,
    read: Review | None = None,
) -> Staged[Review]:
    """An agent decides a review: ``match`` merges the record's golden record into the candidate's (one unit:
    goldens, links, pointers, documents, snapshot, events, the review); ``no-match`` closes it. ``read`` is the
    review as the route's resolver read it (a retry after a lost race reads it again).

    ``MergeConflictError`` (409) if it was already decided or either golden record is gone (merged meanwhile);
    a concurrent change between the reads and the commit is a lost race, decided again."""
    store = ports.store
    review = read if read is not None else find_review(review_id, ports)
    if review.status != "open":
        raise service.MergeConflictError(f"review {review_id} was already decided: {review.status}")
    at = ports.clock.now()
    uow = UnitOfWork()
    if decision == "match":
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
            by=by,
            now=at,
            review_id=review_id,
        )
        stage_move(uow, store, plan, traceparent)
    decided = dataclasses.replace(review, status=decision, decided_by=by, decided_at=at)
    store.stage_review(uow, decided)
    return Staged(uow, decided)


@dataclass(frozen=True)
class Unmerged:
    """What an un-merge did: the golden record split, the one restored (or new), the links moved to it."""

    citizen_id: str
    restored_citizen_id: str
    links: tuple[tuple[str, str], ...]  # (source, local_id)


def unmerge(
    citizen_id: str, source: str, local_id: str, by: str, ports: CitizenPorts, traceparent: str | None
) -> Staged[Unmerged]:
    """Split a source record out of a golden record: the merge that brought it is undone exactly, or the
    record alone becomes a new golden record. ``MergeConflictError`` (409) when there is nothing to split."""
    store = ports.store
    golden = find_golden(citizen_id, ports)
    plan = service.unmerge(
        golden,
        store.fetch_links(citizen_id),
        source,
        local_id,
        store.fetch_merges(citizen_id),
        by=by,
        now=ports.clock.now(),
    )
    uow = UnitOfWork()
    stage_move(uow, store, plan, traceparent)
    moved = tuple((after.source, after.local_id) for _, after in plan.moved)
    return Staged(uow, Unmerged(citizen_id, plan.goldens[1].citizen_id, moved))


# ---- questions ------------------------------------------------------------------------------------------


def citizen_of_record(source: str, local_id: str, ports: CitizenPorts) -> str:
    """The golden record id a source record is linked to; ``CitizenNotFoundError`` if none is."""
    found = ports.store.fetch_citizen_of(source, local_id)
    if found is None:
        raise service.CitizenNotFoundError(f"no golden record links {source}#{local_id}")
    return found[0]


def find_golden(citizen_id: str, ports: CitizenPorts) -> Golden:
    golden = ports.store.fetch_golden(citizen_id)
    if golden is None:
        raise service.CitizenNotFoundError(f"no golden record {citizen_id}")
    return golden


def golden_record(citizen_id: str, ports: CitizenPorts) -> dict[str, Any]:
    """The golden record with the provenance of each attribute and its source links, as the API shows it."""
    return service.golden_view(find_golden(citizen_id, ports), ports.store.fetch_links(citizen_id))


def search_citizens(criterion: service.SearchCriterion, ports: CitizenPorts) -> service.SearchResult:
    """An agent finds a citizen: a document through its blind index's owner; a phone, an e-mail or a name with
    its birth date through the blocks the records carrying them joined (the records' pointers give their golden
    records, merged-away ones already resolved to the survivor). Each golden record is then confirmed on its
    own attributes (``service.confirms``): a block's near neighbours are not returned. No scan."""
    store = ports.store
    if criterion.document is not None:
        owner = store.fetch_document_owner(criterion.document)
        owners = service.BlockOwners(frozenset({owner} if owner else ()))
    else:
        owners = store.fetch_block_owners(service.search_keys(criterion))
    goldens = store.fetch_goldens(owners.citizen_ids) if owners.citizen_ids else []
    return service.search_result(criterion, goldens, complete=owners.complete)


def find_review(review_id: str, ports: CitizenPorts) -> Review:
    review = ports.store.fetch_review(review_id)
    if review is None:
        raise service.CitizenNotFoundError(f"no review {review_id}")
    return review


def review_queue(status: str, limit: int, cursor: str | None, ports: CitizenPorts) -> ReviewPage:
    """One page of the clerical review queue in ``status``, oldest first, after ``cursor``."""
    return ports.store.list_reviews(status, limit, cursor)


# ---- data-subject rights (RGPD) ------------------------------------------------------------------------


def answer_rights(data: RgpdRequestOpened, ports: CitizenPorts, traceparent: str | None) -> UnitOfWork:
    """C360's answer to a data-subject request (``rights.answer``) in the same unit of work as what it erased or
    rectified; a larger erasure commits its first deletions before (``functions.core.rights.stage_deletions``)."""
    at = ports.clock.now()
    result = rights.answer(data, rights.holding_of(data.citizen_id, ports.store), ports.policy, at)
    uow = result.unit(traceparent, lambda unit, plan: rights.stage_erasure(unit, plan, ports.store))
    if result.rectification is not None:
        rights.stage_rectification(uow, result.rectification, ports.store, traceparent, at)
    return uow
