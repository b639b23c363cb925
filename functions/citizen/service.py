"""Citizen 360 (C360) resolution, pure: no Flask, no boto3, no pynamodb.

An area system's record of a person (``citizen.record.upserted``) is linked to ONE golden citizen record.
Rules, in order:

1. the same (source, local_id) again: the record keeps its link, which is updated, never duplicated;
2. a VALID document (python-stdnum check letter, ``identity.normalise_document``) already linked to a
   golden record: that golden record (method ``document``, score 1.0); another golden record the record
   matches too is merged into it, or paired with it by a review (:func:`bridged`, ``resolve(bridge=...)``);
3. a probabilistic match (``matching.best_match``: Fellegi-Sunter over the records sharing a blocking key):
   at or above the auto-merge threshold, that golden record (method ``probabilistic``, the match
   probability as score, each comparison's level and weight as evidence); in the review band, a new golden
   record AND a clerical review of the pair (an agent merges them or not); below, no match;
4. otherwise: a new golden record ``cit-<uuid>`` (method ``new``). An invalid document never matches: it
   is kept on the link as a data-quality finding, and compares as missing.

Golden attributes by survivorship over the golden record's links: the Padrón (``/legacy/padron``)
wins for name, birth date and address; what the person told PIC themselves (``/pic/data-subject``, an RGPD
art. 16 rectification) wins for e-mail and phone, then the most recent record.

Merges move every link of one golden record into another and keep a snapshot (``MergeRecord``) so that
``unmerge`` restores the absorbed golden record and its links exactly.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from events.citizen import (
    CitizenMerged,
    CitizenRecordUpserted,
    CitizenUnmerged,
    CitizenUpdated,
    ComparisonEvidence,
    ContactPoints,
    MatchDecision,
    MovedLink,
    Profile,
    SourceLinkChange,
)
from functions.citizen import matching
from functions.citizen.identity import (
    Document,
    normalise_document,
    normalise_email,
    normalise_name,
    normalise_phone,
)
from functions.citizen.matching import Candidate, Features, Score, Verdict
from functions.core import contact
from functions.core.errors import ConflictError, NotFoundError, ValidationError

if TYPE_CHECKING:  # the port names the kernel's unit of work; this module stays free of its adapters
    from functions.core.store import UnitOfWork

PADRON = "/legacy/padron"
# Contact data the person rectified themselves (RGPD art. 16): a source of its own, one record per golden
# record, first for e-mail and phone.
DATA_SUBJECT = "/pic/data-subject"
NAME_FIELDS = ("given_name", "first_surname", "second_surname", "birth_date", "address")
CONTACT_FIELDS = ("email", "phone")
CITIZEN_ID_PREFIX = "cit-"
PIC = "pic-citizen"
# DynamoDB TransactWriteItems takes at most 100 items; a merge writes 4 per moved link (old link deleted,
# new link, pointer, citizen.updated outbox row) plus goldens, snapshot, events, idempotency and review.
MAX_MOVED_LINKS = 20
Method = Literal["document", "new", "probabilistic", "data-subject"]


class CitizenNotFoundError(NotFoundError):
    """No golden record, or no link for a (source, local_id); the generic ``not-found`` problem."""


class MergeConflictError(ConflictError):
    """A merge or un-merge that cannot be done as asked (already decided, already merged, too big for one
    transaction, nothing to split): 409, and nothing is written."""


def new_citizen_id() -> str:
    return f"{CITIZEN_ID_PREFIX}{uuid.uuid4()}"


@dataclass(frozen=True)
class Link:
    """A source record linked to a golden record: the record as received, its document as evidence."""

    source: str
    local_id: str
    citizen_id: str
    record: CitizenRecordUpserted
    document: Document | None
    method: Method
    score: float
    evidence: tuple[str, ...]
    received_at: datetime
    version: int | None = None  # the source pointer's version (optimistic locking)
    match_weight: float | None = None
    comparisons: tuple[tuple[str, str, float], ...] = ()  # (comparison, level, weight)

    @property
    def key(self) -> str:
        return f"{self.source}#{self.local_id}"

    @property
    def findings(self) -> list[dict[str, str]]:
        if self.document is not None and not self.document.valid:
            return [{"field": "document", "finding": self.document.finding or "invalid document"}]
        return []


@dataclass(frozen=True)
class Golden:
    """The golden record: the survived attributes, where each came from, and the valid documents."""

    citizen_id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, str] = field(default_factory=dict)
    documents: tuple[tuple[str, str], ...] = ()
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None


@dataclass(frozen=True)
class Resolution:
    """What one upsert does: the link to write, the golden record after survivorship, the document index
    entry to claim (only for a valid document no golden record holds yet) and the event; or nothing."""

    link: Link
    golden: Golden
    claim_document: Document | None
    event: CitizenUpdated | None
    review: Review | None = None


@dataclass(frozen=True)
class Review:
    """A pair in the clerical review band: the record's (new) golden record and the candidate it resembles."""

    review_id: str
    citizen_id: str
    candidate_id: str
    source: str
    local_id: str
    score: float
    match_weight: float
    comparisons: tuple[tuple[str, str, float], ...]
    created_at: datetime
    status: Literal["open", "match", "no-match"] = "open"
    decided_by: str | None = None
    decided_at: datetime | None = None
    version: int | None = None


