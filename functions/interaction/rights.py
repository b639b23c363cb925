"""The interaction log's answer to data-subject requests (RGPD arts. 15 to 21).

- access and portability (arts. 15, 20): every interaction attached to the person's ``citizen_id`` (index
  ``by-citizen``): those recorded with it, and those recorded against an area system's record (``record``:
  source + local_id) that C360 links to the person (this domain projects ``citizen.updated`` and stamps them),
  as the API shows them: channel detail, area, topic, outcome, times, agent, case;
- erasure (art. 17): each interaction asked of ``policies/rgpd/retention``: one that concerns an
  administrative file (``case_id``, category ``case-interactions``) follows that file and is kept (Ley
  39/2015 arts. 17 and 70: the file's documents are kept in the Administration's archive); the others
  (category ``interactions``) are erased; and this domain's copy of C360's links of the person's records
  (index ``by-linked-citizen``) is erased with them;
- rectification, restriction, objection: not applicable (the log holds no identity attribute; the
  restriction is honoured where interactions are shown, the global position; the log runs no campaign).
An interaction recorded against a record C360 has not linked yet is not found by the person's id until the
link arrives (the global position exports and erases its own copy of those).
What is held and kept is this domain's; the answer's envelope is ``functions.core.rights``. Plain functions
over the domain's port and the policy: the use case that runs them is in ``handlers.py``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from events.rgpd import RgpdRequestOpened
from functions.core import rights
from functions.core.links import RecordLinks
from functions.core.policy import Policy
from functions.core.store import UnitOfWork
from functions.interaction import service
from functions.interaction.service import InteractionStore, Stored

DOMAIN = "interaction"

ErasurePlan = rights.Erasure[Stored | RecordLinks]
Answer = rights.Answer[ErasurePlan]


def category_of(stored: Stored) -> str:
    """The retention category: an interaction about an administrative file (expediente) follows the file."""
    return "case-interactions" if stored.interaction.case_id else "interactions"


# ---- access and portability -------------------------------------------------------------------------


def export_of(interactions: list[Stored]) -> dict[str, Any]:
    """Every interaction attached to the person's id, as the API shows it (JSON-ready)."""
    return {"interactions": [json.loads(json.dumps(service.view(s), default=str)) for s in interactions]}


# ---- erasure ------------------------------------------------------------------------------------------


def retention(policy: Policy, category: str, stored: Stored, now: datetime) -> dict[str, Any]:
    """``policies/rgpd/retention`` for one interaction."""
    return rights.retention(policy, DOMAIN, category, now, {"recorded_at": stored.recorded_at.isoformat()})


def plan_erasure(
    interactions: list[Stored], policy: Policy, now: datetime, links: list[RecordLinks] | None = None
) -> ErasurePlan:
    """Erase what no law keeps; keep the rest, grouped by category and legal basis, and say why. The links of
    the person's records (``links``) always go: they only serve to attach interactions to the person."""
    plan = ErasurePlan()
    kept: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
    for stored in interactions:
        category = category_of(stored)
        decision = retention(policy, category, stored, now)
        if decision["erase"]:
            plan.erased.append(stored)
        else:
            key = (category, rights.legal_basis(decision))
            kept[key] = (kept.get(key, (0, decision))[0] + 1, decision)
    if plan.erased:
        what = "interactions (office visits, calls, chats, messages, app sessions) no law keeps"
        plan.actions.append(rights.erased(what, len(plan.erased), "interactions"))
    if links:
        plan.erased.extend(links)
        plan.actions.append(
            rights.erased("links of area-system records to the person (C360 announces them again)", len(links))
        )
    for (category, _), (count, decision) in sorted(kept.items(), key=lambda entry: entry[0]):
        what = (
            "interactions about an administrative file (case), kept with the file"
            if category == "case-interactions"
            else f"interactions of category {category}"
        )
        plan.actions.append(rights.kept(what, count, decision))
    return plan


# ---- the answer ---------------------------------------------------------------------------------------


def answer(data: RgpdRequestOpened, store: InteractionStore, policy: Policy, now: datetime) -> Answer:
    """This domain's answer to one request."""
    answering = rights.Answering(data, DOMAIN, now)
    if data.right in rights.EXPORT_RIGHTS:
        export = export_of(store.fetch_by_citizen(data.citizen_id))
        what = "interactions (channel, area, topic, outcome, times, agent, case)"
        return Answer(answering.with_export(export, rights.exported({what: len(export["interactions"])})))
    if data.right == "erasure":
        links = store.fetch_records_of(data.citizen_id)
        plan = plan_erasure(store.fetch_by_citizen(data.citizen_id), policy, now, links)
        return Answer(answering.with_actions(rights.erasure_actions(plan.actions, policy, DOMAIN, now)), plan)
    return Answer(answering.not_applicable())


def stage_erasure(uow: UnitOfWork, erased: Stored | RecordLinks, store: InteractionStore) -> None:
    """One deletion of the plan: an interaction, or the link of one of the person's records."""
    if isinstance(erased, Stored):
        store.stage_erase(uow, erased)
    else:
        store.stage_erase_record(uow, erased)
