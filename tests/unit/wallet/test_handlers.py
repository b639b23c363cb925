"""The wallet's use cases on fakes (the real eligibility policy, an in-memory store over the Ledger, a fixed
clock): eligibility and why, the pre-authorized code flow and each of its refusals, batches with distinct status
indexes, nothing issued twice under a concurrent double request, revocation of every copy, list rollover."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from events.citizen import CitizenUpdated
from events.wallet import CardGranted
from functions.core import jose, sdjwt, statuslist
from functions.core.errors import LostRaceError
from functions.core.policy import EmbeddedPolicy
from functions.core.store import Staged, UnitOfWork
from functions.wallet import handlers, service
from functions.wallet.handlers import WalletPorts
from functions.wallet.service import Facts
from tests.unit.fakes import FixedClock, events_in
from tests.unit.wallet.fakes import FakeWalletStore

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
ISSUER = "http://127.0.0.1:8080/v1/wallet"
SENIOR = "c-senior"
YOUNG = "c-young"


@pytest.fixture
def store() -> FakeWalletStore:
    s = FakeWalletStore()
    s.items[f"facts#{SENIOR}"] = Facts(SENIOR, birth_date=date(1950, 3, 1), district="05", registered_at=T0)
    s.items[f"facts#{YOUNG}"] = Facts(YOUNG, birth_date=date(1990, 3, 1), district="05", registered_at=T0)
    s.ledger.versions[f"facts#{SENIOR}"] = s.ledger.versions[f"facts#{YOUNG}"] = 1
    return s


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def ports(store: FakeWalletStore, policy: EmbeddedPolicy, clock: FixedClock) -> WalletPorts:
    return WalletPorts(store=store, policy=policy, clock=clock, keys=jose.KeyRing(jose.LocalSigner.generate()),
                       issuer=ISSUER)  # fmt: skip


def commit(store: FakeWalletStore, staged: Staged[object]) -> object:
    store.commit(staged.unit)
    return staged.result


def offer(
    ports: WalletPorts, store: FakeWalletStore, copies: int = 3, kind: str = "madrid-mayor"
) -> handlers.OfferMade:
    made = commit(store, handlers.make_offer(handlers.MakeOffer(SENIOR, kind, copies), ports))
    assert isinstance(made, handlers.OfferMade)
    return made


def token(ports: WalletPorts, store: FakeWalletStore, made: handlers.OfferMade) -> str:
    done = commit(store, handlers.exchange_code(handlers.ExchangeCode(service.PRE_AUTHORIZED_GRANT, made.code,
                                                                      made.tx_code), ports))  # fmt: skip
    assert isinstance(done, handlers.TokenIssued)
    return done.access_token


def proofs(
    ports: WalletPorts, store: FakeWalletStore, n: int, aud: str = ISSUER
) -> tuple[list[jose.LocalSigner], list[str]]:
    nonce = commit(store, handlers.new_nonce(ports))
    assert isinstance(nonce, str)
    keys = [jose.LocalSigner.generate() for _ in range(n)]
    return keys, [sdjwt.key_proof(k, audience=aud, nonce=nonce, iat=T0) for k in keys]


def issue(
    ports: WalletPorts, store: FakeWalletStore, copies: int = 3, kind: str = "madrid-mayor"
) -> tuple[handlers.Issued, list[jose.LocalSigner]]:
    access = token(ports, store, offer(ports, store, copies, kind))
    keys, signed = proofs(ports, store, copies)
    issued = commit(store, handlers.issue_credentials(handlers.IssueCredentials(access, kind, signed),
                                                      ports, None))  # fmt: skip
    assert isinstance(issued, handlers.Issued)
    return issued, keys


# ---- eligibility ----


def test_a_senior_registered_in_madrid_is_eligible_for_madrid_mayor_and_a_younger_one_is_told_why(
    ports: WalletPorts,
) -> None:
    senior = {c["type"]: c for c in handlers.wallet_cards(SENIOR, ports)}
    young = {c["type"]: c for c in handlers.wallet_cards(YOUNG, ports)}
    assert senior["madrid-mayor"]["eligible"] is True
    assert senior["madrid-mayor"]["vct"] == "urn:es:madrid:pic:card:madrid-mayor:1"
    assert young["madrid-mayor"]["eligible"] is False
    unmet = [r for r in young["madrid-mayor"]["reasons"] if not r["met"]]
    assert [r["en"] for r in unmet] == ["Being 65 or older"]
    assert senior["emprende"]["eligible"] is False  # no grant from the area


def test_an_offer_for_a_card_the_citizen_is_not_eligible_for_is_refused_naming_the_reason(ports: WalletPorts) -> None:
    with pytest.raises(service.NotEligibleError, match="65 or older") as refused:
        handlers.make_offer(handlers.MakeOffer(YOUNG, "madrid-mayor", 1), ports)
    assert refused.value.to_problem()["reasons"][0]["key"] == "age"


def test_the_offer_link_carries_the_offer_by_value_with_a_numeric_tx_code(
    ports: WalletPorts, store: FakeWalletStore
) -> None:
    made = offer(ports, store)
    view = handlers.offer_view(made, ports)
    assert view["offer_link"].startswith("openid-credential-offer://?credential_offer=")
    import json

    carried = json.loads(parse_qs(urlsplit(view["offer_link"]).query)["credential_offer"][0])
    grant = carried["grants"][service.PRE_AUTHORIZED_GRANT]
    assert carried["credential_issuer"] == ISSUER and grant["tx_code"]["length"] == 6
    assert view["tx_code"].isdigit() and len(view["tx_code"]) == 6 and "<svg" in view["qr_svg"]
    assert not any(made.code in str(v) for v in store.items.values())  # only the digest is stored


# ---- the token endpoint ----


def test_a_reused_pre_authorized_code_is_refused(ports: WalletPorts, store: FakeWalletStore) -> None:
    made = offer(ports, store)
    token(ports, store, made)
    with pytest.raises(service.CodeReusedError) as refused:
        token(ports, store, made)
    assert refused.value.to_problem()["error"] == "invalid_grant"


def test_three_wrong_tx_codes_kill_the_offer(ports: WalletPorts, store: FakeWalletStore) -> None:
    made = offer(ports, store)
    for _ in range(3):
        result = commit(store, handlers.exchange_code(
            handlers.ExchangeCode(service.PRE_AUTHORIZED_GRANT, made.code, "000000" if made.tx_code != "000000"
                                  else "111111"), ports))  # fmt: skip
        assert isinstance(result, service.WrongTxCodeError)
    with pytest.raises(service.InvalidGrantError, match="dead"):
        token(ports, store, made)  # even with the right code now


def test_an_expired_offer_and_another_grant_type_are_refused(
    ports: WalletPorts, store: FakeWalletStore, clock: FixedClock
) -> None:
    made = offer(ports, store)
    with pytest.raises(service.UnsupportedGrantError):
        handlers.exchange_code(handlers.ExchangeCode("authorization_code", made.code, made.tx_code), ports)
    clock.advance(minutes=11)
    with pytest.raises(service.OfferExpiredError):
        token(ports, store, made)


# ---- the credential endpoint ----


def test_a_batch_of_three_gets_three_verifiable_credentials_at_distinct_indexes(
    ports: WalletPorts, store: FakeWalletStore
) -> None:
    issued, keys = issue(ports, store, 3)
    assert len(issued.credentials) == 3
    indexes = {idx for _, idx in issued.card.entries}
    assert len(indexes) == 3
    issuer_keys = ports.keys.keys()
    for credential, key in zip(issued.credentials, keys, strict=True):
        shown = sdjwt.present(credential, [("age_equal_or_over", "65")], holder_key=key, aud="v", nonce="n", iat=T0)
        verified = sdjwt.verify(shown, issuer_keys=issuer_keys, aud="v", nonce="n", now=T0, status_of=None,
                                vct="urn:es:madrid:pic:card:madrid-mayor:1")  # fmt: skip
        assert verified.claims["age_equal_or_over"] == {"65": True}
        assert "birth_date" not in verified.claims
    ((kind, data),) = events_in(_last_unit(store, ports))
    assert kind == "es.madrid.pic.card.issued.v1" and data["copies"] == 3 and "idx" not in str(data)


def test_every_copy_carries_the_day_of_issuance_not_its_second(ports: WalletPorts, store: FakeWalletStore) -> None:
    issued, _ = issue(ports, store, 3)
    times = set()
    for credential in issued.credentials:
        payload = jose.b64url_decode(credential.split("~")[0].split(".")[1])
        claims = json.loads(payload)
        times.add((claims["iat"], claims["nbf"], claims["exp"]))
    ((iat, nbf, exp),) = times  # one set of times for the batch: no copy tells the issuance's second
    assert iat == nbf == int(datetime(2026, 12, 7, tzinfo=UTC).timestamp()) < T0.timestamp()
    assert exp % 86_400 == 0 and exp > T0.timestamp()


def _last_unit(store: FakeWalletStore, ports: WalletPorts) -> UnitOfWork:
    """A fresh issuance's unit, not committed: the events it would publish."""
    access = token(ports, store, offer(ports, store, 3))
    _, signed = proofs(ports, store, 3)
    return handlers.issue_credentials(handlers.IssueCredentials(access, "madrid-mayor", signed), ports, None).unit


