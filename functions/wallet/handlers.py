"""Wallet use cases: one function per command, question or event, over the domain's ports.

The OpenID4VCI pre-authorized code flow is four commands: ``make_offer`` (the signed-in citizen, eligible by
``policies/wallet``), ``exchange_code`` (token endpoint: the code and tx_code for a single-use access token),
``new_nonce`` (nonce endpoint) and ``issue_credentials`` (credential endpoint: one SD-JWT VC per key proof, each
at a random free index of its type's status list). Each stages its one-time secrets' consumption in the same
unit of work as what it creates, under the versions read: two concurrent requests with the same code or token
cannot both commit (the loser's retry finds it used), so nothing is issued twice.
Nothing here knows HTTP, CloudEvents or DynamoDB; the unit tests run these on fakes.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote

from events.citizen import CitizenUpdated
from events.rgpd import RgpdRequestOpened
from events.wallet import CardGranted, CardIssued, CardReinstated, CardRevoked, CardSuspended
from functions.core import jose, sdjwt, statuslist
from functions.core.clock import Clock
from functions.core.errors import CredentialRefusedError, PicError
from functions.core.outbox import stage_event
from functions.core.policy import Policy
from functions.core.qr import qr_svg
from functions.core.store import Staged, UnitOfWork
from functions.wallet import rights, service
from functions.wallet.service import AccessToken, Card, CardType, ListState, Nonce, Offer, WalletStore


@dataclass(frozen=True)
class WalletPorts:
    """Everything the use cases need from outside: built once per process by ``bootstrap``. ``issuer`` is the
    credential issuer identifier (``PIC_BASE_URL`` + ``/v1/wallet``); ``keys`` signs and publishes."""

    store: WalletStore
    policy: Policy
    clock: Clock
    keys: jose.KeyRing
    issuer: str


# ---- card types ------------------------------------------------------------------------------------------


def card_types(ports: WalletPorts) -> dict[str, CardType]:
    """The seeds, each overridden by its stored edits (the highest version)."""
    return {**service.seeds(), **ports.store.fetch_types()}


def find_type(type_id: str, ports: WalletPorts) -> CardType:
    found = card_types(ports).get(service.check_type_id(type_id))
    if found is None:
        raise service.CardTypeNotFoundError(f"no card type {type_id!r}")
    return found


def edit_type(type_id: str, body: service.CardTypeInput, ports: WalletPorts) -> Staged[CardType]:
    """An admin's edit of a card type, at the version read (optimistic concurrency)."""
    changed = service.edited(find_type(type_id, ports), body)
    uow = UnitOfWork()
    ports.store.stage_type(uow, changed)
    return Staged(uow, changed)


# ---- eligibility and the citizen's cards -----------------------------------------------------------------


def eligibility(t: CardType, facts: service.Facts, ports: WalletPorts) -> tuple[bool, list[dict[str, Any]]]:
    """``policies/wallet``'s answer for one type: eligible or not, and every condition with ``met``."""
    decision = ports.policy.decide(service.POLICY, service.policy_input(t.id, facts, ports.clock.now()))
    return decision.allow, [dict(r) for r in decision.result.get("reasons", [])]


def wallet_cards(citizen_id: str, ports: WalletPorts) -> list[dict[str, Any]]:
    """For every card type: eligible or not and why, and the cards of it the citizen holds."""
    facts = ports.store.fetch_facts(citizen_id)
    held = ports.store.fetch_cards(citizen_id)
    answer = []
    for t in card_types(ports).values():
        eligible, reasons = eligibility(t, facts, ports)
        answer.append({
            "type": t.id, "title": t.title, "vct": t.vct, "eligible": eligible, "reasons": reasons,
            "held": [service.held_view(c) for c in held if c.card_type == t.id],
        })  # fmt: skip
    return answer


@dataclass(frozen=True)
class MakeOffer:
    citizen_id: str
    card_type: str
    copies: int


