"""Bookings storage: one DynamoDB table ``booking`` (ADR 0002), keyed by ``id``, one item kind per prefix.

- ``slot#<slot_id>``: who holds a slot's places and who waits (JSON), under its version: every booking,
  cancellation, payment or release of the slot writes it conditioned on the version read (the last place is
  taken once);
- ``booking#<booking_id>``: one booking (JSON), under its version; index ``by-citizen`` (``citizen_id``,
  ``created_at``): the person's bookings; sparse index ``by-hold`` (``hold``, ``held_until``): only the bookings
  held for payment carry it, so the sweep finds the holds due without a scan (one partition, ``held``: the
  holds live minutes, there are few at any time);
- ``person#<citizen_id>``: the rules' facts and the person's active bookings (JSON), under its version: two
  bookings of the same person at once cannot both pass the weekly limit.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from functions.booking.service import Active, Booking, Holder, Person, SlotState
from functions.core.store import StoreModel, UnitOfWork, defines_table, from_iso, model_meta, to_iso

HELD = "held"


class ByCitizen(GlobalSecondaryIndex["BookingItem"]):  # type: ignore[no-untyped-call]
    """A person's bookings, oldest first; only booking items carry ``citizen_id``."""

    class Meta:
        index_name = "by-citizen"
        projection = AllProjection()

    citizen_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class ByHold(GlobalSecondaryIndex["BookingItem"]):  # type: ignore[no-untyped-call]
    """The bookings held for payment, by when their hold ends (sparse: a held booking only)."""

    class Meta:
        index_name = "by-hold"
        projection = AllProjection()

    hold = UnicodeAttribute(hash_key=True)
    held_until = UTCDateTimeAttribute(range_key=True)


@defines_table
class BookingItem(StoreModel):
    Meta = model_meta("booking")

    id = UnicodeAttribute(hash_key=True)
    body = UnicodeAttribute(null=True)  # JSON of the item's dataclass
    citizen_id = UnicodeAttribute(null=True)  # booking items only: index by-citizen
    created_at = UTCDateTimeAttribute(null=True)
    hold = UnicodeAttribute(null=True)  # "held" while held for payment: index by-hold
    held_until = UTCDateTimeAttribute(null=True)
    version = NumberAttribute(null=True)

    by_citizen = ByCitizen()
    by_hold = ByHold()


def _get(item_id: str) -> BookingItem | None:
    try:
        return BookingItem.get(item_id, consistent_read=True)
    except BookingItem.DoesNotExist:
        return None


def _versioned(version: int | None) -> Condition:
    return BookingItem.id.does_not_exist() if version is None else BookingItem.version == version


def _holder(doc: list[Any]) -> Holder:
    return Holder(str(doc[0]), str(doc[1]), from_iso(doc[2]))


def _slot(slot_id: str, item: BookingItem | None) -> SlotState:
    if item is None:
        return SlotState(slot_id)
    doc = json.loads(item.body or "{}")
    return SlotState(slot_id, tuple(_holder(h) for h in doc.get("taken", [])),
                     tuple(_holder(h) for h in doc.get("waiting", [])), int(item.version))  # fmt: skip


def _booking(item: BookingItem) -> Booking:
    d = json.loads(item.body or "{}")
    return Booking(
        d["booking_id"], d["citizen_id"], d["slot_id"], d["resource_id"], d["state"], int(d["price_cents"]),
        datetime.fromisoformat(d["created_at"]), datetime.fromisoformat(d["starts_at"]), from_iso(d.get("held_until")),
        from_iso(d.get("confirmed_at")), from_iso(d.get("changed_at")), d.get("by"), bool(d.get("refund_due")),
        int(item.version),
    )  # fmt: skip


