"""The citizen (C360) domain's answer to data-subject requests (RGPD arts. 15 to 21).

- ``export_of``: everything C360 holds about a golden record — its survived attributes with their provenance,
  every source link with the record as received, the reviews that involve the person and the merge history —
  for access (art. 15) and portability (art. 20).
- ``plan_erasure``: art. 17, asked of ``policies/rgpd/retention`` per category. Padrón links are kept (the
  Padrón is a legal register: Ley 7/1985 arts. 16-17; RD 1690/1986); the copies of every other source, the
  person's own contact record, reviews and merge snapshots are erased; the golden record is rebuilt from
  what remains (or erased with it); the erased records' document claims and block items go with them.
- ``plan_rectification``: art. 16. E-mail and phone become the person's own source (``service.DATA_SUBJECT``),
  first for contact data; name, birth date and address survive from the Padrón (or the area system they
  came from), so they are kept and corrected through that register's own procedure.
- Restriction (art. 18) and objection (art. 21): not applicable. C360 only identifies the person across the
  council's systems, which each process their records under their own legal basis; the flags bind the
  domains that decide or contact (``policies/consent``, ``policies/position``). Objection covers art. 6.1.e/f
  processing, and keeping the Padrón (the identity C360 rests on) is a legal obligation (art. 6.1.c).

What is held, erased, kept and rectified is C360's; the answer's envelope (export size, outcome, deletions
beyond one transaction) is ``functions.core.rights``. Plain functions over the store's data and the policy,
and the staging of what they decide through the domain's port (``service.CitizenStore``): the use case is
``handlers.answer_rights``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from events.citizen import CitizenRecordUpserted, CitizenUpdated, MatchDecision, SourceLinkChange
from events.rgpd import DomainAction, RgpdRequestOpened
from functions.citizen import matching, service
from functions.citizen.identity import Document
from functions.citizen.service import DATA_SUBJECT, PADRON, CitizenStore, Golden, Link, MergeRecord, Review
from functions.core import rights
from functions.core.outbox import stage_event
from functions.core.policy import Policy
from functions.core.store import UnitOfWork

DOMAIN = "citizen"
# One TransactWriteItems holds at most 100 items. The answer's own transaction keeps room for the golden
# record, the outbox row of the answer and the event's idempotency record.
MAX_ITEMS_IN_TRANSACTION = 90
ROOM_FOR_STEPS = MAX_ITEMS_IN_TRANSACTION - 3
CONTACT = ("email", "phone")
PADRON_PROCEDURE = (
    "corrected through the Padrón's own procedure (the council keeps it up to date and the resident asks it "
    "for the change); C360 takes the corrected entry when the Padrón sends it"
)


class RightsStore(Protocol):
    def fetch_golden(self, citizen_id: str) -> Golden | None: ...
    def fetch_links(self, citizen_id: str) -> list[Link]: ...
    def fetch_merges(self, citizen_id: str) -> list[MergeRecord]: ...
    def fetch_reviews_involving(self, citizen_ids: set[str], keys: set[str]) -> list[Review]: ...


@dataclass(frozen=True)
class Holding:
    """What C360 holds about one golden record."""

    golden: Golden | None
    links: list[Link] = field(default_factory=list)
    merges: list[MergeRecord] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)


def holding_of(citizen_id: str, store: RightsStore) -> Holding:
    """Read everything held: the reviews are found by the golden ids (this one and those merged into it) and
    by the source records' keys."""
    golden = store.fetch_golden(citizen_id)
    if golden is None:
        return Holding(None)
    links = store.fetch_links(citizen_id)
    merges = store.fetch_merges(citizen_id)
    ids = {citizen_id, *(m.absorbed.citizen_id for m in merges)}
    reviews = store.fetch_reviews_involving(ids, {lk.key for lk in links})
    return Holding(golden, links, merges, reviews)


# ---- access and portability -------------------------------------------------------------------------


def export_of(holding: Holding) -> dict[str, Any]:
    """Everything held, as JSON-ready data (the records as the area systems sent them)."""
    if holding.golden is None:
        return {}
    view = service.golden_view(holding.golden, holding.links)
    records = {lk.key: lk.record.model_dump(mode="json") for lk in holding.links}
    for link in view["links"]:
        link["record"] = records[f"{link['source']}#{link['local_id']}"]
    return {
        "golden_record": {k: v for k, v in view.items() if k != "links"},
        "source_links": view["links"],
        "reviews": [_review_json(r) for r in sorted(holding.reviews, key=lambda r: r.review_id)],
        "merge_history": [_merge_json(m) for m in sorted(holding.merges, key=lambda m: m.merged_at)],
    }


