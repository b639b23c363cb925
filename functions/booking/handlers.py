"""Bookings use cases: one function per command, question or event, over the domain's ports.

Every command that changes a slot first *settles* it (``service.settle``): the holds that expired are released
(``booking.cancelled``, by ``hold-expired``) and the free places go to the waiting list in order (each promoted
person told through NOT, ``pic-booking-promoted``). All of it, the command's own change, the people's items and
the events, is one unit of work written under the versions read: two bookings of the last place cannot both
commit; the loser is decided again by the kernel (``retry_on_conflict``) and finds the slot full.

A paid place becomes a debt in PAY: the unit that holds it emits ``tax.receipt.issued`` (tax ``precio-publico``,
receipt ``BK-<booking id>``, its voluntary period ending on the hold's last local day); PAY's ``tax.receipt.paid``
confirms it (``on_receipt_paid``). Nothing here knows HTTP, CloudEvents or DynamoDB.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from events.base import EventData
from events.booking import BookingCancelled, BookingConfirmed, BookingNoShow
from events.citizen import CitizenUpdated
from events.notification import NotificationRequested, Recipient
from events.payment import TaxObject, TaxReceiptIssued, TaxReceiptPaid, VoluntaryPeriod
from events.position import PositionItemUpserted
from events.rgpd import RgpdRequestOpened
from functions.booking import rights, service
from functions.booking.service import Active, Booking, BookingStore, Holder, Person, Slot, SlotState
from functions.core.clock import MADRID, Clock
from functions.core.outbox import stage_event
from functions.core.policy import Policy
from functions.core.store import Staged, UnitOfWork

CONFIRMED_TEMPLATE = "pic-booking-confirmed"  # functions/notification/platform_templates.json
PROMOTED_TEMPLATE = "pic-booking-promoted"  # a free place: it is yours
PROMOTED_PAY_TEMPLATE = "pic-booking-promoted-pay"  # a paid place: pay for it before the hold ends
SWEEP_BATCH = 100
PRODUCER = "pic-booking"  # the events it emits of types other systems send too (position, receipts, notices)


@dataclass(frozen=True)
class BookingPorts:
    """Everything the use cases need from outside: built once per process by ``bootstrap``."""

    store: BookingStore
    policy: Policy
    clock: Clock


# ---- questions -----------------------------------------------------------------------------------------------


def resources() -> list[dict[str, Any]]:
    return [service.resource_view(r) for r in service.catalogue().values()]


def slots(resource_id: str, ports: BookingPorts) -> dict[str, Any]:
    """The resource's slots over the horizon with their free places and waiting list (one batch read)."""
    res = service.resource(resource_id)
    now = ports.clock.now()
    ahead = service.slots_ahead(res, now)
    states = ports.store.fetch_slots([s.slot_id for s in ahead])
    return {**service.resource_view(res), "slots": [service.slot_view(s, states.get(s.slot_id), now) for s in ahead]}


def bookings_of(citizen_id: str, ports: BookingPorts) -> list[dict[str, Any]]:
    """The person's bookings, the next ones first, then the past."""
    now = ports.clock.now()
    found = sorted(ports.store.fetch_bookings(citizen_id), key=lambda b: b.starts_at)
    upcoming = [b for b in found if b.starts_at > now]
    past = [b for b in found if b.starts_at <= now]
    return [service.view(b, now) for b in (*upcoming, *reversed(past))]


def booking_of(citizen_id: str, booking_id: str, ports: BookingPorts) -> Booking:
    found = ports.store.fetch_booking(service.check_booking_id(booking_id))
    if found is None or found.citizen_id != citizen_id:
        raise service.BookingNotFoundError(f"no booking {booking_id!r} of this citizen")
    return found


def hold_minutes(ports: BookingPorts) -> int:
    """How long a paid place waits for its payment (``policies/booking`` data, never a figure in Python)."""
    return int(ports.policy.decide(service.POLICY, {"hold_only": True}).result["hold_minutes"])


# ---- the work of one unit: people, bookings and events touched together --------------------------------------


