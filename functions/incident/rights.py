"""Incidents' answer to data-subject requests (RGPD arts. 15 to 21).

- access and portability (arts. 15, 20): the reports the person made (service, place, description, stage, photos
  count, when) and those they follow ("me too");
- erasure (art. 17): the person is taken out of each report (category ``incident-reporters``): reporter, follower
  and any contact details an Open311 form gave. The report itself stays, anonymous: it is about the public way,
  its area is still fixing it and it is already public on the Open311 API (recital 26: without the person it is
  not personal data). The case it opened is CASE's to answer.
- rectification, restriction, objection: not applicable here (the report's text is the person's own public
  statement; a stage is the council's).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from events.rgpd import RgpdRequestOpened
from functions.core import rights
from functions.core.policy import Policy
from functions.incident.service import Incident

if TYPE_CHECKING:
    from functions.incident.service import IncidentStore

DOMAIN = "incident"
CATEGORY = "incident-reporters"

ErasurePlan = rights.Erasure[Incident]
Answer = rights.Answer[ErasurePlan]


def export_of(incidents: list[Incident], citizen_id: str) -> dict[str, Any]:
    return rights.json_ready({
        "reports": [
            {"id": i.id, "role": "reporter" if i.citizen_id == citizen_id else "follower",
             "service_code": i.service_code, "lat": i.lat, "long": i.lon, "address": i.address,
             "description": i.description, "stage": i.stage, "photos": i.photos, "requested_at": i.requested_at,
             "updated_at": i.updated_at}
            for i in incidents
        ]
    })  # fmt: skip


def answer(data: RgpdRequestOpened, store: IncidentStore, policy: Policy, now: datetime) -> Answer:
    answering = rights.Answering(data, DOMAIN, now)
    if data.right in rights.EXPORT_RIGHTS:
        found = store.fetch_of_citizen(data.citizen_id)
        reported = sum(1 for i in found if i.citizen_id == data.citizen_id)
        counts = {"incident reports made": reported, "incident reports followed": len(found) - reported}
        return Answer(answering.with_export(export_of(found, data.citizen_id), rights.exported(counts)))
    if data.right == "erasure":
        found = store.fetch_of_citizen(data.citizen_id)
        plan = ErasurePlan()
        if found:
            decision = rights.retention(policy, DOMAIN, CATEGORY, now)
            what = "the person's link to incident reports (the reports stay, anonymous)"
            if decision["erase"]:
                plan.erased.extend(found)
                plan.actions.append(rights.erased(what, len(found), CATEGORY))
            else:
                plan.actions.append(rights.kept(what, len(found), decision))
        return Answer(answering.with_actions(rights.erasure_actions(plan.actions, policy, DOMAIN, now)), plan)
    return Answer(answering.not_applicable())