@dataclass(frozen=True)
class BlockClaim:
    """A block whose head a record's transaction bumps: every record that joins a block does, so that a
    resolution which read the block before that join cannot commit a decision taken without it. ``checked``:
    the bump is conditioned on ``seen``, the head's count when this record read the block for candidates
    (``None``: no record had joined it yet)."""

    key: str
    checked: bool
    seen: int | None = None


@dataclass(frozen=True)
class BlockRead:
    """What a record's blocks hold: the candidates to score, and each block's head count as read (the
    conditions of the record's block claims)."""

    candidates: list[Candidate]
    seen: dict[str, int | None]


def block_claims(joined: Iterable[str], read: Mapping[str, int | None] | None) -> tuple[BlockClaim, ...]:
    """The heads to bump for a record that joins the blocks ``joined``, having read the blocks ``read`` (key ->
    head count seen) to find its candidates, or none (``read`` None: its link or its document decided, it was
    compared with no one). Every block read is claimed at the count seen, joined or not: a record that joined
    any of them meanwhile cancels this transaction, and the kernel decides it again on what that record wrote."""
    seen = dict(read or {})
    return tuple(BlockClaim(key, key in seen, seen.get(key)) for key in sorted(set(joined) | set(seen)))


@dataclass(frozen=True)
class ReviewPage:
    """One page of the clerical review queue, oldest first; ``next_cursor`` is the last review id shown."""

    items: list[Review]
    next_cursor: str | None


def new_review_id(now: datetime) -> str:
    """Sortable by creation: the queue lists the oldest first."""
    return f"rev-{now.strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}"


def comparisons_of(score: Score) -> tuple[tuple[str, str, float], ...]:
    return tuple((e.comparison, e.level, round(e.weight, 3)) for e in score.evidence)


def evidence_models(comparisons: Iterable[tuple[str, str, float]]) -> list[ComparisonEvidence]:
    return [ComparisonEvidence(comparison=c, level=lv, weight=w) for c, lv, w in comparisons]


def document_of(record: CitizenRecordUpserted) -> Document | None:
    if record.document is None:
        return None
    return normalise_document(record.document.type, record.document.number)


def resolve(
    source: str,
    record: CitizenRecordUpserted,
    *,
    existing: Link | None,
    document_owner: str | None,
    golden: Golden | None,
    other_links: Iterable[Link],
    now: datetime,
    new_id: Callable[[], str] = new_citizen_id,
    verdict: Verdict | None = None,
    bridge: Verdict | None = None,
) -> Resolution:
    """Decide which golden record ``record`` (from ``source``) belongs to, and the golden record after it.

    ``existing`` is the current link of (source, local_id), ``document_owner`` the golden record its valid
    document is linked to, ``golden`` and ``other_links`` the chosen golden record's state (read by the caller
    once the citizen id is known: see :func:`target_citizen`). ``bridge``, for a record that joins
    ``document_owner`` by its document, is its best match among the OTHER golden records: in the review band,
    a review pairs the two (at auto-merge, the caller merges them: :func:`bridged`).
    """
    document = document_of(record)
    citizen_id, method, score, evidence = decide(source, record, document, existing, document_owner, new_id, verdict)
    probabilistic = verdict is not None and verdict.score is not None and existing is None and not document_owner
    best = verdict.score if probabilistic and verdict is not None else None
    matched = best is not None and method == "probabilistic"
    pair: tuple[str, Score] | None = None  # the golden record a review pairs with this record's, and the score
    if verdict is not None and verdict.decision == "review" and best is not None and verdict.citizen_id:
        pair = (verdict.citizen_id, best)
    resembled = bridge if existing is None and document_owner is not None else None
    if resembled is not None and resembled.decision == "review" and resembled.citizen_id and resembled.score:
        pair = (resembled.citizen_id, resembled.score)
        evidence.append(f"also resembles {resembled.citizen_id}: {weighed(resembled)}, in the review band")
        evidence.append("a clerical review of the pair is opened; an agent merges them or not")
    if golden is not None and golden.citizen_id != citizen_id:
        raise ValueError("golden record read for another citizen")
    link = Link(
        source=source,
        local_id=record.local_id,
        citizen_id=citizen_id,
        record=record,
        document=document,
        method=method,
        score=score,
        evidence=existing.evidence if existing else tuple(evidence),  # the decision that made the link
        received_at=now,
        version=existing.version if existing else None,
        match_weight=existing.match_weight if existing else (best.match_weight if matched and best else None),
        comparisons=existing.comparisons if existing else (comparisons_of(best) if matched and best else ()),
    )
    review = None
    if pair is not None:
        candidate, resembles = pair
        review = Review(
            review_id=new_review_id(now),
            citizen_id=citizen_id,
            candidate_id=candidate,
            source=source,
            local_id=record.local_id,
            score=resembles.probability,
            match_weight=resembles.match_weight,
            comparisons=comparisons_of(resembles),
            created_at=now,
        )
    links = [other for other in other_links if other.key != link.key] + [link]
    after = survive(citizen_id, links, golden, now)
    claim = document if document is not None and document.valid and document_owner is None else None
    if existing is not None and existing.record == record and existing.citizen_id == citizen_id and claim is None:
        return Resolution(link=existing, golden=golden or after, claim_document=None, event=None)
    event = CitizenUpdated(
        citizen_id=citizen_id,
        link=SourceLinkChange(
            source=source,
            local_id=record.local_id,
            change="changed" if existing else "added",
            document_type=document.type if document else None,
            document_valid=document.valid if document else None,
            findings=[f["field"] for f in link.findings],
        ),
        match=MatchDecision(
            method=method,
            score=score,
            evidence=list(evidence),
            match_weight=link.match_weight,
            comparisons=evidence_models(link.comparisons),
            review_id=review.review_id if review else None,
        ),
        updated_at=now,
        contact=contact_of(after),
        profile=profile_of(after),
    )
    return Resolution(link=link, golden=after, claim_document=claim, event=event, review=review)


