"""Wallet (WAL, issue 17), pure rules: the card types as data, the facts eligibility reads, the pre-authorized
code flow's one-time secrets (offer, tx_code, access token, c_nonce), status-list allocation, the credential's
claims, and the store's port.

The issuer follows OpenID4VCI 1.0 (pre-authorized code flow, §3.5 and §6; nonce endpoint §7; credential
endpoint §8 with ``proofs``), issues SD-JWT VCs (RFC 9901, SD-JWT VC draft) through ``functions.core.sdjwt``
and publishes Token Status Lists (draft-ietf-oauth-status-list) through ``functions.core.statuslist``.
Every one-time secret is stored by its SHA-256 only: a leaked table holds no usable code, token or nonce.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from events.wallet import CARD_TYPE_PATTERN, RevokeReason
from functions.core.errors import ConflictError, NotFoundError, PicError, ValidationError

if TYPE_CHECKING:  # the port names the kernel's unit of work; this module stays free of its adapters
    from functions.core.store import UnitOfWork

POLICY = "wallet"
MADRID = ZoneInfo("Europe/Madrid")
OFFER_TTL = timedelta(minutes=10)  # design: offers expire in 10 minutes
TOKEN_TTL = timedelta(minutes=5)  # the access token serves one credential request, soon after the token request
NONCE_TTL = timedelta(minutes=5)  # design: a c_nonce is single use, 5 minutes
TX_CODE_TRIES = 3  # design: three wrong tx_codes and the offer is dead
TX_CODE_LENGTH = 6
MAX_COPIES = 10  # issuer metadata's batch_credential_issuance.batch_size
LIST_SIZE = 131_072  # entries per status list: the draft's minimum to hide whose bit is whose (design)
LIST_BITS = 2  # 0 valid, 1 revoked (invalid), 2 suspended (Token Status List draft §7.1)
LIST_FILL = 3 / 4  # a new list starts when the current one is 3/4 allocated: random picks stay cheap
STATUS_TTL = 300  # seconds a verifier may cache a status list token (``ttl``, Cache-Control max-age)
VALID, REVOKED, SUSPENDED = 0, 1, 2
PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
CardState = Literal["valid", "revoked", "suspended"]
SEEDS = Path(__file__).parent / "data" / "card_types.json"


# ---- the domain's problems ---------------------------------------------------------------------------------


class NotEligibleError(PicError):
    status, slug, title = 422, "not-eligible", "The citizen may not hold this card"


class CardTypeNotFoundError(NotFoundError):
    slug, title = "card-type-not-found", "No such card type"


class CardNotFoundError(NotFoundError):
    slug, title = "card-not-found", "No such card"


class CardStateError(PicError):
    status, slug, title = 409, "card-state", "The card is not in a state that allows this"


class CardTypeChangedError(ConflictError):
    slug, title = "card-type-changed", "The card type changed since it was read"


class CopiesError(ValidationError):
    slug, title = "wallet-copies", "The number of copies is not valid"


class OAuthError(PicError):
    """An OpenID4VCI / OAuth 2.0 error: the problem+json members (RFC 9457) AND the OAuth ``error`` member
    (RFC 6749 §5.2, OpenID4VCI §6.3 and §8.3.1.2), one hierarchy: a conformant wallet reads ``error``."""

    status, slug, title = 400, "oauth-error", "The request was refused"
    error = "invalid_request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, error=self.error, error_description=detail)


class InvalidRequestError(OAuthError):
    slug, title, error = "invalid-request", "The request is not valid", "invalid_request"


class UnsupportedGrantError(OAuthError):
    slug, title, error = "unsupported-grant-type", "Only the pre-authorized code grant", "unsupported_grant_type"


class InvalidGrantError(OAuthError):
    """A pre-authorized code unknown, used, expired or dead, or a wrong tx_code (OpenID4VCI §6.3)."""

    slug, title, error = "invalid-grant", "The pre-authorized code or tx_code is not valid", "invalid_grant"


class OfferExpiredError(InvalidGrantError):
    slug, title = "offer-expired", "The credential offer expired"


class CodeReusedError(InvalidGrantError):
    slug, title = "code-reused", "The pre-authorized code was used already"


class WrongTxCodeError(InvalidGrantError):
    slug, title = "wrong-tx-code", "The transaction code is wrong"


class InvalidTokenError(OAuthError):
    """RFC 6750 §3.1: a missing, unknown, expired or used access token (401 with WWW-Authenticate)."""

    status, slug, title, error = 401, "invalid-token", "The access token is not valid", "invalid_token"

    def default_headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class InvalidNonceError(OAuthError):
    slug, title, error = "invalid-nonce", "The c_nonce is not valid", "invalid_nonce"


class InvalidProofError(OAuthError):
    slug, title, error = "invalid-proof", "The key proof is not valid", "invalid_proof"


class UnknownConfigurationError(OAuthError):
    slug, title = "unknown-credential-configuration", "The credential configuration is not offered"
    error = "unknown_credential_configuration"


# ---- card types as data ------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Text(_Strict):
    es: str = Field(min_length=1, max_length=200)
    en: str = Field(min_length=1, max_length=200)


class CardTypeInput(_Strict):
    """A card type as an admin edits it (``PUT /v1/wallet/card-types/<type>``): ``version`` is the one read
    (optimistic concurrency); a change of claims that breaks holders needs a new vct major (a new type)."""

    version: int = Field(ge=0, description="the version read (0: the seed, never stored)")
    title: Text
    validity_days: int = Field(ge=1, le=5 * 366)
    suspendable: bool = True
    claims: list[Literal["birth_date", "district", "plate", "label", "sector"]] = Field(max_length=5)
    age_over: list[int] = Field(default_factory=list, max_length=3)


@dataclass(frozen=True)
class CardType:
    id: str
    title: dict[str, str]
    validity_days: int
    suspendable: bool
    claims: tuple[str, ...]
    age_over: tuple[int, ...]
    version: int  # 0: the seed (never stored); each edit stores one more

    @property
    def vct(self) -> str:
        """``urn:es:madrid:pic:card:<type>:1``: the major version lives in the vct (design, Identifiers)."""
        return f"urn:es:madrid:pic:card:{self.id}:1"


def seeds() -> dict[str, CardType]:
    """The card types shipped with the code (``data/card_types.json``), version 0 until an admin edits one."""
    raw = json.loads(SEEDS.read_text(encoding="utf-8"))
    return {key: card_type(key, CardTypeInput.model_validate({**body, "version": 0})) for key, body in raw.items()}


def card_type(type_id: str, body: CardTypeInput) -> CardType:
    return CardType(
        type_id, body.title.model_dump(), body.validity_days, body.suspendable, tuple(body.claims),
        tuple(body.age_over), body.version,
    )  # fmt: skip


def edited(current: CardType, body: CardTypeInput) -> CardType:
    """The admin's edit of ``current``, one version up, or ``CardTypeChangedError`` if it was read stale."""
    if body.version != current.version:
        raise CardTypeChangedError(f"card type {current.id!r} is at version {current.version}, not {body.version}")
    return replace(card_type(current.id, body), version=current.version + 1)


