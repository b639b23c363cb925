"""Global position use cases: one function per projection, data-subject event and question, over the domain's
ports.

An event handler reads what it needs through the ``PositionStore`` port, decides with the pure rules of
``service`` (the convergence rules and the erasure marker) and returns the unit of work to commit; the event
entry point adds the dedupe record, commits, and runs the handler again if the commit lost a race
(``functions.core.retry``). The read question asks ``policies/position`` per part and shapes the answer.
Nothing here knows HTTP, CloudEvents or DynamoDB; the unit tests run these handlers against in-memory fakes of
the ports (``tests/unit/position/test_handlers.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events.case import CaseUpdated
from events.citizen import CitizenUpdated
from events.consent import ConsentChanged
from events.interaction import InteractionLogged
from events.payment import FinePaid, TaxReceiptPaid
from events.position import PositionItemUpserted
from events.rgpd import RgpdFlagsChanged, RgpdRequestCompleted, RgpdRequestOpened
from functions.core.clock import Clock
from functions.core.errors import ForbiddenError
from functions.core.policy import Policy
from functions.core.store import UnitOfWork
from functions.position import rights, service
from functions.position.service import PositionStore

POLICY = "position"


@dataclass(frozen=True)
class PositionPorts:
    """Everything the use cases need from outside: built once per process by ``bootstrap``."""

    store: PositionStore
    policy: Policy
    clock: Clock


# ---- the question: a viewer reads a position ----------------------------------------------------------


@dataclass(frozen=True)
class ReadPosition:
    """Who asks (the verified subject as the policy reads it), about whom, and why (``Access-Purpose``)."""

    citizen_id: str
    viewer: dict[str, Any]
    purpose: str | None


@dataclass(frozen=True)
class PositionRead:
    """The position as the viewer may see it, and what it shows (``section:view``) for the access log."""

    body: dict[str, Any]
    shown_sections: list[str]


def read_position(query: ReadPosition, ports: PositionPorts) -> PositionRead:
    """The position as ``policies/position`` lets this viewer see it, part by part (section, area, special
    category), with the restriction flag read by the same query; a refusal is ``ForbiddenError`` with the
    policy's reasons (the kernel records it in the access log)."""
    items, flags = ports.store.fetch_view(query.citizen_id)
    parts = service.parts_of(items)
    question = service.policy_input(query.viewer, query.citizen_id, query.purpose, parts, flags.restricted)
    decision = ports.policy.decide(POLICY, question)
    if not decision.allow:
        raise ForbiddenError("; ".join(decision.reasons) or "the policy does not allow this", reasons=decision.reasons)
    at = ports.clock.now()
    sections = service.build_view(items, service.decided_parts(decision.result), at.date())
    body = {
        "citizen_id": query.citizen_id,
        "viewer": query.viewer,
        "purpose": query.purpose,
        "reasons": decision.reasons,
        "sections": sections,
        "generated_at": at.isoformat(),
    }
    return PositionRead(body, service.shown_sections(sections))


# ---- the projections ------------------------------------------------------------------------------------


def project_fact(source: str, fact: PositionItemUpserted, ports: PositionPorts) -> UnitOfWork:
    """An area system's fact (``source``: the system), kept with the system's record of the person.

    A PIC domain's own fact (``source`` ``/pic/<domain>``: its relay, the only sender the broker admits for
    it) names the golden record itself in ``local_id``: it needs no C360 link, and is shown unless the
    person's erasure covers it (the frequent services of issue 18 announce reports, bookings and permits so).
    """
    item = service.area_item(source, fact)
    domain = service.pic_domain(source)
    if domain is None:
        return _fold_into_record(source, fact.local_id, item, ports.store)
    if _erased_before(fact.local_id, fact.as_of, domain, ports.store):
        return UnitOfWork()
    return _stage_own_fact(fact.local_id, item, ports.store)


def project_link(data: CitizenUpdated, ports: PositionPorts) -> UnitOfWork:
    """C360 (re)linked a source record: the latest ``updated_at`` wins; the membership moves with it. A link
    from before the person's erasure is not made again."""
    link = service.Link(data.link.source, data.link.local_id, data.citizen_id, data.updated_at)
    uow = UnitOfWork()
    if _erased_before(data.citizen_id, data.updated_at, service.LINK_DOMAIN, ports.store):
        return uow
    previous = ports.store.fetch_link(link.source, link.local_id)
    if service.newer(link.order, previous.order if previous else None):
        ports.store.stage_link(uow, link, previous)
    return uow