def weighed(verdict: Verdict) -> str:
    score = verdict.score
    return f"match probability {score.probability:.6f} (weight {score.match_weight:+.2f})" if score else "no score"


def bridged(verdict: Verdict | None, bridge: Verdict | None) -> tuple[str, Score] | None:
    """The second golden record a new record bridges at auto-merge (the same person twice in the base): another
    match of a probabilistic match, or the best other match of a record that joined by its document."""
    if verdict is not None and verdict.decision == "match" and verdict.others:
        return verdict.others[0]
    if bridge is not None and bridge.decision == "match" and bridge.citizen_id and bridge.score:
        return bridge.citizen_id, bridge.score
    return None


def target_citizen(existing: Link | None, document_owner: str | None, verdict: Verdict | None = None) -> str | None:
    """The golden record an upsert will land on when it is already known (None: a new one)."""
    if existing is not None:
        return existing.citizen_id
    if document_owner is not None:
        return document_owner
    if verdict is not None and verdict.decision == "match":
        return verdict.citizen_id
    return None


def decide(
    source: str,
    record: CitizenRecordUpserted,
    document: Document | None,
    existing: Link | None,
    document_owner: str | None,
    new_id: Callable[[], str],
    verdict: Verdict | None = None,
) -> tuple[str, Method, float, list[str]]:
    """The match decision: (citizen id, method, score, evidence)."""
    evidence: list[str] = []
    if document is not None and not document.valid:
        evidence.append(f"{document.type} invalid, not used to match: {document.finding}")
    if existing is not None:
        evidence.append(f"{source}#{record.local_id} is already linked to {existing.citizen_id}: the link is updated")
        if document is not None and document.valid and document_owner not in (None, existing.citizen_id):
            evidence.append(f"{document.type} is linked to {document_owner}: left for review, the link stays")
        return existing.citizen_id, existing.method, existing.score, evidence + list(existing.evidence)
    if document is not None and document.valid and document_owner is not None:
        evidence.append(f"{document.type} valid (check letter verified) and already linked to {document_owner}")
        return document_owner, "document", 1.0, evidence
    if verdict is not None and verdict.score is not None and verdict.citizen_id is not None:
        score, weight = verdict.score, weighed(verdict)
        if verdict.decision == "match":
            evidence.append(f"probabilistic match with {verdict.citizen_id}: {weight}, at or above auto-merge")
            return verdict.citizen_id, "probabilistic", round(score.probability, 6), evidence + score.text()
        if verdict.decision == "review":
            evidence.append(f"resembles {verdict.citizen_id}: {weight}, in the review band: a new golden record")
            evidence.append("a clerical review of the pair is opened; an agent merges them or not")
            return new_id(), "new", 0.0, evidence + score.text()
        evidence.append(f"best candidate {verdict.citizen_id}: {weight}, below the review band")
    if document is None:
        evidence.append("no document: no deterministic evidence, a new golden record")
    elif document.valid:
        evidence.append(f"{document.type} valid and not linked to any golden record yet: a new golden record")
    else:
        evidence.append("no valid document: a new golden record")
    return new_id(), "new", 0.0, evidence


def _value(link: Link, name: str) -> Any:
    record = link.record
    if name == "address":
        return record.address.model_dump() if record.address else None
    if name == "birth_date":
        return record.birth_date.isoformat() if record.birth_date else None
    if name == "email":
        return normalise_email(record.email)
    if name == "phone":
        return normalise_phone(record.phone)
    value = getattr(record, name)
    return value or None


