"""Bookings (issue 18) events: a place in a municipal sports centre's pool or court, a class or a cultural
activity, booked, cancelled or not attended.

``pic-booking`` announces them through its outbox relay (source ``/pic/booking``). REC (the recommendations)
consumes ``booking.confirmed``: its data carries what a suggestion of "events like the ones you booked" needs and
nothing more (no name, no age): the booking, the golden record, the resource, its ``kind``, its ``category`` in
the agenda's vocabulary (``deporte``, ``musica``, ``teatro``, ``talleres``, ``danza``, ``cine``,
``exposiciones``, ``conferencias``: the categories of Madrid's open-data agenda "Actividades culturales y de ocio
municipales", which the agenda domain ingests; a sports slot is ``deporte``), the official district code
(2 digits, 01-21) and when it starts.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from events.base import EventData
from events.consent import ID_PATTERN

BOOKING_ID_PATTERN = r"^bk-[0-9a-f]{16}$"
RESOURCE_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{2,63}$"
CATEGORY_PATTERN = r"^[a-z][a-z0-9-]{1,31}$"
DISTRICT_PATTERN = r"^(0[1-9]|1[0-9]|2[01])$"
Kind = Literal["sports-facility", "class", "cultural-activity"]


class BookingFacts(EventData):
    """What every booking event says of the booking: whose, which resource and slot, where and when."""

    booking_id: str = Field(pattern=BOOKING_ID_PATTERN, examples=["bk-0f3a9c12d4e5b678"])
    citizen_id: str = Field(pattern=ID_PATTERN, description="the golden record (C360)")
    resource_id: str = Field(pattern=RESOURCE_ID_PATTERN, examples=["piscina-barcelo"])
    slot_id: str = Field(max_length=96, examples=["piscina-barcelo.202612091900"])
    kind: Kind
    category: str = Field(
        pattern=CATEGORY_PATTERN, examples=["deporte"],
        description="the agenda's: deporte, musica, teatro, talleres, danza, cine, exposiciones, conferencias",
    )  # fmt: skip
    district: str = Field(pattern=DISTRICT_PATTERN, description="official district code of Madrid", examples=["01"])
    starts_at: AwareDatetime


class BookingConfirmed(BookingFacts):
    """A place is the person's: booked free, paid (``tax.receipt.paid`` of its precio público), or promoted
    from the waiting list to a free place."""

    ends_at: AwareDatetime
    centre: str = Field(max_length=120, examples=["Centro Deportivo Municipal Barceló"])
    price_cents: int = Field(ge=0, description="the precio público paid, 0 when free")
    via: Literal["free", "paid", "promoted"]
    confirmed_at: AwareDatetime


class BookingCancelled(BookingFacts):
    """A booking ended before its slot: the citizen or an agent cancelled it, or its payment hold expired (the
    place went to the waiting list)."""

    was: Literal["held", "confirmed", "waiting"]
    by: Literal["citizen", "agent", "hold-expired"]
    refund_due: bool = Field(False, description="a paid place given up: its precio público is to be refunded")
    cancelled_at: AwareDatetime


class BookingNoShow(BookingFacts):
    """The centre (an agent) recorded that the person did not come; ``no_shows`` counts theirs within the
    policy's window (``policies/booking``: past the limit, the person may not book for a while)."""

    marked_by: str = Field(max_length=128, description="role:id of the agent who recorded it")
    no_shows: int = Field(ge=1)
    recorded_at: AwareDatetime