def test_the_access_token_serves_one_request_and_a_concurrent_double_request_issues_once(
    ports: WalletPorts, store: FakeWalletStore
) -> None:
    access = token(ports, store, offer(ports, store, 2))
    _, first = proofs(ports, store, 2)
    _, second = proofs(ports, store, 2)
    one = handlers.issue_credentials(handlers.IssueCredentials(access, "madrid-mayor", first), ports, None)
    two = handlers.issue_credentials(handlers.IssueCredentials(access, "madrid-mayor", second), ports, None)
    store.commit(one.unit)
    with pytest.raises(LostRaceError):
        store.commit(two.unit)
    with pytest.raises(service.InvalidTokenError):  # the retry finds the token used
        handlers.issue_credentials(handlers.IssueCredentials(access, "madrid-mayor", second), ports, None)
    assert len([k for k in store.items if k.startswith("card#")]) == 1


def test_a_proof_over_a_wrong_nonce_or_for_another_audience_is_refused(
    ports: WalletPorts, store: FakeWalletStore
) -> None:
    access = token(ports, store, offer(ports, store, 1))
    stranger = jose.LocalSigner.generate()
    made_up = sdjwt.key_proof(stranger, audience=ISSUER, nonce="not-a-nonce-we-gave", iat=T0)
    with pytest.raises(service.InvalidNonceError) as refused:
        handlers.issue_credentials(handlers.IssueCredentials(access, "madrid-mayor", [made_up]), ports, None)
    assert refused.value.to_problem()["error"] == "invalid_nonce"
    _, elsewhere = proofs(ports, store, 1, aud="https://other.example/issuer")
    with pytest.raises(service.InvalidProofError) as bad:
        handlers.issue_credentials(handlers.IssueCredentials(access, "madrid-mayor", elsewhere), ports, None)
    assert bad.value.to_problem()["error"] == "invalid_proof"