@dataclass
class _Work:
    """What one command changes besides the slot: the bookings and people it touches (each read once, written
    once, under the version read) and the events to announce, staged together by ``finish``."""

    ports: BookingPorts
    now: datetime
    traceparent: str | None
    persons: dict[str, Person] = field(default_factory=dict)
    bookings: dict[str, Booking] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)
    events: list[tuple[EventData, str]] = field(default_factory=list)

    def person(self, citizen_id: str) -> Person:
        if citizen_id not in self.persons:
            self.persons[citizen_id] = self.ports.store.fetch_person(citizen_id)
        return self.persons[citizen_id]

    def put_person(self, person: Person) -> None:
        self.persons[person.citizen_id] = person
        self.changed.add(f"person#{person.citizen_id}")

    def booking(self, booking_id: str) -> Booking | None:
        if booking_id not in self.bookings:
            found = self.ports.store.fetch_booking(booking_id)
            if found is None:
                return None
            self.bookings[booking_id] = found
        return self.bookings[booking_id]

    def put_booking(self, b: Booking) -> None:
        self.bookings[b.booking_id] = b
        self.changed.add(f"booking#{b.booking_id}")

    def announce(self, event: EventData, subject: str) -> None:
        self.events.append((event, subject))

    def drop_active(self, citizen_id: str, booking_id: str) -> None:
        self.put_person(service.with_active(self.person(citizen_id), booking_id, None, self.now))

    # ---- settling a slot ----

    def settle(self, s: Slot, state: SlotState) -> SlotState:
        """Release the slot's expired holds and give the free places to the waiting list."""
        price = s.resource.price_cents
        hold_until = self.now + timedelta(minutes=hold_minutes(self.ports)) if price else None
        settled = service.settle(state, s.resource.capacity, self.now, hold_until)
        for holder in settled.expired:
            self.release(s, holder)
        for holder in settled.promoted:
            self.promote(s, holder)
        return settled.state

    def release(self, s: Slot, holder: Holder) -> None:
        b = self.booking(holder.booking_id)
        if b is None or b.state != "held":
            return
        self.put_booking(replace(b, state="expired", changed_at=self.now, by="hold-expired"))
        self.drop_active(b.citizen_id, b.booking_id)
        self.announce(BookingCancelled(**_facts(b, s), was="held", by="hold-expired", cancelled_at=self.now),
                      b.citizen_id)  # fmt: skip
        self.announce(_position(b, s, "expired", self.now, removed=True), b.citizen_id)

    def promote(self, s: Slot, holder: Holder) -> None:
        b = self.booking(holder.booking_id)
        if b is None or b.state != "waiting":
            return
        if holder.held_until is None:
            done = replace(b, state="confirmed", confirmed_at=self.now, changed_at=self.now, by="promoted")
            self.put_booking(done)
            self.confirmed(s, done, "promoted")
        else:
            held = replace(b, state="held", held_until=holder.held_until, changed_at=self.now, by="promoted")
            self.put_booking(held)
            self.held(s, held)
        promoted = self.bookings[b.booking_id]
        template = PROMOTED_PAY_TEMPLATE if promoted.state == "held" else PROMOTED_TEMPLATE
        self.announce(_notice(template, promoted, s), b.citizen_id)

    # ---- what a new state announces ----

    def confirmed(self, s: Slot, b: Booking, via: Literal["free", "paid", "promoted"]) -> None:
        self.announce(BookingConfirmed(
            **_facts(b, s), ends_at=s.ends_at, centre=s.resource.centre, price_cents=b.price_cents, via=via,
            confirmed_at=self.now,
        ), b.citizen_id)  # fmt: skip
        self.announce(_position(b, s, "confirmed", self.now), b.citizen_id)
        if via != "promoted":  # a promotion has its own notice
            self.announce(_notice(CONFIRMED_TEMPLATE, b, s), b.citizen_id)

    def held(self, s: Slot, b: Booking) -> None:
        self.announce(_receipt(b, s, self.now), b.citizen_id)
        self.announce(_position(b, s, "pending-payment", self.now), b.citizen_id)

    def finish(self, uow: UnitOfWork, state: SlotState | None) -> UnitOfWork:
        if state is not None:
            self.ports.store.stage_slot(uow, state)
        for key in sorted(self.changed):
            kind, _, ident = key.partition("#")
            if kind == "person":
                self.ports.store.stage_person(uow, self.persons[ident])
            else:
                self.ports.store.stage_booking(uow, self.bookings[ident])
        for event, subject in self.events:
            stage_event(uow, event, subject=subject, traceparent=self.traceparent, now=self.now, producer=PRODUCER)
        return uow


