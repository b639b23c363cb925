"""Citizen 360 storage: one DynamoDB table ``citizen``, keys ``pk`` + ``sk``.

Item kinds:
- ``pk=<citizen_id>``, ``sk=golden``: the golden record (survived attributes, provenance; versioned);
- ``pk=<citizen_id>``, ``sk=link#<source>#<local_id>``: one source record linked to it, as received;
- ``pk=src#<source>#<local_id>``, ``sk=link``: which golden record a source record belongs to (versioned:
  a new one is written only if absent, so a record is never linked twice);
- ``pk=doc#<keyed hash of type and number>``, ``sk=doc`` (a blind index, ``functions.core.blind_index``):
  which golden record holds a valid document, written only if absent: two records with the same document
  arriving together cannot create two golden records (the loser's transaction is cancelled, it answers 409
  and its redelivery links to the winner).
- ``pk=blk#<keyed hash of a blocking key>``, ``sk=<source>#<local_id>``: the records in one block
  (``matching.blocking_keys``: surname sound + birth year, e-mail, phone...). A new record queries its blocks
  for candidates, so it is resolved against the whole base without a batch rerun. Blind too: the keys
  carry e-mails and phones. Items hold no golden id, so merges do not touch them (the pointer says).
- ``pk=blk#<…>``, ``sk=#head``: the block's head, ``claims`` = how many times a record joined the block. It
  sorts before every member, so the candidates' Query reads it first; every join bumps it in the joining
  transaction, and a new record's transaction conditions its bumps on the counts it read: two records of one
  block resolved at once cannot both commit decisions taken without each other (the loser is decided again).
- ``pk=review``, ``sk=<review_id>`` (sortable by creation): the clerical review queue.
- ``pk=<citizen_id>``, ``sk=merge#<absorbed citizen_id>``: the snapshot that makes a merge undoable.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)

from events.citizen import CitizenRecordUpserted
from functions.citizen.identity import Document
from functions.citizen.matching import Candidate, Features, features_from_dict
from functions.citizen.service import (
    BlockClaim,
    BlockOwners,
    BlockRead,
    Golden,
    Link,
    MergeRecord,
    MovePlan,
    Review,
    ReviewPage,
)
from functions.core.blind_index import blind_index
from functions.core.store import StoreModel, UnitOfWork, defines_table, model_meta

GOLDEN = "golden"
LINK_PREFIX = "link#"
MERGE_PREFIX = "merge#"
REVIEW_PK = "review"
MAX_CANDIDATES_PER_BLOCK = 200  # a common surname and birth year is a big block: the nearest 200 are enough
BLOCK_HEAD = "#head"  # a block's head: sorts before its members' "<source>#<local_id>" (sources start with "/")
MAX_TRANSACTION_ITEMS = 100  # DynamoDB's TransactWriteItems limit


def source_key(source: str, local_id: str) -> str:
    return f"src#{source}#{local_id}"


def document_key(document: Document) -> str:
    """A blind index: the document's keyed hash, so no key or index holds the number itself."""
    return f"doc#{blind_index(document.type, document.number)}"


@defines_table
class CitizenItem(StoreModel):
    """Defines the table (keys only) for every C360 item kind."""

    Meta = model_meta("citizen")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class GoldenItem(CitizenItem):
    attributes = UnicodeAttribute()  # JSON: attribute -> value
    provenance = UnicodeAttribute()  # JSON: attribute -> "<source>#<local_id>"
    documents = UnicodeAttribute()  # JSON: [[type, number], ...] (valid ones only)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()


class LinkItem(CitizenItem):
    source = UnicodeAttribute()
    local_id = UnicodeAttribute()
    record = UnicodeAttribute()  # JSON of events.citizen.CitizenRecordUpserted
    document_type = UnicodeAttribute(null=True)
    document_number = UnicodeAttribute(null=True)
    document_valid = BooleanAttribute(null=True)
    document_finding = UnicodeAttribute(null=True)
    method = UnicodeAttribute()
    score = NumberAttribute()
    evidence = ListAttribute(of=UnicodeAttribute, default=list)
    received_at = UTCDateTimeAttribute()
    match_weight = NumberAttribute(null=True)
    comparisons = UnicodeAttribute(null=True)  # JSON: [[comparison, level, weight], ...]