def project_consent(data: ConsentChanged, ports: PositionPorts) -> UnitOfWork:
    """A consent as of the change; after an erasure, older changes are dropped, and the erasure's own
    withdrawals only delete what an older change showed (they never create an item)."""
    uow = UnitOfWork()
    if _erased_before(data.citizen_id, data.changed_at, "consent", ports.store):
        return uow
    item = service.consent_item(data)
    if not service.erasure_withdrawal(data):
        return _stage_own_fact(data.citizen_id, item, ports.store)
    held = ports.store.fetch_own_fact_order(data.citizen_id, item)
    if held is not None and service.newer(item.order, held):
        ports.store.stage_own_fact_deleted(uow, data.citizen_id, item)
    return uow


def project_interaction(data: InteractionLogged, ports: PositionPorts) -> UnitOfWork:
    """An interaction, under the golden record it names (unless the person's erasure covers it) or the
    source record it names."""
    about = data.interaction
    item = service.interaction_item(data)
    if about.citizen_id:
        if _erased_before(about.citizen_id, data.recorded_at, "interaction", ports.store):
            return UnitOfWork()
        return _stage_own_fact(about.citizen_id, item, ports.store)
    assert about.record is not None  # the model requires one of the two
    return _fold_into_record(about.record.source, about.record.local_id, item, ports.store)


def project_paid(data: FinePaid | TaxReceiptPaid, ports: PositionPorts) -> UnitOfWork:
    """A debt paid through PIC, shown paid in its section (unless the person's erasure covers it)."""
    if _erased_before(data.citizen_id, data.paid_at, "payment", ports.store):
        return UnitOfWork()
    return _stage_own_fact(data.citizen_id, service.paid_item(data), ports.store)


def project_case(data: CaseUpdated, ports: PositionPorts) -> UnitOfWork:
    """A case opened or changed (CASE), shown in the person's cases section with its state and links. A case is
    an administrative file its domain keeps through an erasure, so its later changes are shown again."""
    return _stage_own_fact(data.citizen_id, service.case_item(data), ports.store)


def project_card(data: service.CardEvent, ports: PositionPorts) -> UnitOfWork:
    """A wallet card issued, revoked, suspended or reinstated (WAL), shown in the person's wallet section."""
    return _stage_own_fact(data.citizen_id, service.card_item(data), ports.store)


def _stage_own_fact(citizen_id: str, item: service.Item, store: PositionStore) -> UnitOfWork:
    """The golden record's own fact, if it is newer than the one held (else an empty unit: stale or repeated)."""
    uow = UnitOfWork()
    if service.newer(item.order, store.fetch_own_fact_order(citizen_id, item)):
        store.stage_own_fact(uow, citizen_id, item)
    return uow


def _fold_into_record(source: str, local_id: str, item: service.Item, store: PositionStore) -> UnitOfWork:
    """The record's facts with this one folded in (an empty unit if it changes nothing: stale or repeated).

    Two facts about one record folded at once: the second's version condition fails, its commit loses the
    race and the kernel folds it again into what the first wrote.
    """
    facts, version = store.fetch_bundle(source, local_id)
    uow = UnitOfWork()
    if service.fold(facts, item):
        store.stage_bundle(uow, source, local_id, facts, version)
    return uow


def _erased_before(citizen_id: str, at: datetime, domain: str, store: PositionStore) -> bool:
    """Whether the person's erasure covers a fact of ``domain`` as of ``at``: its event must not re-create it."""
    return service.erased_before(store.fetch_marker(citizen_id), at, domain)


# ---- data-subject rights (RGPD) ---------------------------------------------------------------------


def answer_rights(data: RgpdRequestOpened, ports: PositionPorts, traceparent: str | None) -> UnitOfWork:
    """This domain's answer to a data-subject request (``rights.answer``), with its erasure in the same unit."""
    result = rights.answer(data, ports.store, ports.policy, ports.clock.now())
    return result.unit(traceparent, lambda uow, plan: rights.stage_erasure(uow, data.citizen_id, plan, ports.store))


def sweep_erasure(data: RgpdRequestCompleted, ports: PositionPorts) -> UnitOfWork:
    """A completed erasure says when each domain erased: drop the copies made in between (``rights.sweep``)."""
    return rights.sweep(data, ports.store)


def project_flags(data: RgpdFlagsChanged, ports: PositionPorts) -> UnitOfWork:
    """Keep the restriction flag the read path passes to ``policies/position`` (the latest change wins)."""
    return rights.project_flags(data, ports.store)