def test_more_proofs_than_copies_or_another_configuration_is_refused(
    ports: WalletPorts, store: FakeWalletStore
) -> None:
    access = token(ports, store, offer(ports, store, 1))
    _, two = proofs(ports, store, 2)
    with pytest.raises(service.InvalidProofError):
        handlers.issue_credentials(handlers.IssueCredentials(access, "madrid-mayor", two), ports, None)
    with pytest.raises(service.UnknownConfigurationError):
        handlers.issue_credentials(handlers.IssueCredentials(access, "zbe", two[:1]), ports, None)


# ---- revocation and status lists ----


def _status(ports: WalletPorts, list_id: str) -> statuslist.StatusList:
    token = handlers.status_list_token(list_id, ports)
    return statuslist.read_status_token(token, ports.keys.keys(), uri=f"{ISSUER}/status/{list_id}", now=T0)


def test_revoking_a_card_flips_every_copy_and_the_list_republishes_it(
    ports: WalletPorts, store: FakeWalletStore
) -> None:
    issued, _ = issue(ports, store, 3)
    card = issued.card
    assert all(_status(ports, lst).get(i) == service.VALID for lst, i in card.entries)
    cmd = handlers.ChangeCard(SENIOR, card.card_id, "suspend", "checking")
    commit(store, handlers.change_card(cmd, ports, None))
    assert all(_status(ports, lst).get(i) == service.SUSPENDED for lst, i in card.entries)
    commit(store, handlers.change_card(handlers.ChangeCard(SENIOR, card.card_id, "reinstate"), ports, None))
    staged = handlers.change_card(handlers.ChangeCard(SENIOR, card.card_id, "revoke", "citizen-request"), ports, None)
    assert [k for k, _ in events_in(staged.unit)] == ["es.madrid.pic.card.revoked.v1"]
    commit(store, staged)
    assert all(_status(ports, lst).get(i) == service.REVOKED for lst, i in card.entries)
    with pytest.raises(service.CardStateError):
        handlers.change_card(handlers.ChangeCard(SENIOR, card.card_id, "reinstate"), ports, None)
    with pytest.raises(service.CardNotFoundError):  # another citizen's path
        handlers.change_card(handlers.ChangeCard(YOUNG, card.card_id, "revoke", "error"), ports, None)