def _facts(b: Booking, s: Slot) -> dict[str, Any]:
    return {
        "booking_id": b.booking_id, "citizen_id": b.citizen_id, "resource_id": s.resource.id, "slot_id": s.slot_id,
        "kind": s.resource.kind, "category": s.resource.category, "district": s.resource.district,
        "starts_at": s.starts_at,
    }  # fmt: skip


def _title(s: Slot) -> str:
    return f"{s.resource.title['es']} · {s.resource.centre}"[:200]


def _position(b: Booking, s: Slot, status: str, now: datetime, *, removed: bool = False) -> PositionItemUpserted:
    """The booking in the person's global position, section appointments (the golden record names itself)."""
    return PositionItemUpserted(
        local_id=b.citizen_id, section="appointments", item_id=b.booking_id, status=status, title=_title(s),
        area=s.resource.area, as_of=now, starts_at=s.starts_at, reference=b.booking_id,
        attributes={"centre": s.resource.centre, "district": s.resource.district, "slot": s.slot_id},
        removed=removed,
    )  # fmt: skip


def _local(at: datetime) -> str:
    return at.astimezone(MADRID).strftime("%d/%m/%Y %H:%M")


def _notice(template: str, b: Booking, s: Slot) -> NotificationRequested:
    """A service notice (RGPD art. 6.1.e: the booking the person asked for; no marketing consent needed)."""
    personalisation = {
        "activity": s.resource.title["es"], "activity_en": s.resource.title["en"], "centre": s.resource.centre,
        "starts_at": _local(s.starts_at), "reference": b.booking_id,
    }  # fmt: skip
    if template == PROMOTED_PAY_TEMPLATE:  # NOT takes exactly a template's fields, none empty
        assert b.held_until is not None
        personalisation["pay_by"] = _local(b.held_until)
    return NotificationRequested(template=template, recipient=Recipient(citizen_id=b.citizen_id),
                                 personalisation=personalisation, reference=b.booking_id)  # fmt: skip


def _receipt(b: Booking, s: Slot, now: datetime) -> TaxReceiptIssued:
    """The held place as a debt PAY charges: a precio público (TRLRHL arts. 41-47), payable until the hold's last
    local day (PAY prices it at its amount within that voluntary period)."""
    assert b.held_until is not None
    return TaxReceiptIssued(
        citizen_id=b.citizen_id, receipt_id=b.receipt_id, tax="precio-publico",
        concept=f"{s.resource.title['es']} ({s.resource.centre}), {_local(s.starts_at)}"[:120],
        object=TaxObject(kind="other", reference=s.slot_id[:40]), period=f"{s.starts_at.year}",
        amount_cents=b.price_cents,
        voluntary_period=VoluntaryPeriod(
            start=now.astimezone(MADRID).date(), end=b.held_until.astimezone(MADRID).date()
        ),
    )  # fmt: skip


# ---- booking ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Book:
    citizen_id: str
    slot_id: str
    waitlist: bool = False


