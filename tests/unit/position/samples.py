"""The events the position projects, as their producers send them: small builders for the handlers' tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from events.citizen import CitizenUpdated
from events.consent import ConsentChanged
from events.interaction import InteractionLogged
from events.position import PositionItemUpserted

CITIZEN = "c-lucia"
TRIBUTOS = "/legacy/tributos"


def consent(
    granted: bool, at: datetime, capture_channel: str = "app", citizen_id: str = CITIZEN, purpose: str = "campaigns"
) -> ConsentChanged:
    before, after = {"granted": not granted, "channels": []}, {"granted": granted, "channels": ["email"] * granted}
    return ConsentChanged.model_validate(
        {"citizen_id": citizen_id, "purpose": purpose, "before": before, "after": after, "mode": "a",
         "proof_id": "p-1", "actor": {"kind": "system", "id": "pic-rgpd"}, "capture_channel": capture_channel,
         "language": "es", "text_sha256": None, "changed_at": at.isoformat()}
    )  # fmt: skip


def linked(
    at: datetime, source: str = "/legacy/multas", local_id: str = "MUL1", citizen_id: str = CITIZEN
) -> CitizenUpdated:
    return CitizenUpdated.model_validate(
        {"citizen_id": citizen_id, "link": {"source": source, "local_id": local_id, "change": "added"},
         "match": {"method": "document", "score": 1.0, "evidence": ["DNI"]}, "updated_at": at.isoformat()}
    )  # fmt: skip


def logged(at: datetime, intx_id: str = "intx-1", record: tuple[str, str] | None = None) -> InteractionLogged:
    """A call logged about the golden record, or about an area system's ``record`` (source, local_id)."""
    about: dict[str, Any] = (
        {"citizen_id": CITIZEN} if record is None else {"record": {"source": record[0], "local_id": record[1]}}
    )
    return InteractionLogged.model_validate(
        {"id": intx_id, "recorded_by": "agente", "recorded_at": at.isoformat(),
         "interaction": {"interaction_id": intx_id.upper(), **about, "area": "hacienda", "topic": "IBI",
                         "channel": {"kind": "call", "direction": "inbound", "line": "010"},
                         "started_at": at.isoformat()}}
    )  # fmt: skip


def fact(at: datetime, item_id: str = "IBI-1", local_id: str = "TRB1", **fields: Any) -> PositionItemUpserted:
    """An area system's fact about its record ``local_id`` (a pending tax receipt unless ``fields`` say else)."""
    data: dict[str, Any] = {
        "local_id": local_id,
        "section": "taxes",
        "item_id": item_id,
        "status": "pending",
        "title": item_id,
        "area": "hacienda",
        "as_of": at.isoformat(),
        "amount_eur": "100.00",
        "attributes": {"cadastral_reference": "9872023VK"},
    }
    return PositionItemUpserted.model_validate({**data, **fields})
