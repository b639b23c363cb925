"""What every domain's answer to a data-subject request shares (RGPD arts. 15 to 21, ADR 0006).

Each domain that holds personal data consumes ``rgpd.request.opened`` and answers with one
``rgpd.domain.answered`` (``functions/rgpd/README.md``, "How a domain joins"). What it holds, what it may
erase and on which legal basis is the domain's own (its ``rights.py``); the envelope is here, once:

- ``Answering``: the answer to one request from one domain — ``not_applicable``, ``with_actions`` ("done",
  or "not-applicable" when nothing was done) and ``with_export`` (access and portability: ``failed`` with the
  reason when the export is larger than one event carries, step 5 of the README);
- ``retention``, ``erased``, ``kept``, ``exported``: the question to ``policies/rgpd/retention`` and the
  actions the answer reports, the kept ones with the policy's legal basis and source and their category;
- ``in_transit``, ``erasure_actions``: what every domain keeps outside its own tables until the store's TTL
  removes it (its outbox rows, its idempotency records), listed in every erasure answer;
- ``stage_deletions``: an erasure larger than one transaction holds commits its first deletions in extra
  units of work before the answer's own;
- ``restriction``, ``wait_for_flags``: restriction and objection are answered once the domain has projected
  the flags of ``rgpd.flags.changed`` (``ConflictError`` until then: the broker retries);
- ``Answer.unit``: the answer event staged in the same unit of work as the erasure it reports.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from events.rgpd import DomainAction, Outcome, RgpdDomainAnswered, RgpdRequestOpened
from functions.core.errors import ConflictError
from functions.core.outbox import OUTBOX_RETENTION, stage_event
from functions.core.settings import get_settings
from functions.core.store import UnitOfWork

if TYPE_CHECKING:
    from functions.core.policy import Policy

RETENTION = "rgpd.retention"
EXPORT_RIGHTS = ("access", "portability")
# The answer travels as one CloudEvent through the outbox (one DynamoDB item, at most 400 KB): above this, the
# domain answers "failed" with the reason rather than lose the export (functions/rgpd/README.md, step 5).
MAX_EXPORT_CHARS = 300_000
# One TransactWriteItems holds at most 100 items; an extra unit of deletions stays under it with a margin, and
# so do the deletions beside an answer that writes nothing else (its outbox row and idempotency record).
MAX_ITEMS_IN_UNIT = 90
# ``DomainAction.legal_basis`` is at most this long (events/rgpd.py).
MAX_LEGAL_BASIS = 500

T = TypeVar("T")
P = TypeVar("P")


# ---- the answer ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answering:
    """The answer of ``domain`` to ``request``, built at ``at`` (its ``answered_at``)."""

    request: RgpdRequestOpened
    domain: str
    at: datetime

    def event(
        self,
        outcome: Outcome,
        actions: Iterable[DomainAction] = (),
        export: dict[str, Any] | None = None,
        reason: str | None = None,
    ) -> RgpdDomainAnswered:
        return RgpdDomainAnswered(
            request_id=self.request.request_id,
            citizen_id=self.request.citizen_id,
            domain=self.domain,
            outcome=outcome,
            actions=list(actions),
            export=export,
            answered_at=self.at,
            reason=reason,
        )

    def not_applicable(self) -> RgpdDomainAnswered:
        """The domain holds nothing the right applies to."""
        return self.event("not-applicable")

    def with_actions(self, actions: Sequence[DomainAction]) -> RgpdDomainAnswered:
        """``done`` with what was done; ``not-applicable`` when there was nothing to do."""
        return self.event("done" if actions else "not-applicable", actions)

    def with_export(
        self, export: dict[str, Any], actions: Sequence[DomainAction], label: str | None = None
    ) -> RgpdDomainAnswered:
        """Access and portability: the export and what it contains, or ``failed`` with the reason when it is
        larger than one event carries (it must then be delivered by reference; a silent cut would lose data)."""
        size = len(json.dumps(export))
        if size > MAX_EXPORT_CHARS:
            reason = (
                f"the {label or self.domain} export is {size} characters, more than one event carries "
                f"({MAX_EXPORT_CHARS}); it must be delivered by reference"
            )
            return self.event("failed", reason=reason)
        return self.event("done", actions, export=export)


@dataclass(frozen=True)
class Answer(Generic[P]):
    """A domain's answer event and, for an erasure, the plan of the writes it reports."""

    event: RgpdDomainAnswered
    erasure: P | None = None

    def unit(self, traceparent: str | None, stage_erasure: Callable[[UnitOfWork, P], None] | None = None) -> UnitOfWork:
        """The answer's unit of work: the erasure's writes and the answer event, committed together."""
        uow = UnitOfWork()
        if self.erasure is not None and stage_erasure is not None:
            stage_erasure(uow, self.erasure)
        stage_answer(uow, self.event, traceparent)
        return uow