def survive(citizen_id: str, links: list[Link], before: Golden | None, now: datetime) -> Golden:
    """Survivorship, first rule set: Padrón first for name, birth date and address (then the most recent
    record that has the attribute); for e-mail and phone, the person's own rectification (``DATA_SUBJECT``)
    first, then the most recent record. Ties: the source key."""
    newest_first = sorted(links, key=lambda lk: (lk.received_at, lk.key), reverse=True)
    padron_first = [lk for lk in newest_first if lk.source == PADRON] + [
        lk for lk in newest_first if lk.source != PADRON
    ]
    subject_first = [lk for lk in newest_first if lk.source == DATA_SUBJECT] + [
        lk for lk in newest_first if lk.source != DATA_SUBJECT
    ]
    attributes: dict[str, Any] = {}
    provenance: dict[str, str] = {}
    for names, order in ((NAME_FIELDS, padron_first), (CONTACT_FIELDS, subject_first)):
        for name in names:
            for link in order:
                value = _value(link, name)
                if value is not None:
                    attributes[name] = value
                    provenance[name] = link.key
                    break
    documents = sorted(
        {(lk.document.type, lk.document.number) for lk in links if lk.document is not None and lk.document.valid}
    )
    return Golden(
        citizen_id=citizen_id,
        attributes=attributes,
        provenance=provenance,
        documents=tuple(documents),
        created_at=before.created_at if before and before.created_at else now,
        updated_at=now,
        version=before.version if before else None,
    )


def contact_of(golden: Golden) -> ContactPoints:
    """The golden record's contact points, as ``citizen.updated`` announces them."""
    return ContactPoints(email=golden.attributes.get("email"), phone=golden.attributes.get("phone"))


def profile_of(golden: Golden) -> Profile:
    """The golden record's survived Padrón facts campaigns segment on (issue 16), as ``citizen.updated``
    announces them: the birth date and the district (and barrio, when a source gives one), nothing else."""
    attributes = golden.attributes
    address = attributes.get("address")
    place = address if isinstance(address, dict) else {}
    try:
        birth = date.fromisoformat(str(attributes.get("birth_date") or "")[:10])
    except ValueError:  # none held (or not a date): the profile says nothing rather than stop the announcement
        birth = None
    district, barrio = place.get("district"), place.get("barrio")
    return Profile(
        birth_date=birth,
        district=str(district)[:3] if district else None,
        barrio=str(barrio)[:3] if barrio else None,
    )


def golden_view(golden: Golden, links: list[Link]) -> dict[str, Any]:
    """The golden record as the API answers it: attributes, their provenance and the source links."""
    return {
        "citizen_id": golden.citizen_id,
        "attributes": golden.attributes,
        "provenance": golden.provenance,
        "documents": [{"type": t, "number": n} for t, n in golden.documents],
        "created_at": golden.created_at.isoformat() if golden.created_at else None,
        "updated_at": golden.updated_at.isoformat() if golden.updated_at else None,
        "links": [
            {
                "source": lk.source,
                "local_id": lk.local_id,
                "match": {
                    "method": lk.method,
                    "score": lk.score,
                    "evidence": list(lk.evidence),
                    "match_weight": lk.match_weight,
                    "comparisons": [{"comparison": c, "level": lv, "weight": w} for c, lv, w in lk.comparisons],
                },
                "findings": lk.findings,
                "received_at": lk.received_at.isoformat(),
            }
            for lk in sorted(links, key=lambda lk: lk.key)
        ],
    }


# ---- merge and un-merge ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MergeRecord:
    """What a merge changed, kept with the surviving golden record so that it can be undone exactly:
    the absorbed golden record as it was, the keys of the links it brought, and the survivor's golden
    record and link keys before the merge."""

    citizen_id: str
    absorbed: Golden
    absorbed_keys: tuple[str, ...]
    target_before: Golden
    target_keys: tuple[str, ...]
    reason: Literal["auto", "review"]
    review_id: str | None
    merged_at: datetime


@dataclass(frozen=True)
class MovePlan:
    """A merge or an un-merge, decided: golden records to write or delete, links moved, documents re-claimed,
    the merge record to keep or drop, and the events (one ``citizen.updated`` per moved link)."""

    goldens: tuple[Golden, ...]
    deleted_golden: Golden | None
    moved: tuple[tuple[Link, Link], ...]  # (before, after)
    documents: tuple[tuple[Document, str, str], ...]  # (document, from citizen, to citizen)
    keep: MergeRecord | None
    drop: MergeRecord | None
    events: tuple[CitizenMerged | CitizenUnmerged | CitizenUpdated, ...]


