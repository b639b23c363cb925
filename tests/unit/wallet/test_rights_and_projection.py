"""The wallet's RGPD answer (the cards kept as the issuer's record with their legal basis, the projected facts
erased), the global position's projection of card events, the status bits the pure rules set as the Token Status
List draft reads them, and the holder's well-known URL."""

from __future__ import annotations

from datetime import UTC, date, datetime

from events.wallet import CardIssued, CardRevoked
from functions.core.policy import EmbeddedPolicy
from functions.core.statuslist import StatusList
from functions.position import service as position
from functions.wallet import rights, service
from functions.wallet.service import Card, Facts
from local.wallet_holder import well_known
from tests.unit.fakes import events_in
from tests.unit.rgpd_support import rgpd_request
from tests.unit.wallet.fakes import FakeWalletStore

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
CID = "c-rights"


def _store() -> FakeWalletStore:
    store = FakeWalletStore()
    store.items[f"facts#{CID}"] = Facts(CID, birth_date=date(1950, 3, 1), district="05")
    store.ledger.versions[f"facts#{CID}"] = 1
    card = Card("card-" + "a" * 32, CID, "madrid-mayor", "urn:es:madrid:pic:card:madrid-mayor:1",
                (("madrid-mayor-1", 7), ("madrid-mayor-1", 9)), T0, T0.replace(year=2027))  # fmt: skip
    store.items[f"card#{card.card_id}"] = card
    return store


def test_an_access_request_exports_the_cards_and_the_facts(policy: EmbeddedPolicy) -> None:
    answer = rights.answer(rgpd_request("access", CID, T0), _store(), policy, T0)
    unit = answer.unit(None, lambda uow, plan: None)
    ((_, data),) = events_in(unit)
    exported = str(data)
    assert "madrid-mayor" in exported and "1950-03-01" in exported and "madrid-mayor-1" not in exported


def test_an_erasure_keeps_the_issued_cards_with_their_basis_and_erases_the_facts(policy: EmbeddedPolicy) -> None:
    store = _store()
    answer = rights.answer(rgpd_request("erasure", CID, T0), store, policy, T0)
    unit = answer.unit(None, lambda uow, plan: plan.stage(uow, lambda u, e: rights.stage_erasure(u, e, store)))
    ((_, data),) = events_in(unit)
    by_category = {a.get("category"): a for a in data["actions"]}
    kept, erased = by_category["issued-cards"], by_category["eligibility-facts"]
    assert kept["result"] == "kept" and "17.3" in kept["legal_basis"] and kept["count"] == 1
    assert erased["result"] == "erased"
    store.commit(unit)
    assert f"facts#{CID}" not in store.items and any(k.startswith("card#") for k in store.items)


def test_the_position_shows_a_card_and_its_revocation_wins() -> None:
    issued = CardIssued(card_id="card-" + "b" * 32, citizen_id=CID, card_type="zbe", vct="urn:x", copies=2,
                        issued_at=T0, expires_at=T0.replace(year=2027))  # fmt: skip
    revoked = CardRevoked(card_id=issued.card_id, citizen_id=CID, card_type="zbe", reason="error",
                          revoked_at=T0.replace(hour=11))  # fmt: skip
    first, second = position.card_item(issued), position.card_item(revoked)
    assert first.section == "wallet" and first.body["status"] == "valid" and first.body["valid_until"] == "2027-12-07"
    assert first.key == second.key and position.newer(second.order, first.order)
    assert second.body["status"] == "revoked"


def test_the_status_bits_are_where_the_draft_reads_them() -> None:
    state = service.with_status(service.ListState.new("t-1", "t"), [0, 5, 131_071], service.REVOKED)
    state = service.with_status(state, [6], service.SUSPENDED)
    read = StatusList(service.LIST_BITS, service.LIST_SIZE, state.statuses)
    assert [read.get(i) for i in (0, 5, 6, 7, 131_071)] == [1, 1, 2, 0, 1]


def test_the_holder_inserts_the_well_known_name_before_the_issuer_path() -> None:
    assert well_known("http://127.0.0.1:8080/v1/wallet", "jwt-vc-issuer") == (
        "http://127.0.0.1:8080/.well-known/jwt-vc-issuer/v1/wallet"
    )
