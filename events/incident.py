"""Incidents on the public way (Avisos Madrid, Open311 GeoReport v2) events (issue 18).

``pic-incident`` announces a new report as ``es.madrid.pic.incident.reported.v1`` and every later change (a stage, a
"me too", an estimated date, a reopening) as ``es.madrid.pic.incident.updated.v1``. Neither carries personal data
beyond the reporter's ``citizen_id`` (absent for a third-party client's anonymous report): the description and the
photos are public on the Open311 API already, the reporter's contact details never leave the domain.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from events.base import EventData
from events.consent import ID_PATTERN

INCIDENT_ID_PATTERN = r"^AV-[0-9]{4}-[0-9A-F]{8}$"
SERVICE_CODE_PATTERN = r"^[a-z][a-z0-9-]{1,47}$"
# Madrid's detailed stages (the Avisos API's status stages); Open311's ``status`` is open or closed from them
Stage = Literal["received", "assigned", "in-progress", "reopened", "resolved", "rejected", "duplicate"]


class IncidentReported(EventData):
    """A new report on the public way, after the in-city check: where, which service, who answers it."""

    incident_id: str = Field(pattern=INCIDENT_ID_PATTERN, examples=["AV-2026-0A1B2C3D"])
    service_code: str = Field(pattern=SERVICE_CODE_PATTERN, examples=["alumbrado-farola-apagada"])
    area: str = Field(examples=["via-publica"])
    agency_responsible: str
    lat: float = Field(ge=-90, le=90)
    long: float = Field(ge=-180, le=180)
    district: str | None = Field(None, description="official district code (2 digits), when the locator knows it")
    barrio: str | None = Field(None, description="official barrio code, when the locator knows it")
    citizen_id: str | None = Field(None, pattern=ID_PATTERN, description="the reporter, if a signed-in citizen")
    channel: Literal["app", "open311"]
    photos: int = Field(0, ge=0)
    requested_at: AwareDatetime
    expected_at: AwareDatetime | None = None


class IncidentUpdated(EventData):
    """A report changed: its stage (and Open311 status), notes, reiterations or estimated resolution date."""

    incident_id: str = Field(pattern=INCIDENT_ID_PATTERN)
    service_code: str = Field(pattern=SERVICE_CODE_PATTERN)
    stage: Stage
    status: Literal["open", "closed"]
    status_notes: str = Field("", max_length=1000)
    reiterations: int = Field(ge=0)
    expected_at: AwareDatetime | None = None
    citizen_id: str | None = Field(None, pattern=ID_PATTERN)
    change: Literal["stage", "me-too", "reopened", "photo"]
    version: int = Field(ge=1, description="the report's version: the latest wins wherever it is projected")
    updated_at: AwareDatetime
