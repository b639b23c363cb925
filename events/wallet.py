"""Wallet (issue 17) events: the verifiable cards PIC issues to a citizen's wallet (OpenID4VCI 1.0, SD-JWT VC).

``pic-wallet`` announces each issuance (``card.issued``: one card = one issuance, all its copies) and each change
of its status (``card.revoked``, ``card.suspended``, ``card.reinstated``); the global position projects them.
Events carry counts, never the status-list indexes: an index would let a reader of the event stream tell whose
bit a status list holds (Token Status List draft §12, "privacy considerations").

Area systems (Empleo, Hostelería, Movilidad…) and the wallet's own grant route send ``card.granted``: a fact that
makes a person eligible for a card the Padrón cannot tell (an entrepreneur, a hospitality worker, a vehicle).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from events.base import EventData

CARD_TYPE_PATTERN = r"^[a-z][a-z0-9-]{1,31}$"
CARD_ID_PATTERN = r"^card-[a-f0-9]{32}$"
RevokeReason = Literal["eligibility-lost", "death", "error", "citizen-request"]
REVOKE_REASONS: tuple[str, ...] = ("eligibility-lost", "death", "error", "citizen-request")


class CardEvent(EventData):
    """What every card event names: the card (one issuance), its holder and its type."""

    card_id: str = Field(pattern=CARD_ID_PATTERN)
    citizen_id: str = Field(min_length=1, max_length=128)
    card_type: str = Field(pattern=CARD_TYPE_PATTERN, examples=["madrid-mayor"])


class CardIssued(CardEvent):
    """A card was issued to the citizen's wallet: ``copies`` credentials (one per holder key, for unlinkability)."""

    vct: str = Field(max_length=200, examples=["urn:es:madrid:pic:card:madrid-mayor:1"])
    copies: int = Field(ge=1, le=10)
    issued_at: datetime
    expires_at: datetime


class CardRevoked(CardEvent):
    """Every copy of the card was revoked (its status bits set to 1 and the lists republished)."""

    reason: RevokeReason
    revoked_at: datetime


class CardSuspended(CardEvent):
    """Every copy of the card was suspended (status 2): it can be reinstated."""

    reason: str = Field(min_length=1, max_length=200)
    suspended_at: datetime


class CardReinstated(CardEvent):
    """A suspended card is valid again (status 0)."""

    reinstated_at: datetime


class CardGranted(EventData):
    """An area system (or an agent through the wallet's grant route) states that the person may hold a card of
    this type: the fact the eligibility policy reads as ``grants``. ``revoked`` true withdraws an earlier grant."""

    citizen_id: str = Field(min_length=1, max_length=128)
    card_type: str = Field(pattern=CARD_TYPE_PATTERN, examples=["emprende"])
    reason: str = Field(min_length=1, max_length=200, examples=["alta en el Registro de emprendedores"])
    granted_at: datetime
    revoked: bool = False
    claims: dict[str, str] = Field(
        default_factory=dict, max_length=5, description="card-specific claims (plate, label, sector)"
    )
