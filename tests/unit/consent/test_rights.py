"""The consent domain's answer to data-subject requests, over an in-memory store and the real Rego policies."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events.consent import Actor, Preferences
from events.rgpd import RgpdFlagsChanged, RgpdRequestOpened
from functions.consent import rights, service
from functions.consent.service import ConsentProof, ConsentState, RgpdFlags, Subscription
from functions.core import rights as core_rights
from functions.core.errors import ConflictError
from functions.core.madrid import find_zone
from functions.core.policy import EmbeddedPolicy
from functions.core.store import UnitOfWork
from functions.core.terms import Terms
from tests.unit.rgpd_support import assert_staged_beside_the_answer, rgpd_request

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class FakeStore:
    """The rights port in memory: what was staged is recorded by kind, so a test reads the plan's writes."""

    state: ConsentState
    proofs: list[ConsentProof] = field(default_factory=list)
    preferences: tuple[Preferences, int | None] = (Preferences(), None)
    subscriptions: list[Subscription] = field(default_factory=list)
    flags: RgpdFlags = field(default_factory=RgpdFlags)
    staged: list[tuple[str, Any]] = field(default_factory=list)
    units: list[UnitOfWork] = field(default_factory=list)  # the unit each subscription or proof deletion went to

    def fetch_state(self, citizen_id: str) -> ConsentState:
        return self.state

    def fetch_all_proofs(self, citizen_id: str) -> list[ConsentProof]:
        return list(self.proofs)

    def fetch_preferences(self, citizen_id: str) -> tuple[Preferences, int | None]:
        return self.preferences

    def fetch_subscriptions(self, citizen_id: str) -> list[Subscription]:
        return list(self.subscriptions)

    def fetch_flags(self, citizen_id: str) -> RgpdFlags:
        return self.flags

    def stage_flags(self, uow: UnitOfWork, citizen_id: str, flags: RgpdFlags) -> None:
        self.staged.append(("flags", flags))

    def stage_proof(self, uow: UnitOfWork, proof: ConsentProof) -> None:
        self.staged.append(("proof", proof))

    def stage_erase_state(self, uow: UnitOfWork, citizen_id: str, version: int | None) -> None:
        self.staged.append(("erase-state", version))

    def stage_erase_preferences(self, uow: UnitOfWork, citizen_id: str, version: int | None) -> None:
        self.staged.append(("erase-preferences", version))

    def stage_erase_subscription(self, uow: UnitOfWork, sub: Subscription) -> None:
        self.staged.append(("erase-subscription", sub.id))
        self.units.append(uow)

    def stage_erase_proof(self, uow: UnitOfWork, proof: ConsentProof) -> None:
        self.staged.append(("erase-proof", proof.proof_id))
        self.units.append(uow)


def a_citizen(terms: Terms, proofs_recorded: list[datetime]) -> FakeStore:
    """A citizen who gave campaigns by e-mail (one proof per date given), with preferences and a subscription."""
    actor = Actor(kind="citizen", id="c-1")
    state = ConsentState("c-1", version=3)
    proofs = []
    for at in proofs_recorded:
        cmd = service.ChangeConsent("c-1", "campaigns", True, ("email",), "2026-01", "es", actor, "app")
        outcome = service.change_consent(cmd, replace(state, purposes={}), terms, at)
        assert outcome.proof is not None
        proofs.append(outcome.proof)
        state = replace(outcome.state, version=3)
    zone = find_zone("01")
    assert zone is not None
    return FakeStore(
        state=state,
        proofs=proofs,
        preferences=(Preferences(language="en"), 2),
        subscriptions=[Subscription("traffic.01", "c-1", "traffic", zone, NOW)],
    )


def opened(right: str, **details: Any) -> RgpdRequestOpened:
    return rgpd_request(right, "c-1", NOW, **details)


def test_access_exports_everything_held(terms: Terms, policy: EmbeddedPolicy) -> None:
    # GIVEN a citizen with one proof, preferences and a subscription
    store = a_citizen(terms, [NOW - timedelta(days=30)])

    # WHEN the consent domain answers an access request
    result = rights.answer(opened("access"), store, policy, terms, NOW)

    # THEN it exports proofs, preferences, subscriptions, consents and flags, and says how many of each
    assert result.event.outcome == "done"
    export = result.event.export
    assert export is not None
    assert [p["purpose"] for p in export["proofs"]] == ["campaigns"]
    assert export["preferences"]["language"] == "en"
    assert export["subscriptions"][0]["id"] == "traffic.01"
    counts = {a.what: a.count for a in result.event.actions}
    assert counts["consent proofs (who, when, channel, text version)"] == 1
    assert {a.result for a in result.event.actions} == {"exported"}


