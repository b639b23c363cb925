"""Global position (POS) events: the facts area systems hold about a person, as the position shows them.

Area systems (Tributos, Multas, Cita Previa, Licencias, Servicios Sociales, ...) send
``es.madrid.pic.position.item.upserted.v1`` with ``source`` = their URI, keyed by their own record of the
person (``local_id``, the same key they use in ``es.madrid.pic.citizen.record.upserted.v1``). The position
attaches the fact to a golden record through C360's links (contracts.md §1, contracts.md §2). The latest
``as_of`` of an item wins, so facts may arrive late, twice, or out of order.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal, Self

from pydantic import AwareDatetime, Field, model_validator

from events.base import EventData
from events.citizen import LOCAL_ID_PATTERN
from events.interaction import AREA_PATTERN

Section = Literal["taxes", "fines", "cases", "appointments", "permits", "wallet", "notifications"]
AREA_SECTIONS: tuple[str, ...] = ("taxes", "fines", "cases", "appointments", "permits", "wallet", "notifications")
ITEM_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$"


class PositionItemUpserted(EventData):
    """One fact an area system holds about a person: a tax receipt, a fine, a case, an appointment, a permit,
    a wallet card or a notification. ``removed`` withdraws it (e.g. an appointment cancelled in error).

    ``special_category`` marks data of RGPD art. 9 (e.g. Servicios Sociales, health): shown only to the
    person and to agents of the item's area.
    """

    local_id: str = Field(pattern=LOCAL_ID_PATTERN, description="the area system's key for the person")
    section: Section
    item_id: str = Field(pattern=ITEM_ID_PATTERN, description="the area system's key for the item")
    status: str = Field(min_length=1, max_length=40, examples=["pending", "paid", "open", "booked"])
    title: str = Field(min_length=1, max_length=200, examples=["IBI 2026, primer plazo"])
    area: str = Field(pattern=AREA_PATTERN, examples=["hacienda"])
    special_category: bool = False
    as_of: AwareDatetime = Field(description="when the area system's fact was true; the latest wins")
    amount_eur: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2, description="amount due or paid")
    due_date: date | None = None
    starts_at: AwareDatetime | None = Field(None, description="appointments: when it starts")
    valid_until: date | None = Field(None, description="permits and wallet cards: until when")
    reference: str | None = Field(None, max_length=64, description="the public reference (receipt, file number)")
    attributes: dict[str, str] = Field(
        default_factory=dict, description="further detail an expert of the area sees (at most 20 entries)"
    )
    removed: bool = False

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        if len(self.attributes) > 20 or any(len(k) > 64 or len(v) > 500 for k, v in self.attributes.items()):
            raise ValueError("attributes: at most 20 entries, keys up to 64 and values up to 500 characters")
        return self