class PointerItem(CitizenItem):
    citizen_id = UnicodeAttribute()
    version = VersionAttribute()


class DocumentItem(CitizenItem):
    citizen_id = UnicodeAttribute()
    claimed_at = UTCDateTimeAttribute()


class BlockItem(CitizenItem):
    """One record in one block (the sort key is the record's source key), or the block's head (``BLOCK_HEAD``)."""

    claims = NumberAttribute(null=True)  # the head only: how many times a record joined the block


class ReviewItem(CitizenItem):
    citizen_id = UnicodeAttribute()
    candidate_id = UnicodeAttribute()
    source = UnicodeAttribute()
    local_id = UnicodeAttribute()
    score = NumberAttribute()
    match_weight = NumberAttribute()
    comparisons = UnicodeAttribute()
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    decided_by = UnicodeAttribute(null=True)
    decided_at = UTCDateTimeAttribute(null=True)
    version = VersionAttribute()


class MergeItem(CitizenItem):
    snapshot = UnicodeAttribute()  # JSON of service.MergeRecord


def block_key(key: str) -> str:
    return f"blk#{blind_index('block', key)}"


class DynamoCitizenStore:
    """The C360 repository (``service.CitizenStore`` on DynamoDB): ``fetch_`` reads, ``stage_`` adds writes to a
    unit of work."""

    def fits_one_transaction(self, uow: UnitOfWork) -> bool:
        """One TransactWriteItems holds at most ``MAX_TRANSACTION_ITEMS``; the kernel adds the idempotency record."""
        return len(uow) < MAX_TRANSACTION_ITEMS

    def fetch_citizen_of(self, source: str, local_id: str) -> tuple[str, int] | None:
        """The golden record id a source record is linked to, and the pointer's version."""
        try:
            item = PointerItem.get(source_key(source, local_id), "link", consistent_read=True)
        except PointerItem.DoesNotExist:
            return None
        return item.citizen_id, int(item.version)

    def fetch_link(self, source: str, local_id: str) -> Link | None:
        pointer = self.fetch_citizen_of(source, local_id)
        if pointer is None:
            return None
        citizen_id, version = pointer
        try:
            item = LinkItem.get(citizen_id, f"{LINK_PREFIX}{source}#{local_id}", consistent_read=True)
        except LinkItem.DoesNotExist:  # pragma: no cover - written in the same transaction as the pointer
            return None
        return _link_of(item, citizen_id, version)

    def fetch_document_owner(self, document: Document | None) -> str | None:
        if document is None or not document.valid:
            return None
        try:
            return str(DocumentItem.get(document_key(document), "doc", consistent_read=True).citizen_id)
        except DocumentItem.DoesNotExist:
            return None

    def fetch_golden(self, citizen_id: str) -> Golden | None:
        try:
            return _golden_item_of(GoldenItem.get(citizen_id, GOLDEN, consistent_read=True))
        except GoldenItem.DoesNotExist:
            return None

    def fetch_goldens(self, citizen_ids: Iterable[str]) -> list[Golden]:
        """The golden records that exist among ``citizen_ids`` (one BatchGetItem per 100)."""
        keys = [(citizen_id, GOLDEN) for citizen_id in sorted(set(citizen_ids))]
        return [_golden_item_of(item) for item in GoldenItem.batch_get(keys, consistent_read=True)] if keys else []

    def fetch_links(self, citizen_id: str) -> list[Link]:
        """The golden record's links, each with its source pointer's version (a move conditions on it)."""
        items = list(LinkItem.query(citizen_id, LinkItem.sk.startswith(LINK_PREFIX), consistent_read=True))
        versions = {
            p.pk: int(p.version)
            for p in PointerItem.batch_get(
                [(source_key(i.source, i.local_id), "link") for i in items], consistent_read=True
            )
        }
        return [_link_of(i, citizen_id, versions.get(source_key(i.source, i.local_id))) for i in items]

    # ---- probabilistic candidates -------------------------------------------------------------

    def fetch_blocks(self, features: Features, keys: Iterable[str], known: Iterable[str] = ()) -> BlockRead:
        """The records sharing a block with ``features`` (their golden record, from the pointer, and their
        features), and each block's head count as read: one Query per block, the head first. Records of
        ``known`` (source keys whose golden record the caller holds) are left out: not read, not candidates."""
        source_keys: set[str] = set()
        seen: dict[str, int | None] = {}
        for key in sorted(keys):
            seen[key] = None
            for item in BlockItem.query(block_key(key), limit=MAX_CANDIDATES_PER_BLOCK + 1, consistent_read=True):
                if item.sk == BLOCK_HEAD:
                    seen[key] = int(item.claims or 0)
                else:
                    source_keys.add(item.sk)
        source_keys.discard(features.key)
        source_keys.difference_update(known)
        if not source_keys:
            return BlockRead([], seen)
        owners = {
            p.pk.removeprefix("src#"): str(p.citizen_id)
            for p in PointerItem.batch_get([(f"src#{k}", "link") for k in sorted(source_keys)], consistent_read=True)
        }
        links = LinkItem.batch_get(
            [(cid, f"{LINK_PREFIX}{k}") for k, cid in sorted(owners.items())], consistent_read=True
        )
        candidates = [
            Candidate(item.pk, features_from_dict(f"{item.source}#{item.local_id}", json.loads(item.record)))
            for item in links
        ]
        return BlockRead(candidates, seen)

    def fetch_block_owners(self, keys: Iterable[str]) -> BlockOwners:
        """The golden records (through the pointers) of the records in the blocks ``keys``: one Query per
        block (members only, after the head), at most ``MAX_CANDIDATES_PER_BLOCK`` each, and one BatchGetItem
        of their pointers. A merge moved the pointers with the links: the ids are the surviving ones."""
        source_keys: set[str] = set()
        complete = True
        for key in sorted(keys):
            members = BlockItem.query(
                block_key(key), BlockItem.sk > BLOCK_HEAD, limit=MAX_CANDIDATES_PER_BLOCK + 1, consistent_read=True
            )
            read = [item.sk for item in members]
            complete = complete and len(read) <= MAX_CANDIDATES_PER_BLOCK
            source_keys.update(read[:MAX_CANDIDATES_PER_BLOCK])
        if not source_keys:
            return BlockOwners(frozenset(), complete)
        pointers = PointerItem.batch_get([(f"src#{k}", "link") for k in sorted(source_keys)], consistent_read=True)
        return BlockOwners(frozenset(str(p.citizen_id) for p in pointers), complete)

    def stage_blocks(
        self, uow: UnitOfWork, record_key: str, new: set[str], old: set[str], claims: Iterable[BlockClaim]
    ) -> None:
        """The record joins the blocks it now belongs to and leaves those it no longer does; the heads of
        ``claims`` are bumped, each conditioned on the count read when the claim says so (else a conflict)."""
        for key in sorted(new - old):
            uow.put(BlockItem(block_key(key), record_key), tag="citizen-block")
        for key in sorted(old - new):
            uow.delete(BlockItem(block_key(key), record_key), tag="citizen-block")
        for claim in claims:
            condition = None
            if claim.checked:
                condition = BlockItem.pk.does_not_exist() if claim.seen is None else BlockItem.claims == claim.seen
            head = BlockItem(block_key(claim.key), BLOCK_HEAD)
            uow.update(head, actions=[BlockItem.claims.add(1)], condition=condition, tag="citizen-block-head")

    # ---- clerical review ---------------------------------------------------------------------

    def fetch_review(self, review_id: str) -> Review | None:
        try:
            return _review_of(ReviewItem.get(REVIEW_PK, review_id, consistent_read=True))
        except ReviewItem.DoesNotExist:
            return None

    def list_reviews(self, status: str, limit: int, cursor: str | None) -> ReviewPage:
        """Oldest first; ``cursor`` is the last review id of the previous page."""
        condition = ReviewItem.sk > cursor if cursor else None
        found: list[Review] = []
        for item in ReviewItem.query(
            REVIEW_PK, condition, filter_condition=ReviewItem.status == status, consistent_read=True
        ):
            found.append(_review_of(item))
            if len(found) > limit:
                break
        page = found[:limit]
        return ReviewPage(page, page[-1].review_id if len(found) > limit else None)

    def stage_review(self, uow: UnitOfWork, review: Review) -> None:
        item = ReviewItem(
            REVIEW_PK,
            review.review_id,
            citizen_id=review.citizen_id,
            candidate_id=review.candidate_id,
            source=review.source,
            local_id=review.local_id,
            score=review.score,
            match_weight=review.match_weight,
            comparisons=json.dumps([list(c) for c in review.comparisons]),
            status=review.status,
            created_at=review.created_at,
            decided_by=review.decided_by,
            decided_at=review.decided_at,
        )
        if review.version is not None:
            item.version = review.version
        uow.put(item, tag="citizen-review")

    def fetch_reviews_involving(self, citizen_ids: set[str], keys: set[str]) -> list[Review]:
        """The reviews (any status) whose golden records or source record are the person's: the queue is one
        partition, read whole (the queue holds open pairs and their history, thousands, not millions)."""
        return [
            review
            for review in map(_review_of, ReviewItem.query(REVIEW_PK, consistent_read=True))
            if review.citizen_id in citizen_ids
            or review.candidate_id in citizen_ids
            or f"{review.source}#{review.local_id}" in keys
        ]

    # ---- data-subject rights (functions/citizen/rights.py) -------------------------------------

    @staticmethod
    def stage_erase_link(uow: UnitOfWork, link: Link, blocks: Iterable[str], release: Document | None) -> None:
        """A source record gone from C360 for good: its link, its pointer, its block items and, when no kept
        record holds the same document, the document claim. Unconditional (or conditioned so that an absent
        item passes): erasing twice is harmless, so steps split across transactions converge on redelivery."""
        uow.delete(LinkItem(link.citizen_id, f"{LINK_PREFIX}{link.key}"), tag="citizen-link")
        pointer = PointerItem(source_key(link.source, link.local_id), "link")
        pointer.version = link.version  # read with the link: a concurrent move cancels the step (retried)
        uow.delete(pointer, tag="citizen-source")
        for key in sorted(blocks):
            uow.delete(BlockItem(block_key(key), link.key), tag="citizen-block")
        if release is not None:
            uow.delete(
                DocumentItem(document_key(release), "doc"),
                condition=(DocumentItem.citizen_id == link.citizen_id) | DocumentItem.pk.does_not_exist(),
                tag="citizen-document",
            )

    @staticmethod
    def stage_erase_review(uow: UnitOfWork, review: Review) -> None:
        item = ReviewItem(REVIEW_PK, review.review_id)
        item.version = review.version
        uow.delete(item, tag="citizen-review")

    @staticmethod
    def stage_erase_merge(uow: UnitOfWork, record: MergeRecord) -> None:
        uow.delete(MergeItem(record.citizen_id, f"{MERGE_PREFIX}{record.absorbed.citizen_id}"), tag="citizen-merge")

    @staticmethod
    def stage_erase_golden(uow: UnitOfWork, golden: Golden) -> None:
        """The golden record itself, under its version (a concurrent change cancels the erasure: retried)."""
        gone = GoldenItem(golden.citizen_id, GOLDEN)
        gone.version = golden.version
        uow.delete(gone, tag="citizen-golden")

    def stage_golden(self, uow: UnitOfWork, golden: Golden) -> None:
        """A golden record rebuilt from what remains (versioned)."""
        self._stage_golden(uow, golden, golden.updated_at)

    def stage_link(self, uow: UnitOfWork, link: Link) -> None:
        """A link and its pointer (versioned), e.g. the person's own rectified contact data."""
        self._stage_link(uow, link)

    # ---- merges ------------------------------------------------------------------------------

    def fetch_merges(self, citizen_id: str) -> list[MergeRecord]:
        items = MergeItem.query(citizen_id, MergeItem.sk.startswith(MERGE_PREFIX), consistent_read=True)
        return [_merge_of(json.loads(item.snapshot)) for item in items]

    def stage_plan(self, uow: UnitOfWork, plan: MovePlan) -> None:
        """A merge or un-merge, all or nothing: goldens (versioned), links moved (old item deleted, new one
        written, pointer moved under its version), documents re-claimed, the merge snapshot kept or dropped."""
        for golden in plan.goldens:
            self._stage_golden(uow, golden, golden.updated_at)
        if plan.deleted_golden is not None:
            old = GoldenItem(plan.deleted_golden.citizen_id, GOLDEN)
            old.version = plan.deleted_golden.version
            uow.delete(old, tag="citizen-golden")
        for before, after in plan.moved:
            uow.delete(LinkItem(before.citizen_id, f"{LINK_PREFIX}{before.key}"), tag="citizen-link")
            self._stage_link(uow, after)
        for document, was, now in plan.documents:
            uow.put(
                DocumentItem(document_key(document), "doc", citizen_id=now, claimed_at=plan_time(plan)),
                condition=DocumentItem.citizen_id == was,
                tag="citizen-document",
            )
        if plan.keep is not None:
            uow.put(
                MergeItem(
                    plan.keep.citizen_id,
                    f"{MERGE_PREFIX}{plan.keep.absorbed.citizen_id}",
                    snapshot=json.dumps(_merge_json(plan.keep)),
                ),
                condition=MergeItem.pk.does_not_exist(),
                tag="citizen-merge",
            )
        if plan.drop is not None:
            uow.delete(
                MergeItem(plan.drop.citizen_id, f"{MERGE_PREFIX}{plan.drop.absorbed.citizen_id}"),
                condition=MergeItem.pk.exists(),
                tag="citizen-merge",
            )

    def stage_resolution(
        self, uow: UnitOfWork, link: Link, golden: Golden, claim: Document | None, *, golden_too: bool = True
    ) -> None:
        """Golden record (versioned), link, pointer (versioned) and the document claim, all or nothing.
        ``golden_too=False`` when a merge in the same unit of work writes the golden record."""
        if golden_too:
            self._stage_golden(uow, golden, link.received_at)
        self._stage_link(uow, link)
        if claim is not None:
            uow.put(
                DocumentItem(document_key(claim), "doc", citizen_id=link.citizen_id, claimed_at=link.received_at),
                condition=DocumentItem.pk.does_not_exist(),
                tag="citizen-document",
            )

    @staticmethod
    def _stage_golden(uow: UnitOfWork, golden: Golden, at: datetime | None) -> None:
        item = GoldenItem(
            golden.citizen_id,
            GOLDEN,
            attributes=json.dumps(golden.attributes, sort_keys=True),
            provenance=json.dumps(golden.provenance, sort_keys=True),
            documents=json.dumps([list(d) for d in golden.documents]),
            created_at=golden.created_at or at,
            updated_at=golden.updated_at or at,
        )
        if golden.version is not None:  # None: a new golden record, conditioned on "does not exist"
            item.version = golden.version
        uow.put(item, tag="citizen-golden")

    @staticmethod
    def _stage_link(uow: UnitOfWork, link: Link) -> None:
        document = link.document
        uow.put(
            LinkItem(
                link.citizen_id,
                f"{LINK_PREFIX}{link.source}#{link.local_id}",
                source=link.source,
                local_id=link.local_id,
                record=link.record.model_dump_json(),
                document_type=document.type if document else None,
                document_number=document.number if document else None,
                document_valid=document.valid if document else None,
                document_finding=document.finding if document else None,
                method=link.method,
                score=link.score,
                evidence=list(link.evidence),
                received_at=link.received_at,
                match_weight=link.match_weight,
                comparisons=json.dumps([list(c) for c in link.comparisons]) if link.comparisons else None,
            ),
            tag="citizen-link",
        )
        pointer = PointerItem(source_key(link.source, link.local_id), "link", citizen_id=link.citizen_id)
        if link.version is not None:
            pointer.version = link.version
        uow.put(pointer, tag="citizen-source")