def test_a_new_list_starts_when_the_current_one_is_three_quarters_used(
    ports: WalletPorts, store: FakeWalletStore
) -> None:
    issue(ports, store, 1)
    first = store.fetch_current_list("madrid-mayor")
    assert first is not None and first.list_id == "madrid-mayor-1"
    nearly = int(service.LIST_SIZE * service.LIST_FILL) - 1
    store.items["list#madrid-mayor-1"] = service.ListState(first.list_id, first.card_type, first.statuses,
                                                           first.allocated, nearly)  # fmt: skip
    issued, _ = issue(ports, store, 3)  # one entry left below 3/4 here, two in the next list
    lists = [lst for lst, _ in issued.card.entries]
    assert lists == ["madrid-mayor-1", "madrid-mayor-2", "madrid-mayor-2"]
    assert store.current["madrid-mayor"] == "madrid-mayor-2"


def test_allocation_never_hands_out_an_index_twice() -> None:
    state = service.ListState.new("t-1", "t")
    picks = iter([5, 5, 7, 5, 9])
    state, first = service.allocate(state, 2, lambda _: next(picks))
    state, second = service.allocate(state, 1, lambda _: next(picks))
    assert first == [5, 7] and second == [9] and state.used == 3


# ---- facts, grants, card types ----


def test_c360_facts_and_an_area_grant_change_eligibility(ports: WalletPorts, store: FakeWalletStore) -> None:
    update = CitizenUpdated.model_validate({
        "citizen_id": "c-new", "updated_at": T0.isoformat(),
        "link": {"source": "/legacy/padron", "local_id": "P1", "change": "added"},
        "match": {"method": "new", "score": 1.0, "evidence": []},
        "profile": {"birth_date": "1955-01-01", "district": "01"},
    })  # fmt: skip
    store.commit(handlers.project_citizen(update, ports))
    grant = CardGranted(citizen_id="c-new", card_type="ser-residente", reason="vehículo", granted_at=T0,
                        claims={"plate": "1234ABC", "label": "C"})  # fmt: skip
    store.commit(handlers.project_grant(grant, ports))
    cards = {c["type"]: c["eligible"] for c in handlers.wallet_cards("c-new", ports)}
    assert cards["madrid-mayor"] and cards["ser-residente"] and not cards["zbe"]
    assert handlers.project_grant(grant, ports).staged("state") == []  # the same grant again: nothing


