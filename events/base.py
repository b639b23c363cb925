"""What every event's data model shares."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class EventData(BaseModel):
    """Base of every event's ``data``: strict about unknown fields, so a typo is a schema error."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
