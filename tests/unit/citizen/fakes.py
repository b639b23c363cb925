"""An in-memory ``CitizenStore`` (``functions.citizen.service``): the C360 handlers' unit tests run on it.

It keeps the items ``storage.DynamoCitizenStore`` keeps (golden records, links, source pointers, document
claims, block members and heads, reviews, merge snapshots) in dictionaries, and stages every write on the
shared ``Ledger`` under the condition DynamoDB would check: a golden record, a pointer or a review under the
version read (absent when new), a document claim only if absent, a block head at the count read (the head's
count IS its ledger version: every join bumps it once). A unit commits all or nothing, and a stale condition
is a ``LostRaceError``, so a race between two resolutions is played out without DynamoDB.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import partial

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
from functions.core.store import UnitOfWork
from tests.unit.fakes import Ledger

MUST_EXIST = -1  # an expected version no item has: the condition "exists" on an absent item fails


def document_key(document: Document) -> str:
    return f"doc#{document.type}:{document.number}"


@dataclass
class FakeCitizenStore:
    ledger: Ledger = field(default_factory=Ledger)
    goldens: dict[str, Golden] = field(default_factory=dict)
    links: dict[str, dict[str, Link]] = field(default_factory=dict)  # citizen id -> record key -> link
    pointers: dict[str, str] = field(default_factory=dict)  # record key -> citizen id
    documents: dict[str, str] = field(default_factory=dict)  # document key -> citizen id
    blocks: dict[str, set[str]] = field(default_factory=dict)  # blocking key -> record keys
    reviews: dict[str, Review] = field(default_factory=dict)
    merges: dict[str, dict[str, MergeRecord]] = field(default_factory=dict)  # survivor -> absorbed id -> record
    max_items: int = 100  # what one transaction holds
    _gone: set[str] = field(default_factory=set)  # keys the committing unit deletes: absent again afterwards

    def commit(self, uow: UnitOfWork) -> None:
        """All or nothing (``Ledger.commit``); a deleted item is absent again, as in DynamoDB (a later "does not
        exist" condition on it holds)."""
        self._gone.clear()
        self.ledger.commit(uow)
        for key in self._gone:
            self.ledger.versions.pop(key, None)
        self._gone.clear()

    def head(self, blocking_key: str) -> int | None:
        """How many records joined a block (its head's count), None if none ever did."""
        return self.ledger.version(f"head#{blocking_key}")

    # ---- reads ----------------------------------------------------------------------------------------
    def fetch_citizen_of(self, source: str, local_id: str) -> tuple[str, int] | None:
        key = f"{source}#{local_id}"
        citizen_id = self.pointers.get(key)
        version = self.ledger.version(f"src#{key}")
        return None if citizen_id is None or version is None else (citizen_id, version)

    def fetch_link(self, source: str, local_id: str) -> Link | None:
        pointer = self.fetch_citizen_of(source, local_id)
        if pointer is None:
            return None
        return self._read_link(self.links[pointer[0]][f"{source}#{local_id}"])

    def fetch_document_owner(self, document: Document | None) -> str | None:
        if document is None or not document.valid:
            return None
        return self.documents.get(document_key(document))

    def fetch_golden(self, citizen_id: str) -> Golden | None:
        golden = self.goldens.get(citizen_id)
        return None if golden is None else replace(golden, version=self.ledger.version(f"golden#{citizen_id}"))

    def fetch_links(self, citizen_id: str) -> list[Link]:
        return [self._read_link(link) for _, link in sorted(self.links.get(citizen_id, {}).items())]

    def fetch_blocks(self, features: Features, keys: Iterable[str], known: Iterable[str] = ()) -> BlockRead:
        seen = {key: self.head(key) for key in sorted(keys)}
        members: set[str] = set()
        for key in seen:
            members |= self.blocks.get(key, set())
        members -= {features.key, *known}
        candidates = []
        for record_key in sorted(members):
            owner = self.pointers[record_key]
            record = self.links[owner][record_key].record.model_dump(mode="json")
            candidates.append(Candidate(owner, features_from_dict(record_key, record)))
        return BlockRead(candidates, seen)

    def fetch_block_owners(self, keys: Iterable[str]) -> BlockOwners:
        members = set().union(*(self.blocks.get(key, set()) for key in keys))
        return BlockOwners(frozenset(self.pointers[k] for k in members if k in self.pointers))

    def fetch_goldens(self, citizen_ids: Iterable[str]) -> list[Golden]:
        return [g for cid in sorted(set(citizen_ids)) if (g := self.fetch_golden(cid)) is not None]

    def fetch_review(self, review_id: str) -> Review | None:
        review = self.reviews.get(review_id)
        return None if review is None else replace(review, version=self.ledger.version(f"review#{review_id}"))

    def list_reviews(self, status: str, limit: int, cursor: str | None) -> ReviewPage:
        found = [rid for rid in sorted(self.reviews) if self.reviews[rid].status == status and rid > (cursor or "")]
        page = [review for rid in found[:limit] if (review := self.fetch_review(rid)) is not None]
        return ReviewPage(page, page[-1].review_id if len(found) > limit else None)

    def fetch_reviews_involving(self, citizen_ids: set[str], keys: set[str]) -> list[Review]:
        return [
            review
            for review in (self.fetch_review(rid) for rid in sorted(self.reviews))
            if review is not None
            and (
                review.citizen_id in citizen_ids
                or review.candidate_id in citizen_ids
                or f"{review.source}#{review.local_id}" in keys
            )
        ]

    def fetch_merges(self, citizen_id: str) -> list[MergeRecord]:
        return list(self.merges.get(citizen_id, {}).values())

    def fits_one_transaction(self, uow: UnitOfWork) -> bool:
        return len(self.ledger.staged(uow)) + len(uow) < self.max_items

    # ---- writes, applied when the unit commits ----------------------------------------------------------
    def stage_resolution(
        self, uow: UnitOfWork, link: Link, golden: Golden, claim: Document | None, *, golden_too: bool = True
    ) -> None:
        if golden_too:
            self.stage_golden(uow, golden)
        self.stage_link(uow, link)
        if claim is not None:
            key = document_key(claim)
            self.ledger.stage(uow, key, None, lambda: self.documents.__setitem__(key, link.citizen_id))

    def stage_blocks(
        self, uow: UnitOfWork, record_key: str, new: set[str], old: set[str], claims: Iterable[BlockClaim]
    ) -> None:
        for key in sorted(new - old):
            self._unconditional(uow, f"member#{key}#{record_key}", partial(self._join, key, record_key))
        for key in sorted(old - new):
            self._unconditional(uow, f"member#{key}#{record_key}", partial(self._leave, key, record_key))
        for claim in claims:
            head = f"head#{claim.key}"
            if claim.checked:
                self.ledger.stage(uow, head, claim.seen, lambda: None)
            else:
                self._unconditional(uow, head, lambda: None)

    def stage_review(self, uow: UnitOfWork, review: Review) -> None:
        stored = replace(review, version=None)
        self.ledger.stage(
            uow,
            f"review#{review.review_id}",
            review.version,
            lambda: self.reviews.__setitem__(review.review_id, stored),
        )

    def stage_plan(self, uow: UnitOfWork, plan: MovePlan) -> None:
        for golden in plan.goldens:
            self.stage_golden(uow, golden)
        if plan.deleted_golden is not None:
            self.stage_erase_golden(uow, plan.deleted_golden)
        for before, after in plan.moved:
            self._unconditional(uow, f"link#{before.citizen_id}#{before.key}", self._drop_link(before))
            self.stage_link(uow, after)
        for document, was, now in plan.documents:
            key = document_key(document)
            expected = self.ledger.version(key) if self.documents.get(key) == was else MUST_EXIST
            self.ledger.stage(uow, key, expected, partial(self.documents.__setitem__, key, now))
        if plan.keep is not None:
            keep = plan.keep
            self.ledger.stage(
                uow,
                f"merge#{keep.citizen_id}#{keep.absorbed.citizen_id}",
                None,
                lambda: self.merges.setdefault(keep.citizen_id, {}).__setitem__(keep.absorbed.citizen_id, keep),
            )
        if plan.drop is not None:
            drop = plan.drop
            key = f"merge#{drop.citizen_id}#{drop.absorbed.citizen_id}"
            expected = self.ledger.version(key)
            self.ledger.stage(
                uow, key, MUST_EXIST if expected is None else expected, self._deleting(key, self._drop_merge(drop))
            )

    def stage_link(self, uow: UnitOfWork, link: Link) -> None:
        stored = replace(link, version=None)

        def apply() -> None:
            self.links.setdefault(link.citizen_id, {})[link.key] = stored
            self.pointers[link.key] = link.citizen_id

        self._unconditional(uow, f"link#{link.citizen_id}#{link.key}", lambda: None)
        self.ledger.stage(uow, f"src#{link.key}", link.version, apply)

    def stage_golden(self, uow: UnitOfWork, golden: Golden) -> None:
        stored = replace(golden, version=None)
        key = f"golden#{golden.citizen_id}"
        self.ledger.stage(uow, key, golden.version, lambda: self.goldens.__setitem__(golden.citizen_id, stored))

    def stage_erase_link(self, uow: UnitOfWork, link: Link, blocks: Iterable[str], release: Document | None) -> None:
        self._unconditional(uow, f"link#{link.citizen_id}#{link.key}", self._drop_link(link))
        self.ledger.stage(uow, f"src#{link.key}", link.version, self._deleting(f"src#{link.key}", lambda: None))
        for key in sorted(blocks):
            self._unconditional(uow, f"member#{key}#{link.key}", partial(self._leave, key, link.key))
        if release is not None:
            key = document_key(release)

            def free() -> None:
                if self.documents.get(key) == link.citizen_id:
                    del self.documents[key]

            self._unconditional(uow, key, self._deleting(key, free))

    def stage_erase_review(self, uow: UnitOfWork, review: Review) -> None:
        key = f"review#{review.review_id}"
        self.ledger.stage(uow, key, review.version, self._deleting(key, lambda: self.reviews.pop(review.review_id)))

    def stage_erase_merge(self, uow: UnitOfWork, record: MergeRecord) -> None:
        key = f"merge#{record.citizen_id}#{record.absorbed.citizen_id}"
        self._unconditional(uow, key, self._deleting(key, self._drop_merge(record)))

    def stage_erase_golden(self, uow: UnitOfWork, golden: Golden) -> None:
        key = f"golden#{golden.citizen_id}"
        self.ledger.stage(uow, key, golden.version, self._deleting(key, lambda: self.goldens.pop(golden.citizen_id)))

    # ---- helpers ------------------------------------------------------------------------------------------
    def _join(self, blocking_key: str, record_key: str) -> None:
        self.blocks.setdefault(blocking_key, set()).add(record_key)

    def _leave(self, blocking_key: str, record_key: str) -> None:
        self.blocks.get(blocking_key, set()).discard(record_key)

    def _read_link(self, link: Link) -> Link:
        return replace(link, version=self.ledger.version(f"src#{link.key}"))

    def _unconditional(self, uow: UnitOfWork, key: str, apply: Callable[[], object]) -> None:
        self.ledger.stage(uow, key, None, lambda: void(apply), any_version=True)

    def _deleting(self, key: str, apply: Callable[[], object]) -> Callable[[], None]:
        """``apply``, and the item ``key`` is absent once the unit commits."""

        def delete() -> None:
            apply()
            self._gone.add(key)

        return delete

    def _drop_link(self, link: Link) -> Callable[[], None]:
        def drop() -> None:
            self.links.get(link.citizen_id, {}).pop(link.key, None)
            if self.pointers.get(link.key) == link.citizen_id:
                del self.pointers[link.key]
            if not self.links.get(link.citizen_id, True):
                del self.links[link.citizen_id]

        return drop

    def _drop_merge(self, record: MergeRecord) -> Callable[[], None]:
        return lambda: void(lambda: self.merges.get(record.citizen_id, {}).pop(record.absorbed.citizen_id, None))


def void(apply: Callable[[], object]) -> None:
    """Run a write for its effect (a ``pop`` or ``add`` returns something the ledger has no use for)."""
    apply()
