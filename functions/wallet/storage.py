"""Wallet storage: one DynamoDB table ``wallet`` (ADR 0002), keyed by ``id``, one item kind per prefix.

- ``type#<card type>``: an admin's edit of a card type (JSON), written under its version (the seeds in
  ``data/card_types.json`` are version 0 and never stored);
- ``facts#<citizen_id>``: what eligibility reads (projected birth date, district, grants), under its version;
- ``offer#<sha256 of the pre-authorized code>``, ``token#<sha256 of the access token>``,
  ``nonce#<sha256 of the c_nonce>``: the one-time secrets, by digest only; TTL ``expires_at`` removes them
  (an expired one is refused before the TTL sweeps it: DynamoDB deletes within days, not at the second);
- ``card#<card_id>``: one issuance, its copies' (list, index) and state, under its version; index
  ``by-citizen`` (``citizen_id``, ``issued_at``): the citizen's cards (the wallet page, RGPD answers);
- ``list#<list id>``: a status list: its statuses (2 bits an entry) and its allocation bitmap (1 bit an
  entry), 48 KiB in all, under its version (two issuances allocating at once: one loses and retries);
- ``current#<card type>``: the list new credentials of the type go to.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from functions.core.jose import epoch
from functions.core.store import StoreModel, UnitOfWork, defines_table, from_iso, model_meta
from functions.wallet import service
from functions.wallet.service import AccessToken, Card, CardType, Facts, ListState, Nonce, Offer


class ByCitizen(GlobalSecondaryIndex["WalletItem"]):  # type: ignore[no-untyped-call]
    """A citizen's cards, oldest first; only card items carry ``citizen_id``."""

    class Meta:
        index_name = "by-citizen"
        projection = AllProjection()

    citizen_id = UnicodeAttribute(hash_key=True)
    issued_at = UTCDateTimeAttribute(range_key=True)


@defines_table
class WalletItem(StoreModel):
    Meta = model_meta("wallet")

    id = UnicodeAttribute(hash_key=True)
    body = UnicodeAttribute(null=True)  # JSON of the item's dataclass
    citizen_id = UnicodeAttribute(null=True)  # card items only: index by-citizen
    issued_at = UTCDateTimeAttribute(null=True)
    statuses = BinaryAttribute(null=True, legacy_encoding=False)
    allocated = BinaryAttribute(null=True, legacy_encoding=False)
    version = NumberAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # TTL (epoch seconds): one-time secrets only

    by_citizen = ByCitizen()


def _get(item_id: str) -> WalletItem | None:
    try:
        return WalletItem.get(item_id, consistent_read=True)
    except WalletItem.DoesNotExist:
        return None


def _versioned(item_id: str, version: int | None) -> Condition:
    return WalletItem.id.does_not_exist() if version is None else WalletItem.version == version


def _facts(citizen_id: str, item: WalletItem | None) -> Facts:
    if item is None:
        return Facts(citizen_id)
    doc = json.loads(item.body or "{}")
    return Facts(
        citizen_id,
        birth_date=date.fromisoformat(doc["birth_date"]) if doc.get("birth_date") else None,
        district=doc.get("district"),
        registered_at=from_iso(doc.get("registered_at")),
        grants=doc.get("grants", {}),
        granted_at={k: datetime.fromisoformat(v) for k, v in doc.get("granted_at", {}).items()},
        version=int(item.version),
    )


def _card(item: WalletItem) -> Card:
    doc = json.loads(item.body or "{}")
    return Card(
        doc["card_id"], doc["citizen_id"], doc["card_type"], doc["vct"],
        tuple((str(e[0]), int(e[1])) for e in doc["entries"]), datetime.fromisoformat(doc["issued_at"]),
        datetime.fromisoformat(doc["expires_at"]), doc["state"], doc.get("reason"), from_iso(doc.get("changed_at")),
        int(item.version),
    )  # fmt: skip