def _moved_event(
    before: Link, after: Link, golden: Golden, method: Literal["merge", "unmerge"], note: str, now: datetime
) -> CitizenUpdated:
    document = after.document
    return CitizenUpdated(
        citizen_id=after.citizen_id,
        link=SourceLinkChange(
            source=after.source,
            local_id=after.local_id,
            change="changed",
            document_type=document.type if document else None,
            document_valid=document.valid if document else None,
            findings=[f["field"] for f in after.findings],
        ),
        match=MatchDecision(
            method=method,
            score=after.score,
            evidence=[f"moved from {before.citizen_id} to {after.citizen_id}: {note}", *after.evidence],
            match_weight=after.match_weight,
            comparisons=evidence_models(after.comparisons),
        ),
        updated_at=now,
        contact=contact_of(golden),
        profile=profile_of(golden),
    )


def _moved(link: Link, to: str) -> Link:
    return replace(link, citizen_id=to)


def _valid_documents(links: Iterable[Link]) -> set[Document]:
    return {lk.document for lk in links if lk.document is not None and lk.document.valid}


def merge(
    target: Golden,
    target_links: list[Link],
    absorbed: Golden,
    absorbed_links: list[Link],
    *,
    reason: Literal["auto", "review"],
    score: float,
    evidence: list[str],
    by: str,
    now: datetime,
    review_id: str | None = None,
) -> MovePlan:
    """Absorb ``absorbed`` into ``target``: every link moves, survivorship runs over all of them, the
    absorbed record's documents are re-claimed by the target, and a snapshot makes it undoable."""
    if target.citizen_id == absorbed.citizen_id:
        raise MergeConflictError(f"{target.citizen_id} cannot be merged with itself")
    if not absorbed_links:
        raise MergeConflictError(f"{absorbed.citizen_id} has no source links to merge")
    if len(absorbed_links) > MAX_MOVED_LINKS:
        raise MergeConflictError(
            f"{absorbed.citizen_id} has {len(absorbed_links)} source links; one merge moves at most "
            f"{MAX_MOVED_LINKS} (one transaction); un-merge some first"
        )
    moved = tuple((lk, _moved(lk, target.citizen_id)) for lk in sorted(absorbed_links, key=lambda x: x.key))
    after = survive(target.citizen_id, target_links + [m for _, m in moved], target, now)
    record = MergeRecord(
        citizen_id=target.citizen_id,
        absorbed=absorbed,
        absorbed_keys=tuple(lk.key for lk, _ in moved),
        target_before=target,
        target_keys=tuple(sorted(lk.key for lk in target_links)),
        reason=reason,
        review_id=review_id,
        merged_at=now,
    )
    held = _valid_documents(target_links)
    documents = tuple(
        (d, absorbed.citizen_id, target.citizen_id) for d in sorted(_valid_documents(absorbed_links) - held, key=str)
    )
    note = f"{reason} merge" + (f" (review {review_id})" if review_id else "")
    merged = CitizenMerged(
        citizen_id=target.citizen_id,
        merged_citizen_id=absorbed.citizen_id,
        links=[MovedLink(source=m.source, local_id=m.local_id) for _, m in moved],
        reason=reason,
        score=score,
        evidence=evidence,
        review_id=review_id,
        by=by,
        merged_at=now,
    )
    updates = tuple(_moved_event(b, a, after, "merge", note, now) for b, a in moved)
    return MovePlan((after,), absorbed, moved, documents, record, None, (merged, *updates))


def merge_of(records: Iterable[MergeRecord], key: str) -> MergeRecord | None:
    """The merge that brought the link ``key`` into its golden record (the latest one, if several)."""
    found = [r for r in records if key in r.absorbed_keys]
    return max(found, key=lambda r: r.merged_at) if found else None


def _restored(citizen_id: str, links: list[Link], snapshot: Golden, current: Golden | None, now: datetime) -> Golden:
    """The golden record as it was before the merge when its links say the same; recomputed otherwise
    (a record arrived or changed since). Keeps the current item version for the optimistic lock."""
    recomputed = survive(citizen_id, links, snapshot, now)
    same = (recomputed.attributes, recomputed.provenance, recomputed.documents) == (
        snapshot.attributes,
        snapshot.provenance,
        snapshot.documents,
    )
    base = snapshot if same else recomputed
    return Golden(
        citizen_id=citizen_id,
        attributes=base.attributes,
        provenance=base.provenance,
        documents=base.documents,
        created_at=snapshot.created_at,
        updated_at=base.updated_at,
        version=current.version if current else None,
    )


