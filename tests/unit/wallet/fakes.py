"""An in-memory ``WalletStore`` (``functions.wallet.service``) over the shared ``Ledger``: every item is versioned
as its DynamoDB item is (a unit that read an older version loses the race at commit), a new one must be absent,
and a used nonce must still be there — so the credential endpoint's "nothing issued twice" is testable here."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from functions.core.store import UnitOfWork
from functions.wallet.service import AccessToken, Card, CardType, Facts, ListState, Nonce, Offer
from tests.unit.fakes import Ledger


@dataclass
class FakeWalletStore:
    ledger: Ledger = field(default_factory=Ledger)
    items: dict[str, Any] = field(default_factory=dict)
    current: dict[str, str] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)

    def commit(self, uow: UnitOfWork) -> None:
        self.ledger.commit(uow)

    def _get(self, key: str) -> Any:
        self.reads.append(key)
        held = self.items.get(key)
        return (
            replace(held, version=self.ledger.version(key)) if held is not None and hasattr(held, "version") else held
        )

    def _put(self, uow: UnitOfWork, key: str, value: Any, expected: int | None) -> None:
        self.ledger.stage(uow, key, expected, lambda: self.items.__setitem__(key, value))

    # ---- reads ----
    def fetch_types(self) -> dict[str, CardType]:
        return {k.removeprefix("type#"): v for k, v in self.items.items() if k.startswith("type#")}

    def fetch_facts(self, citizen_id: str) -> Facts:
        return self._get(f"facts#{citizen_id}") or Facts(citizen_id)

    def fetch_offer(self, code_digest: str) -> Offer | None:
        return self._get(f"offer#{code_digest}")  # type: ignore[no-any-return]

    def fetch_token(self, token_digest: str) -> AccessToken | None:
        return self._get(f"token#{token_digest}")  # type: ignore[no-any-return]

    def fetch_nonce(self, nonce_digest: str) -> Nonce | None:
        return self._get(f"nonce#{nonce_digest}")  # type: ignore[no-any-return]

    def fetch_cards(self, citizen_id: str) -> list[Card]:
        cards = [self._get(k) for k, v in self.items.items() if k.startswith("card#") and v.citizen_id == citizen_id]
        return sorted(cards, key=lambda c: c.issued_at)

    def fetch_card(self, card_id: str) -> Card | None:
        return self._get(f"card#{card_id}")  # type: ignore[no-any-return]

    def fetch_current_list(self, card_type_id: str) -> ListState | None:
        list_id = self.current.get(card_type_id)
        return self.fetch_list(list_id) if list_id else None

    def fetch_list(self, list_id: str) -> ListState | None:
        return self._get(f"list#{list_id}")  # type: ignore[no-any-return]

    # ---- writes ----
    def stage_type(self, uow: UnitOfWork, t: CardType) -> None:
        self._put(uow, f"type#{t.id}", t, t.version - 1 or None)

    def stage_facts(self, uow: UnitOfWork, facts: Facts) -> None:
        self._put(uow, f"facts#{facts.citizen_id}", facts, facts.version)

    def stage_offer(self, uow: UnitOfWork, offer: Offer) -> None:
        self._put(uow, f"offer#{offer.code_digest}", offer, offer.version)

    def stage_token(self, uow: UnitOfWork, token: AccessToken) -> None:
        self._put(uow, f"token#{token.token_digest}", token, token.version)

    def stage_nonce(self, uow: UnitOfWork, nonce: Nonce) -> None:
        self._put(uow, f"nonce#{nonce.nonce_digest}", nonce, None)

    def stage_use_nonce(self, uow: UnitOfWork, nonce: Nonce) -> None:
        key = f"nonce#{nonce.nonce_digest}"
        apply = lambda: self.items.pop(key, None)  # noqa: E731
        self.ledger.stage(uow, key, self.ledger.version(key) or -1, apply, deletes=True)

    def stage_card(self, uow: UnitOfWork, card: Card) -> None:
        self._put(uow, f"card#{card.card_id}", card, card.version)

    def stage_list(self, uow: UnitOfWork, state: ListState, current: bool) -> None:
        self._put(uow, f"list#{state.list_id}", state, state.version)
        if current:
            set_current = lambda: self.current.__setitem__(state.card_type, state.list_id)  # noqa: E731
            self.ledger.stage(uow, f"current#{state.card_type}", None, set_current, any_version=True)

    def stage_erase_facts(self, uow: UnitOfWork, citizen_id: str) -> None:
        key = f"facts#{citizen_id}"
        apply = lambda: self.items.pop(key, None)  # noqa: E731
        self.ledger.stage(uow, key, None, apply, any_version=True, deletes=True)
