"""The assistant's answer to data-subject requests (RGPD arts. 15 to 21).

- access and portability (arts. 15, 20): every conversation a signed-in citizen held with the assistant (index
  ``by-citizen``), with its transcript and the articles its answers used;
- erasure (art. 17): a conversation is part of no administrative file (category ``conversations``): erased. The
  transcript of a conversation handed over to a person travels in the case it opened, which the case domain keeps
  with the file (its own answer says so);
- rectification, restriction, objection: not applicable (a conversation holds no identity attribute and is shown to
  no one but its citizen).

Anonymous conversations name nobody and WhatsApp ones name a number, not a golden record: no request reaches them;
the store's TTL erases every conversation after ``CONVERSATION_DAYS`` (storage limitation, RGPD art. 5.1.e).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from events.rgpd import RgpdRequestOpened
from functions.assistant import service
from functions.assistant.service import AssistantStore, Conversation
from functions.core import rights
from functions.core.policy import Policy

DOMAIN = "assistant"
CONVERSATION_DAYS = 30

ErasurePlan = rights.Erasure[Conversation]
Answer = rights.Answer[ErasurePlan]


def export_of(conversations: list[Conversation]) -> dict[str, Any]:
    return rights.json_ready({"conversations": [service.conversation_view(c, None) for c in conversations]})


def plan_erasure(conversations: list[Conversation], policy: Policy, now: datetime) -> ErasurePlan:
    plan = ErasurePlan()
    if not conversations:
        return plan
    decision = rights.retention(policy, DOMAIN, "conversations", now)
    if decision.get("erase"):
        plan.erased.extend(conversations)
        what = "conversations with the virtual assistant and their transcripts"
        plan.actions.append(rights.erased(what, len(conversations), "conversations"))
    else:
        plan.actions.append(rights.kept("conversations with the virtual assistant", len(conversations), decision))
    return plan


def answer(data: RgpdRequestOpened, store: AssistantStore, policy: Policy, now: datetime) -> Answer:
    answering = rights.Answering(data, DOMAIN, now)
    if data.right in rights.EXPORT_RIGHTS:
        export = export_of(store.fetch_by_citizen(data.citizen_id))
        counts = {"conversations with the virtual assistant (transcripts)": len(export["conversations"])}
        return Answer(answering.with_export(export, rights.exported(counts)))
    if data.right == "erasure":
        plan = plan_erasure(store.fetch_by_citizen(data.citizen_id), policy, now)
        return Answer(answering.with_actions(rights.erasure_actions(plan.actions, policy, DOMAIN, now)), plan)
    return Answer(answering.not_applicable())