def test_erasure_keeps_recent_proofs_with_their_basis_and_erases_old_ones(terms: Terms, policy: EmbeddedPolicy) -> None:
    # GIVEN proofs from five years ago (past the 3-year prescription) and from last month
    store = a_citizen(terms, [NOW - timedelta(days=5 * 365), NOW - timedelta(days=30)])

    # WHEN the consent domain answers an erasure
    result = rights.answer(opened("erasure"), store, policy, terms, NOW)
    assert result.erasure is not None
    rights.stage_erasure(UnitOfWork(), "c-1", result.erasure, store, None, NOW)

    # THEN the consent is withdrawn with a proof, state, preferences and subscription are erased at the
    # versions read, the old proof is erased, and the recent proof and the withdrawal are kept
    kinds = [kind for kind, _ in store.staged]
    assert kinds.count("proof") == 1
    assert ("erase-state", 3) in store.staged and ("erase-preferences", 2) in store.staged
    assert ("erase-subscription", "traffic.01") in store.staged
    assert ("erase-proof", store.proofs[0].proof_id) in store.staged
    actions = {a.category: a for a in result.event.actions if a.result == "kept"}
    assert set(actions) == {"consent-proofs", "outbox-events", "request-replays"}
    kept = actions["consent-proofs"]
    assert kept.count == 2
    assert kept.legal_basis is not None and "RGPD art. 7.1" in kept.legal_basis
    assert "kept until 2029-03-02" in kept.what
    erased = {a.what: a.count for a in result.event.actions if a.result == "erased"}
    assert erased["consent proofs past their retention period"] == 1


def test_a_large_erasure_deletes_beyond_one_transaction_at_once(terms: Terms, policy: EmbeddedPolicy) -> None:
    # GIVEN more old proofs than one transaction holds
    store = a_citizen(terms, [NOW - timedelta(days=5 * 365, minutes=i) for i in range(70)])
    result = rights.answer(opened("erasure"), store, policy, terms, NOW)
    assert result.erasure is not None
    answer_unit = UnitOfWork()
    rights.stage_erasure(answer_unit, "c-1", result.erasure, store, None, NOW)
    kinds = [kind for kind, _ in store.staged]
    assert kinds.count("erase-subscription") + kinds.count("erase-proof") == 71
    assert_staged_beside_the_answer(store.units, answer_unit, rights.MAX_DELETES_IN_TRANSACTION)


def test_an_erasure_of_nothing_is_not_applicable(terms: Terms, policy: EmbeddedPolicy) -> None:
    store = FakeStore(state=ConsentState("c-1"))
    result = rights.answer(opened("erasure"), store, policy, terms, NOW)
    assert result.event.outcome == "not-applicable" and result.event.actions == []


def test_rectification_is_not_applicable_here(terms: Terms, policy: EmbeddedPolicy) -> None:
    result = rights.answer(
        opened("rectification", fields={"email": "a@b.es"}), FakeStore(ConsentState("c-1")), policy, terms, NOW
    )
    assert result.event.outcome == "not-applicable"


def test_a_restriction_is_answered_once_the_flags_are_projected(terms: Terms, policy: EmbeddedPolicy) -> None:
    # GIVEN the flags event has not arrived yet
    store = FakeStore(ConsentState("c-1"))
    with pytest.raises(ConflictError):
        rights.answer(opened("restriction", grounds="unlawful-processing"), store, policy, terms, NOW)

    # WHEN it has, THEN the answer says contact is restricted, on RGPD art. 18
    store.flags = RgpdFlags(restricted=True, changed_at=NOW)
    result = rights.answer(opened("restriction", grounds="unlawful-processing"), store, policy, terms, NOW)
    assert [(a.result, a.legal_basis) for a in result.event.actions] == [("restricted", "RGPD art. 18")]


def test_an_objection_already_in_force_is_answered_without_waiting(terms: Terms, policy: EmbeddedPolicy) -> None:
    store = FakeStore(ConsentState("c-1"), flags=RgpdFlags(objections=("surveys",), changed_at=NOW - timedelta(days=1)))
    result = rights.answer(opened("objection", purposes=["surveys"]), store, policy, terms, NOW)
    assert [a.result for a in result.event.actions] == ["objected"]


def test_newer_flags_win_and_older_ones_change_nothing() -> None:
    store = FakeStore(ConsentState("c-1"), flags=RgpdFlags(restricted=True, changed_at=NOW))
    older = RgpdFlagsChanged(citizen_id="c-1", restricted=False, objections=[], changed_at=NOW - timedelta(seconds=1))
    assert len(rights.project_flags(older, store)) == 0 and store.staged == []
    newer = RgpdFlagsChanged(
        citizen_id="c-1", restricted=False, objections=["surveys"], changed_at=NOW + timedelta(seconds=1)
    )
    rights.project_flags(newer, store)
    assert store.staged == [("flags", RgpdFlags(False, ("surveys",), newer.changed_at))]


def test_the_contact_question_carries_the_flags() -> None:
    flags = RgpdFlags(restricted=True, objections=("surveys",), changed_at=NOW)
    question = service.contact_question(ConsentState("c-1"), Preferences(), "surveys", "email", NOW, flags=flags)
    citizen = question["citizen"]
    assert isinstance(citizen, dict)
    assert citizen["flags"] == {"restricted": True, "objections": ["surveys"]}


def test_an_export_too_large_for_one_event_is_a_visible_failure(
    terms: Terms, policy: EmbeddedPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core_rights, "MAX_EXPORT_CHARS", 100)
    result = rights.answer(opened("access"), a_citizen(terms, [NOW]), policy, terms, NOW)
    assert result.event.outcome == "failed" and result.event.export is None
    assert result.event.reason is not None and "delivered by reference" in result.event.reason
