"""Global position (POS), pure logic: folding events into projections, and shaping the view a policy allows.

Projections converge whatever the order or number of deliveries:
- a link (source record -> golden record) is replaced only by a later ``updated_at`` (contracts.md §1);
- an item is replaced only by a later ``as_of``; on a tie, by the higher content digest, so two different
  facts with the same ``as_of`` end the same whichever arrives first; a removal is kept as a tombstone so a
  late, older upsert cannot bring the item back;
- after the person's erasure (RGPD art. 17), a ``Marker`` says when it was done: a fact about them from
  before it (an event late, retried or replayed) is not projected again, and the erasure's own consent
  withdrawals only delete; facts from after it are new processing and are projected (ADR 0012).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, Protocol

from events.case import CaseUpdated
from events.consent import ERASURE_CAPTURE_CHANNEL, ConsentChanged
from events.interaction import InteractionLogged
from events.payment import FinePaid, TaxReceiptPaid
from events.position import PositionItemUpserted
from events.wallet import CardIssued, CardReinstated, CardRevoked, CardSuspended
from functions.core.errors import PicError

if TYPE_CHECKING:  # the port names the kernel's unit of work; this module stays free of its adapters
    from functions.core.store import UnitOfWork

SECTIONS: tuple[str, ...] = (
    "taxes",
    "fines",
    "cases",
    "appointments",
    "permits",
    "wallet",
    "notifications",
    "consents",
    "interactions",
)
CONSENT_SOURCE = "/pic/consent"
CONSENT_AREA = "atencion-ciudadania"
INTERACTION_SOURCE = "/pic/interaction"
CASE_SOURCE = "/pic/case"
WALLET_SOURCE = "/pic/wallet"
WALLET_AREA = "atencion-ciudadania"
# Servicios Sociales' cases hold data of RGPD art. 9 (health, social situation): the person and the area only
SPECIAL_CATEGORY_AREAS = frozenset({"servicios-sociales"})
PAYMENT_SOURCE = "/pic/payment"
PAYMENT_AREA = "hacienda"
View = Literal["full", "detail", "summary", "hidden"]
VIEW_RANK: dict[str, int] = {"hidden": 0, "summary": 1, "detail": 2, "full": 3}


class InvalidSourceError(PicError):
    status, slug, title = 400, "invalid-event", "The CloudEvent is not valid"


def micros(at: datetime) -> int:
    """A timestamp as an integer of microseconds since the epoch: what conditions compare."""
    return int(at.timestamp() * 1_000_000)


def digest(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Item:
    """One projected fact in a section of someone's position."""

    section: str
    key: str  # unique within the owner's partition: "<source>#<item_id>" or a section's own key
    source: str
    area: str
    special_category: bool
    as_of: datetime
    removed: bool
    body: dict[str, Any]  # what a viewer may see of it (view shaping picks fields)
    digest: str = ""

    @property
    def order(self) -> tuple[int, str]:
        """The fold order: later ``as_of`` first, then the content digest."""
        return micros(self.as_of), self.digest


def newer(candidate: tuple[int, str], current: tuple[int, str] | None) -> bool:
    """Whether a fact replaces the stored one: only a strictly later (as_of, digest) does."""
    return current is None or candidate > current


def fold(items: dict[str, Item], item: Item) -> bool:
    """Fold one fact into a record's facts (by section and key); ``True`` if it changed them."""
    slot = f"{item.section}#{item.key}"
    current = items.get(slot)
    if not newer(item.order, current.order if current else None):
        return False
    items[slot] = item
    return True


def item_to_json(item: Item) -> dict[str, Any]:
    return {
        "section": item.section,
        "key": item.key,
        "source": item.source,
        "area": item.area,
        "special_category": item.special_category,
        "as_of": item.as_of.isoformat(),
        "removed": item.removed,
        "body": item.body,
        "digest": item.digest,
    }


def item_from_json(data: dict[str, Any]) -> Item:
    return Item(
        section=str(data["section"]),
        key=str(data["key"]),
        source=str(data["source"]),
        area=str(data["area"]),
        special_category=bool(data["special_category"]),
        as_of=datetime.fromisoformat(data["as_of"]),
        removed=bool(data["removed"]),
        body=dict(data["body"]),
        digest=str(data["digest"]),
    )