def plan_time(plan: MovePlan) -> datetime | None:
    return next((g.updated_at for g in plan.goldens if g.updated_at), None)


def _link_of(item: LinkItem, citizen_id: str, version: int | None) -> Link:
    document = None
    if item.document_type:
        document = Document(
            item.document_type,  # type: ignore[arg-type]
            item.document_number or "",
            bool(item.document_valid),
            item.document_finding,
        )
    received_at: datetime = item.received_at
    return Link(
        source=item.source,
        local_id=item.local_id,
        citizen_id=citizen_id,
        record=CitizenRecordUpserted.model_validate_json(item.record),
        document=document,
        method=item.method if item.method in ("document", "probabilistic", "data-subject") else "new",  # type: ignore[arg-type]
        score=float(item.score),
        evidence=tuple(str(e) for e in item.evidence or ()),
        received_at=received_at,
        version=version,
        match_weight=float(item.match_weight) if item.match_weight is not None else None,
        comparisons=tuple((str(c), str(lv), float(w)) for c, lv, w in json.loads(item.comparisons or "[]")),
    )


def _golden_item_of(item: GoldenItem) -> Golden:
    return Golden(
        citizen_id=item.pk,
        attributes=json.loads(item.attributes),
        provenance=json.loads(item.provenance),
        documents=tuple((t, n) for t, n in json.loads(item.documents)),
        created_at=item.created_at,
        updated_at=item.updated_at,
        version=item.version,
    )