def book(cmd: Book, ports: BookingPorts, traceparent: str | None) -> Staged[Booking]:
    """A place in a slot (held for payment when it has a price, confirmed when free) or, with ``waitlist`` and
    the slot full, an entry at the end of its waiting list; refused by ``policies/booking``'s rules (naming each
    unmet one), when the person already holds a place or an entry there, or when the slot is full."""
    s = service.slot(cmd.slot_id)
    now = ports.clock.now()
    service.check_bookable(s, now)
    work = _Work(ports, now, traceparent)
    state = ports.store.fetch_slot(s.slot_id)
    decision = ports.policy.decide(service.POLICY, service.policy_input(work.person(cmd.citizen_id), s, now))
    if not decision.allow:
        unmet = [r for r in decision.result.get("reasons", []) if not r.get("met")]
        raise service.BookingNotAllowedError(
            "; ".join(str(r.get("en")) for r in unmet), reasons=[dict(r) for r in unmet]
        )
    state = work.settle(s, state)
    if state.holds(cmd.citizen_id):
        raise service.AlreadyBookedError(f"you already have a place or a waiting-list entry in {s.slot_id}")
    price = s.resource.price_cents
    booking = Booking(service.new_booking_id(), cmd.citizen_id, s.slot_id, s.resource.id, "waiting", price, now,
                      s.starts_at, changed_at=now, by="citizen")  # fmt: skip
    if service.free_places(s.resource.capacity, state, now):
        held_until = now + timedelta(minutes=int(decision.result["hold_minutes"])) if price else None
        booking = replace(booking, state="held" if price else "confirmed", held_until=held_until,
                          confirmed_at=None if price else now)  # fmt: skip
        state = replace(state, taken=(*state.taken, Holder(booking.booking_id, cmd.citizen_id, held_until)))
    elif cmd.waitlist:
        state = replace(state, waiting=(*state.waiting, Holder(booking.booking_id, cmd.citizen_id)))
    else:
        raise service.SlotFullError(f"every place of {s.slot_id} is taken; ask for the waiting list (waitlist)")
    work.put_booking(booking)
    work.put_person(service.with_active(work.person(cmd.citizen_id), booking.booking_id,
                                        Active(s.resource.kind, s.starts_at), now))  # fmt: skip
    if booking.state == "confirmed":
        work.confirmed(s, booking, "free")
    elif booking.state == "held":
        work.held(s, booking)
    else:
        work.announce(_position(booking, s, "waiting", now), cmd.citizen_id)
    return Staged(work.finish(UnitOfWork(), state), booking)


# ---- cancelling --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cancel:
    citizen_id: str
    booking_id: str
    by: Literal["citizen", "agent"] = "citizen"


def cancel(cmd: Cancel, ports: BookingPorts, traceparent: str | None) -> Staged[Booking]:
    """Give up a place or a waiting-list entry before the slot starts; the place goes to the first waiting. A
    cancelled booking again is answered as it is (nothing staged); a paid place given up is marked
    ``refund_due`` (the refund is Hacienda's, through PAY's refunds)."""
    b = booking_of(cmd.citizen_id, cmd.booking_id, ports)
    now = ports.clock.now()
    if b.state == "cancelled":
        return Staged(UnitOfWork(), b)
    if b.state not in service.LIVE:
        raise service.BookingStateError(f"booking {b.booking_id} is {b.state}: it cannot be cancelled")
    if b.starts_at <= now:
        raise service.BookingStateError(f"booking {b.booking_id}'s slot has started: it cannot be cancelled")
    s = service.slot(b.slot_id)
    work = _Work(ports, now, traceparent)
    work.bookings[b.booking_id] = b
    state = work.settle(s, service.without(ports.store.fetch_slot(s.slot_id), b.booking_id))
    was = cast(Literal["held", "confirmed", "waiting"], b.state)
    refund_due = b.state == "confirmed" and b.price_cents > 0
    done = replace(b, state="cancelled", changed_at=now, by=cmd.by, refund_due=refund_due)
    work.put_booking(done)
    work.drop_active(b.citizen_id, b.booking_id)
    work.announce(BookingCancelled(**_facts(done, s), was=was, by=cmd.by, refund_due=refund_due, cancelled_at=now),
                  b.citizen_id)  # fmt: skip
    work.announce(_position(done, s, "cancelled", now, removed=True), b.citizen_id)
    return Staged(work.finish(UnitOfWork(), state), done)


# ---- payment, no-shows, expiry -----------------------------------------------------------------------------------