@dataclass(frozen=True)
class OfferMade:
    offer: Offer
    code: str
    tx_code: str


def make_offer(cmd: MakeOffer, ports: WalletPorts) -> Staged[OfferMade]:
    """A credential offer for an eligible citizen (else ``NotEligibleError`` naming the unmet conditions)."""
    t = find_type(cmd.card_type, ports)
    service.check_copies(cmd.copies)
    eligible, reasons = eligibility(t, ports.store.fetch_facts(cmd.citizen_id), ports)
    if not eligible:
        unmet = [r for r in reasons if not r.get("met")]
        raise service.NotEligibleError(
            f"not eligible for {t.id}: " + "; ".join(str(r.get("en")) for r in unmet), reasons=unmet
        )
    now = ports.clock.now()
    code, tx_code = service.new_secret(), service.new_tx_code()
    offer = Offer(
        offer_id=f"offer-{secrets.token_hex(8)}", code_digest=service.digest(code), tx_digest=service.digest(tx_code),
        citizen_id=cmd.citizen_id, card_type=t.id, copies=cmd.copies, created_at=now,
        expires_at=now + service.OFFER_TTL,
    )  # fmt: skip
    uow = UnitOfWork()
    ports.store.stage_offer(uow, offer)
    return Staged(uow, OfferMade(offer, code, tx_code))


def offer_view(made: OfferMade, ports: WalletPorts) -> dict[str, Any]:
    """The offer as the citizen sees it (OpenID4VCI §4.1.1: the offer by value in the link and the QR)."""
    offer = {
        "credential_issuer": ports.issuer,
        "credential_configuration_ids": [made.offer.card_type],
        "grants": {
            service.PRE_AUTHORIZED_GRANT: {
                "pre-authorized_code": made.code,
                "tx_code": {
                    "input_mode": "numeric", "length": service.TX_CODE_LENGTH,
                    "description": "El código de 6 cifras que le muestra la app / the 6-digit code the app shows",
                },
            }
        },
    }  # fmt: skip
    link = "openid-credential-offer://?credential_offer=" + quote(json.dumps(offer, separators=(",", ":")), safe="")
    return {
        "offer_id": made.offer.offer_id, "card_type": made.offer.card_type, "copies": made.offer.copies,
        "credential_offer": offer, "offer_link": link, "qr_svg": qr_svg(link, "OpenID4VCI"), "tx_code": made.tx_code,
        "expires_at": made.offer.expires_at.isoformat(),
    }  # fmt: skip


# ---- the token endpoint --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExchangeCode:
    grant_type: str
    code: str
    tx_code: str


@dataclass(frozen=True)
class TokenIssued:
    access_token: str
    expires_in: int


def exchange_code(cmd: ExchangeCode, ports: WalletPorts) -> Staged[TokenIssued | PicError]:
    """OpenID4VCI §6: the pre-authorized code and its tx_code for a single-use access token. A wrong tx_code
    is a refusal that still commits (the offer loses a try): the result is then the error to answer, after
    the commit. The code's consumption and the token commit together: a code is exchanged once."""
    if cmd.grant_type != service.PRE_AUTHORIZED_GRANT:
        raise service.UnsupportedGrantError(f"grant_type must be {service.PRE_AUTHORIZED_GRANT}")
    now = ports.clock.now()
    offer = ports.store.fetch_offer(service.digest(cmd.code))
    uow = UnitOfWork()
    try:
        redeemed = service.redeem(offer, cmd.tx_code, now)
    except service.WrongTxCodeError as wrong:
        assert offer is not None
        ports.store.stage_offer(uow, service.spent(offer))
        return Staged(uow, wrong)
    token = service.new_secret()
    ports.store.stage_offer(uow, redeemed)
    ports.store.stage_token(uow, AccessToken(
        service.digest(token), redeemed.offer_id, redeemed.citizen_id, redeemed.card_type, redeemed.copies,
        now + service.TOKEN_TTL,
    ))  # fmt: skip
    return Staged(uow, TokenIssued(token, int(service.TOKEN_TTL.total_seconds())))