def _person(citizen_id: str, item: BookingItem | None) -> Person:
    if item is None:
        return Person(citizen_id)
    d = json.loads(item.body or "{}")
    return Person(
        citizen_id, date.fromisoformat(d["birth_date"]) if d.get("birth_date") else None, d.get("district"),
        tuple(datetime.fromisoformat(at) for at in d.get("no_shows", [])),
        {k: Active(v[0], datetime.fromisoformat(v[1])) for k, v in d.get("active", {}).items()},
        from_iso(d.get("profile_at")), int(item.version),
    )  # fmt: skip


class DynamoBookingStore:
    """The bookings' port (``service.BookingStore``) on DynamoDB."""

    def fetch_slot(self, slot_id: str) -> SlotState:
        return _slot(slot_id, _get(f"slot#{slot_id}"))

    def fetch_slots(self, slot_ids: list[str]) -> dict[str, SlotState]:
        found = {}
        for item in BookingItem.batch_get([f"slot#{s}" for s in slot_ids], consistent_read=True):
            slot_id = item.id.removeprefix("slot#")
            found[slot_id] = _slot(slot_id, item)
        return found

    def fetch_booking(self, booking_id: str) -> Booking | None:
        item = _get(f"booking#{booking_id}")
        return _booking(item) if item is not None else None

    def fetch_bookings(self, citizen_id: str) -> list[Booking]:
        return [_booking(item) for item in BookingItem.by_citizen.query(citizen_id)]

    def fetch_person(self, citizen_id: str) -> Person:
        return _person(citizen_id, _get(f"person#{citizen_id}"))

    def fetch_held_until(self, until: datetime, limit: int) -> list[Booking]:
        query = BookingItem.by_hold.query(HELD, BookingItem.held_until <= until, limit=limit)
        return [_booking(item) for item in query]

    # ---- writes ----

    def stage_slot(self, uow: UnitOfWork, state: SlotState) -> None:
        def holders(hs: tuple[Holder, ...]) -> list[list[Any]]:
            return [[h.booking_id, h.citizen_id, to_iso(h.held_until)] for h in hs]

        body = json.dumps({"taken": holders(state.taken), "waiting": holders(state.waiting)})
        item = BookingItem(f"slot#{state.slot_id}", body=body, version=(state.version or 0) + 1)
        uow.put(item, condition=_versioned(state.version), tag="booking-slot")

    def stage_booking(self, uow: UnitOfWork, b: Booking) -> None:
        doc = {
            "booking_id": b.booking_id, "citizen_id": b.citizen_id, "slot_id": b.slot_id,
            "resource_id": b.resource_id, "state": b.state, "price_cents": b.price_cents,
            "created_at": b.created_at.isoformat(), "starts_at": b.starts_at.isoformat(),
            "held_until": to_iso(b.held_until), "confirmed_at": to_iso(b.confirmed_at),
            "changed_at": to_iso(b.changed_at),
            "by": b.by, "refund_due": b.refund_due,
        }  # fmt: skip
        held = b.state == "held" and b.held_until is not None
        item = BookingItem(
            f"booking#{b.booking_id}", body=json.dumps(doc), citizen_id=b.citizen_id, created_at=b.created_at,
            hold=HELD if held else None, held_until=b.held_until if held else None, version=(b.version or 0) + 1,
        )  # fmt: skip
        uow.put(item, condition=_versioned(b.version), tag="booking-booking")

    def stage_person(self, uow: UnitOfWork, person: Person) -> None:
        doc = {
            "birth_date": person.birth_date.isoformat() if person.birth_date else None, "district": person.district,
            "no_shows": [at.isoformat() for at in person.no_shows],
            "active": {k: [v.kind, v.starts_at.isoformat()] for k, v in person.active.items()},
            "profile_at": to_iso(person.profile_at),
        }  # fmt: skip
        item = BookingItem(f"person#{person.citizen_id}", body=json.dumps(doc), version=(person.version or 0) + 1)
        uow.put(item, condition=_versioned(person.version), tag="booking-person")

    def stage_erase_person(self, uow: UnitOfWork, citizen_id: str) -> None:
        uow.delete(BookingItem(f"person#{citizen_id}"), tag="booking-person-erasure")
