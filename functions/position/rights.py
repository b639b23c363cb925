"""The global position's answer to data-subject requests (RGPD arts. 15 to 21), and its projection of the
restriction flag that ``policies/position`` honours.

The position holds copies only: projections of area systems' facts, consents and interactions, and the
links C360 announced between area records and the golden record. So:

- access and portability (arts. 15, 20): every section in full, with its sources and freshness (``as_of``),
  every item, the area records linked to the person, and the restriction flag;
- erasure (art. 17): the projections are deleted (``policies/rgpd/retention``, category ``projections``):
  they are rebuilt from the domains' events, so what another domain must keep by law (tax records, fines,
  the Padrón...) reappears when that domain next announces it, and what it erased does not; the flag stays
  (category ``flags``: a restriction must keep being honoured), and so does an erasure marker (category
  ``erasure-marker``: events about the person from before the erasure do not re-create what it erased);
- restriction (art. 18): answered once the flag is projected (until then ``ConflictError``: the broker
  retries); objection and rectification: not applicable (the position runs no campaign, and its copies
  are rectified at their source).
What is held and kept is this domain's; the answer's envelope is ``functions.core.rights``. Plain functions
over the domain's port and the policy: the use cases that run them are in ``handlers.py``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events.rgpd import DomainAction, RgpdFlagsChanged, RgpdRequestCompleted, RgpdRequestOpened
from functions.core import rights
from functions.core.policy import Policy
from functions.core.store import UnitOfWork
from functions.position import service
from functions.position.service import Flags, Held, Marker, PositionStore

DOMAIN = "position"
MARKER = (
    "erasure marker (the request and when): events about the person from before it, late, retried or "
    "replayed, do not re-create what the erasure erased"
)


@dataclass
class ErasurePlan(rights.Erasure[Any]):
    """The rows to delete, the actions the answer reports, and the marker the projections honour after it."""

    marker: Marker | None = None


Answer = rights.Answer[ErasurePlan]


def _items(held: Held) -> list[service.Item]:
    return [item for items in (held.own, *held.records.values()) for item in items]


# ---- access and portability -------------------------------------------------------------------------


def export_of(held: Held, at: datetime) -> dict[str, Any]:
    """Everything the position holds about a person, JSON-ready: each section (sources, ``as_of``, summary),
    each item in full as one row (CSV-friendly), the linked area records and the restriction flag."""
    items = _items(held)
    sections = service.export_sections(items, at.date())
    rows = [{"section": s["section"], **item} for s in sections for item in s["items"]]
    data = {
        "sections": [{k: v for k, v in s.items() if k not in ("items", "view", "reasons")} for s in sections],
        "items": rows,
        "withdrawn_items": [
            {"section": i.section, "source": i.source, "key": i.key, "as_of": i.as_of} for i in items if i.removed
        ],
        "records": [{"source": source, "local_id": local_id} for source, local_id in sorted(held.records)],
        "flags": {"restricted": held.flags.restricted, "changed_at": held.flags.changed_at},
        "erasure": (
            {"request_id": held.marker.request_id, "erased_at": held.marker.erased_at} if held.marker else None
        ),
    }
    return rights.json_ready(data)


def _export_actions(export: dict[str, Any]) -> list[DomainAction]:
    per_section = Counter(row["section"] for row in export["items"])
    counts = {
        f"position section {name}: items with their source and freshness (as_of)": per_section[name]
        for name in service.SECTIONS
        if per_section[name]
    }
    if export["withdrawn_items"]:
        counts["items withdrawn by their area system (kept as markers)"] = len(export["withdrawn_items"])
    if export["records"]:
        counts["area-system records linked to the person (source, local id)"] = len(export["records"])
    counts["restriction of processing flag"] = 1
    if export["erasure"]:
        counts["erasure marker (the request that erased the person's data here, and when)"] = 1
    return rights.exported(counts)


# ---- erasure ------------------------------------------------------------------------------------------


def retention(policy: Policy, category: str, now: datetime) -> dict[str, Any]:
    """``policies/rgpd/retention`` for a category of this domain (none of them runs from a record's date)."""
    return rights.retention(policy, DOMAIN, category, now)


def plan_erasure(request_id: str, citizen_id: str, store: PositionStore, policy: Policy, now: datetime) -> ErasurePlan:
    """Erase the projections (unless the retention policy says keep), keep the flag, mark the erasure, and
    say so; the plan's ``erased`` are the rows to delete. The marker is written even when nothing is held: an
    event from before the erasure may still be on its way."""
    plan = ErasurePlan()
    held = store.fetch_held(citizen_id)
    items = _items(held)
    if items or held.records:
        decision = retention(policy, "projections", now)
        per_section = Counter(i.section for i in items)
        whats = [
            (f"position section {name}: copies of other domains' data, rebuilt from their events", per_section[name])
            for name in service.SECTIONS
            if per_section[name]
        ]
        if held.records:
            whats.append(("links of area-system records to the person (C360 announces them again)", len(held.records)))
        if decision["erase"]:
            plan.erased = store.erasure_rows(citizen_id, held)
            plan.actions.extend(rights.erased(w, n) for w, n in whats)
        else:
            plan.actions.extend(rights.kept(w, n, decision) for w, n in whats)
    if held.flags.changed_at is not None:
        plan.actions.append(rights.kept("restriction of processing flag", 1, retention(policy, "flags", now)))
    plan.marker = Marker(request_id, now)
    plan.actions.append(rights.kept(MARKER, 1, retention(policy, "erasure-marker", now)))
    return plan


def stage_erasure(uow: UnitOfWork, citizen_id: str, plan: ErasurePlan, store: PositionStore) -> None:
    """The deletions (those beyond one transaction committed first) and, in ``uow``, the marker."""
    plan.stage(uow, store.stage_erase)
    if plan.marker is not None:
        store.stage_marker(uow, citizen_id, plan.marker)


def sweep(data: RgpdRequestCompleted, store: PositionStore) -> UnitOfWork:
    """Once an erasure completed, every domain has erased: what the position copied from a domain between
    its own erasure and that domain's (an event in between: a consent given, an interaction logged, a record
    linked while the request ran) is deleted, and the marker keeps when each domain erased, so that such an
    event arriving later is dropped too. A copy of what a domain keeps (a Padrón link) comes back with that
    domain's next event: deleting a copy can be undone by its source, keeping an erased one could not."""
    uow = UnitOfWork()
    marker = store.fetch_marker(data.citizen_id)
    if data.right != "erasure" or marker is None or marker.request_id != data.request_id:
        return uow
    marker = Marker(marker.request_id, marker.erased_at, dict(data.answered))
    held = store.fetch_held(data.citizen_id)
    records: dict[tuple[str, str], list[service.Item]] = {
        key: []
        for key in held.records
        if (link := store.fetch_link(*key)) is not None
        and link.citizen_id == data.citizen_id
        and service.erased_before(marker, link.updated_at, service.LINK_DOMAIN)
    }
    copies = Held(own=service.covered_items(held, marker), records=records)
    rights.stage_deletions(
        uow, store.erasure_rows(data.citizen_id, copies), store.stage_erase, room=rights.MAX_ITEMS_IN_UNIT
    )
    store.stage_marker_sources(uow, data.citizen_id, marker)
    return uow


# ---- restriction ----------------------------------------------------------------------------------------


def project_flags(data: RgpdFlagsChanged, store: PositionStore) -> UnitOfWork:
    """Keep the newest restriction flag (latest ``changed_at`` wins); an older event changes nothing."""
    uow = UnitOfWork()
    if service.newer_flags(data.changed_at, store.fetch_flags(data.citizen_id)):
        store.stage_flags(uow, data.citizen_id, Flags(restricted=data.restricted, changed_at=data.changed_at))
    return uow


def _restriction_actions(data: RgpdRequestOpened, flags: Flags) -> list[DomainAction]:
    """What the projected flag makes ``policies/position`` do, once it reflects the request."""
    return rights.restriction(
        data,
        flags.restricted,
        flags.changed_at,
        "global position: nothing shown to agents while processing is restricted (the citizen still sees it)",
        "global position: restriction lifted, agents see it again as policies/position allows",
    )


# ---- the answer ---------------------------------------------------------------------------------------


def answer(data: RgpdRequestOpened, store: PositionStore, policy: Policy, now: datetime) -> Answer:
    """This domain's answer to one request."""
    answering = rights.Answering(data, DOMAIN, now)
    if data.right in rights.EXPORT_RIGHTS:
        export = export_of(store.fetch_held(data.citizen_id), now)
        return Answer(answering.with_export(export, _export_actions(export)))
    if data.right == "erasure":
        plan = plan_erasure(data.request_id, data.citizen_id, store, policy, now)
        return Answer(answering.with_actions(rights.erasure_actions(plan.actions, policy, DOMAIN, now)), plan)
    if data.right == "restriction":
        return Answer(answering.event("done", _restriction_actions(data, store.fetch_flags(data.citizen_id))))
    # objection: the position is no campaign; rectification: its copies are rectified at their source
    return Answer(answering.not_applicable())