def new_nonce(ports: WalletPorts) -> Staged[str]:
    """OpenID4VCI §7: a fresh c_nonce, single use, 5 minutes."""
    nonce = service.new_secret()
    uow = UnitOfWork()
    ports.store.stage_nonce(uow, Nonce(service.digest(nonce), ports.clock.now() + service.NONCE_TTL))
    return Staged(uow, nonce)


# ---- the credential endpoint -------------------------------------------------------------------------


@dataclass(frozen=True)
class IssueCredentials:
    access_token: str
    configuration_id: str
    proofs: list[str]


def _proof_nonce(proof: str) -> str:
    """The c_nonce a key proof claims (read before its signature is checked, to find the stored nonce)."""
    try:
        payload = json.loads(jose.b64url_decode(proof.split(".")[1]))
    except (IndexError, ValueError) as exc:
        raise service.InvalidProofError("the key proof is not a JWT") from exc
    nonce = payload.get("nonce") if isinstance(payload, dict) else None
    if not isinstance(nonce, str):
        raise service.InvalidNonceError("the key proof carries no c_nonce")
    return nonce


def _holder_keys(proofs: list[str], ports: WalletPorts) -> tuple[Nonce, list[jose.Jwk]]:
    """OpenID4VCI §8.2.1: every proof over one valid c_nonce, for this issuer, fresh, signed by its key."""
    nonces = {_proof_nonce(p) for p in proofs}
    if len(nonces) != 1:
        raise service.InvalidNonceError("every key proof must answer the same c_nonce")
    nonce = nonces.pop()
    stored = ports.store.fetch_nonce(service.digest(nonce))
    now = ports.clock.now()
    if stored is None or now >= stored.expires_at:
        raise service.InvalidNonceError("the c_nonce is unknown, used or expired; ask the nonce endpoint")
    keys = []
    for proof in proofs:
        try:
            keys.append(sdjwt.read_key_proof(proof, audience=ports.issuer, nonce=nonce, now=now))
        except CredentialRefusedError as refused:
            raise service.InvalidProofError(refused.detail) from refused
    if len({jose.thumbprint(k) for k in keys}) != len(keys):
        raise service.InvalidProofError("each copy needs its own holder key")
    return stored, keys


def _allocate(card_type_id: str, count: int, ports: WalletPorts) -> list[tuple[ListState, list[int], bool]]:
    """Where the copies' statuses live: random free indexes of the type's current list; a new list when it is
    3/4 used. Returns each list touched as it will be stored, its new indexes and whether it becomes current."""
    current = ports.store.fetch_current_list(card_type_id)
    new = current is None
    state = current or ListState.new(service.list_id_for(card_type_id, 1), card_type_id)
    touched: list[tuple[ListState, list[int], bool]] = []
    left = count
    while left:
        if state.full:
            number = service.list_number(state.list_id) + 1
            state = ListState.new(service.list_id_for(card_type_id, number), card_type_id)
            new = True
        take = min(left, int(service.LIST_SIZE * service.LIST_FILL) - state.used)
        state, indexes = service.allocate(state, take)
        touched.append((state, indexes, new))
        left -= take
    return touched


@dataclass(frozen=True)
class Issued:
    card: Card
    credentials: list[str]


