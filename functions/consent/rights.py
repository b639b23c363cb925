"""The consent domain's answer to data-subject requests (RGPD arts. 15 to 21), and its projection of the
restriction/objection flags that ``policies/consent`` honours.

- ``export_of``: everything this domain holds about a citizen (consents in force, every proof,
  preferences, subscriptions, flags) — access (art. 15) and portability (art. 20).
- ``plan_erasure``: what an erasure (art. 17) deletes and what it keeps, each record asked of
  ``policies/rgpd/retention``: consent proofs are evidence (art. 7.1) kept while infringements can be
  prosecuted (LOPDGDD arts. 72-74); consents in force are withdrawn (with a proof) and erased with the
  preferences and subscriptions.
- ``answer``: the ``rgpd.domain.answered`` for one request; restriction and objection are answered once
  the flags from ``rgpd.flags.changed`` are projected (until then: 409, the broker retries).
What is held and kept is this domain's; the answer's envelope is ``functions.core.rights``. Plain functions
over the store, the policy and the terms: the entry points are in ``main.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from events.consent import ERASURE_CAPTURE_CHANNEL, Actor, ConsentChanged
from events.rgpd import DomainAction, RgpdFlagsChanged, RgpdRequestOpened
from functions.consent import service
from functions.consent.service import ConsentProof, ConsentStore, RgpdFlags, Subscription
from functions.consent.storage import proof_view
from functions.core import rights
from functions.core.outbox import stage_event
from functions.core.policy import Policy
from functions.core.store import UnitOfWork
from functions.core.terms import Terms

DOMAIN = "consent"
# One TransactWriteItems holds at most 100 items; proofs past their retention beyond this many are deleted
# before the answer's transaction (deleting twice is harmless, so a redelivery finishes the work).
MAX_DELETES_IN_TRANSACTION = 60
ERASURE_ACTOR = Actor(kind="system", id="pic-rgpd")


# ---- access and portability -------------------------------------------------------------------------


def export_of(citizen_id: str, store: ConsentStore, terms: Terms) -> dict[str, Any]:
    """Everything the consent domain holds about ``citizen_id``, as JSON-ready data."""
    state = store.fetch_state(citizen_id)
    preferences, _ = store.fetch_preferences(citizen_id)
    flags = store.fetch_flags(citizen_id)
    data = {
        "mode": state.mode,
        "consents": service.consent_entries(state, terms),
        "proofs": [proof_view(p) for p in store.fetch_all_proofs(citizen_id)],
        "preferences": preferences.model_dump(mode="json"),
        "subscriptions": [
            {"id": s.id, "topic": s.topic, "zone": s.zone.code, "zone_name": s.zone.name, "created_at": s.created_at}
            for s in store.fetch_subscriptions(citizen_id)
        ],
        "flags": {"restricted": flags.restricted, "objections": list(flags.objections), "changed_at": flags.changed_at},
    }
    return rights.json_ready(data)


def _export_actions(export: dict[str, Any]) -> list[DomainAction]:
    return rights.exported(
        {
            "consents in force, per purpose and channel": len(export["consents"]),
            "consent proofs (who, when, channel, text version)": len(export["proofs"]),
            "contact preferences (language, channels, quiet hours)": 1,
            "alert subscriptions by topic and zone": len(export["subscriptions"]),
            "restriction and objection flags": 1,
        }
    )


# ---- erasure ------------------------------------------------------------------------------------------


@dataclass
class ErasurePlan:
    """What an erasure does: each staged write, and the actions the answer reports."""

    withdrawals: list[tuple[ConsentProof, ConsentChanged]] = field(default_factory=list)
    erase_state: bool = False
    state_version: int | None = None
    erase_preferences: bool = False
    preferences_version: int | None = None
    subscriptions: list[Subscription] = field(default_factory=list)
    proofs_erased: list[ConsentProof] = field(default_factory=list)
    actions: list[DomainAction] = field(default_factory=list)


def retention(policy: Policy, category: str, record: dict[str, str], now: datetime) -> dict[str, Any]:
    """``policies/rgpd/retention`` for one record of this domain."""
    return rights.retention(policy, DOMAIN, category, now, record)


def plan_erasure(
    citizen_id: str, request_id: str, store: ConsentStore, policy: Policy, terms: Terms, now: datetime
) -> ErasurePlan:
    """Delete what may be deleted, keep what the retention policy says must be kept, and say why."""
    plan = ErasurePlan()
    state = store.fetch_state(citizen_id)
    for purpose, current in sorted(state.purposes.items()):
        if not current.granted:
            continue
        cmd = service.ChangeConsent(
            citizen_id=citizen_id,
            purpose=purpose,
            granted=False,
            channels=(),
            text_version=None,
            language="es",
            actor=ERASURE_ACTOR,
            capture_channel=ERASURE_CAPTURE_CHANNEL,
            access_purpose=f"RGPD art. 17 erasure request {request_id}",
        )
        outcome = service.change_consent(cmd, state, terms, now)
        if outcome.proof and outcome.event:
            plan.withdrawals.append((outcome.proof, outcome.event))
            state = outcome.state
    erasable = retention(policy, "consent-state", {}, now)["erase"]
    if plan.withdrawals:
        what = "consents in force withdrawn by the erasure (a withdrawal proof records each)"
        plan.actions.append(rights.erased(what, len(plan.withdrawals)))
    if state.purposes and erasable:
        plan.erase_state, plan.state_version = True, state.version
        plan.actions.append(rights.erased("consents in force (derived from the proofs)", 1))
    _, version = store.fetch_preferences(citizen_id)
    if version is not None and retention(policy, "preferences", {}, now)["erase"]:
        plan.erase_preferences, plan.preferences_version = True, version
        plan.actions.append(rights.erased("contact preferences", 1))
    subscriptions = store.fetch_subscriptions(citizen_id)
    if subscriptions and retention(policy, "subscriptions", {}, now)["erase"]:
        plan.subscriptions = subscriptions
        plan.actions.append(rights.erased("alert subscriptions", len(subscriptions)))
    _plan_proofs(plan, store.fetch_all_proofs(citizen_id), policy, now)
    flags = store.fetch_flags(citizen_id)
    if flags.changed_at is not None:
        decision = retention(policy, "flags", {}, now)
        plan.actions.append(rights.kept("restriction and objection flags", 1, decision))
    return plan


def _plan_proofs(plan: ErasurePlan, proofs: list[ConsentProof], policy: Policy, now: datetime) -> None:
    """Proofs past their retention are erased; the others (and the withdrawals just recorded) are kept."""
    kept: dict[str, Any] = {}
    kept_count = 0
    for proof in proofs:
        decision = retention(policy, "consent-proofs", {"recorded_at": proof.recorded_at.isoformat()}, now)
        if decision["erase"]:
            plan.proofs_erased.append(proof)
        else:
            kept_count += 1
            if not kept or str(decision.get("keep_until") or "") > str(kept.get("keep_until") or ""):
                kept = decision
    new_proofs = [p for p, _ in plan.withdrawals]
    if new_proofs:
        kept = retention(policy, "consent-proofs", {"recorded_at": new_proofs[-1].recorded_at.isoformat()}, now)
        kept_count += len(new_proofs)
    if plan.proofs_erased:
        plan.actions.append(rights.erased("consent proofs past their retention period", len(plan.proofs_erased)))
    if kept_count:
        plan.actions.append(rights.kept("consent proofs (evidence of consent and its withdrawal)", kept_count, kept))


def stage_erasure(
    uow: UnitOfWork, citizen_id: str, plan: ErasurePlan, store: ConsentStore, traceparent: str | None, now: datetime
) -> None:
    """Stage the plan's writes in ``uow`` (with the withdrawals' ``consent.changed`` events).

    Deletions beyond what one transaction holds are committed before it (``rights.stage_deletions``).
    """
    for proof, event in plan.withdrawals:
        store.stage_proof(uow, proof)
        stage_event(uow, event, subject=citizen_id, traceparent=traceparent, now=now)
    if plan.erase_state:
        store.stage_erase_state(uow, citizen_id, plan.state_version)
    if plan.erase_preferences:
        store.stage_erase_preferences(uow, citizen_id, plan.preferences_version)

    def stage_delete(unit: UnitOfWork, item: Subscription | ConsentProof) -> None:
        if isinstance(item, Subscription):
            store.stage_erase_subscription(unit, item)
        else:
            store.stage_erase_proof(unit, item)

    deletes: list[Subscription | ConsentProof] = [*plan.subscriptions, *plan.proofs_erased]
    rights.stage_deletions(uow, deletes, stage_delete, room=MAX_DELETES_IN_TRANSACTION)


# ---- restriction and objection --------------------------------------------------------------------


def project_flags(data: RgpdFlagsChanged, store: ConsentStore) -> UnitOfWork:
    """Keep the newest flags (latest ``changed_at`` wins); an older event changes nothing."""
    uow = UnitOfWork()
    current = store.fetch_flags(data.citizen_id)
    if current.changed_at is not None and current.changed_at >= data.changed_at:
        return uow
    flags = RgpdFlags(
        restricted=data.restricted, objections=tuple(sorted(set(data.objections))), changed_at=data.changed_at
    )
    store.stage_flags(uow, data.citizen_id, flags)
    return uow


def _flags_actions(data: RgpdRequestOpened, flags: RgpdFlags) -> list[DomainAction]:
    """What the projected flags make ``policies/consent`` do, once they reflect the request."""
    if data.right == "restriction":
        what = "contact decisions: only legal-obligation notices while processing is restricted"
        return rights.restriction(
            data, flags.restricted, flags.changed_at, what, "contact decisions: restriction lifted"
        )
    purposes = list(data.details.get("purposes", []))
    withdraw = bool(data.details.get("withdraw", False))
    rights.wait_for_flags(data, flags.changed_at, in_force=all((p in flags.objections) != withdraw for p in purposes))
    verb = "objection withdrawn for" if withdraw else "no contact for"
    return [
        DomainAction(
            what=f"contact decisions: {verb} purpose {p}", count=1, result="objected", legal_basis="RGPD art. 21"
        )
        for p in purposes
    ]


# ---- the answer ---------------------------------------------------------------------------------------


Answer = rights.Answer[ErasurePlan]


def answer(data: RgpdRequestOpened, store: ConsentStore, policy: Policy, terms: Terms, now: datetime) -> Answer:
    """This domain's answer to one request."""
    answering = rights.Answering(data, DOMAIN, now)
    if data.right in rights.EXPORT_RIGHTS:
        export = export_of(data.citizen_id, store, terms)
        return Answer(answering.with_export(export, _export_actions(export)))
    if data.right == "erasure":
        plan = plan_erasure(data.citizen_id, data.request_id, store, policy, terms, now)
        return Answer(answering.with_actions(rights.erasure_actions(plan.actions, policy, DOMAIN, now)), erasure=plan)
    if data.right in ("restriction", "objection"):
        return Answer(answering.event("done", _flags_actions(data, store.fetch_flags(data.citizen_id))))
    # rectification: this domain holds no identity attribute (names, birth date, e-mail, phone, address)
    return Answer(answering.not_applicable())