@dataclass(frozen=True)
class Link:
    """Which golden record a source record belongs to, as of the C360 change that said so."""

    source: str
    local_id: str
    citizen_id: str
    updated_at: datetime

    @property
    def order(self) -> tuple[int, str]:
        return micros(self.updated_at), self.citizen_id


@dataclass(frozen=True)
class Flags:
    """The citizen's restriction of processing (RGPD art. 18) as ``rgpd.flags.changed`` last said it."""

    restricted: bool = False
    changed_at: datetime | None = None


def newer_flags(candidate: datetime, current: Flags) -> bool:
    """Whether a flags event replaces the stored flags: only a strictly later ``changed_at`` does."""
    return current.changed_at is None or candidate > current.changed_at


# The PIC domain whose erasure covers a fact about the golden record, by the fact's source (links: C360).
SOURCE_DOMAINS = {CONSENT_SOURCE: "consent", INTERACTION_SOURCE: "interaction", PAYMENT_SOURCE: "payment"}
LINK_DOMAIN = "citizen"


@dataclass(frozen=True)
class Marker:
    """The person's erasure as this projection carried it out (RGPD art. 17): which request, when, and once
    the request completed, when each domain erased (``sources``, from ``rgpd.request.completed``)."""

    request_id: str
    erased_at: datetime
    sources: dict[str, datetime] = field(default_factory=dict)

    @property
    def order(self) -> tuple[int, str]:
        return micros(self.erased_at), self.request_id


def erased_before(marker: Marker | None, at: datetime, domain: str | None = None) -> bool:
    """Whether a fact as of ``at`` (from ``domain``'s events) is one an erasure erased: it happened before
    this projection erased, or before ``domain`` did. Its event arrives late, again or replayed, and
    projecting it would re-create what was erased."""
    if marker is None:
        return False
    until = max(marker.erased_at, marker.sources.get(domain or "", marker.erased_at))
    return at <= until


def covered_items(held: Held, marker: Marker) -> list[Item]:
    """The golden record's own facts copied from a domain before that domain erased them: projected between
    this projection's erasure and the domain's (an event in between), they go once the request completed."""
    return [
        i for i in held.own if i.source in SOURCE_DOMAINS and erased_before(marker, i.as_of, SOURCE_DOMAINS[i.source])
    ]


def erasure_withdrawal(changed: ConsentChanged) -> bool:
    """A withdrawal an erasure recorded: it says the consent is gone, never that there is one to show."""
    return changed.capture_channel == ERASURE_CAPTURE_CHANNEL and not changed.after.granted


@dataclass
class Held:
    """Everything the position holds about a golden record: its own facts, the records linked to it (by
    ``(source, local_id)``) with their facts, its flags and its erasure marker."""

    own: list[Item] = field(default_factory=list)
    records: dict[tuple[str, str], list[Item]] = field(default_factory=dict)
    flags: Flags = field(default_factory=Flags)
    marker: Marker | None = None


# ---- events to items --------------------------------------------------------------------------------


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def pic_domain(source: str) -> str | None:
    """The PIC domain a CloudEvent ``source`` names (``/pic/booking`` -> ``booking``), or ``None`` for an area
    system's source (``/legacy/tributos``)."""
    prefix, _, rest = source.partition("/pic/")
    if prefix or not rest or "/" in rest:
        return None
    return rest


def area_item(source: str, fact: PositionItemUpserted) -> Item:
    """An area system's fact; ``source`` (the CloudEvent's) is the system, and must look like a URI path."""
    if not source.startswith("/") or "#" in source or len(source) > 128:
        raise InvalidSourceError(f"source {source!r} is not an area system's URI such as /legacy/tributos")
    body = {
        "item_id": fact.item_id,
        "status": fact.status,
        "title": fact.title,
        "amount_eur": _json(fact.amount_eur),
        "due_date": _json(fact.due_date),
        "starts_at": _json(fact.starts_at),
        "valid_until": _json(fact.valid_until),
        "reference": fact.reference,
        "attributes": dict(fact.attributes),
    }
    return Item(
        section=fact.section,
        key=f"{source}#{fact.item_id}",
        source=source,
        area=fact.area,
        special_category=fact.special_category,
        as_of=fact.as_of,
        removed=fact.removed,
        body=body,
        digest=digest({**body, "removed": fact.removed, "area": fact.area, "special": fact.special_category}),
    )