def issue_credentials(cmd: IssueCredentials, ports: WalletPorts, traceparent: str | None) -> Staged[Issued]:
    """OpenID4VCI §8: one SD-JWT VC per key proof (1..copies), each with its own status index; the token and
    the c_nonce are consumed in the unit that stores the card and the lists, and announces ``card.issued``."""
    token = service.usable_token(ports.store.fetch_token(service.digest(cmd.access_token)), ports.clock.now())
    if cmd.configuration_id != token.card_type:
        raise service.UnknownConfigurationError(f"this access token is for {token.card_type!r}")
    if not 1 <= len(cmd.proofs) <= token.copies:
        raise service.InvalidProofError(f"send 1..{token.copies} key proofs (one per copy)")
    nonce, holder_keys = _holder_keys(cmd.proofs, ports)
    t = find_type(token.card_type, ports)
    facts = ports.store.fetch_facts(token.citizen_id)
    now = ports.clock.now()
    card_id = service.new_card_id()
    lists = _allocate(t.id, len(holder_keys), ports)
    placed = [(state.list_id, i) for state, indexes, _ in lists for i in indexes]
    card = Card(card_id, token.citizen_id, t.id, t.vct, tuple(placed), now, now + timedelta(days=t.validity_days))
    # the credentials' times are the day's, not the second's: an issuance instant in every copy would let an
    # issuer and a verifier who compare notes tie a presentation to the request that made it (copies unlinkable)
    iat, exp = service.day_of(now), service.day_of(card.expires_at)
    credentials = []
    for copy, (jwk, (list_id, index)) in enumerate(zip(holder_keys, placed, strict=True)):
        claims, disclosable = service.claims_of(t, facts, service.card_number(card_id, copy), now)
        status = {"status_list": {"idx": index, "uri": f"{ports.issuer}/status/{list_id}"}}
        credentials.append(sdjwt.issue(
            claims, disclosable, vct=t.vct, issuer=ports.issuer, holder_jwk=jwk, status=status, iat=iat,
            exp=exp, signer=ports.keys.current,
        ))  # fmt: skip
    uow = UnitOfWork()
    ports.store.stage_token(uow, token)
    ports.store.stage_use_nonce(uow, nonce)
    for state, _, new in lists:
        ports.store.stage_list(uow, state, new)
    ports.store.stage_card(uow, card)
    event = CardIssued(card_id=card_id, citizen_id=card.citizen_id, card_type=t.id, vct=t.vct,
                       copies=card.copies, issued_at=now, expires_at=card.expires_at)  # fmt: skip
    stage_event(uow, event, subject=card.citizen_id, traceparent=traceparent, now=now)
    return Staged(uow, Issued(card, credentials))


# ---- status lists and metadata ------------------------------------------------------------------------


def status_list_token(list_id: str, ports: WalletPorts) -> str:
    """The list's Status List Token, signed now, valid for twice its ttl (a verifier caches it ``ttl`` s)."""
    state = ports.store.fetch_list(list_id)
    if state is None:
        raise service.CardNotFoundError(f"no status list {list_id!r}")
    now = ports.clock.now()
    lst = statuslist.StatusList(service.LIST_BITS, service.LIST_SIZE, state.statuses).encode()
    return statuslist.status_token(
        f"{ports.issuer}/status/{list_id}", lst, service.LIST_BITS, iat=now,
        exp=now + timedelta(seconds=2 * service.STATUS_TTL), ttl=service.STATUS_TTL, signer=ports.keys.current,
    )  # fmt: skip


def _claims_metadata(t: CardType) -> list[dict[str, Any]]:
    paths: list[list[str]] = [["card_number"]]
    paths += [["age_equal_or_over", str(n)] for n in t.age_over]
    paths += [[c] for c in t.claims]
    return [{"path": p} for p in paths]


def issuer_metadata(ports: WalletPorts) -> dict[str, Any]:
    """OpenID4VCI §12.2: the issuer's metadata; the issuer is its own authorization server (no
    ``authorization_servers``)."""
    configurations = {
        t.id: {
            "format": "dc+sd-jwt", "vct": t.vct, "scope": t.id,
            "cryptographic_binding_methods_supported": ["jwk"],
            "credential_signing_alg_values_supported": [jose.ALG],
            "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": [jose.ALG]}},
            "credential_metadata": {
                "display": [{"name": t.title["es"], "locale": "es"}, {"name": t.title["en"], "locale": "en"}],
                "claims": _claims_metadata(t),
            },
        }
        for t in card_types(ports).values()
    }  # fmt: skip
    return {
        "credential_issuer": ports.issuer,
        "credential_endpoint": f"{ports.issuer}/oid4vci/credential",
        "nonce_endpoint": f"{ports.issuer}/oid4vci/nonce",
        "batch_credential_issuance": {"batch_size": service.MAX_COPIES},
        "display": [
            {"name": "Ayuntamiento de Madrid", "locale": "es"},
            {"name": "Madrid City Council", "locale": "en"},
        ],
        "credential_configurations_supported": configurations,
    }


