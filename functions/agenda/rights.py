"""The agenda's answer to data-subject requests (RGPD arts. 15 to 21).

- access and portability (arts. 15, 20): the person's zones (home from the Padrón, the places they chose, whether
  they consented to location) and the events they saved;
- erasure (art. 17): both are erased (categories ``zones`` and ``saved-events``: nothing obliges the council to
  keep them); the council's events themselves are no one's personal data;
- rectification: the person edits their zones and saved events themselves (home is rectified in the Padrón);
  restriction and objection: the location consent is withdrawn through CON, which erases the chosen places.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events.rgpd import RgpdRequestOpened
from functions.agenda.service import AgendaStore, Zones
from functions.core import rights
from functions.core.policy import Policy
from functions.core.store import UnitOfWork

DOMAIN = "agenda"


@dataclass(frozen=True)
class PersonOf:
    """The person's zones and saved events, as an item to erase."""

    citizen_id: str


ErasurePlan = rights.Erasure[PersonOf]
Answer = rights.Answer[ErasurePlan]


def export_of(zones: Zones, saved: set[str]) -> dict[str, Any]:
    return rights.json_ready({
        "zones": [z.as_json() for z in zones.all],
        "home_barrio": zones.home_barrio,
        "location_consent": zones.location_consent,
        "saved_events": sorted(saved),
    })  # fmt: skip


def answer(data: RgpdRequestOpened, store: AgendaStore, policy: Policy, now: datetime) -> Answer:
    answering = rights.Answering(data, DOMAIN, now)
    zones, saved = store.fetch_zones(data.citizen_id), store.fetch_saved(data.citizen_id)
    held = bool(zones.revision or saved)
    if data.right in rights.EXPORT_RIGHTS:
        counts = {"zones": len(zones.all), "saved events": len(saved)}
        return Answer(answering.with_export(export_of(zones, saved), rights.exported(counts)))
    if data.right == "erasure" and held:
        plan = ErasurePlan()
        plan.erased.append(PersonOf(data.citizen_id))
        plan.actions.append(rights.erased("zones (home, work, leisure) and the location consent's copy",
                                          len(zones.all), "zones"))  # fmt: skip
        plan.actions.append(rights.erased("events saved to the personal agenda", len(saved), "saved-events"))
        return Answer(answering.with_actions(rights.erasure_actions(plan.actions, policy, DOMAIN, now)), plan)
    return Answer(answering.not_applicable())


def stage_erasure(uow: UnitOfWork, item: PersonOf, store: AgendaStore) -> None:
    store.stage_erase_person(uow, item.citizen_id)
