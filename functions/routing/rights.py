"""The routing domain's answer to data-subject requests (RGPD arts. 15 to 21).

- access and portability (arts. 15, 20): the person's contacts (calls, chats, WhatsApp conversations routed to a
  queue) and office tickets this domain holds with their id (index ``by-citizen``): queue, times, states, agent;
- erasure (art. 17): routing records (category ``routing-records`` of ``policies/rgpd/retention``) are kept for
  the queues' statistics only, which need no person: the person's id, their record and what the contact was about
  are removed and the times stay, anonymous (the interaction log keeps its own copy under its own rules);
- rectification, restriction, objection: not applicable (no identity attribute; routing runs no campaign).
A contact carries a citizen id only when it is known (identified in the IVR, by the connector or by the agent).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from events.rgpd import RgpdRequestOpened
from functions.core import rights
from functions.core.policy import Policy
from functions.core.store import UnitOfWork
from functions.routing import service
from functions.routing.service import Contact, RoutingStore, Ticket

DOMAIN = "routing"
CATEGORY = "routing-records"

ErasurePlan = rights.Erasure[Contact | Ticket]
Answer = rights.Answer[ErasurePlan]


def export_of(contacts: list[Contact], tickets: list[Ticket]) -> dict[str, Any]:
    shown = [{**service.view(c), "citizen_id": c.citizen_id} for c in contacts]
    visits = [{"id": t.id, "office": t.office, "ticket": t.ticket, "queue": t.queue, "service": t.service,
               "state": t.state, "issued_at": t.issued_at, "called_at": t.called_at, "ended_at": t.ended_at,
               "desk": t.desk} for t in tickets]  # fmt: skip
    return json.loads(json.dumps({"contacts": shown, "office_tickets": visits}, default=str))  # type: ignore[no-any-return]


def plan_erasure(contacts: list[Contact], tickets: list[Ticket], policy: Policy, now: datetime) -> ErasurePlan:
    plan = ErasurePlan()
    held: list[Contact | Ticket] = [*contacts, *tickets]
    if not held:
        return plan
    decision = rights.retention(policy, DOMAIN, CATEGORY, now)
    if decision.get("erase"):
        plan.erased.extend(held)
        plan.actions.append(rights.erased("the person's id on contacts and office tickets (their times stay, "
                                          "anonymous, in the queues' statistics)", len(held), CATEGORY))  # fmt: skip
    else:
        plan.actions.append(rights.kept("contacts and office tickets", len(held), decision))
    return plan


def answer(data: RgpdRequestOpened, store: RoutingStore, policy: Policy, now: datetime) -> Answer:
    answering = rights.Answering(data, DOMAIN, now)
    contacts, tickets = store.fetch_by_citizen(data.citizen_id), store.fetch_tickets_by_citizen(data.citizen_id)
    if data.right in rights.EXPORT_RIGHTS:
        export = export_of(contacts, tickets)
        counts = {"contacts (queue, times, states, agent)": len(contacts), "office tickets": len(tickets)}
        return Answer(answering.with_export(export, rights.exported(counts)))
    if data.right == "erasure":
        plan = plan_erasure(contacts, tickets, policy, now)
        return Answer(answering.with_actions(rights.erasure_actions(plan.actions, policy, DOMAIN, now)), plan)
    return Answer(answering.not_applicable())


def stage_erasure(uow: UnitOfWork, erased: Contact | Ticket, store: RoutingStore) -> None:
    """The record stays for the statistics, without who it was (under the version read: a change meanwhile
    loses the race and the answer is decided again)."""
    if isinstance(erased, Contact):
        store.stage_erase_contact(uow, erased)
    else:
        store.stage_erase_ticket(uow, erased)
