"""Low-emission zone (ZBE) events (issue 18): the vehicles Movilidad registers and the access authorisations PIC
decides for the zones of Madrid 360 (Ordenanza de Movilidad Sostenible de 5 de octubre de 2018, as amended by
Ordenanza 10/2021, de 13 de septiembre: ZBE "Madrid", ZBEDEP Distrito Centro and ZBEDEP Plaza Elíptica).

- ``vehicle.registered`` (sender Movilidad, ``/legacy/movilidad``): a vehicle's plate, its DGT environmental label
  (the DGT's clasificación ambiental proposed by the Plan Aire, BOE 23/05/2013: 0, ECO, C, B, or none = "A"),
  its holder (a golden record or the area's own record of the person) and the district of its address. ZBE decides
  on it; REC suggests the resident parking card from it.
- ``zbe.authorisation.decided`` (``pic-zbe``): an application was granted or refused (by the rules of
  ``policies/zbe`` or by an agent's review), with the reason codes and the validity; no personal data beyond the
  citizen id and the plate the authorisation is about.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, Self

from pydantic import AwareDatetime, Field, model_validator

from events.base import EventData
from events.citizen import SourceRecord

# A plate in PIC's canonical form: capitals and digits, no spaces or hyphens (what cameras read). The formats
# accepted, and their sources, are in ``functions/zbe/service.py`` (``parse_plate``).
PLATE_PATTERN = r"^[A-Z0-9]{4,9}$"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:#-]{0,127}$"
AUTHORISATION_ID_PATTERN = r"^zbe-[a-f0-9]{20}$"
DISTRICT_PATTERN = r"^(0[1-9]|1[0-9]|2[01])$"

Label = Literal["0", "ECO", "C", "B", "none"]
LABELS: tuple[str, ...] = ("0", "ECO", "C", "B", "none")
Zone = Literal["madrid", "distrito-centro", "plaza-eliptica"]
ZONES: tuple[str, ...] = ("madrid", "distrito-centro", "plaza-eliptica")
Category = Literal["residente", "invitado", "comercio", "servicios", "pmr", "garaje"]
CATEGORIES: tuple[str, ...] = ("residente", "invitado", "comercio", "servicios", "pmr", "garaje")


class VehicleRegistered(EventData):
    """Movilidad's record of a vehicle: plate, DGT environmental label, holder and the district of its address.

    Exactly one of ``citizen_id`` (the golden record) or ``record`` (Movilidad's own record of the holder) names
    the holder. The latest ``as_of`` of a plate wins, so facts may arrive late, twice or out of order."""

    plate: str = Field(pattern=PLATE_PATTERN, examples=["1234BCD", "M1234AB"])
    label: Label = Field(description="DGT environmental label: 0, ECO, C, B, or none (clasificación A)")
    citizen_id: str | None = Field(None, pattern=ID_PATTERN)
    record: SourceRecord | None = None
    district: str | None = Field(None, pattern=DISTRICT_PATTERN, description="official district code (01-21)")
    as_of: AwareDatetime

    @model_validator(mode="after")
    def _one_holder(self) -> Self:
        if (self.citizen_id is None) == (self.record is None):
            raise ValueError("name exactly one of citizen_id or record (source, local_id)")
        return self


class ZbeAuthorisationDecided(EventData):
    """An access authorisation was granted or refused: by the rules (``decided_by`` policy) or by an agent."""

    authorisation_id: str = Field(pattern=AUTHORISATION_ID_PATTERN)
    citizen_id: str = Field(pattern=ID_PATTERN)
    plate: str = Field(pattern=PLATE_PATTERN)
    zone: Zone
    category: Category
    label: Label
    decision: Literal["granted", "refused"]
    decided_by: Literal["policy", "agent"]
    reasons: list[str] = Field(default_factory=list, max_length=10, description="the policy's reason codes")
    valid_from: date | None = None
    valid_until: date | None = None
    decided_at: AwareDatetime