def test_an_admin_edits_a_card_type_at_the_version_read(ports: WalletPorts, store: FakeWalletStore) -> None:
    seed = handlers.find_type("zbe", ports)
    fields = ("title", "suspendable", "claims", "age_over")
    body = service.CardTypeInput.model_validate(
        {**{k: service.type_view(seed)[k] for k in fields}, "validity_days": 30, "version": 0}
    )
    edited = commit(store, handlers.edit_type("zbe", body, ports))
    assert isinstance(edited, service.CardType) and edited.version == 1 and edited.validity_days == 30
    with pytest.raises(service.CardTypeChangedError):
        handlers.edit_type("zbe", body, ports)  # still says version 0


def test_after_a_rotation_a_card_the_old_key_signed_still_verifies_with_the_published_keys(
    ports: WalletPorts, store: FakeWalletStore
) -> None:
    issued, keys = issue(ports, store, 1)
    # WHEN the issuer moves to a new key, the old one's public JWK kept (PIC_WALLET_OLD_KEYS)
    old = ports.keys.current
    rotated = replace(ports, keys=jose.KeyRing(jose.LocalSigner.generate(), [old.public_jwk()]))
    published = handlers.jwt_vc_issuer(rotated)
    # THEN both are published, the new one first, and the old card verifies with what a verifier downloads
    assert [k["kid"] for k in published["jwks"]["keys"]] == [rotated.keys.current.kid, old.kid]
    shown = sdjwt.present(issued.credentials[0], [("age_equal_or_over", "65")], holder_key=keys[0], aud="v", nonce="n",
                          iat=T0)  # fmt: skip
    verified = sdjwt.verify(shown, issuer_keys=jose.keys_from_jwks(published["jwks"]), aud="v", nonce="n", now=T0,
                            status_of=None)  # fmt: skip
    assert verified.claims["age_equal_or_over"] == {"65": True}


# ---- a card cannot outlive the rule that gave it ----


def _bits(store: FakeWalletStore, card: service.Card) -> list[int]:
    lists = {list_id: store.items[f"list#{list_id}"] for list_id, _ in card.entries}
    return [
        statuslist.StatusList(service.LIST_BITS, service.LIST_SIZE, lists[at].statuses).get(i) for at, i in card.entries
    ]


def test_leaving_the_padron_revokes_the_madrid_mayor_card_once_with_its_reason(
    ports: WalletPorts, store: FakeWalletStore
) -> None:
    issued, _ = issue(ports, store, 2)
    moved = CitizenUpdated.model_validate({
        "citizen_id": SENIOR, "updated_at": "2026-12-07T11:00:00+00:00",
        "link": {"source": "/legacy/padron", "local_id": "P1", "change": "changed"},
        "match": {"method": "document", "score": 1.0, "evidence": []},
        "profile": {"birth_date": "1950-03-01", "district": None},
    })  # fmt: skip
    unit = handlers.project_citizen(moved, ports, None)
    ((kind, data),) = events_in(unit)
    assert kind == "es.madrid.pic.card.revoked.v1" and data["reason"] == "eligibility-lost"
    store.commit(unit)
    card = store.items[f"card#{issued.card.card_id}"]
    assert card.state == "revoked" and _bits(store, card) == [service.REVOKED, service.REVOKED]
    assert events_in(handlers.project_citizen(moved, ports, None)) == []  # redelivered: nothing more


def test_an_areas_withdrawn_grant_revokes_the_card_it_gave_and_leaves_the_others(
    ports: WalletPorts, store: FakeWalletStore
) -> None:
    granted = CardGranted(citizen_id=SENIOR, card_type="emprende", reason="alta RETA", granted_at=T0)
    store.commit(handlers.project_grant(granted, ports))
    mayor, _ = issue(ports, store, 1)
    emprende, _ = issue(ports, store, 1, "emprende")
    withdrawn = granted.model_copy(update={"revoked": True, "granted_at": T0.replace(hour=11)})
    unit = handlers.project_grant(withdrawn, ports, None)
    assert [(k, d["card_id"]) for k, d in events_in(unit)] == [("es.madrid.pic.card.revoked.v1", emprende.card.card_id)]
    store.commit(unit)
    assert store.items[f"card#{emprende.card.card_id}"].state == "revoked"
    assert store.items[f"card#{mayor.card.card_id}"].state == "valid"
