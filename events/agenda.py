"""Events near me (GEO) events, as far as recommendations (REC) consume them: the council's agenda and a person's
zones. Written by REC's helper from the shared contract of issue 18; the agenda domain's own definition wins at
merge."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from events.base import EventData

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
DISTRICT_PATTERN = r"^(0[1-9]|1[0-9]|2[01])$"
BARRIO_PATTERN = r"^[0-9]{3}$"


class AgendaEventPublished(EventData):
    """An event of the council's agenda was upserted (or ``withdrawn``), as loaded from Madrid's open data
    ("Actividades culturales y de ocio municipales en los próximos 100 días")."""

    event_id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=1, max_length=300)
    category: str = Field(pattern=r"^[a-z][a-z0-9-]{0,39}$", examples=["musica", "teatro", "deporte"])
    audience: str | None = Field(None, max_length=64)
    free: bool | None = None
    district: str | None = Field(None, pattern=DISTRICT_PATTERN)
    barrio: str | None = Field(None, pattern=BARRIO_PATTERN)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    next_dates: list[datetime] = Field(default_factory=list, max_length=10)
    withdrawn: bool = False


class Zone(EventData):
    kind: Literal["home", "work", "leisure"]
    label: str | None = Field(None, max_length=80)
    district: str = Field(pattern=DISTRICT_PATTERN)
    barrio: str | None = Field(None, pattern=BARRIO_PATTERN)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    radius_m: int | None = Field(None, ge=1, le=20_000)


class ZonesChanged(EventData):
    """A person's zones, only those they consented to share for location; an empty list: withdrawn."""

    citizen_id: str = Field(pattern=ID_PATTERN)
    zones: list[Zone] = Field(default_factory=list, max_length=10)
    changed_at: datetime