def stage_answer(uow: UnitOfWork, answered: RgpdDomainAnswered, traceparent: str | None) -> None:
    """Stage ``rgpd.domain.answered`` in ``uow``: several domains emit the type, so the producer (and the event
    ``source``, ``/pic/<domain>``, which the coordinator checks) is named from the answering domain."""
    stage_event(
        uow,
        answered,
        subject=answered.citizen_id,
        traceparent=traceparent,
        now=answered.answered_at,
        producer=f"pic-{answered.domain}",
    )


# ---- retention and the actions the answer reports -------------------------------------------------------


def retention(
    policy: Policy, domain: str, category: str, now: datetime, record: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """``policies/rgpd/retention`` for one record (with the date its period runs from) or category of a
    domain: ``erase``, ``keep_until``, ``legal_basis``, ``legal_source``, ``reasons``, and the ``category``
    asked about (what the actions built from it name)."""
    question = {"domain": domain, "category": category, "record": dict(record or {}), "now": now.isoformat()}
    return {**policy.decide(RETENTION, question).result, "category": category}


def legal_basis(decision: Mapping[str, Any]) -> str:
    """Why something is kept, as the retention policy says it, with its legal source; a record no rule covers
    (or lacking its date) is kept for review, and the reasons say why."""
    basis = decision.get("legal_basis") or "kept for review: " + "; ".join(decision.get("reasons", []))
    source = decision.get("legal_source")
    return str(f"{basis} ({source})" if source else basis)[:MAX_LEGAL_BASIS]


def kept(
    what: str, count: int | None, decision: Mapping[str, Any], until: str = "{what}, kept until {until}"
) -> DomainAction:
    """``count`` things (``None``: not countable per person) kept on the policy's legal basis, named by the
    decision's retention category; ``until`` words the end of the period when it has one."""
    end = decision.get("keep_until")
    return DomainAction(
        what=until.format(what=what, until=end) if end else what,
        count=count,
        result="kept",
        legal_basis=legal_basis(decision),
        category=decision.get("category"),
    )


def kept_by_basis(what: str, decisions: Iterable[Mapping[str, Any]]) -> list[DomainAction]:
    """One ``kept`` action per legal basis among the records' retention decisions, counting the records each
    keeps: a person reads "12 bookings kept for ... (law)" once, not a line per record."""
    grouped: dict[str, tuple[int, Mapping[str, Any]]] = {}
    for decision in decisions:
        basis = legal_basis(decision)
        grouped[basis] = (grouped.get(basis, (0, decision))[0] + 1, decision)
    return [kept(what, count, decision) for count, decision in grouped.values()]


def json_ready(data: Mapping[str, Any]) -> dict[str, Any]:
    """An export as the answer event carries it: plain JSON, datetimes in ISO 8601."""
    return dict(json.loads(json.dumps(data, default=_iso)))


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def erased(what: str, count: int, category: str | None = None) -> DomainAction:
    return DomainAction(what=what, count=count, result="erased", legal_basis=None, category=category)


def in_transit(policy: Policy, domain: str, now: datetime) -> list[DomainAction]:
    """What every domain keeps about a person outside its own tables until the store removes it (RGPD art.
    17.1, "without undue delay"): the events it published about them (outbox rows, with their data) and the
    first responses to requests sent with an ``Idempotency-Key``. Neither table is indexed by person, so they
    are neither counted nor erased on request; their TTL erases them."""
    days = OUTBOX_RETENTION.days
    hours = get_settings().idempotency_ttl_hours
    return [
        kept(
            f"events this domain published about the person (outbox rows, with their data), each removed by "
            f"the store {days} days after it was written",
            None,
            retention(policy, domain, "outbox-events", now),
        ),
        kept(
            f"first responses to requests about the person sent with an Idempotency-Key (replayed to retries), "
            f"each removed by the store {hours} hours after it was written",
            None,
            retention(policy, domain, "request-replays", now),
        ),
    ]


def erasure_actions(actions: Sequence[DomainAction], policy: Policy, domain: str, now: datetime) -> list[DomainAction]:
    """An erasure's actions and, when the domain held anything about the person, what it keeps in transit
    (``in_transit``); nothing held, nothing in transit: the answer stays ``not-applicable``."""
    return [*actions, *in_transit(policy, domain, now)] if actions else []


def exported(counts: Mapping[str, int]) -> list[DomainAction]:
    """What an export contains, one action per kind of data (in the order given)."""
    return [DomainAction(what=what, count=n, result="exported", legal_basis=None) for what, n in counts.items()]


# ---- erasure ------------------------------------------------------------------------------------------


@dataclass
class Erasure(Generic[T]):
    """An erasure of uniform deletions: what goes, and the actions the answer reports."""

    erased: list[T] = field(default_factory=list)
    actions: list[DomainAction] = field(default_factory=list)

    def stage(self, uow: UnitOfWork, stage: Callable[[UnitOfWork, T], None], room: int = MAX_ITEMS_IN_UNIT) -> None:
        """Stage each deletion with ``stage``: in ``uow`` those that fit, the others committed before it."""
        stage_deletions(uow, self.erased, stage, room)


def _one(_: object) -> int:
    return 1


def split_deletions(
    steps: Sequence[T], room: int, size: Callable[[T], int] = _one, unit: int = MAX_ITEMS_IN_UNIT
) -> tuple[list[list[T]], list[T]]:
    """The deletions that fit in the ``room`` the answer's transaction leaves (the last ones), and the rest in
    order, packed into earlier units of at most ``unit`` items, each step (``size`` items that go together)
    whole in one of them."""
    rest = list(steps)
    final: list[T] = []
    while rest and size(rest[-1]) <= room:
        room -= size(rest[-1])
        final.insert(0, rest.pop())
    before: list[list[T]] = []
    filled = 0
    for step in rest:
        if not before or filled + size(step) > unit:
            before.append([])
            filled = 0
        before[-1].append(step)
        filled += size(step)
    return before, final


def stage_deletions(
    uow: UnitOfWork,
    steps: Sequence[T],
    stage: Callable[[UnitOfWork, T], None],
    room: int,
    size: Callable[[T], int] = _one,
    unit: int = MAX_ITEMS_IN_UNIT,
) -> None:
    """Stage the deletions that fit in ``uow``; commit the others first, in extra units of work.

    A person with more data than one transaction holds is erased in several commits: every earlier one only
    deletes (what the erasure owes anyway, and deleting twice is harmless), the last one answers. If a later
    commit fails, the broker redelivers the request; the plan is made again from what remains, so the steps
    converge and the answer is sent only when everything is done.
    """
    before, final = split_deletions(steps, room, size, unit)
    for group in before:
        extra = UnitOfWork()
        for step in group:
            stage(extra, step)
        extra.commit()
    for step in final:
        stage(uow, step)


# ---- restriction and objection --------------------------------------------------------------------


def wait_for_flags(request: RgpdRequestOpened, changed_at: datetime | None, in_force: bool) -> None:
    """``ConflictError`` until the domain's projected flags reflect ``request``: the flags event travels beside
    the request, so the broker retries this answer until it has arrived; flags already in force need no wait."""
    projected = changed_at is not None and changed_at >= request.opened_at
    if not projected and not in_force:
        raise ConflictError(f"the {request.right} of request {request.request_id} is not projected yet; retry")


def restriction(
    request: RgpdRequestOpened, restricted: bool, changed_at: datetime | None, what: str, lifted: str
) -> list[DomainAction]:
    """The answer to a restriction (RGPD art. 18) or its lifting (art. 18.3, ``details.lift``) once the domain's
    projected flag (``restricted`` as of ``changed_at``) reflects it: ``what`` the flag makes the domain do,
    or ``lifted``."""
    restricts = not request.details.get("lift", False)
    wait_for_flags(request, changed_at, in_force=restricted == restricts)
    return [DomainAction(what=what if restricts else lifted, count=1, result="restricted", legal_basis="RGPD art. 18")]