def _review_json(review: Review) -> dict[str, Any]:
    return {
        "review_id": review.review_id,
        "status": review.status,
        "citizen_id": review.citizen_id,
        "candidate_id": review.candidate_id,
        "source": review.source,
        "local_id": review.local_id,
        "score": review.score,
        "match_weight": review.match_weight,
        "comparisons": [{"comparison": c, "level": lv, "weight": w} for c, lv, w in review.comparisons],
        "created_at": review.created_at.isoformat(),
        "decided_by": review.decided_by,
        "decided_at": review.decided_at.isoformat() if review.decided_at else None,
    }


def _merge_json(record: MergeRecord) -> dict[str, Any]:
    return {
        "merged_citizen_id": record.absorbed.citizen_id,
        "absorbed_attributes": record.absorbed.attributes,
        "absorbed_links": list(record.absorbed_keys),
        "links_before": list(record.target_keys),
        "reason": record.reason,
        "review_id": record.review_id,
        "merged_at": record.merged_at.isoformat(),
    }


def _export_actions(export: dict[str, Any]) -> list[DomainAction]:
    return rights.exported(
        {
            "golden record: survived attributes with their provenance": 1,
            "source links, each with the record as the area system sent it": len(export["source_links"]),
            "clerical reviews of possible matches that involve the person": len(export["reviews"]),
            "merge history (golden records merged into this one)": len(export["merge_history"]),
        }
    )


# ---- erasure ------------------------------------------------------------------------------------------


def category_of(link: Link) -> str:
    """The retention category of a source link (``policies/rgpd/retention``, domain ``citizen``)."""
    if link.source == PADRON:
        return "padron-record"
    if link.source == DATA_SUBJECT:
        return "data-subject-record"
    return "source-record"


def retention(policy: Policy, category: str, now: datetime) -> dict[str, Any]:
    """``policies/rgpd/retention`` for a category of this domain (C360's categories need no record date)."""
    return rights.retention(policy, DOMAIN, category, now)


@dataclass(frozen=True)
class ErasedLink:
    """A source link to erase, with the block items it joined and the document claim it releases."""

    link: Link
    blocks: frozenset[str]
    release: Document | None

    @property
    def items(self) -> int:
        return 2 + len(self.blocks) + (1 if self.release else 0)


@dataclass
class ErasurePlan:
    """What an erasure does: what goes, the golden record rebuilt (or erased), and the answer's actions."""

    erased: list[ErasedLink] = field(default_factory=list)
    kept: list[Link] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    merges: list[MergeRecord] = field(default_factory=list)
    rebuilt: Golden | None = None
    erase_golden: Golden | None = None
    actions: list[DomainAction] = field(default_factory=list)

    def steps(self) -> list[ErasedLink | Review | MergeRecord]:
        """The deletions, each all-or-nothing (a link goes with its pointer, blocks and document claim)."""
        return [*self.erased, *self.reviews, *self.merges]


def plan_erasure(holding: Holding, policy: Policy, now: datetime) -> ErasurePlan:
    """Each link asked of the retention policy by category; the golden record rebuilt from the kept ones."""
    plan = ErasurePlan()
    golden = holding.golden
    if golden is None:
        return plan
    decisions: dict[str, dict[str, Any]] = {}
    erased_links: list[Link] = []
    for link in sorted(holding.links, key=lambda lk: lk.key):
        category = category_of(link)
        decision = decisions.setdefault(category, retention(policy, category, now))
        (erased_links if decision["erase"] else plan.kept).append(link)
    held = {lk.document for lk in plan.kept if lk.document is not None and lk.document.valid}
    for link in erased_links:
        document = link.document if link.document is not None and link.document.valid else None
        blocks = matching.blocking_keys(matching.features_from_dict(link.key, link.record.model_dump(mode="json")))
        plan.erased.append(ErasedLink(link, frozenset(blocks), None if document in held else document))
    for category in ("source-record", "data-subject-record"):
        gone = [e for e in plan.erased if category_of(e.link) == category]
        if gone:
            plan.actions.append(rights.erased(_WHAT[category], len(gone)))
    released = [e for e in plan.erased if e.release is not None]
    if released:
        plan.actions.append(
            rights.erased("identity-document claims of the erased records (blind index)", len(released))
        )
    for category in sorted({category_of(lk) for lk in plan.kept}):
        count = sum(1 for lk in plan.kept if category_of(lk) == category)
        plan.actions.append(rights.kept(_WHAT[category], count, decisions[category]))
    _plan_history(plan, holding, policy, now)
    _plan_golden(plan, golden, decisions, policy, now)
    return plan