def _list(item: WalletItem) -> ListState:
    doc = json.loads(item.body or "{}")
    statuses, allocated = bytes(item.statuses), bytes(item.allocated)
    return ListState(doc["list_id"], doc["card_type"], statuses, allocated, int(doc["used"]), int(item.version))


class DynamoWalletStore:
    """The wallet's port (``service.WalletStore``) on DynamoDB."""

    def fetch_types(self) -> dict[str, CardType]:
        """The edited card types (one Query would need an index; six GetItems by key are cheaper and bounded)."""
        found: dict[str, CardType] = {}
        ids = [f"type#{type_id}" for type_id in service.seeds()]
        for item in WalletItem.batch_get(ids, consistent_read=True):
            doc = json.loads(item.body or "{}")
            body = service.CardTypeInput.model_validate({**doc["input"], "version": int(item.version)})
            found[doc["id"]] = service.card_type(doc["id"], body)
        return found

    def fetch_facts(self, citizen_id: str) -> Facts:
        return _facts(citizen_id, _get(f"facts#{citizen_id}"))

    def fetch_offer(self, code_digest: str) -> Offer | None:
        item = _get(f"offer#{code_digest}")
        if item is None:
            return None
        doc = json.loads(item.body or "{}")
        return Offer(
            doc["offer_id"], code_digest, doc["tx_digest"], doc["citizen_id"], doc["card_type"], int(doc["copies"]),
            datetime.fromisoformat(doc["created_at"]), datetime.fromisoformat(doc["expires_at"]),
            int(doc["tries_left"]), bool(doc["used"]), int(item.version),
        )  # fmt: skip

    def fetch_token(self, token_digest: str) -> AccessToken | None:
        item = _get(f"token#{token_digest}")
        if item is None:
            return None
        doc = json.loads(item.body or "{}")
        return AccessToken(
            token_digest, doc["offer_id"], doc["citizen_id"], doc["card_type"], int(doc["copies"]),
            datetime.fromisoformat(doc["expires_at"]), bool(doc["used"]), int(item.version),
        )  # fmt: skip

    def fetch_nonce(self, nonce_digest: str) -> Nonce | None:
        item = _get(f"nonce#{nonce_digest}")
        if item is None:
            return None
        return Nonce(nonce_digest, datetime.fromisoformat(json.loads(item.body or "{}")["expires_at"]))

    def fetch_cards(self, citizen_id: str) -> list[Card]:
        return [_card(item) for item in WalletItem.by_citizen.query(citizen_id)]

    def fetch_card(self, card_id: str) -> Card | None:
        if not card_id.startswith("card-"):
            return None
        item = _get(f"card#{card_id}")
        return _card(item) if item is not None else None

    def fetch_current_list(self, card_type_id: str) -> ListState | None:
        pointer = _get(f"current#{card_type_id}")
        return self.fetch_list(str(pointer.body)) if pointer is not None else None

    def fetch_list(self, list_id: str) -> ListState | None:
        item = _get(f"list#{list_id}")
        return _list(item) if item is not None else None

    # ---- writes ----

    def stage_type(self, uow: UnitOfWork, t: CardType) -> None:
        body = service.type_view(t)
        fields = ("title", "validity_days", "suspendable", "claims", "age_over")
        doc = {"id": t.id, "input": {k: body[k] for k in fields}}
        previous = t.version - 1 or None  # version 1 is the first stored edit: nothing stored before it
        item = WalletItem(f"type#{t.id}", body=json.dumps(doc), version=t.version)
        uow.put(item, condition=_versioned(item.id, previous), tag="wallet-type")

    def stage_facts(self, uow: UnitOfWork, facts: Facts) -> None:
        doc = {
            "birth_date": facts.birth_date.isoformat() if facts.birth_date else None, "district": facts.district,
            "registered_at": facts.registered_at.isoformat() if facts.registered_at else None,
            "grants": facts.grants, "granted_at": {k: v.isoformat() for k, v in facts.granted_at.items()},
        }  # fmt: skip
        item = WalletItem(f"facts#{facts.citizen_id}", body=json.dumps(doc), version=(facts.version or 0) + 1)
        uow.put(item, condition=_versioned(item.id, facts.version), tag="wallet-facts")

    def stage_offer(self, uow: UnitOfWork, offer: Offer) -> None:
        doc: dict[str, Any] = {
            "offer_id": offer.offer_id, "tx_digest": offer.tx_digest, "citizen_id": offer.citizen_id,
            "card_type": offer.card_type, "copies": offer.copies, "created_at": offer.created_at.isoformat(),
            "expires_at": offer.expires_at.isoformat(), "tries_left": offer.tries_left, "used": offer.used,
        }  # fmt: skip
        item = WalletItem(f"offer#{offer.code_digest}", body=json.dumps(doc), version=(offer.version or 0) + 1,
                          expires_at=epoch(offer.expires_at) + 86_400)  # fmt: skip
        uow.put(item, condition=_versioned(item.id, offer.version), tag="wallet-offer")

    def stage_token(self, uow: UnitOfWork, token: AccessToken) -> None:
        doc = {
            "offer_id": token.offer_id, "citizen_id": token.citizen_id, "card_type": token.card_type,
            "copies": token.copies, "expires_at": token.expires_at.isoformat(), "used": token.used,
        }  # fmt: skip
        item = WalletItem(f"token#{token.token_digest}", body=json.dumps(doc), version=(token.version or 0) + 1,
                          expires_at=epoch(token.expires_at) + 86_400)  # fmt: skip
        uow.put(item, condition=_versioned(item.id, token.version), tag="wallet-token")

    def stage_nonce(self, uow: UnitOfWork, nonce: Nonce) -> None:
        item = WalletItem(f"nonce#{nonce.nonce_digest}", body=json.dumps({"expires_at": nonce.expires_at.isoformat()}),
                          expires_at=epoch(nonce.expires_at) + 86_400)  # fmt: skip
        uow.put(item, condition=WalletItem.id.does_not_exist(), tag="wallet-nonce")

    def stage_use_nonce(self, uow: UnitOfWork, nonce: Nonce) -> None:
        """Single use: the nonce goes, if it is still there (a concurrent use already took it: the commit fails)."""
        uow.delete(WalletItem(f"nonce#{nonce.nonce_digest}"), condition=WalletItem.id.exists(), tag="wallet-nonce")

    def stage_card(self, uow: UnitOfWork, card: Card) -> None:
        doc = {
            "card_id": card.card_id, "citizen_id": card.citizen_id, "card_type": card.card_type, "vct": card.vct,
            "entries": [list(e) for e in card.entries], "issued_at": card.issued_at.isoformat(),
            "expires_at": card.expires_at.isoformat(), "state": card.state, "reason": card.reason,
            "changed_at": card.changed_at.isoformat() if card.changed_at else None,
        }  # fmt: skip
        item = WalletItem(f"card#{card.card_id}", body=json.dumps(doc), citizen_id=card.citizen_id,
                          issued_at=card.issued_at, version=(card.version or 0) + 1)  # fmt: skip
        uow.put(item, condition=_versioned(item.id, card.version), tag="wallet-card")

    def stage_list(self, uow: UnitOfWork, state: ListState, current: bool) -> None:
        """The list under its version; ``current``: it becomes the type's list for new credentials."""
        doc = {"list_id": state.list_id, "card_type": state.card_type, "used": state.used}
        item = WalletItem(f"list#{state.list_id}", body=json.dumps(doc), statuses=state.statuses,
                          allocated=state.allocated, version=(state.version or 0) + 1)  # fmt: skip
        uow.put(item, condition=_versioned(item.id, state.version), tag="wallet-list")
        if current:
            uow.put(WalletItem(f"current#{state.card_type}", body=state.list_id), tag="wallet-list")

    def stage_erase_facts(self, uow: UnitOfWork, citizen_id: str) -> None:
        uow.delete(WalletItem(f"facts#{citizen_id}"), tag="wallet-facts-erasure")
