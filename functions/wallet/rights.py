"""The wallet's answer to data-subject requests (RGPD arts. 15 to 21).

- access and portability (arts. 15, 20): the cards issued to the person (type, vct, copies, dates, state and
  the reason of a revocation or suspension) and the facts eligibility reads (birth date, district, grants). The
  credentials themselves live in the person's wallet, never here: the issuer keeps only its record of them;
- erasure (art. 17): the issued cards are the issuer's record (category ``issued-cards``): kept while
  ``policies/rgpd/retention`` says (4 years after each card expires), because a revocation must stay effective
  while a copy can be presented, and the issuance must stay demonstrable; the projected facts
  (``eligibility-facts``) are a copy of C360's and the areas' records and are erased;
- rectification, restriction, objection: not applicable here (the facts are rectified at their source, the
  Padrón or the area, and projected again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events.rgpd import RgpdRequestOpened
from functions.core import rights
from functions.core.policy import Policy
from functions.core.store import UnitOfWork
from functions.wallet.service import Card, Facts, WalletStore

DOMAIN = "wallet"


@dataclass(frozen=True)
class FactsOf:
    """The person's projected facts, as an item to erase."""

    citizen_id: str


ErasurePlan = rights.Erasure[FactsOf]
Answer = rights.Answer[ErasurePlan]


def export_of(cards: list[Card], facts: Facts) -> dict[str, Any]:
    return rights.json_ready({
        "cards": [
            {"card_id": c.card_id, "card_type": c.card_type, "vct": c.vct, "copies": c.copies, "state": c.state,
             "reason": c.reason, "issued_at": c.issued_at, "expires_at": c.expires_at, "changed_at": c.changed_at}
            for c in cards
        ],
        "facts": {
            "birth_date": facts.birth_date, "district": facts.district, "grants": sorted(facts.grants),
        },
    })  # fmt: skip


def has_facts(facts: Facts) -> bool:
    return facts.version is not None


def plan_erasure(cards: list[Card], facts: Facts, policy: Policy, now: datetime) -> ErasurePlan:
    """Keep each issued card for its retention period (grouped by legal basis), erase the projected facts."""
    plan = ErasurePlan()
    decisions = (
        rights.retention(policy, DOMAIN, "issued-cards", now, {"expires_at": c.expires_at.isoformat()}) for c in cards
    )
    plan.actions.extend(rights.kept_by_basis("cards issued to the person (the issuer's record)", decisions))
    if has_facts(facts):
        plan.erased.append(FactsOf(facts.citizen_id))
        plan.actions.append(rights.erased("eligibility facts (birth date, district, grants)", 1, "eligibility-facts"))
    return plan


def answer(data: RgpdRequestOpened, store: WalletStore, policy: Policy, now: datetime) -> Answer:
    answering = rights.Answering(data, DOMAIN, now)
    if data.right in rights.EXPORT_RIGHTS:
        cards, facts = store.fetch_cards(data.citizen_id), store.fetch_facts(data.citizen_id)
        counts = {"cards issued": len(cards), "eligibility facts": int(has_facts(facts))}
        return Answer(answering.with_export(export_of(cards, facts), rights.exported(counts)))
    if data.right == "erasure":
        plan = plan_erasure(store.fetch_cards(data.citizen_id), store.fetch_facts(data.citizen_id), policy, now)
        return Answer(answering.with_actions(rights.erasure_actions(plan.actions, policy, DOMAIN, now)), plan)
    return Answer(answering.not_applicable())


def stage_erasure(uow: UnitOfWork, item: FactsOf, store: WalletStore) -> None:
    store.stage_erase_facts(uow, item.citizen_id)