_WHAT = {
    "padron-record": "Padrón entries linked to the golden record",
    "source-record": "C360 copies of other area systems' records (their links and match evidence)",
    "data-subject-record": "contact data the person gave C360 (rectified e-mail and phone)",
}


def _plan_history(plan: ErasurePlan, holding: Holding, policy: Policy, now: datetime) -> None:
    """Reviews and merge snapshots hold the erased records' keys and attributes: erased by their category."""
    for category, found, what in (
        ("match-review", holding.reviews, "clerical reviews of possible matches that involve the person"),
        ("merge-history", holding.merges, "merge snapshots (golden records merged into this one)"),
    ):
        if not found:
            continue
        decision = retention(policy, category, now)
        if decision["erase"]:
            if category == "match-review":
                plan.reviews = list(holding.reviews)
            else:
                plan.merges = list(holding.merges)
            plan.actions.append(rights.erased(what, len(found)))
        else:
            plan.actions.append(rights.kept(what, len(found), decision))


def _plan_golden(
    plan: ErasurePlan, golden: Golden, decisions: dict[str, dict[str, Any]], policy: Policy, now: datetime
) -> None:
    """The golden record is derived: rebuilt from the kept links (survivorship), erased when none is kept."""
    if not plan.erased and not plan.reviews and not plan.merges:
        return
    if not plan.kept:
        if retention(policy, "golden-record", now)["erase"]:
            plan.erase_golden = golden
            plan.actions.append(rights.erased("golden record (no source record is kept)", 1))
        return
    rebuilt = service.survive(golden.citizen_id, plan.kept, golden, now)
    plan.rebuilt = rebuilt
    dropped = sorted(set(golden.attributes) - set(rebuilt.attributes))
    if dropped:
        plan.actions.append(
            rights.erased(f"golden-record attributes from the erased records ({', '.join(dropped)})", 1)
        )
    basis = decisions[category_of(plan.kept[0])] if len({category_of(lk) for lk in plan.kept}) == 1 else None
    kept_what = "golden record, rebuilt from the kept source records only"
    plan.actions.append(rights.kept(kept_what, 1, basis or retention(policy, "padron-record", now)))


def step_size(step: ErasedLink | Review | MergeRecord) -> int:
    """The items one deletion step writes (``rights.stage_deletions`` keeps each step whole in one unit)."""
    return step.items if isinstance(step, ErasedLink) else 1


def stage_erasure(uow: UnitOfWork, plan: ErasurePlan, store: CitizenStore) -> None:
    """The plan's deletions that fit go in ``uow`` with the golden record (rebuilt or erased); the others are
    committed first (``functions.core.rights.stage_deletions``)."""
    rights.stage_deletions(
        uow,
        plan.steps(),
        lambda unit, step: stage_erasure_step(unit, step, store),
        room=ROOM_FOR_STEPS,
        size=step_size,
        unit=MAX_ITEMS_IN_TRANSACTION,
    )
    if plan.rebuilt is not None:
        store.stage_golden(uow, plan.rebuilt)
    if plan.erase_golden is not None:
        store.stage_erase_golden(uow, plan.erase_golden)


def stage_erasure_step(uow: UnitOfWork, step: ErasedLink | Review | MergeRecord, store: CitizenStore) -> None:
    """One whole deletion: a link with its pointer, blocks and document claim; a review; a merge snapshot."""
    if isinstance(step, ErasedLink):
        store.stage_erase_link(uow, step.link, step.blocks, step.release)
    elif isinstance(step, Review):
        store.stage_erase_review(uow, step)
    else:
        store.stage_erase_merge(uow, step)


# ---- rectification ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rectification:
    """The person's own contact record (new or updated), the golden record after it and the event."""

    link: Link | None = None
    golden: Golden | None = None
    event: CitizenUpdated | None = None
    actions: tuple[DomainAction, ...] = ()


