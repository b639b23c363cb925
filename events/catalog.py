"""The catalog of every event type: type -> data model, producer, consumers (Knative Service names).

Types follow ``es.madrid.pic.<domain>.<event>.v<N>``; a breaking change is a new ``vN``. The contract
tests check that every Trigger in ``infra/k8s`` filters on a type listed here and that ``schemas/`` is
generated from these models.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field

from events import citizen, consent
from events.base import EventData


@dataclass(frozen=True)
class EventSpec:
    type: str
    model: builtins.type[EventData]
    producer: str
    source: str
    description: str
    consumers: list[str] = field(default_factory=list)


_SPECS = [
    EventSpec(
        type="es.madrid.pic.consent.change.requested.v1",
        model=consent.ConsentChangeRequested,
        producer="internal systems (office back-offices, CRM)",
        source="the requesting system's URI, e.g. /legacy/oficinas",
        description="Asks PIC to record a consent change captured outside the channels (e.g. a signed form).",
        consumers=["pic-consent-events"],
    ),
    EventSpec(
        type="es.madrid.pic.consent.changed.v1",
        model=consent.ConsentChanged,
        producer="pic-consent",
        source="/pic/consent",
        description="A citizen's consent for one purpose changed, with before/after and the proof id.",
    ),
    EventSpec(
        type="es.madrid.pic.preferences.changed.v1",
        model=consent.PreferencesChanged,
        producer="pic-consent",
        source="/pic/consent",
        description="A citizen's language, preferred channels or quiet hours changed.",
    ),
    EventSpec(
        type="es.madrid.pic.subscription.changed.v1",
        model=consent.SubscriptionChanged,
        producer="pic-consent",
        source="/pic/consent",
        description="An alert subscription by topic and zone was created or deleted.",
    ),
    EventSpec(
        type="es.madrid.pic.citizen.record.upserted.v1",
        model=citizen.CitizenRecordUpserted,
        producer="area systems (Padrón, Tributos, SER, Multas, Deportes, Cultura, Servicios Sociales, Cita Previa)",
        source="the area system's URI, e.g. /legacy/padron",
        description="An area system created or changed its record of a person; PIC links it to a golden record.",
        consumers=["pic-citizen-events"],
    ),
    EventSpec(
        type="es.madrid.pic.citizen.updated.v1",
        model=citizen.CitizenUpdated,
        producer="pic-citizen",
        source="/pic/citizen",
        description="A golden citizen record gained or changed a source link, with the match decision.",
    ),
    # ---- C360 merges (issue 5) ----
    EventSpec(
        type="es.madrid.pic.citizen.merged.v1",
        model=citizen.CitizenMerged,
        producer="pic-citizen",
        source="/pic/citizen",
        description="Two golden citizen records were merged (automatically or by a clerical review); audit and UX.",
    ),
    EventSpec(
        type="es.madrid.pic.citizen.unmerged.v1",
        model=citizen.CitizenUnmerged,
        producer="pic-citizen",
        source="/pic/citizen",
        description="A source record was split out of a golden record, restoring the golden record it came with.",
    ),
]

CATALOG: dict[str, EventSpec] = {spec.type: spec for spec in _SPECS}
_BY_MODEL: dict[builtins.type[EventData], EventSpec] = {spec.model: spec for spec in _SPECS}


def spec_of(model: builtins.type[EventData]) -> EventSpec:
    """The catalog entry of an event data model (one model, one type)."""
    return _BY_MODEL[model]
