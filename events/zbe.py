"""ZBE (low-emission zones) events, as far as recommendations (REC) consume them: a vehicle's registration as the
Movilidad area announces it. Written by REC's helper from the shared contract of issue 18; the ZBE domain's own
definition wins at merge."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, model_validator

from events.base import EventData
from events.citizen import SourceRecord

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
PLATE_PATTERN = r"^[0-9A-Z]{4,10}$"
DISTRICT_PATTERN = r"^(0[1-9]|1[0-9]|2[01])$"

# The DGT's environmental label (Reglamento General de Vehículos, Anexo II, as amended by Orden PCI/810/2018)
Label = Literal["0", "ECO", "C", "B", "none"]


class VehicleRegistered(EventData):
    """A vehicle, its DGT environmental label, its holder (a golden record or an area system's record) and the
    district of the address it is registered at (IVTM domicile)."""

    plate: str = Field(pattern=PLATE_PATTERN, examples=["1234KLM"])
    label: Label
    citizen_id: str | None = Field(None, pattern=ID_PATTERN)
    record: SourceRecord | None = None
    district: str | None = Field(None, pattern=DISTRICT_PATTERN, description="null: an address outside Madrid")
    as_of: datetime

    @model_validator(mode="after")
    def _holder(self) -> VehicleRegistered:
        if self.citizen_id is None and self.record is None:
            raise ValueError("name the holder: citizen_id or record")
        return self