def on_receipt_paid(data: TaxReceiptPaid, ports: BookingPorts, traceparent: str | None) -> UnitOfWork:
    """PAY charged a booking's precio público: the held place is confirmed (announced, the person told). A
    payment that arrives after the hold was released (or the booking cancelled) marks it ``refund_due``; another
    system's receipt, or a replay, changes nothing."""
    booking_id = service.booking_of_receipt(data.receipt_id)
    uow = UnitOfWork()
    b = ports.store.fetch_booking(booking_id) if booking_id else None
    if b is None or b.state == "confirmed" or b.refund_due:
        return uow
    now = ports.clock.now()
    s = service.slot(b.slot_id)
    work = _Work(ports, now, traceparent)
    work.bookings[b.booking_id] = b
    if b.state != "held":
        work.put_booking(replace(b, refund_due=True, changed_at=now, by="payment"))
        return work.finish(uow, None)
    state = ports.store.fetch_slot(s.slot_id)
    taken = tuple(replace(h, held_until=None) if h.booking_id == b.booking_id else h for h in state.taken)
    done = replace(b, state="confirmed", held_until=None, confirmed_at=now, changed_at=now, by="payment")
    work.put_booking(done)
    work.confirmed(s, done, "paid")
    return work.finish(uow, replace(state, taken=taken))


@dataclass(frozen=True)
class NoShow:
    citizen_id: str
    booking_id: str
    agent: str


def mark_no_show(cmd: NoShow, ports: BookingPorts, traceparent: str | None) -> Staged[Booking]:
    """The centre records that the person did not come to a confirmed place whose slot has started; the count
    is the person's (``policies/booking``'s no-show rule reads it). Again: answered as it is."""
    b = booking_of(cmd.citizen_id, cmd.booking_id, ports)
    now = ports.clock.now()
    if b.state == "no-show":
        return Staged(UnitOfWork(), b)
    if b.state != "confirmed":
        raise service.BookingStateError(f"booking {b.booking_id} is {b.state}: only a confirmed place is a no-show")
    if b.starts_at > now:
        raise service.BookingStateError(f"booking {b.booking_id}'s slot has not started yet")
    s = service.slot(b.slot_id)
    work = _Work(ports, now, traceparent)
    done = replace(b, state="no-show", changed_at=now, by=cmd.agent)
    work.put_booking(done)
    person = work.person(b.citizen_id)
    work.put_person(service.with_active(replace(person, no_shows=(*person.no_shows, now)), b.booking_id, None, now))
    work.announce(BookingNoShow(**_facts(done, s), marked_by=cmd.agent, no_shows=len(person.no_shows) + 1,
                                recorded_at=now), b.citizen_id)  # fmt: skip
    work.announce(_position(done, s, "no-show", now), b.citizen_id)
    return Staged(work.finish(UnitOfWork(), None), done)


def sweep_slot(slot_id: str, ports: BookingPorts, traceparent: str | None = None) -> UnitOfWork:
    """One slot settled now (its expired holds released, its waiting list promoted): what the sweep does for
    the slots of the holds due, so a place is released even when nobody books that slot again."""
    s = service.slot(slot_id)
    now = ports.clock.now()
    work = _Work(ports, now, traceparent)
    before = ports.store.fetch_slot(slot_id)
    after = work.settle(s, before)
    return work.finish(UnitOfWork(), after if after != before else None)


def due_slots(ports: BookingPorts) -> list[str]:
    """The slots with a hold expired by now (oldest first, at most a batch)."""
    due = ports.store.fetch_held_until(ports.clock.now(), SWEEP_BATCH)
    return list(dict.fromkeys(b.slot_id for b in due))


# ---- projections and rights -------------------------------------------------------------------------------------


def project_citizen(data: CitizenUpdated, ports: BookingPorts) -> UnitOfWork:
    """The Padrón facts the rules read (birth date; district: registered, a resident), the latest wins."""
    uow = UnitOfWork()
    if data.profile is None:
        return uow
    person = ports.store.fetch_person(data.citizen_id)
    if person.profile_at is not None and data.updated_at <= person.profile_at:
        return uow
    changed = replace(person, birth_date=data.profile.birth_date, district=data.profile.district,
                      profile_at=data.updated_at)  # fmt: skip
    if changed != person:
        ports.store.stage_person(uow, changed)
    return uow


def answer_rights(data: RgpdRequestOpened, ports: BookingPorts, traceparent: str | None) -> UnitOfWork:
    """This domain's answer to a data-subject request (``rights.answer``), its erasures in the same unit."""
    result = rights.answer(data, ports.store, ports.policy, ports.clock.now())
    return result.unit(
        traceparent, lambda uow, plan: plan.stage(uow, lambda u, erased: rights.stage_erasure(u, erased, ports.store))
    )