def unmerge(
    golden: Golden,
    links: list[Link],
    source: str,
    local_id: str,
    merges: list[MergeRecord],
    *,
    by: str,
    now: datetime,
    new_id: Callable[[], str] = new_citizen_id,
) -> MovePlan:
    """Split (source, local_id) out of ``golden``. If a merge brought it, that merge is undone: the absorbed
    golden record comes back (same id, same attributes) with every link it brought that is still here, and
    ``golden`` returns to its state before the merge. Otherwise the record alone becomes a new golden
    record, unless its valid document ties it to the others (a deterministic match is not split)."""
    key = f"{source}#{local_id}"
    link = next((lk for lk in links if lk.key == key), None)
    if link is None:
        raise CitizenNotFoundError(f"{key} is not linked to {golden.citizen_id}")
    record = merge_of(merges, key)
    if record is not None:
        back = [lk for lk in links if lk.key in record.absorbed_keys]
        stay = [lk for lk in links if lk.key not in record.absorbed_keys]
        restored_id = record.absorbed.citizen_id
        snapshot = record.absorbed
        drop: MergeRecord | None = record
    else:
        if len(links) < 2:
            raise MergeConflictError(f"{key} is the only source record of {golden.citizen_id}: nothing to split")
        if (
            link.document is not None
            and link.document.valid
            and link.document in _valid_documents(lk for lk in links if lk.key != key)
        ):
            raise MergeConflictError(
                f"{key} shares a valid {link.document.type} with other records of {golden.citizen_id}: "
                "a deterministic match is not split"
            )
        back, stay = [link], [lk for lk in links if lk.key != key]
        restored_id = new_id()
        snapshot = Golden(citizen_id=restored_id, created_at=now, updated_at=now)
        drop = None
    if len(back) > MAX_MOVED_LINKS:
        raise MergeConflictError(f"{len(back)} links to move; one un-merge moves at most {MAX_MOVED_LINKS}")
    moved = tuple((lk, _moved(lk, restored_id)) for lk in sorted(back, key=lambda x: x.key))
    restored_links = [m for _, m in moved]
    restored = (
        _restored(restored_id, restored_links, snapshot, None, now)
        if drop
        else survive(restored_id, restored_links, None, now)
    )
    remaining = (
        _restored(golden.citizen_id, stay, record.target_before, golden, now)
        if record is not None
        else survive(golden.citizen_id, stay, golden, now)
    )
    documents = tuple(
        (d, golden.citizen_id, restored_id)
        for d in sorted(_valid_documents(restored_links) - _valid_documents(stay), key=str)
    )
    unmerged = CitizenUnmerged(
        citizen_id=golden.citizen_id,
        restored_citizen_id=restored_id,
        links=[MovedLink(source=m.source, local_id=m.local_id) for _, m in moved],
        by=by,
        unmerged_at=now,
        contact=contact_of(remaining),
    )
    note = f"un-merge of {key} by {by}"
    updates = tuple(_moved_event(b, a, restored, "unmerge", note, now) for b, a in moved)
    return MovePlan((remaining, restored), None, moved, documents, None, drop, (unmerged, *updates))


# ---- finding a citizen: the agents' search --------------------------------------------------------------

MAX_SEARCH_MATCHES = 20
MAX_NAME_WORDS = 7  # given name and surnames together: every split of them is a block to read
SearchKind = Literal["document", "name-birth-date", "phone", "email"]
SEARCH_CRITERIA = "document, name with birth_date, phone or email"


@dataclass(frozen=True)
class NameReading:
    """One way to read the name searched: its given name's key and its surnames' key (one surname, or both
    in order), folded as ``identity.normalise_name`` folds them, and the phonetic keys of the first surname
    it may begin with (the ``name:`` blocks every record with a birth date joined)."""

    given_key: str
    surnames_key: str
    first_surname_phonetics: tuple[str, ...]


@dataclass(frozen=True)
class SearchCriterion:
    """What an agent searches by, normalised: a valid document, readings of a name with a birth date (ISO),
    a phone in E.164 or an e-mail address (``functions.core.contact``)."""

    kind: SearchKind
    document: Document | None = None
    readings: tuple[NameReading, ...] = ()
    birth_date: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class SearchMatch:
    """A golden record the search confirmed, as the desk lists it: no more than it takes to tell people apart
    (RGPD art. 5.1.c)."""

    citizen_id: str
    name: str
    birth_date: str | None
    district: str | None
    matched_on: SearchKind


@dataclass(frozen=True)
class SearchResult:
    """At most ``MAX_SEARCH_MATCHES``; ``truncated`` when more matched, or a block held more records than read."""

    matches: tuple[SearchMatch, ...]
    truncated: bool


@dataclass(frozen=True)
class BlockOwners:
    """The golden records of the records in some blocks; ``complete`` False when a block held more than read."""

    citizen_ids: frozenset[str]
    complete: bool = True


