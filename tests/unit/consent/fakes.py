"""An in-memory ``ConsentStore`` (``functions.consent.service``): the consent handlers' unit tests run on it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from events.consent import Preferences
from functions.consent.service import ConsentProof, ConsentState, RgpdFlags, Subscription
from functions.core.store import UnitOfWork
from tests.unit.fakes import Ledger


@dataclass
class FakeConsentStore:
    ledger: Ledger = field(default_factory=Ledger)
    states: dict[str, ConsentState] = field(default_factory=dict)
    proofs: list[ConsentProof] = field(default_factory=list)
    preferences: dict[str, Preferences] = field(default_factory=dict)
    subscriptions: dict[tuple[str, str], Subscription] = field(default_factory=dict)
    flags: dict[str, RgpdFlags] = field(default_factory=dict)

    def commit(self, uow: UnitOfWork) -> None:
        self.ledger.commit(uow)

    # ---- reads --------------------------------------------------------------------------------------
    def fetch_state(self, citizen_id: str) -> ConsentState:
        state = self.states.get(citizen_id, ConsentState(citizen_id=citizen_id))
        return replace(state, version=self.ledger.version(f"state#{citizen_id}"))

    def fetch_history(
        self, citizen_id: str, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[ConsentProof], str | None]:
        mine = [p for p in reversed(self.proofs) if p.citizen_id == citizen_id]
        return mine[:limit], None

    def fetch_all_proofs(self, citizen_id: str) -> list[ConsentProof]:
        return [p for p in self.proofs if p.citizen_id == citizen_id]

    def fetch_preferences(self, citizen_id: str) -> tuple[Preferences, int | None]:
        return self.preferences.get(citizen_id, Preferences()), self.ledger.version(f"preferences#{citizen_id}")

    def fetch_subscriptions(self, citizen_id: str) -> list[Subscription]:
        return [s for (c, _), s in self.subscriptions.items() if c == citizen_id]

    def fetch_subscription(self, citizen_id: str, subscription_id: str) -> Subscription | None:
        return self.subscriptions.get((citizen_id, subscription_id))

    def fetch_flags(self, citizen_id: str) -> RgpdFlags:
        return self.flags.get(citizen_id, RgpdFlags())

    # ---- writes, applied when the unit commits -------------------------------------------------------
    def stage_consent_change(self, uow: UnitOfWork, state: ConsentState, proof: ConsentProof, now: datetime) -> None:
        key = f"state#{state.citizen_id}"
        self.ledger.stage(uow, key, state.version, lambda: self.states.__setitem__(state.citizen_id, state))
        self.stage_proof(uow, proof)

    def stage_proof(self, uow: UnitOfWork, proof: ConsentProof) -> None:
        self.ledger.stage(uow, f"proof#{proof.proof_id}", None, lambda: self.proofs.append(proof))

    def stage_preferences(
        self, uow: UnitOfWork, citizen_id: str, preferences: Preferences, version: int | None, now: datetime
    ) -> None:
        apply = lambda: self.preferences.__setitem__(citizen_id, preferences)  # noqa: E731
        self.ledger.stage(uow, f"preferences#{citizen_id}", version, apply)

    def stage_subscription(self, uow: UnitOfWork, sub: Subscription) -> None:
        key = (sub.citizen_id, sub.id)
        self.ledger.stage(uow, f"sub#{sub.citizen_id}#{sub.id}", None, lambda: self.subscriptions.__setitem__(key, sub))

    def stage_unsubscribe(self, uow: UnitOfWork, sub: Subscription) -> None:
        key = f"sub#{sub.citizen_id}#{sub.id}"
        self.ledger.stage(uow, key, self.ledger.version(key), lambda: self.subscriptions.pop((sub.citizen_id, sub.id)))

    def stage_flags(self, uow: UnitOfWork, citizen_id: str, flags: RgpdFlags) -> None:
        apply = lambda: self.flags.__setitem__(citizen_id, flags)  # noqa: E731
        self.ledger.stage(uow, f"flags#{citizen_id}", None, apply, any_version=True)

    def stage_erase_state(self, uow: UnitOfWork, citizen_id: str, version: int | None) -> None:
        self.ledger.stage(uow, f"state#{citizen_id}", version, lambda: self.states.pop(citizen_id, None))

    def stage_erase_preferences(self, uow: UnitOfWork, citizen_id: str, version: int | None) -> None:
        self.ledger.stage(uow, f"preferences#{citizen_id}", version, lambda: self.preferences.pop(citizen_id, None))

    def stage_erase_subscription(self, uow: UnitOfWork, sub: Subscription) -> None:
        self.stage_unsubscribe(uow, sub)

    def stage_erase_proof(self, uow: UnitOfWork, proof: ConsentProof) -> None:
        self.ledger.stage(uow, f"erase#{proof.proof_id}", None, lambda: self.proofs.remove(proof))
