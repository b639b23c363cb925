"""Access log (audit) events: every read of a person's data, announced by the function that served it.

Any function that reads personal data stages ``es.madrid.pic.audit.access.recorded.v1`` through the outbox
(``functions.core.audit``) in the same unit of work as nothing else: a read changes no state, so the access
record is its only write. ``pic-audit-events`` appends it to the access log that the person can see
(``GET /v1/citizens/{id}/access-log``, RGPD arts. 5.2 and 15).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from events.base import EventData


class Reader(EventData):
    """Who read: the verified token's subject (no more than the policy saw)."""

    id: str = Field(min_length=1, max_length=256)
    role: str = Field(max_length=32)
    level: int = Field(0, ge=0, le=3)
    area: str | None = Field(None, max_length=256)


class AccessRecorded(EventData):
    """One read (or refused read) of a citizen's personal data, with the policy's decision and reasons."""

    access_id: str = Field(min_length=1, max_length=64)
    citizen_id: str = Field(
        min_length=1, max_length=300, description="the golden record, or source#local_id of an unlinked record"
    )
    reader: Reader
    purpose: str | None = Field(None, max_length=200, description="the Access-Purpose the reader stated")
    function: str = Field(max_length=64, examples=["pic-position"])
    resource: str = Field(max_length=64, examples=["position", "consents", "citizen"])
    sections: list[str] = Field(default_factory=list, description="what was shown (empty when refused)")
    decision: Literal["allowed", "denied"]
    reasons: list[str] = Field(default_factory=list)
    at: datetime