def interaction_item(logged: InteractionLogged) -> Item:
    """An interaction as the position lists it; the channel's typed detail goes to the expert's view."""
    i = logged.interaction
    channel = i.channel.model_dump(mode="json")
    body = {
        "item_id": logged.id,
        "status": i.outcome,
        "title": i.topic,
        "kind": i.channel.kind,
        "started_at": _json(i.started_at),
        "ended_at": _json(i.ended_at),
        "reference": i.case_id,
        "attributes": {k: str(v) for k, v in channel.items() if v is not None and k != "kind"}
        | ({"agent_id": i.agent_id} if i.agent_id else {})
        | {"recorded_by": logged.recorded_by},
    }
    return Item(
        section="interactions",
        key=logged.id,
        source=INTERACTION_SOURCE,
        area=i.area,
        special_category=False,
        as_of=logged.recorded_at,
        removed=False,
        body=body,
        digest=digest(body),
    )


CardEvent = CardIssued | CardRevoked | CardSuspended | CardReinstated


def card_item(card: CardEvent) -> Item:
    """A card of the wallet (WAL) in the person's wallet section: its type, state and, when issued, its validity
    and copies. The latest event wins (issued, then suspended, reinstated or revoked)."""
    if isinstance(card, CardIssued):
        status, as_of, attributes = "valid", card.issued_at, {"vct": card.vct, "copies": str(card.copies)}
        valid_until: str | None = card.expires_at.date().isoformat()
    elif isinstance(card, CardRevoked):
        status, as_of, attributes, valid_until = "revoked", card.revoked_at, {"reason": card.reason}, None
    elif isinstance(card, CardSuspended):
        status, as_of, attributes, valid_until = "suspended", card.suspended_at, {"reason": card.reason}, None
    else:
        status, as_of, attributes, valid_until = "valid", card.reinstated_at, {}, None
    body = {
        "item_id": card.card_id, "status": status, "title": card.card_type, "amount_eur": None, "due_date": None,
        "starts_at": None, "valid_until": valid_until, "reference": card.card_id,
        "attributes": {"card_type": card.card_type, **attributes},
    }  # fmt: skip
    return Item(
        section="wallet", key=f"{WALLET_SOURCE}#{card.card_id}", source=WALLET_SOURCE, area=WALLET_AREA,
        special_category=False, as_of=as_of, removed=False, body=body, digest=digest(body),
    )  # fmt: skip


def case_item(case: CaseUpdated) -> Item:
    """A case (CASE) in the person's cases section: its reference, state, level and the links the citizen sees
    (merged into, parent, children, related). The latest ``updated_at`` wins."""
    links = {"merged_into": case.merged_into, "parent_id": case.parent_id,
             "children": ",".join(case.children) or None, "related": ",".join(case.related) or None}  # fmt: skip
    body = {
        "item_id": case.case_id,
        "status": case.state,
        "title": case.subject,
        "amount_eur": None,
        "due_date": None,
        "starts_at": None,
        "valid_until": None,
        "reference": case.reference,
        "attributes": {"level": str(case.level), "category": case.category, "channel": case.channel,
                       "opened_at": case.opened_at.isoformat()}
        | {k: v for k, v in links.items() if v},
    }  # fmt: skip
    return Item(
        section="cases",
        key=f"{CASE_SOURCE}#{case.case_id}",
        source=CASE_SOURCE,
        area=case.area,
        special_category=case.area in SPECIAL_CATEGORY_AREAS,
        as_of=case.updated_at,
        removed=False,
        body=body,
        digest=digest(body),
    )