def search_criterion(
    *,
    document: tuple[str, str] | None = None,
    name: str | None = None,
    surname: str | None = None,
    birth_date: str | None = None,
    phone: str | None = None,
    email: str | None = None,
) -> SearchCriterion:
    """Exactly one criterion, normalised, or a ``ValidationError`` (422) naming the fields: none or several
    criteria; a name without its birth date (or the reverse); a DNI/NIE that fails its check letter (no golden
    record can hold it); a phone or an e-mail the platform's one contact normaliser refuses.

    Without ``surname``, ``name`` is the full name (given name, then surnames): every split is read."""
    given = {
        "document": document is not None,
        "name-birth-date": any(v is not None for v in (name, surname, birth_date)),
        "phone": phone is not None,
        "email": email is not None,
    }
    kinds = [kind for kind, present in given.items() if present]
    if not kinds:
        raise ValidationError(
            f"give one criterion: {SEARCH_CRITERIA}",
            errors=[{"field": "(body)", "message": f"one of {SEARCH_CRITERIA}"}],
        )
    if len(kinds) > 1:
        fields = [f for f, v in _search_fields(document, name, surname, birth_date, phone, email) if v is not None]
        raise ValidationError(
            f"give exactly one criterion ({SEARCH_CRITERIA}), not {' and '.join(kinds)}",
            errors=[{"field": f, "message": f"only one criterion at a time: {SEARCH_CRITERIA}"} for f in fields],
        )
    if document is not None:
        return SearchCriterion("document", document=_searched_document(*document))
    if phone is not None:
        return SearchCriterion("phone", phone=_contact_point("phone", contact.phone, phone))
    if email is not None:
        return SearchCriterion("email", email=_contact_point("email", contact.email, email))
    missing = [f for f, v in (("name", name), ("birth_date", birth_date)) if v is None]
    if missing:
        raise ValidationError(
            "name and birth_date go together",
            errors=[{"field": f, "message": "required with name, surname or birth_date"} for f in missing],
        )
    assert name is not None and birth_date is not None
    return SearchCriterion("name-birth-date", readings=name_readings(name, surname), birth_date=birth_date)


def _search_fields(*values: object) -> list[tuple[str, object]]:
    return list(zip(("document", "name", "surname", "birth_date", "phone", "email"), values, strict=True))


def _searched_document(type: str, number: str) -> Document:
    document = normalise_document(type, number)
    if not document.valid:
        raise ValidationError(
            f"not a valid {document.type}: {document.finding}",
            errors=[{"field": "document.number", "message": document.finding or "not a valid document"}],
        )
    return document


def _contact_point(field_name: str, normalise: Callable[[str], str], raw: str) -> str:
    try:
        return normalise(raw)
    except contact.ContactError as exc:
        raise ValidationError(str(exc), errors=[{"field": field_name, "message": str(exc)}]) from exc


def name_readings(name: str, surname: str | None) -> tuple[NameReading, ...]:
    """The readings of a name searched: ``name`` + ``surname``, or every split of a full name into a given
    name and surnames. ``ValidationError`` when no reading has both (a single word and no surname), or the
    name has more than ``MAX_NAME_WORDS`` words (each split is a block read)."""
    words = name.split() + (surname or "").split()
    if len(words) > MAX_NAME_WORDS:
        raise ValidationError(
            f"a name of at most {MAX_NAME_WORDS} words, given name and surnames together",
            errors=[{"field": "name", "message": f"at most {MAX_NAME_WORDS} words with the surname"}],
        )
    if surname is not None:
        splits = [(name, surname)]
    else:
        parts = name.split()
        splits = [(" ".join(parts[:i]), " ".join(parts[i:])) for i in range(1, len(parts))]
    readings = []
    for given, surnames in splits:
        folded = normalise_name(given, surnames)
        if not folded.given_key or not folded.first_surname_key:
            continue
        run = surnames.split()
        phonetics = {normalise_name("", " ".join(run[:end])).first_surname_phonetic for end in range(1, len(run) + 1)}
        readings.append(NameReading(folded.given_key, folded.first_surname_key, tuple(sorted(phonetics - {""}))))
    if not readings:
        field_name = "name" if surname is not None else "surname"
        raise ValidationError(
            "a name needs a given name and a surname: send surname, or the full name in name",
            errors=[{"field": field_name, "message": "a given name and a surname are needed"}],
        )
    return tuple(readings)


def search_keys(criterion: SearchCriterion) -> set[str]:
    """The blocks (``matching.blocking_keys``) holding every record that carries what is searched: the phone's,
    the e-mail's, or each reading's first surname with the birth date. Never the document (its index decides)."""
    if criterion.kind == "phone":
        return matching.blocking_keys(matching.search_features(phone=criterion.phone))
    if criterion.kind == "email":
        return matching.blocking_keys(matching.search_features(email=criterion.email.casefold()))
    keys: set[str] = set()
    for reading in criterion.readings:
        for phonetic in reading.first_surname_phonetics:
            features = matching.search_features(surname1_ph=phonetic, birth_date=criterion.birth_date)
            keys |= matching.blocking_keys(features)
    return keys