def type_view(t: CardType) -> dict[str, Any]:
    return {
        "type": t.id, "title": t.title, "vct": t.vct, "version": t.version, "validity_days": t.validity_days,
        "suspendable": t.suspendable, "claims": list(t.claims), "age_over": list(t.age_over),
    }  # fmt: skip


# ---- the facts eligibility reads ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """What the wallet knows of a citizen: projected from ``citizen.updated`` (C360's survived Padrón facts:
    birth date, district) and ``card.granted`` (area systems' grants, with their card claims)."""

    citizen_id: str
    birth_date: date | None = None
    district: str | None = None
    registered_at: datetime | None = None  # the citizen.updated the Padrón facts came from (latest wins)
    grants: dict[str, dict[str, str]] = field(default_factory=dict)  # card type -> its claims (plate, sector…)
    granted_at: dict[str, datetime] = field(default_factory=dict)
    version: int | None = None


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def policy_input(card_type_id: str, facts: Facts, now: datetime) -> dict[str, Any]:
    """The eligibility policy's input: ages counted on Madrid's calendar day."""
    today = now.astimezone(MADRID).date()
    return {
        "card_type": card_type_id,
        "facts": {
            "age": age_on(facts.birth_date, today) if facts.birth_date else None,
            "registered_in_madrid": facts.district is not None,
            "district": facts.district,
            "grants": sorted(facts.grants),
        },
    }


def with_profile(facts: Facts, birth_date: date | None, district: str | None, at: datetime) -> Facts | None:
    """C360's latest Padrón facts; an older or identical update changes nothing (``None``)."""
    if facts.registered_at is not None and at <= facts.registered_at:
        return None
    if (facts.birth_date, facts.district) == (birth_date, district) and facts.registered_at is not None:
        return None
    return replace(facts, birth_date=birth_date, district=district, registered_at=at)


def with_grant(facts: Facts, card_type_id: str, claims: dict[str, str], at: datetime, revoked: bool) -> Facts | None:
    """An area's grant (or its withdrawal); an older one than known changes nothing."""
    known = facts.granted_at.get(card_type_id)
    if known is not None and at <= known:
        return None
    grants = dict(facts.grants)
    if revoked:
        grants.pop(card_type_id, None)
    else:
        grants[card_type_id] = dict(claims)
    return replace(facts, grants=grants, granted_at={**facts.granted_at, card_type_id: at})


# ---- one-time secrets ---------------------------------------------------------------------------------------


def digest(secret: str) -> str:
    """How a one-time secret is stored and looked up: its SHA-256, never the secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_tx_code() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(TX_CODE_LENGTH))


@dataclass(frozen=True)
class Offer:
    """A credential offer (OpenID4VCI §4.1): its pre-authorized code (by digest), the tx_code (by digest), how
    many tries are left, and whether the code was exchanged already."""

    offer_id: str
    code_digest: str
    tx_digest: str
    citizen_id: str
    card_type: str
    copies: int
    created_at: datetime
    expires_at: datetime
    tries_left: int = TX_CODE_TRIES
    used: bool = False
    version: int | None = None


@dataclass(frozen=True)
class AccessToken:
    """The token the code was exchanged for: it serves one credential request (single use)."""

    token_digest: str
    offer_id: str
    citizen_id: str
    card_type: str
    copies: int
    expires_at: datetime
    used: bool = False
    version: int | None = None


@dataclass(frozen=True)
class Nonce:
    nonce_digest: str
    expires_at: datetime


def redeem(offer: Offer | None, tx_code: str, now: datetime) -> Offer:
    """The offer the token request's code and tx_code redeem (``used``), or the refusal: an unknown code, an
    expired offer, a code used already, a dead offer, a wrong tx_code (its tries counted down by the caller,
    who stores ``spent``)."""
    if offer is None:
        raise InvalidGrantError("the pre-authorized code is not known")
    if offer.used:
        raise CodeReusedError("the pre-authorized code was exchanged already")
    if now >= offer.expires_at:
        raise OfferExpiredError("the credential offer expired; ask for a new one")
    if offer.tries_left <= 0:
        raise InvalidGrantError("too many wrong transaction codes: the offer is dead; ask for a new one")
    if not secrets.compare_digest(digest(tx_code), offer.tx_digest):
        raise WrongTxCodeError(f"wrong transaction code; {offer.tries_left - 1} tries left")
    return replace(offer, used=True)


def spent(offer: Offer) -> Offer:
    """The offer after one wrong tx_code."""
    return replace(offer, tries_left=max(0, offer.tries_left - 1))


def usable_token(token: AccessToken | None, now: datetime) -> AccessToken:
    if token is None:
        raise InvalidTokenError("the access token is not known")
    if token.used:
        raise InvalidTokenError("the access token was used already")
    if now >= token.expires_at:
        raise InvalidTokenError("the access token expired")
    return replace(token, used=True)


# ---- status lists -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListState:
    """One status list: its statuses (``bits`` per entry) and which entries are allocated (one bit each)."""

    list_id: str
    card_type: str
    statuses: bytes
    allocated: bytes
    used: int
    version: int | None = None

    @classmethod
    def new(cls, list_id: str, card_type_id: str) -> ListState:
        return cls(list_id, card_type_id, bytes(LIST_SIZE * LIST_BITS // 8), bytes(LIST_SIZE // 8), 0)

    @property
    def full(self) -> bool:
        return self.used >= LIST_SIZE * LIST_FILL


def is_allocated(allocated: bytes | bytearray, index: int) -> bool:
    return bool(allocated[index // 8] >> (index % 8) & 1)


def allocate(state: ListState, count: int, randbelow: Any = secrets.randbelow) -> tuple[ListState, list[int]]:
    """``count`` random free indexes of the list (never one allocated before: an index is never reused, so a
    revoked bit never turns into someone else's), and the list with them allocated. The caller starts a new
    list when ``full``: below 3/4 a random pick is free at least one time in four."""
    allocated = bytearray(state.allocated)
    picked: list[int] = []
    while len(picked) < count:
        if state.used + len(picked) >= LIST_SIZE:
            raise ValueError("the status list is full")
        index = randbelow(LIST_SIZE)
        if not is_allocated(allocated, index):
            allocated[index // 8] |= 1 << (index % 8)
            picked.append(index)
    return replace(state, allocated=bytes(allocated), used=state.used + count), picked


def list_id_for(card_type_id: str, number: int) -> str:
    return f"{card_type_id}-{number}"


def list_number(list_id: str) -> int:
    return int(list_id.rsplit("-", 1)[1])


# ---- cards ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    """One issuance: all its copies, each at its own (list, index)."""

    card_id: str
    citizen_id: str
    card_type: str
    vct: str
    entries: tuple[tuple[str, int], ...]
    issued_at: datetime
    expires_at: datetime
    state: CardState = "valid"
    reason: str | None = None
    changed_at: datetime | None = None
    version: int | None = None

    @property
    def copies(self) -> int:
        return len(self.entries)


def new_card_id() -> str:
    return f"card-{secrets.token_hex(16)}"


def day_of(instant: datetime) -> datetime:
    """The start of ``instant``'s day (UTC): the time a credential carries, shared by every one issued that day."""
    return instant.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def held_view(card: Card) -> dict[str, Any]:
    return {
        "card_id": card.card_id, "state": card.state, "issued_at": card.issued_at.isoformat(),
        "expires_at": card.expires_at.isoformat(), "copies": card.copies,
    }  # fmt: skip


def transition(card: Card, action: Literal["revoke", "suspend", "reinstate"], t: CardType, reason: str | None,
               now: datetime) -> tuple[Card, int]:  # fmt: skip
    """The card after ``action`` and the status value its copies' bits take. Revoked is final; only types that
    allow it are suspended; only a suspended card is reinstated."""
    if card.state == "revoked":
        raise CardStateError(f"card {card.card_id} is revoked: revocation is final")
    if action == "revoke":
        return replace(card, state="revoked", reason=reason, changed_at=now), REVOKED
    if action == "suspend":
        if not t.suspendable:
            raise CardStateError(f"cards of type {t.id!r} are not suspended: revoke them")
        if card.state == "suspended":
            raise CardStateError(f"card {card.card_id} is suspended already")
        return replace(card, state="suspended", reason=reason, changed_at=now), SUSPENDED
    if card.state != "suspended":
        raise CardStateError(f"card {card.card_id} is not suspended")
    return replace(card, state="valid", reason=None, changed_at=now), VALID


def with_status(state: ListState, indexes: list[int], value: int) -> ListState:
    """The list with ``value`` at each of ``indexes`` (the draft's bit order: entry ``i`` at bit ``i*bits`` from
    the least significant bit of its byte, as ``functions.core.statuslist`` reads it)."""
    statuses = bytearray(state.statuses)
    mask = (1 << LIST_BITS) - 1
    for index in indexes:
        byte, shift = divmod(index * LIST_BITS, 8)
        statuses[byte] = (statuses[byte] & ~(mask << shift)) | (value << shift)
    return replace(state, statuses=bytes(statuses))


def claims_of(
    t: CardType, facts: Facts, card_number: str, now: datetime
) -> tuple[dict[str, Any], list[tuple[str, ...]]]:
    """A credential's claims and which are selectively disclosable: every member but none of the registered
    ones (RFC 9901 §4.2; the age_equal_or_over members one by one, as the EUDI PID does). Names are not held by
    the wallet (C360 announces no name: minimisation), so ``card_number`` is the holder's reference."""
    claims: dict[str, Any] = {"card_number": card_number}
    disclosable: list[tuple[str, ...]] = [("card_number",)]
    today = now.astimezone(MADRID).date()
    if t.age_over and facts.birth_date is not None:
        age = age_on(facts.birth_date, today)
        claims["age_equal_or_over"] = {str(n): age >= n for n in t.age_over}
        disclosable.extend(("age_equal_or_over", str(n)) for n in t.age_over)
    extra = {"birth_date": facts.birth_date.isoformat() if facts.birth_date else None, "district": facts.district}
    extra.update(facts.grants.get(t.id, {}))
    for name in t.claims:
        if extra.get(name) is not None:
            claims[name] = extra[name]
            disclosable.append((name,))
    return claims, disclosable


def card_number(card_id: str, copy: int) -> str:
    """The number printed on a copy: the card's id and the copy (a copy's number differs: no correlation handle
    beyond what the citizen discloses)."""
    return f"{card_id.removeprefix('card-')[:12].upper()}-{copy + 1}"


def check_copies(copies: int) -> int:
    if not 1 <= copies <= MAX_COPIES:
        raise CopiesError(f"copies must be 1..{MAX_COPIES}, not {copies}")
    return copies


def check_type_id(type_id: str) -> str:
    import re

    if not re.fullmatch(CARD_TYPE_PATTERN, type_id):
        raise CardTypeNotFoundError(f"no card type {type_id!r}")
    return type_id


def revoke_reason(reason: str) -> RevokeReason:
    from events.wallet import REVOKE_REASONS

    if reason not in REVOKE_REASONS:
        raise ValidationError(f"reason must be one of {', '.join(REVOKE_REASONS)}")
    return reason  # type: ignore[return-value]


# ---- the store's port ------------------------------------------------------------------------------------


class WalletStore(Protocol):
    def fetch_types(self) -> dict[str, CardType]: ...
    def fetch_facts(self, citizen_id: str) -> Facts: ...
    def fetch_offer(self, code_digest: str) -> Offer | None: ...
    def fetch_token(self, token_digest: str) -> AccessToken | None: ...
    def fetch_nonce(self, nonce_digest: str) -> Nonce | None: ...
    def fetch_cards(self, citizen_id: str) -> list[Card]: ...
    def fetch_card(self, card_id: str) -> Card | None: ...
    def fetch_current_list(self, card_type_id: str) -> ListState | None: ...
    def fetch_list(self, list_id: str) -> ListState | None: ...
    def stage_type(self, uow: UnitOfWork, t: CardType) -> None: ...
    def stage_facts(self, uow: UnitOfWork, facts: Facts) -> None: ...
    def stage_offer(self, uow: UnitOfWork, offer: Offer) -> None: ...
    def stage_token(self, uow: UnitOfWork, token: AccessToken) -> None: ...
    def stage_nonce(self, uow: UnitOfWork, nonce: Nonce) -> None: ...
    def stage_use_nonce(self, uow: UnitOfWork, nonce: Nonce) -> None: ...
    def stage_card(self, uow: UnitOfWork, card: Card) -> None: ...
    def stage_list(self, uow: UnitOfWork, state: ListState, current: bool) -> None: ...
    def stage_erase_facts(self, uow: UnitOfWork, citizen_id: str) -> None: ...