def authorization_server_metadata(ports: WalletPorts) -> dict[str, Any]:
    """RFC 8414 with OpenID4VCI §12.3's member: the token endpoint, the pre-authorized grant, anonymous."""
    return {
        "issuer": ports.issuer,
        "token_endpoint": f"{ports.issuer}/oid4vci/token",
        "grant_types_supported": [service.PRE_AUTHORIZED_GRANT],
        "pre-authorized_grant_anonymous_access_supported": True,
        "response_types_supported": [],
    }


def jwt_vc_issuer(ports: WalletPorts) -> dict[str, Any]:
    """SD-JWT VC §5: every key still verifying (rotation keeps old ones)."""
    return {"issuer": ports.issuer, "jwks": ports.keys.jwks()}


# ---- revocation, suspension, grants -------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeCard:
    citizen_id: str
    card_id: str
    action: Literal["revoke", "suspend", "reinstate"]
    reason: str | None = None


def change_card(cmd: ChangeCard, ports: WalletPorts, traceparent: str | None) -> Staged[Card]:
    """Revoke, suspend or reinstate every copy of a card: each copy's bit flips and its list is republished
    (the next status token served carries it), announced as ``card.*``."""
    card = ports.store.fetch_card(cmd.card_id)
    if card is None or card.citizen_id != cmd.citizen_id:
        raise service.CardNotFoundError(f"no card {cmd.card_id!r} of this citizen")
    reason = service.revoke_reason(cmd.reason or "") if cmd.action == "revoke" else cmd.reason
    now = ports.clock.now()
    changed, value = service.transition(card, cmd.action, find_type(card.card_type, ports), reason, now)
    uow = UnitOfWork()
    _stage_statuses(uow, [card], value, ports)
    _stage_changed(uow, changed, cmd.action, traceparent, now, ports)
    return Staged(uow, changed)


def _stage_statuses(uow: UnitOfWork, cards: list[Card], value: int, ports: WalletPorts) -> None:
    """Every copy of ``cards`` at ``value``, each list written once (several cards may share one)."""
    by_list: dict[str, list[int]] = {}
    for card in cards:
        for list_id, index in card.entries:
            by_list.setdefault(list_id, []).append(index)
    for list_id, indexes in sorted(by_list.items()):
        state = ports.store.fetch_list(list_id)
        assert state is not None, f"a card names status list {list_id} that is not stored"
        ports.store.stage_list(uow, service.with_status(state, indexes, value), False)


def _stage_changed(uow: UnitOfWork, changed: Card, action: Literal["revoke", "suspend", "reinstate"],
                   traceparent: str | None, now: datetime, ports: WalletPorts) -> None:  # fmt: skip
    """The card in its new state, and its ``card.*`` announcement."""
    ports.store.stage_card(uow, changed)
    base = {"card_id": changed.card_id, "citizen_id": changed.citizen_id, "card_type": changed.card_type}
    event: CardRevoked | CardSuspended | CardReinstated
    if action == "revoke":
        event = CardRevoked(**base, reason=service.revoke_reason(changed.reason or ""), revoked_at=now)
    elif action == "suspend":
        event = CardSuspended(**base, reason=changed.reason or "suspended", suspended_at=now)
    else:
        event = CardReinstated(**base, reinstated_at=now)
    stage_event(uow, event, subject=changed.citizen_id, traceparent=traceparent, now=now)