def confirms(criterion: SearchCriterion, golden: Golden) -> bool:
    """Whether the golden record itself holds what was searched, exactly (after normalisation): a block also
    holds its near neighbours (a sibling's birth date, a household's phone under another name's record)."""
    attributes = golden.attributes
    if criterion.kind == "document":
        document = criterion.document
        return document is not None and (document.type, document.number) in golden.documents
    if criterion.kind == "phone":
        return bool(attributes.get("phone")) and attributes.get("phone") == criterion.phone
    if criterion.kind == "email":  # case-folded, as matching compares e-mails
        held = attributes.get("email")
        return isinstance(held, str) and held.casefold() == criterion.email.casefold()
    if attributes.get("birth_date") != criterion.birth_date:
        return False
    name = normalise_name(
        attributes.get("given_name") or "", attributes.get("first_surname") or "", attributes.get("second_surname")
    )
    surnames = {name.first_surname_key, name.all_surnames_key}
    if name.second_surname_key:
        surnames.add(f"{name.second_surname_key} {name.first_surname_key}")
    return any(r.given_key == name.given_key and r.surnames_key in surnames for r in criterion.readings)


def display_name(golden: Golden) -> str:
    """The name as the golden record holds it (the Padrón's first): given name and surnames."""
    attributes = golden.attributes
    parts = (attributes.get(f) for f in ("given_name", "first_surname", "second_surname"))
    return " ".join(str(p) for p in parts if p)


def search_match(golden: Golden, matched_on: SearchKind) -> SearchMatch:
    address = golden.attributes.get("address") or {}
    return SearchMatch(
        citizen_id=golden.citizen_id,
        name=display_name(golden),
        birth_date=golden.attributes.get("birth_date"),
        district=address.get("district") if isinstance(address, dict) else None,
        matched_on=matched_on,
    )


def search_result(criterion: SearchCriterion, goldens: Iterable[Golden], *, complete: bool = True) -> SearchResult:
    """The golden records that hold what was searched, ordered by name (then id), at most
    ``MAX_SEARCH_MATCHES``."""
    unique = {g.citizen_id: g for g in goldens}
    found = sorted(
        (search_match(g, criterion.kind) for g in unique.values() if confirms(criterion, g)),
        key=lambda m: (m.name.casefold(), m.citizen_id),
    )
    return SearchResult(tuple(found[:MAX_SEARCH_MATCHES]), len(found) > MAX_SEARCH_MATCHES or not complete)


# ---- the domain's port ------------------------------------------------------------------------------


class CitizenStore(Protocol):
    """What C360 reads and stages (``storage.DynamoCitizenStore`` in production; an in-memory fake in the
    handlers' unit tests). ``fetch_`` reads consistently; ``stage_`` adds writes to a unit of work, each under
    the condition that makes a concurrent change a lost race (versions, absence, block claims)."""

    def fetch_citizen_of(self, source: str, local_id: str) -> tuple[str, int] | None: ...
    def fetch_link(self, source: str, local_id: str) -> Link | None: ...
    def fetch_document_owner(self, document: Document | None) -> str | None: ...
    def fetch_golden(self, citizen_id: str) -> Golden | None: ...
    def fetch_links(self, citizen_id: str) -> list[Link]: ...
    def fetch_blocks(self, features: Features, keys: Iterable[str], known: Iterable[str] = ()) -> BlockRead: ...
    def fetch_review(self, review_id: str) -> Review | None: ...
    def list_reviews(self, status: str, limit: int, cursor: str | None) -> ReviewPage: ...
    def fetch_reviews_involving(self, citizen_ids: set[str], keys: set[str]) -> list[Review]: ...
    def fetch_merges(self, citizen_id: str) -> list[MergeRecord]: ...
    def fetch_block_owners(self, keys: Iterable[str]) -> BlockOwners: ...
    def fetch_goldens(self, citizen_ids: Iterable[str]) -> list[Golden]: ...
    def stage_resolution(
        self, uow: UnitOfWork, link: Link, golden: Golden, claim: Document | None, *, golden_too: bool = True
    ) -> None: ...
    def stage_blocks(
        self, uow: UnitOfWork, record_key: str, new: set[str], old: set[str], claims: Iterable[BlockClaim]
    ) -> None: ...
    def stage_review(self, uow: UnitOfWork, review: Review) -> None: ...
    def stage_plan(self, uow: UnitOfWork, plan: MovePlan) -> None: ...
    def stage_link(self, uow: UnitOfWork, link: Link) -> None: ...
    def stage_golden(self, uow: UnitOfWork, golden: Golden) -> None: ...
    def stage_erase_link(
        self, uow: UnitOfWork, link: Link, blocks: Iterable[str], release: Document | None
    ) -> None: ...
    def stage_erase_review(self, uow: UnitOfWork, review: Review) -> None: ...
    def stage_erase_merge(self, uow: UnitOfWork, record: MergeRecord) -> None: ...
    def stage_erase_golden(self, uow: UnitOfWork, golden: Golden) -> None: ...
    def fits_one_transaction(self, uow: UnitOfWork) -> bool:
        """Whether ``uow`` commits as one transaction with the idempotency record the kernel adds to it (a
        bridging merge that would not fit waits for a later record)."""
        ...