def _review_of(item: ReviewItem) -> Review:
    return Review(
        review_id=item.sk,
        citizen_id=item.citizen_id,
        candidate_id=item.candidate_id,
        source=item.source,
        local_id=item.local_id,
        score=float(item.score),
        match_weight=float(item.match_weight),
        comparisons=tuple((str(c), str(lv), float(w)) for c, lv, w in json.loads(item.comparisons)),
        created_at=item.created_at,
        status=item.status,  # type: ignore[arg-type]
        decided_by=item.decided_by,
        decided_at=item.decided_at,
        version=int(item.version) if item.version is not None else None,
    )


def _golden_json(golden: Golden) -> dict[str, Any]:
    return {
        "citizen_id": golden.citizen_id,
        "attributes": golden.attributes,
        "provenance": golden.provenance,
        "documents": [list(d) for d in golden.documents],
        "created_at": golden.created_at.isoformat() if golden.created_at else None,
        "updated_at": golden.updated_at.isoformat() if golden.updated_at else None,
    }


def _golden_of(data: dict[str, Any], version: int | None = None) -> Golden:
    return Golden(
        citizen_id=data["citizen_id"],
        attributes=data["attributes"],
        provenance=data["provenance"],
        documents=tuple((t, n) for t, n in data["documents"]),
        created_at=datetime.fromisoformat(data["created_at"]) if data["created_at"] else None,
        updated_at=datetime.fromisoformat(data["updated_at"]) if data["updated_at"] else None,
        version=version,
    )


def _merge_json(record: MergeRecord) -> dict[str, Any]:
    return {
        "citizen_id": record.citizen_id,
        "absorbed": _golden_json(record.absorbed),
        "absorbed_keys": list(record.absorbed_keys),
        "target_before": _golden_json(record.target_before),
        "target_keys": list(record.target_keys),
        "reason": record.reason,
        "review_id": record.review_id,
        "merged_at": record.merged_at.isoformat(),
    }


def _merge_of(data: dict[str, Any]) -> MergeRecord:
    return MergeRecord(
        citizen_id=data["citizen_id"],
        absorbed=_golden_of(data["absorbed"]),
        absorbed_keys=tuple(data["absorbed_keys"]),
        target_before=_golden_of(data["target_before"]),
        target_keys=tuple(data["target_keys"]),
        reason=data["reason"],
        review_id=data["review_id"],
        merged_at=datetime.fromisoformat(data["merged_at"]),
    )