def plan_rectification(
    holding: Holding, request_id: str, fields: dict[str, Any], policy: Policy, now: datetime
) -> Rectification:
    """E-mail and phone: the person's own source, first for contact data. Other fields: kept, with where they
    come from and how they are corrected there (the Padrón, a legal register, through its own procedure)."""
    golden = holding.golden
    if golden is None or not fields:
        return Rectification()
    actions: list[DomainAction] = []
    contact = {name: str(value) for name, value in fields.items() if name in CONTACT}
    link = golden_after = event = None
    if contact:
        link, golden_after, event = _own_contact(holding, golden, request_id, contact, now)
        for name in sorted(contact):
            what = f"{name}: the person's own, first for contact data in the golden record"
            actions.append(DomainAction(what=what, count=1, result="rectified", legal_basis="RGPD art. 16"))
    padron = retention(policy, "padron-record", now)
    for name in sorted(set(fields) - set(CONTACT)):
        attribute = name.split(".", 1)[0]
        origin = (golden.provenance.get(attribute) or "").rsplit("#", 1)[0]
        if origin == PADRON or not origin:
            basis = f"the Padrón is a legal register, {PADRON_PROCEDURE} ({padron['legal_source']})"
            what = f"{name}: survives from the Padrón"
        else:
            basis = (
                f"C360 copies it from {origin}, the record of origin: it is corrected in that system (RGPD art. 16 "
                "binds the controller's record), and reaches C360 with that system's next record"
            )
            what = f"{name}: survives from {origin}"
        category = "padron-record" if origin == PADRON or not origin else "source-record"
        actions.append(DomainAction(what=what, count=1, result="kept", legal_basis=basis[:500], category=category))
    return Rectification(link, golden_after, event, tuple(actions))


def _own_contact(
    holding: Holding, golden: Golden, request_id: str, contact: dict[str, str], now: datetime
) -> tuple[Link, Golden, CitizenUpdated]:
    """The ``DATA_SUBJECT`` link of this golden record (one, keyed by the citizen id), with the new values."""
    citizen_id = golden.citizen_id
    existing = next((lk for lk in holding.links if lk.source == DATA_SUBJECT), None)
    values = existing.record.model_dump(mode="json") if existing else {"local_id": citizen_id}
    record = CitizenRecordUpserted.model_validate({**values, **contact})
    evidence = (f"RGPD art. 16 rectification, request {request_id}: contact data the person gave themselves",)
    link = Link(
        source=DATA_SUBJECT,
        local_id=record.local_id,
        citizen_id=citizen_id,
        record=record,
        document=None,
        method="data-subject",
        score=1.0,
        evidence=evidence,
        received_at=now,
        version=existing.version if existing else None,
    )
    others = [lk for lk in holding.links if lk.key != link.key]
    after = service.survive(citizen_id, [*others, link], golden, now)
    event = CitizenUpdated(
        citizen_id=citizen_id,
        link=SourceLinkChange(source=DATA_SUBJECT, local_id=record.local_id, change="changed" if existing else "added"),
        match=MatchDecision(method="data-subject", score=1.0, evidence=list(evidence)),
        updated_at=now,
        contact=service.contact_of(after),
        profile=service.profile_of(after),
    )
    return link, after, event


def stage_rectification(
    uow: UnitOfWork, fix: Rectification, store: CitizenStore, traceparent: str | None, now: datetime
) -> None:
    """The person's own contact record, the golden record after it and its ``citizen.updated``, with the answer."""
    if fix.link is None or fix.golden is None or fix.event is None:
        return
    store.stage_link(uow, fix.link)
    store.stage_golden(uow, fix.golden)
    stage_event(uow, fix.event, subject=fix.golden.citizen_id, traceparent=traceparent, now=now)


# ---- the answer ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer(rights.Answer[ErasurePlan]):
    rectification: Rectification | None = None


def answer(data: RgpdRequestOpened, holding: Holding, policy: Policy, now: datetime) -> Answer:
    """This domain's answer to one request, from what it holds about ``data.citizen_id``."""
    answering = rights.Answering(data, DOMAIN, now)
    if holding.golden is None or data.right in ("restriction", "objection"):
        return Answer(answering.not_applicable())
    if data.right in rights.EXPORT_RIGHTS:
        export = export_of(holding)
        return Answer(answering.with_export(export, _export_actions(export)))
    if data.right == "erasure":
        plan = plan_erasure(holding, policy, now)
        return Answer(answering.with_actions(rights.erasure_actions(plan.actions, policy, DOMAIN, now)), erasure=plan)
    fix = plan_rectification(holding, data.request_id, dict(data.details.get("fields") or {}), policy, now)
    return Answer(answering.with_actions(fix.actions), rectification=fix)
