"""Bookings' answer to data-subject requests (RGPD arts. 15 to 21).

- access and portability (arts. 15, 20): every booking of the person (resource, slot, state, price, dates,
  refund due) and the facts the rules read (birth date, district, the recorded no-shows);
- erasure (art. 17): the bookings are the centre's record of a public service used and, when paid, of a precio
  público charged (category ``bookings``, kept 4 years after the slot: Ley 58/2003 art. 66, the period in which
  the charge may be demanded or refunded); the projected facts (``booking-facts``: a copy of C360's Padrón facts
  and the no-shows recorded for the rules) are erased;
- rectification, restriction, objection: not applicable here (the facts are rectified at their source, the
  Padrón, and projected again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events.rgpd import RgpdRequestOpened
from functions.booking.service import Booking, BookingStore, Person
from functions.core import rights
from functions.core.policy import Policy
from functions.core.store import UnitOfWork

DOMAIN = "booking"


@dataclass(frozen=True)
class FactsOf:
    """The person's projected facts, as an item to erase."""

    citizen_id: str


ErasurePlan = rights.Erasure[FactsOf]
Answer = rights.Answer[ErasurePlan]


def export_of(bookings: list[Booking], person: Person) -> dict[str, Any]:
    return rights.json_ready({
        "bookings": [
            {"booking_id": b.booking_id, "resource_id": b.resource_id, "slot_id": b.slot_id, "state": b.state,
             "starts_at": b.starts_at, "price_cents": b.price_cents, "created_at": b.created_at,
             "confirmed_at": b.confirmed_at, "changed_at": b.changed_at, "refund_due": b.refund_due}
            for b in bookings
        ],
        "facts": {
            "birth_date": person.birth_date, "district": person.district,
            "no_shows": [at.isoformat() for at in person.no_shows],
        },
    })  # fmt: skip


def has_facts(person: Person) -> bool:
    return person.version is not None


def plan_erasure(bookings: list[Booking], person: Person, policy: Policy, now: datetime) -> ErasurePlan:
    """Keep each booking for its retention period (grouped by legal basis), erase the projected facts."""
    plan = ErasurePlan()
    decisions = (
        rights.retention(policy, DOMAIN, "bookings", now, {"starts_at": b.starts_at.isoformat()}) for b in bookings
    )
    plan.actions.extend(rights.kept_by_basis("bookings (the centre's record of the service and its charge)", decisions))
    if has_facts(person):
        plan.erased.append(FactsOf(person.citizen_id))
        plan.actions.append(rights.erased("booking facts (birth date, district, no-shows)", 1, "booking-facts"))
    return plan


def answer(data: RgpdRequestOpened, store: BookingStore, policy: Policy, now: datetime) -> Answer:
    answering = rights.Answering(data, DOMAIN, now)
    if data.right in rights.EXPORT_RIGHTS:
        bookings, person = store.fetch_bookings(data.citizen_id), store.fetch_person(data.citizen_id)
        counts = {"bookings": len(bookings), "booking facts": int(has_facts(person))}
        return Answer(answering.with_export(export_of(bookings, person), rights.exported(counts)))
    if data.right == "erasure":
        plan = plan_erasure(store.fetch_bookings(data.citizen_id), store.fetch_person(data.citizen_id), policy, now)
        return Answer(answering.with_actions(rights.erasure_actions(plan.actions, policy, DOMAIN, now)), plan)
    return Answer(answering.not_applicable())


def stage_erasure(uow: UnitOfWork, item: FactsOf, store: BookingStore) -> None:
    store.stage_erase_person(uow, item.citizen_id)
