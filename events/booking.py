"""Bookings (sports facilities, classes, cultural activities) events, as far as recommendations (REC) consume them.

Written by REC's helper from the shared contract of issue 18 (booking.confirmed's fields); the booking domain's own
definition wins at merge. ``category`` uses the agenda's vocabulary where it can (``deporte``, ``musica``,
``teatro``, ``talleres``...), so that REC can match past bookings with the agenda's events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from events.base import EventData

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
DISTRICT_PATTERN = r"^(0[1-9]|1[0-9]|2[01])$"  # Madrid's 21 official district codes
CATEGORY_PATTERN = r"^[a-z][a-z0-9-]{0,39}$"


class BookingConfirmed(EventData):
    """A place was booked (paid if it had a price): who, what kind of resource, its category and district."""

    booking_id: str = Field(pattern=ID_PATTERN)
    citizen_id: str = Field(pattern=ID_PATTERN)
    resource_id: str = Field(pattern=ID_PATTERN)
    kind: Literal["sports-facility", "class", "cultural-activity"]
    category: str = Field(pattern=CATEGORY_PATTERN, examples=["deporte", "musica", "teatro", "talleres"])
    district: str = Field(pattern=DISTRICT_PATTERN, examples=["02"])
    starts_at: datetime
