"""Bookings (issue 18), pure rules: the bookable resources and their slots as data, a slot's places and waiting
list, holds that expire, and the store's port.

A **resource** (``data/resources.json``: a pool's lane, a court, a class, a cultural activity) has a weekly
schedule of local start times (Europe/Madrid) and a number of places per slot. A **slot** is one start of one
resource, named ``<resource_id>.<YYYYMMDDHHMM>`` (local time): slots are computed from the schedule, never
stored until someone books one. A slot's stored state (``SlotState``) is who holds its places (``taken``: a
booking and, for a paid place not yet paid, until when it is held) and who waits (``waiting``, in order); every
write of it is conditioned on the version read, so of two bookings of the last place only one commits (the
other, run again by the kernel's ``retry_on_conflict``, finds the slot full).

A paid place is **held** (``hold_minutes``, ``policies/booking``) while its precio público is paid through PAY; an
unpaid hold **expires**: lazily, the next time its slot is written (a booking, a cancellation, a sweep), the place
is released and goes to the first of the waiting list (``settle``). The **person** item (``Person``) keeps what
the rules read (the Padrón's birth date and district, the recorded no-shows) and the person's active bookings, so
the weekly limit holds under concurrency too: every booking writes the person's item under its version.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from events.booking import Kind
from functions.core.clock import MADRID
from functions.core.errors import NotFoundError, PicError

if TYPE_CHECKING:  # the port names the kernel's unit of work; this module stays free of its adapters
    from functions.core.store import UnitOfWork

POLICY = "booking"
DATA = Path(__file__).parent / "data" / "resources.json"
SLOT_ID = re.compile(r"^(?P<resource>[a-z0-9][a-z0-9-]{2,63})\.(?P<at>[0-9]{12})$")
BOOKING_ID = re.compile(r"^bk-[0-9a-f]{16}$")
RECEIPT_PREFIX = "BK-"  # svc-design.md §booking: the receipt PAY charges is BK-<booking id>
HORIZON_DAYS = 14  # the slots listed and bookable ahead (the residents' window is inside it)
ACTIVE_DAYS = 8  # a person's active entries older than this are dropped from their item (past weeks)
State = Literal["held", "confirmed", "waiting", "cancelled", "expired", "no-show"]
LIVE: tuple[str, ...] = ("held", "confirmed", "waiting")


# ---- the domain's problems ---------------------------------------------------------------------------------


class ResourceNotFoundError(NotFoundError):
    slug, title = "resource-not-found", "No such bookable resource"


class SlotNotFoundError(NotFoundError):
    slug, title = "slot-not-found", "No such slot"


class SlotNotBookableError(PicError):
    status, slug, title = 422, "slot-not-bookable", "This slot cannot be booked now"


class SlotFullError(PicError):
    status, slug, title = 409, "slot-full", "Every place of this slot is taken"


class AlreadyBookedError(PicError):
    status, slug, title = 409, "already-booked", "You already have a place or a waiting-list entry in this slot"


class BookingNotAllowedError(PicError):
    status, slug, title = 422, "booking-not-allowed", "The booking rules do not allow this booking"


class BookingNotFoundError(NotFoundError):
    slug, title = "booking-not-found", "No such booking"


class BookingStateError(PicError):
    status, slug, title = 409, "booking-state", "The booking is not in a state that allows this"


# ---- resources and slots (data) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    id: str
    kind: Kind
    category: str
    title: dict[str, str]
    centre: str
    district: str
    capacity: int
    duration: timedelta
    price_cents: int
    min_age: int | None
    max_age: int | None
    schedule: tuple[tuple[frozenset[int], tuple[time, ...]], ...]  # (weekdays, local start times)

    @property
    def area(self) -> str:
        """The council area that runs it (the position's ``area``)."""
        return "cultura" if self.kind == "cultural-activity" else "deportes"

    def starts_on(self, day: date) -> list[datetime]:
        """The slot starts of a local day, as aware local datetimes."""
        times = sorted({t for weekdays, ts in self.schedule if day.weekday() in weekdays for t in ts})
        return [datetime.combine(day, t, MADRID) for t in times]


@dataclass(frozen=True)
class Slot:
    slot_id: str
    resource: Resource
    starts_at: datetime  # aware, Europe/Madrid

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + self.resource.duration


def _resource(doc: dict[str, Any]) -> Resource:
    schedule = tuple(
        (frozenset(int(d) for d in entry["weekdays"]), tuple(time.fromisoformat(t) for t in entry["times"]))
        for entry in doc["schedule"]
    )
    return Resource(
        doc["id"], doc["kind"], doc["category"], dict(doc["title"]), doc["centre"], doc["district"],
        int(doc["capacity"]), timedelta(minutes=int(doc["duration_minutes"])), int(doc["price_cents"]),
        doc.get("min_age"), doc.get("max_age"), schedule,
    )  # fmt: skip


@lru_cache(maxsize=1)
def catalogue() -> dict[str, Resource]:
    """The bookable resources (``data/resources.json``), by id."""
    doc = json.loads(DATA.read_text(encoding="utf-8"))
    return {r["id"]: _resource(r) for r in doc["resources"]}


def resource(resource_id: str) -> Resource:
    found = catalogue().get(resource_id)
    if found is None:
        raise ResourceNotFoundError(f"no bookable resource {resource_id!r}")
    return found


def slot_id_of(resource_id: str, starts_at: datetime) -> str:
    return f"{resource_id}.{starts_at.astimezone(MADRID):%Y%m%d%H%M}"


def slot(slot_id: str) -> Slot:
    """The slot a name stands for, if the resource's schedule has it (else ``slot-not-found``)."""
    match = SLOT_ID.match(slot_id)
    if match is None:
        raise SlotNotFoundError(f"{slot_id!r} is not a slot name (<resource>.<YYYYMMDDHHMM>, local time)")
    found = catalogue().get(match["resource"])
    try:
        at = datetime.strptime(match["at"], "%Y%m%d%H%M").replace(tzinfo=MADRID)
    except ValueError as exc:
        raise SlotNotFoundError(f"{slot_id!r} names no valid local time") from exc
    if found is None or at not in found.starts_on(at.date()):
        raise SlotNotFoundError(f"no slot {slot_id!r}: the resource has no start then")
    return Slot(slot_id, found, at)


def slots_ahead(res: Resource, now: datetime, days: int = HORIZON_DAYS) -> list[Slot]:
    """The resource's slots from now to ``days`` local days ahead, in order."""
    today = now.astimezone(MADRID).date()
    return [
        Slot(slot_id_of(res.id, at), res, at)
        for offset in range(days + 1)
        for at in res.starts_on(today + timedelta(days=offset))
        if at > now
    ]


def check_bookable(s: Slot, now: datetime) -> None:
    """A slot that started, or that lies beyond the horizon, is refused before any rule is asked."""
    if s.starts_at <= now:
        raise SlotNotBookableError(f"{s.slot_id} started at {s.starts_at.isoformat()}: it cannot be booked")
    if s.starts_at - now > timedelta(days=HORIZON_DAYS + 1):
        raise SlotNotBookableError(f"{s.slot_id} is more than {HORIZON_DAYS} days ahead: not open yet")


# ---- stored state --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    """Who holds a place: the booking, the person, and (a paid place not paid yet) until when it is held."""

    booking_id: str
    citizen_id: str
    held_until: datetime | None = None


@dataclass(frozen=True)
class SlotState:
    slot_id: str
    taken: tuple[Holder, ...] = ()
    waiting: tuple[Holder, ...] = ()
    version: int | None = None

    def holds(self, citizen_id: str) -> bool:
        return any(h.citizen_id == citizen_id for h in (*self.taken, *self.waiting))


@dataclass(frozen=True)
class Booking:
    booking_id: str
    citizen_id: str
    slot_id: str
    resource_id: str
    state: State
    price_cents: int
    created_at: datetime
    starts_at: datetime
    held_until: datetime | None = None
    confirmed_at: datetime | None = None
    changed_at: datetime | None = None
    by: str | None = None  # who changed it last: citizen, agent:<id>, hold-expired, payment
    refund_due: bool = False
    version: int | None = None

    @property
    def receipt_id(self) -> str:
        return RECEIPT_PREFIX + self.booking_id


@dataclass(frozen=True)
class Active:
    """One of the person's live bookings, as the weekly limit counts it."""

    kind: str
    starts_at: datetime


@dataclass(frozen=True)
class Person:
    citizen_id: str
    birth_date: date | None = None
    district: str | None = None  # registered in Madrid's Padrón (C360's profile): a resident
    no_shows: tuple[datetime, ...] = ()
    active: dict[str, Active] = field(default_factory=dict)
    profile_at: datetime | None = None  # the citizen.updated the facts came from (the latest wins)
    version: int | None = None

    @property
    def resident(self) -> bool:
        return self.district is not None


def new_booking_id() -> str:
    return f"bk-{secrets.token_hex(8)}"


def check_booking_id(booking_id: str) -> str:
    if not BOOKING_ID.match(booking_id):
        raise BookingNotFoundError(f"{booking_id!r} is not a booking id")
    return booking_id


def booking_of_receipt(receipt_id: str) -> str | None:
    """The booking a PAY receipt is for (``BK-<booking id>``), or ``None``: another system's receipt."""
    if not receipt_id.startswith(RECEIPT_PREFIX):
        return None
    booking_id = receipt_id.removeprefix(RECEIPT_PREFIX)
    return booking_id if BOOKING_ID.match(booking_id) else None


# ---- rules over the state ------------------------------------------------------------------------------------


def age_on(birth: date | None, day: date) -> int | None:
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def week_of(at: datetime) -> date:
    """The Monday of ``at``'s local week (weeks run Monday to Sunday, Europe/Madrid)."""
    day = at.astimezone(MADRID).date()
    return day - timedelta(days=day.weekday())


def week_count(person: Person, kind: str, starts_at: datetime) -> int:
    week = week_of(starts_at)
    return sum(1 for a in person.active.values() if a.kind == kind and week_of(a.starts_at) == week)


def policy_input(person: Person, s: Slot, now: datetime) -> dict[str, Any]:
    """What ``policies/booking`` decides on: the person's facts, the resource, how far ahead, the week's count."""
    return {
        "now": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "hours_ahead": (s.starts_at - now).total_seconds() / 3600,
        "week_count": week_count(person, s.resource.kind, s.starts_at),
        "resource": {"kind": s.resource.kind, "min_age": s.resource.min_age, "max_age": s.resource.max_age},
        "person": {
            "resident": person.resident,
            "age": age_on(person.birth_date, s.starts_at.astimezone(MADRID).date()),
            "no_shows": [at.astimezone(UTC).isoformat().replace("+00:00", "Z") for at in person.no_shows],
        },
    }


def live_taken(state: SlotState, now: datetime) -> tuple[Holder, ...]:
    """The places held now: confirmed ones, and paid ones whose hold has not expired."""
    return tuple(h for h in state.taken if h.held_until is None or h.held_until > now)


def free_places(capacity: int, state: SlotState, now: datetime) -> int:
    return max(0, capacity - len(live_taken(state, now)))


@dataclass(frozen=True)
class Settled:
    """A slot after its expired holds were released and its free places went to the waiting list."""

    state: SlotState
    expired: tuple[Holder, ...]
    promoted: tuple[Holder, ...]


def settle(state: SlotState, capacity: int, now: datetime, hold_until: datetime | None) -> Settled:
    """Release the expired holds; give each free place to the first waiting, in order (``hold_until``: the new
    hold of a promoted person on a paid slot, ``None`` on a free one)."""
    expired = tuple(h for h in state.taken if h.held_until is not None and h.held_until <= now)
    taken = live_taken(state, now)
    waiting = list(state.waiting)
    promoted: list[Holder] = []
    while waiting and len(taken) + len(promoted) < capacity:
        first = waiting.pop(0)
        promoted.append(Holder(first.booking_id, first.citizen_id, hold_until))
    return Settled(replace(state, taken=(*taken, *promoted), waiting=tuple(waiting)), expired, tuple(promoted))


def without(state: SlotState, booking_id: str) -> SlotState:
    """The slot with a booking's place or waiting-list entry given up."""
    return replace(
        state,
        taken=tuple(h for h in state.taken if h.booking_id != booking_id),
        waiting=tuple(h for h in state.waiting if h.booking_id != booking_id),
    )


def with_active(person: Person, booking_id: str, entry: Active | None, now: datetime) -> Person:
    """The person's active bookings with one added (``entry``) or removed (``None``); past weeks dropped."""
    active = {k: v for k, v in person.active.items() if v.starts_at > now - timedelta(days=ACTIVE_DAYS)}
    if entry is None:
        active.pop(booking_id, None)
    else:
        active[booking_id] = entry
    return replace(person, active=active)


def view(b: Booking, now: datetime | None = None) -> dict[str, Any]:
    """A booking as the citizen and the desk see it (an expired hold shows as expired before it is swept)."""
    res = catalogue().get(b.resource_id)
    state = b.state
    if state == "held" and now is not None and b.held_until is not None and b.held_until <= now:
        state = "expired"
    answer: dict[str, Any] = {
        "booking_id": b.booking_id, "slot_id": b.slot_id, "resource_id": b.resource_id, "state": state,
        "starts_at": b.starts_at.isoformat(), "price_cents": b.price_cents, "created_at": b.created_at.isoformat(),
        "held_until": b.held_until.astimezone(MADRID).isoformat() if b.held_until else None,  # local: shown
        "confirmed_at": b.confirmed_at.isoformat() if b.confirmed_at else None, "refund_due": b.refund_due,
    }  # fmt: skip
    if res is not None:
        answer.update(
            title=res.title, centre=res.centre, district=res.district, kind=res.kind, category=res.category,
            ends_at=(b.starts_at + res.duration).isoformat(),
        )  # fmt: skip
    if now is not None:
        answer["started"] = b.starts_at <= now  # a no-show can be recorded (the desk shows its button)
    if state == "held":
        answer["payment"] = {"debt_id": f"receipt-{b.receipt_id}", "amount_cents": b.price_cents}
    return answer


def resource_view(res: Resource) -> dict[str, Any]:
    return {
        "resource_id": res.id, "kind": res.kind, "category": res.category, "title": res.title, "centre": res.centre,
        "district": res.district, "capacity": res.capacity, "duration_minutes": int(res.duration.total_seconds() // 60),
        "price_cents": res.price_cents, "min_age": res.min_age, "max_age": res.max_age,
    }  # fmt: skip


def slot_view(s: Slot, state: SlotState | None, now: datetime) -> dict[str, Any]:
    st = state or SlotState(s.slot_id)
    return {
        "slot_id": s.slot_id, "resource_id": s.resource.id, "starts_at": s.starts_at.isoformat(),
        "ends_at": s.ends_at.isoformat(), "capacity": s.resource.capacity,
        "free": free_places(s.resource.capacity, st, now), "waiting": len(st.waiting),
    }  # fmt: skip


# ---- the port ------------------------------------------------------------------------------------------------


class BookingStore(Protocol):
    def fetch_slot(self, slot_id: str) -> SlotState: ...
    def fetch_slots(self, slot_ids: list[str]) -> dict[str, SlotState]: ...
    def fetch_booking(self, booking_id: str) -> Booking | None: ...
    def fetch_bookings(self, citizen_id: str) -> list[Booking]: ...
    def fetch_person(self, citizen_id: str) -> Person: ...
    def fetch_held_until(self, until: datetime, limit: int) -> list[Booking]: ...
    def stage_slot(self, uow: UnitOfWork, state: SlotState) -> None: ...
    def stage_booking(self, uow: UnitOfWork, b: Booking) -> None: ...
    def stage_person(self, uow: UnitOfWork, person: Person) -> None: ...
    def stage_erase_person(self, uow: UnitOfWork, citizen_id: str) -> None: ...