def paid_item(paid: FinePaid | TaxReceiptPaid) -> Item:
    """A debt paid through PIC, in its section (fines, taxes), under the area that collects it: what was charged,
    when, how, and the rule that priced it. Keyed by the debt, so that it stands beside what the area system
    itself says of it (its own key, its own source)."""
    fine = isinstance(paid, FinePaid)
    body = {
        "item_id": paid.debt_id,
        "status": "paid",
        "title": f"Multa {paid.fine_id} pagada" if isinstance(paid, FinePaid) else f"Recibo {paid.receipt_id} pagado",
        "amount_eur": _json(Decimal(paid.amount_cents) / 100),
        "due_date": None,
        "starts_at": None,
        "valid_until": None,
        "reference": paid.payment_id,
        "attributes": {"method": paid.method, "stage": paid.stage, "legal_source": paid.legal_source},
    }
    return Item(
        section="fines" if fine else "taxes",
        key=f"{PAYMENT_SOURCE}#{paid.debt_id}",
        source=PAYMENT_SOURCE,
        area=PAYMENT_AREA,
        special_category=False,
        as_of=paid.paid_at,
        removed=False,
        body=body,
        digest=digest(body),
    )


def consent_item(changed: ConsentChanged) -> Item:
    body = {
        "item_id": changed.purpose,
        "status": "granted" if changed.after.granted else "not-granted",
        "title": changed.purpose,
        "channels": list(changed.after.channels),
        "text_version": changed.after.text_version,
        "reference": changed.proof_id,
        "attributes": {"mode": changed.mode, "capture_channel": changed.capture_channel},
    }
    return Item(
        section="consents",
        key=changed.purpose,
        source=CONSENT_SOURCE,
        area=CONSENT_AREA,
        special_category=False,
        as_of=changed.changed_at,
        removed=False,
        body=body,
        digest=digest(body),
    )


# ---- the view ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """A distinct (section, area, special category) the policy decides a view for."""

    section: str
    area: str
    special_category: bool


def parts_of(items: Iterable[Item]) -> list[Part]:
    """The distinct parts present, in a stable order (the policy input, so memoised decisions hit)."""
    return sorted({Part(i.section, i.area, i.special_category) for i in items if not i.removed},
                  key=lambda p: (p.section, p.area, p.special_category))  # fmt: skip


@dataclass
class SectionView:
    section: str
    view: str = "hidden"
    as_of: datetime | None = None
    sources: dict[str, datetime] = field(default_factory=dict)
    count: int = 0
    amount_eur: Decimal = Decimal("0")
    next_date: str | None = None
    items: list[dict[str, Any]] = field(default_factory=list)
    reasons: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "view": self.view,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "sources": [{"source": s, "as_of": at.isoformat()} for s, at in sorted(self.sources.items())],
            "summary": {"count": self.count, "amount_eur": str(self.amount_eur), "next_date": self.next_date},
            "items": self.items,
            "reasons": sorted(self.reasons),
        }


def shape_item(item: Item, view: str) -> dict[str, Any] | None:
    """An item as ``view`` allows: ``full`` all of it, ``detail`` without the expert's attributes."""
    if view == "full":
        shown = dict(item.body)
    elif view == "detail":
        shown = {k: v for k, v in item.body.items() if k != "attributes"}
    else:
        return None
    return {**shown, "source": item.source, "area": item.area, "as_of": item.as_of.isoformat()}


def _upcoming(item: Item, today: str) -> str | None:
    for name in ("due_date", "starts_at"):
        value = item.body.get(name)
        if isinstance(value, str) and value[:10] >= today:
            return value
    return None


def build_view(items: Sequence[Item], decided: dict[Part, tuple[str, str]], today: date) -> list[dict[str, Any]]:
    """Every section, each item shown as its part's view allows; hidden items are not even counted."""
    sections = {name: SectionView(name) for name in SECTIONS}
    day = today.isoformat()
    for item in sorted(items, key=lambda i: (i.section, -micros(i.as_of), i.key)):
        if item.removed or item.section not in sections:
            continue
        view, reason = decided.get(Part(item.section, item.area, item.special_category), ("hidden", ""))
        section = sections[item.section]
        if reason:
            section.reasons.add(reason)
        if view == "hidden":
            continue
        if VIEW_RANK[view] > VIEW_RANK[section.view]:
            section.view = view
        section.count += 1
        section.as_of = max(section.as_of or item.as_of, item.as_of)
        section.sources[item.source] = max(section.sources.get(item.source, item.as_of), item.as_of)
        amount = item.body.get("amount_eur")
        if amount is not None:
            section.amount_eur += Decimal(str(amount))
        upcoming = _upcoming(item, day)
        if upcoming and (section.next_date is None or upcoming < section.next_date):
            section.next_date = upcoming
        shown = shape_item(item, view)
        if shown is not None:
            section.items.append(shown)
    return [sections[name].as_dict() for name in SECTIONS]


