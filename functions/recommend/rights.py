"""Recommendations' answer to data-subject requests (RGPD arts. 15 to 21).

- access and portability (arts. 15, 20): the profile REC projected (mode, flags, birth date, district and barrio,
  IBI receipts and how they were paid, direct debits, vehicles, cards held, bookings' categories, zones) and the
  person's feedback (rules hidden, suggestions marked not useful or useful);
- erasure (art. 17): everything (category ``suggestion-profile``): a copy of other domains' facts and the
  person's own feedback, which no law obliges the council to keep; projected again only from new events;
- restriction and objection: honoured by ``policies/recommend`` (no suggestions while restricted or objected
  to), from the flags REC projects; nothing to answer here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events.rgpd import RgpdRequestOpened
from functions.core import rights
from functions.core.policy import Policy
from functions.core.store import UnitOfWork
from functions.recommend.service import Profile, RecommendStore

DOMAIN = "recommend"


@dataclass(frozen=True)
class ProfileOf:
    citizen_id: str


ErasurePlan = rights.Erasure[ProfileOf]
Answer = rights.Answer[ErasurePlan]


def export_of(profile: Profile) -> dict[str, Any]:
    return rights.json_ready(profile.to_json())


def answer(data: RgpdRequestOpened, store: RecommendStore, policy: Policy, now: datetime) -> Answer:
    answering = rights.Answering(data, DOMAIN, now)
    profile = store.fetch_profile(data.citizen_id)
    held = profile.version is not None
    if data.right in rights.EXPORT_RIGHTS:
        counts = {"recommendation profile (projected facts and feedback)": int(held)}
        return Answer(answering.with_export(export_of(profile) if held else {}, rights.exported(counts)))
    if data.right == "erasure":
        plan = ErasurePlan()
        if held:
            plan.erased.append(ProfileOf(data.citizen_id))
            plan.actions.append(rights.erased("recommendation profile (projected facts and feedback)", 1,
                                              "suggestion-profile"))  # fmt: skip
        return Answer(answering.with_actions(rights.erasure_actions(plan.actions, policy, DOMAIN, now)), plan)
    return Answer(answering.not_applicable())


def stage_erasure(uow: UnitOfWork, item: ProfileOf, store: RecommendStore) -> None:
    store.stage_erase_profile(uow, item.citizen_id)
