"""Consent & preferences (CON) events. Purposes, channels and topics are data (``policies/consent``),
so they are plain strings here and are checked against that data by the consent service."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from events.base import EventData

CitizenId = str
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
# The ``capture_channel`` of the withdrawals an erasure (RGPD art. 17) records: they say the consent is gone,
# so a projection applies them as a deletion and never as a new fact (docs/decisions/0012).
ERASURE_CAPTURE_CHANNEL = "rgpd-erasure"
HHMM_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class Actor(EventData):
    """Who made a change: the citizen, an agent on their behalf, or an internal system."""

    kind: Literal["citizen", "agent", "system"]
    id: str = Field(min_length=1, max_length=128)
    level: int | None = Field(None, ge=0, le=3, description="attention level of an agent")


class ConsentSnapshot(EventData):
    granted: bool
    channels: list[str] = Field(default_factory=list)
    text_version: str | None = None


class QuietHours(EventData):
    """Hours (Europe/Madrid) in which interruptive channels wait; may cross midnight."""

    start: str = Field(pattern=HHMM_PATTERN, examples=["22:00"])
    end: str = Field(pattern=HHMM_PATTERN, examples=["08:00"])


class Preferences(EventData):
    language: Literal["es", "en"] = "es"
    channels: list[str] = Field(default_factory=list, description="preferred channels, most preferred first")
    quiet_hours: QuietHours | None = None
    timezone: Literal["Europe/Madrid"] = "Europe/Madrid"


class ConsentChangeRequested(EventData):
    """An internal system (e.g. an office back-office recording a signed paper form) asks to change consent."""

    citizen_id: CitizenId = Field(pattern=ID_PATTERN)
    purpose: str = Field(min_length=1, max_length=64)
    granted: bool
    channels: list[str] = Field(default_factory=list)
    text_version: str = Field(min_length=1, max_length=32)
    language: Literal["es", "en"] = "es"
    actor: Actor
    capture_channel: str = Field("office-paper", min_length=1, max_length=32)
    captured_at: datetime | None = None
    document_ref: str | None = Field(None, max_length=128, description="reference of the signed form")


class ConsentChanged(EventData):
    """A citizen's consent for one purpose changed; ``before``/``after`` and the proof that records it."""

    citizen_id: CitizenId
    purpose: str
    before: ConsentSnapshot
    after: ConsentSnapshot
    mode: Literal["a", "b"]
    proof_id: str
    actor: Actor
    capture_channel: str
    language: Literal["es", "en"]
    text_sha256: str | None
    changed_at: datetime


class PreferencesChanged(EventData):
    citizen_id: CitizenId
    before: Preferences
    after: Preferences
    actor: Actor
    changed_at: datetime


class SubscriptionChanged(EventData):
    """An alert subscription (topic and zone: a district or barrio by official code) was created or deleted."""

    citizen_id: CitizenId
    subscription_id: str
    change: Literal["created", "deleted"]
    topic: str
    zone: str = Field(description="official code: 2 digits for a district, 3 for a barrio")
    actor: Actor
    changed_at: datetime