def policy_input(
    viewer: dict[str, Any], citizen_id: str, purpose: str | None, parts: list[Part], restricted: bool = False
) -> dict[str, Any]:
    """What ``policies/position`` decides on: the verified viewer, their stated purpose, the parts present and
    ``restricted``, the RGPD art. 18 flag as last projected."""
    return {
        "subject": viewer,
        "purpose": purpose,
        "resource": {
            "citizen_id": citizen_id,
            "parts": [{"section": p.section, "area": p.area, "special_category": p.special_category} for p in parts],
            "restricted": restricted,
        },
    }


def decided_parts(result: dict[str, Any]) -> dict[Part, tuple[str, str]]:
    """The policy's view and reason for each part, as ``build_view`` applies them."""
    return {
        Part(p["section"], p["area"], bool(p["special_category"])): (str(p["view"]), str(p["reason"]))
        for p in result.get("parts", [])
    }


def shown_sections(view: list[dict[str, Any]]) -> list[str]:
    """What a read disclosed, for the access log: ``section:view`` of every section with something shown."""
    return [f"{s['section']}:{s['view']}" for s in view if s["summary"]["count"]]


# ---- data-subject rights (contracts.md §3) -----------------------------------------------------------

EXPORT_REASON = "Data-subject export (RGPD arts. 15 and 20): everything the position holds, in full."


def export_sections(items: Sequence[Item], today: date) -> list[dict[str, Any]]:
    """Everything the position holds about a person, every item in full: the position's part of an access or
    portability answer. The position holds copies only (its feeds are the primary data), so erasure here is
    the erasure of its sources: area systems withdraw their facts (``removed``), consent and interactions
    answer for theirs, and the projection follows."""
    decided = {part: ("full", EXPORT_REASON) for part in parts_of(items)}
    return build_view(items, decided, today)


# ---- the domain's port ------------------------------------------------------------------------------


class PositionStore(Protocol):
    """What the position reads and stages (``storage.DynamoPositionStore`` in production; an in-memory fake in
    the handlers' unit tests). A golden record's own facts are addressed by its ``citizen_id``, an area
    system's record by ``(source, local_id)``; the rows an erasure deletes are the adapter's own (opaque here).
    Every ``stage_`` write is guarded as the convergence rules above say (a later fact, link, flag or marker
    wins; a bundle by its version): a concurrent change makes the commit lose the race."""

    # links and memberships
    def fetch_link(self, source: str, local_id: str) -> Link | None: ...
    def stage_link(self, uow: UnitOfWork, link: Link, previous: Link | None) -> None: ...

    # facts about the golden record itself (consents, interactions recorded with a citizen_id)
    def fetch_own_fact_order(self, citizen_id: str, item: Item) -> tuple[int, str] | None: ...
    def stage_own_fact(self, uow: UnitOfWork, citizen_id: str, item: Item) -> None: ...
    def stage_own_fact_deleted(self, uow: UnitOfWork, citizen_id: str, item: Item) -> None: ...

    # an area system's record: all its facts, versioned
    def fetch_bundle(self, source: str, local_id: str) -> tuple[dict[str, Item], int | None]: ...
    def stage_bundle(
        self, uow: UnitOfWork, source: str, local_id: str, facts: dict[str, Item], version: int | None
    ) -> None: ...

    # the read path and data-subject rights
    def fetch_view(self, citizen_id: str) -> tuple[list[Item], Flags]: ...
    def fetch_held(self, citizen_id: str) -> Held: ...
    def fetch_flags(self, citizen_id: str) -> Flags: ...
    def stage_flags(self, uow: UnitOfWork, citizen_id: str, flags: Flags) -> None: ...
    def fetch_marker(self, citizen_id: str) -> Marker | None: ...
    def stage_marker(self, uow: UnitOfWork, citizen_id: str, marker: Marker) -> None: ...
    def stage_marker_sources(self, uow: UnitOfWork, citizen_id: str, marker: Marker) -> None: ...
    def erasure_rows(self, citizen_id: str, held: Held) -> list[Any]: ...
    def stage_erase(self, uow: UnitOfWork, row: Any) -> None: ...
