"""Events near me (GEO) events (issue 18, svc-design §agenda).

``pic-agenda`` announces every council event it loads, changes or withdraws as ``agenda.event.published`` (what
REC matches against a person's zones and past bookings), and every change of the zones a citizen lets the
platform use for location as ``zones.changed`` (only the zones the citizen consented to share for location; an
empty list withdraws them). Codes are Madrid's official ones (district two digits, barrio three).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from events.base import EventData

DISTRICT = r"^\d{2}$"
BARRIO = r"^\d{3}$"
ZoneKind = Literal["home", "work", "leisure"]


class AgendaEventPublished(EventData):
    """A council event (an activity of the open-data agenda) was upserted or withdrawn (``withdrawn``)."""

    event_id: str = Field(min_length=1, max_length=64)
    title: str
    category: str = Field(description="the agenda's category, e.g. musica, teatro, deporte, talleres, cine")
    audience: list[str] = Field(default_factory=list, description="e.g. familias, infantil, jovenes, mayores")
    free: bool
    district: str | None = Field(None, pattern=DISTRICT)
    barrio: str | None = Field(None, pattern=BARRIO)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    next_dates: list[datetime] = Field(default_factory=list, max_length=10, description="its next starts (≤ 10)")
    withdrawn: bool = False


class Zone(EventData):
    """One place a citizen cares about: home (from the Padrón), work or leisure (chosen by the citizen)."""

    kind: ZoneKind
    label: str = Field(max_length=80)
    district: str | None = Field(None, pattern=DISTRICT)
    barrio: str | None = Field(None, pattern=BARRIO)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_m: int = Field(ge=100, le=10_000)


class ZonesChanged(EventData):
    """The zones a citizen shares for location changed; an empty list: none (consent withdrawn, or none set)."""

    citizen_id: str
    zones: list[Zone]
    changed_at: datetime