def _revoke_the_unsupported(uow: UnitOfWork, facts: service.Facts, ports: WalletPorts, traceparent: str | None) -> None:
    """The cards the new facts no longer support (a grant withdrawn, the Padrón registration ended) revoked, reason
    ``eligibility-lost``, in the unit that changes the facts: a card cannot outlive the rule that gave it."""
    live = [card for card in ports.store.fetch_cards(facts.citizen_id) if card.state != "revoked"]
    if not live:  # most people hold no card: one Query, no types read, no policy asked
        return
    types, now = card_types(ports), ports.clock.now()
    lost = []
    for card in live:
        t = types.get(card.card_type)
        if t is not None and not eligibility(t, facts, ports)[0]:
            lost.append(service.transition(card, "revoke", t, "eligibility-lost", now)[0])
    if lost:
        _stage_statuses(uow, lost, service.REVOKED, ports)
    for changed in lost:
        _stage_changed(uow, changed, "revoke", traceparent, now, ports)


@dataclass(frozen=True)
class Grant:
    citizen_id: str
    card_type: str
    reason: str
    claims: dict[str, str]


def grant(cmd: Grant, ports: WalletPorts, traceparent: str | None) -> Staged[dict[str, Any]]:
    """An agent's (or a system's) grant of a card type: the facts change now and ``card.granted`` is
    announced (its echo back to this domain changes nothing: same instant)."""
    find_type(cmd.card_type, ports)
    now = ports.clock.now()
    facts = ports.store.fetch_facts(cmd.citizen_id)
    changed = service.with_grant(facts, cmd.card_type, cmd.claims, now, revoked=False)
    uow = UnitOfWork()
    if changed is not None:
        ports.store.stage_facts(uow, changed)
    event = CardGranted(citizen_id=cmd.citizen_id, card_type=cmd.card_type, reason=cmd.reason, granted_at=now,
                        claims=cmd.claims)  # fmt: skip
    stage_event(uow, event, subject=cmd.citizen_id, traceparent=traceparent, now=now, producer="pic-wallet")
    return Staged(uow, {"citizen_id": cmd.citizen_id, "card_type": cmd.card_type, "granted_at": now.isoformat()})


# ---- events -------------------------------------------------------------------------------------------


def project_citizen(data: CitizenUpdated, ports: WalletPorts, traceparent: str | None = None) -> UnitOfWork:
    """C360's survived Padrón facts (birth date, district) as the wallet's facts; the latest wins. A card they no
    longer support is revoked with them."""
    uow = UnitOfWork()
    if data.profile is None:
        return uow
    facts = ports.store.fetch_facts(data.citizen_id)
    changed = service.with_profile(facts, data.profile.birth_date, data.profile.district, data.updated_at)
    if changed is not None:
        ports.store.stage_facts(uow, changed)
        _revoke_the_unsupported(uow, changed, ports, traceparent)
    return uow


def project_grant(data: CardGranted, ports: WalletPorts, traceparent: str | None = None) -> UnitOfWork:
    """An area system's grant (or its withdrawal) as the wallet's facts; a withdrawal revokes the cards it gave."""
    uow = UnitOfWork()
    facts = ports.store.fetch_facts(data.citizen_id)
    changed = service.with_grant(facts, data.card_type, dict(data.claims), data.granted_at, data.revoked)
    if changed is not None:
        ports.store.stage_facts(uow, changed)
        _revoke_the_unsupported(uow, changed, ports, traceparent)
    return uow


def answer_rights(data: RgpdRequestOpened, ports: WalletPorts, traceparent: str | None) -> UnitOfWork:
    """This domain's answer to a data-subject request (``rights.answer``), its erasures in the same unit."""
    result = rights.answer(data, ports.store, ports.policy, ports.clock.now())
    return result.unit(
        traceparent, lambda uow, plan: plan.stage(uow, lambda u, erased: rights.stage_erasure(u, erased, ports.store))
    )
