"""The campaign domain's answer to data-subject requests (RGPD arts. 15 to 21).

- access and portability (arts. 15, 20): the person's audience row (what segments filter on: birth date,
  district, barrio, zones, reachable channels, consents, preferences, flags), exactly as held;
- erasure (art. 17): the row is erased, with the items linking the areas' records to the person (category
  ``audience``: a projection of other domains' data, no law keeps it; the originals follow their own domains'
  rules); a later event about the person builds it again only if its domain still announces them;
- rectification, restriction, objection: not applicable here (the row is a copy; the flags arrive with
  ``rgpd.flags.changed`` and ``policies/notifications`` excludes a restricted or objecting person from every
  campaign at send time).
Plain functions over the domain's port and the policy: the use case that runs them is in ``handlers.py``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

from events.rgpd import RgpdRequestOpened
from functions.campaign.service import CampaignStore, Held, record_of_holding
from functions.core import rights
from functions.core.policy import Policy

DOMAIN = "campaign"

ErasurePlan = rights.Erasure[str]
Answer = rights.Answer[ErasurePlan]


def export_of(held: Held | None) -> dict[str, Any]:
    """The audience row as held (JSON-ready), or nothing."""
    if held is None:
        return {"audience": []}
    return {"audience": [json.loads(json.dumps(asdict(held.row), default=str))]}


def answer(data: RgpdRequestOpened, store: CampaignStore, policy: Policy, now: datetime) -> Answer:
    """This domain's answer to one request."""
    answering = rights.Answering(data, DOMAIN, now)
    held = store.fetch_audience(data.citizen_id)
    if data.right in rights.EXPORT_RIGHTS:
        export = export_of(held)
        what = "the segments' audience row (birth date, district, zones, channels, consents, preferences, flags)"
        return Answer(answering.with_export(export, rights.exported({what: len(export["audience"])})))
    if data.right == "erasure":
        plan = ErasurePlan()
        if held is not None:
            records = [name for name in held.row.holdings if record_of_holding(name) is not None]
            plan.erased.extend([*records, data.citizen_id])
            plan.actions.append(rights.erased("the segments' audience row (a projection)", 1, "audience"))
            if records:
                what = "the links of the areas' records to the person, with their relationships (a projection)"
                plan.actions.append(rights.erased(what, len(records), "audience"))
        return Answer(answering.with_actions(rights.erasure_actions(plan.actions, policy, DOMAIN, now)), plan)
    return Answer(answering.not_applicable())
