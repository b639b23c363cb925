"""The verifier's pure rules (issue 17, OpenID4VP 1.0): what a request asks for, the link a wallet opens, and the
verdict on a holder's answer — every check named, every refusal a reason slug.

A request asks for one card type (its ``vct``) and the claims the agent needs, as a DCQL query passed by value
(OpenID4VP 1.0 §6), answered by ``direct_post`` (§8.2) to a response URI that is also the ``client_id``
(prefix ``redirect_uri:``, §5.9.3: no signed request object, so the wallet shows the URL it answers to). The
answer is an SD-JWT VC presentation (RFC 9901; SD-JWT VC draft) bound to the request's nonce and client_id by
its key-binding JWT. ``functions.core.sdjwt.verify`` does the cryptography; this module adds what only a
verifier knows: which issuers it trusts, what it asked for, and that nothing else was disclosed.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import quote, urlencode

from functions.core import sdjwt
from functions.core.errors import (
    CREDENTIAL_REFUSAL_REASONS,
    ConflictError,
    CredentialRefusedError,
    MalformedRequestError,
    NotFoundError,
    PicError,
    ValidationError,
)
from functions.core.jose import Jwk, b64url_decode

if TYPE_CHECKING:
    from functions.core.store import UnitOfWork

REQUEST_TTL = timedelta(minutes=10)  # a request waits this long for the holder (as an issuer's offer does)
RESULT_TTL = timedelta(hours=24)  # a verdict is kept this long, then the table's TTL removes it (minimisation)
MAX_CLAIMS = 10
CREDENTIAL_ID = "card"  # the DCQL credential query's id: the vp_token's key (OpenID4VP 1.0 §8.1)
FORMAT = "dc+sd-jwt"
DATA = Path(__file__).parent / "data" / "card_types.json"

State = Literal["pending", "verified", "refused"]
ClaimPath = tuple[str, ...]

# The verdict's reasons: the shared refusals of functions.core (signature, times, disclosures, key binding,
# status) and the verifier's own: an issuer it does not trust, claims it did not ask for, claims it asked for
# and did not get.
VERIFIER_REASONS = ("untrusted-issuer", "claims-not-asked", "claims-missing")
REASONS = (*CREDENTIAL_REFUSAL_REASONS, *VERIFIER_REASONS)

# The checks a verdict names, in the order they run, and the check each refusal reason fails.
CHECKS = ("issuer", "signature", "validity", "card-type", "disclosures", "key-binding", "status", "claims")
CHECK_OF = {
    "untrusted-issuer": "issuer",
    "malformed": "signature",
    "alg-not-allowed": "signature",
    "wrong-type": "signature",
    "unknown-key": "signature",
    "bad-signature": "signature",
    "expired": "validity",
    "not-yet-valid": "validity",
    "wrong-card-type": "card-type",
    "disclosure-tampered": "disclosures",
    "key-binding-missing": "key-binding",
    "key-binding-invalid": "key-binding",
    "nonce-mismatch": "key-binding",
    "audience-mismatch": "key-binding",
    "revoked": "status",
    "suspended": "status",
    "status-unavailable": "status",
    "claims-not-asked": "claims",
    "claims-missing": "claims",
}


# ---- errors ------------------------------------------------------------------------------------------------------


class VerificationNotFoundError(NotFoundError):
    status, slug, title = 404, "verification-not-found", "No such verification request"


class VerificationExpiredError(PicError):
    status, slug, title = 410, "verification-expired", "The verification request has expired"


class VerificationAnsweredError(ConflictError):
    """A request is answered once (OpenID4VP 1.0 §8.2: the response URI is single use); ask again."""

    status, slug, title = 409, "verification-answered", "The verification request was already answered"


class PresentationResponseError(MalformedRequestError):
    """The direct_post is not an OpenID4VP response to this request (no vp_token, another state)."""

    status, slug, title = 400, "invalid-presentation-response", "Not a presentation response to this request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, error="invalid_request")  # OAuth's error member, read by conformant wallets


class VerificationRequestInvalidError(ValidationError):
    status, slug, title = 422, "verification-request-invalid", "The verification request is not valid"


class RefusedError(Exception):
    """A verdict of refusal while checking (``reason`` one of ``REASONS``): it becomes the request's result."""

    def __init__(self, reason: str, detail: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown refusal reason {reason!r}")
        super().__init__(detail)
        self.reason, self.detail = reason, detail


# ---- card types --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardType:
    id: str
    title: dict[str, str]
    vct: str
    claims: dict[ClaimPath, dict[str, str]]  # path -> label (es, en), in the order the desk shows them


def load_card_types(path: Path = DATA) -> dict[str, CardType]:
    """The card types a verifier may ask for (the wallet's card type ids and vcts, design "Identifiers")."""
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["card_types"]
    return {
        type_id: CardType(type_id, spec["title"], spec["vct"], {tuple(c["path"]): c["label"] for c in spec["claims"]})
        for type_id, spec in raw.items()
    }


CARD_TYPES = load_card_types()


def card_type(type_id: str) -> CardType:
    found = CARD_TYPES.get(type_id)
    if found is None:
        raise VerificationRequestInvalidError(
            f"unknown card type {type_id[:64]!r}", errors=[{"field": "card_type", "message": "unknown card type"}]
        )
    return found


def checked_claims(kind: CardType, claims: Iterable[Iterable[str]]) -> list[ClaimPath]:
    """The claims asked, each one the card type has, none twice; at least one (a verifier asks for what it needs:
    RGPD art. 5.1.c)."""
    paths = [tuple(str(part) for part in claim) for claim in claims]
    bad = [{"field": f"claims[{i}]", "message": f"{list(p)} is not a claim of {kind.id}"}
           for i, p in enumerate(paths) if p not in kind.claims]  # fmt: skip
    if bad:
        raise VerificationRequestInvalidError("some claims are not the card type's", errors=bad)
    if not paths or len(set(paths)) != len(paths) or len(paths) > MAX_CLAIMS:
        raise VerificationRequestInvalidError(
            f"ask for 1 to {MAX_CLAIMS} different claims", errors=[{"field": "claims", "message": "1 to 10, each once"}]
        )
    return paths


# ---- the request -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool | None  # None: not reached (an earlier check refused)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed}


@dataclass(frozen=True)
class VerificationRequest:
    """One request for a presentation and, once answered, its verdict."""

    id: str
    card_type: str
    vct: str
    claims: list[ClaimPath]
    nonce: str
    asked_by: str  # the agent (or system) that asked: only they read the result
    purpose: str | None
    created_at: datetime
    expires_at: datetime
    state: State = "pending"
    reason: str | None = None
    detail: str | None = None
    disclosed: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    answered_at: datetime | None = None
    revision: int = 1

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


def new_request(
    kind: CardType, claims: list[ClaimPath], asked_by: str, purpose: str | None, now: datetime
) -> VerificationRequest:
    """A fresh request: its id is also OpenID4VP's ``state``; its nonce is fresh randomness (§14.1: the
    key-binding JWT's nonce proves the presentation was made for this request, not replayed)."""
    return VerificationRequest(
        id=secrets.token_urlsafe(16), card_type=kind.id, vct=kind.vct, claims=claims, nonce=secrets.token_urlsafe(24),
        asked_by=asked_by, purpose=purpose, created_at=now, expires_at=now + REQUEST_TTL,
    )  # fmt: skip


def response_uri(base_url: str, request_id: str) -> str:
    return f"{base_url.rstrip('/')}/v1/verifier/responses/{request_id}"


def client_id(base_url: str, request_id: str) -> str:
    """``redirect_uri:<response URI>`` (OpenID4VP 1.0 §5.9.3): the audience every key-binding JWT must name."""
    return f"redirect_uri:{response_uri(base_url, request_id)}"


def dcql_query(request: VerificationRequest) -> dict[str, Any]:
    """The DCQL query (OpenID4VP 1.0 §6): one credential of the card's vct, the claims asked by path."""
    return {
        "credentials": [
            {
                "id": CREDENTIAL_ID,
                "format": FORMAT,
                "meta": {"vct_values": [request.vct]},
                "claims": [{"path": list(path)} for path in request.claims],
            }
        ]
    }


def request_link(base_url: str, request: VerificationRequest) -> str:
    """The ``openid4vp://`` authorization request by value (OpenID4VP 1.0 §5), what the QR code holds."""
    params = {
        "client_id": client_id(base_url, request.id),
        "response_type": "vp_token",
        "response_mode": "direct_post",
        "response_uri": response_uri(base_url, request.id),
        "nonce": request.nonce,
        "state": request.id,
        "dcql_query": json.dumps(dcql_query(request), separators=(",", ":")),
    }
    return "openid4vp://?" + urlencode(params, quote_via=quote)


def presentation_of(vp_token: str) -> str:
    """The one presentation of a ``vp_token`` (OpenID4VP 1.0 §8.1: a JSON object keyed by the DCQL credential
    query's id, each an array of presentations); this request asks for exactly one."""
    try:
        token = json.loads(vp_token)
    except json.JSONDecodeError as exc:
        raise PresentationResponseError("vp_token is not JSON") from exc
    answers = token.get(CREDENTIAL_ID) if isinstance(token, dict) else None
    if not isinstance(answers, list) or len(answers) != 1 or not isinstance(answers[0], str):
        raise PresentationResponseError(f'vp_token is {{"{CREDENTIAL_ID}": ["<one presentation>"]}}')
    return answers[0]


# ---- trust: the ports the verdict reads ----------------------------------------------------------------------------


class IssuerKeys(Protocol):
    """The trusted issuers and their keys (JWT VC issuer metadata, SD-JWT VC §5), cached by the adapter."""

    def trusts(self, issuer: str) -> bool: ...

    def keys(self, issuer: str, kid: str | None) -> Mapping[str, Jwk]:
        """The issuer's verifying keys by kid; an unknown ``kid`` may make the adapter look again."""
        ...


class StatusLists(Protocol):
    """Token Status List values (draft-ietf-oauth-status-list), read through a cache."""

    def status_of(self, issuer: str, uri: str, index: int) -> int:
        """The status at ``index`` of the list at ``uri``, signed by ``issuer``; else ``status-unavailable``."""
        ...


# ---- the verdict -----------------------------------------------------------------------------------------------------


def _unverified(presentation: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The issuer JWS's header and payload before any check: only to know whose keys to check it with."""
    try:
        head, body = presentation.split("~", 1)[0].split(".")[:2]
        header, payload = json.loads(b64url_decode(head)), json.loads(b64url_decode(body))
    except (ValueError, CredentialRefusedError) as exc:
        raise RefusedError("malformed", "not an SD-JWT presentation") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise RefusedError("malformed", "not an SD-JWT presentation")
    return header, payload


def _covered(path: tuple[str, ...], asked: list[ClaimPath]) -> bool:
    """A disclosure is asked for if it is an asked claim, inside one, or encloses one (a nested claim such as
    ``age_equal_or_over.65`` needs its parent's disclosure too: RFC 9901 §7.1 recursive disclosures)."""
    return any(path[: len(want)] == want or want[: len(path)] == path for want in asked)


def _pick(claims: Mapping[str, Any], path: ClaimPath) -> tuple[bool, Any]:
    value: Any = claims
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _place(into: dict[str, Any], path: ClaimPath, value: Any) -> None:
    for part in path[:-1]:
        into = into.setdefault(part, {})
    into[path[-1]] = value


def disclosed_claims(presentation: str, claims: Mapping[str, Any], asked: list[ClaimPath]) -> dict[str, Any]:
    """Exactly the asked claims, or a refusal: a disclosure of any other claim (``claims-not-asked``: the holder's
    wallet showed more than asked; the verifier keeps none of it, RGPD art. 5.1.c), an asked claim absent
    (``claims-missing``). Claims the issuer never concealed are in every presentation and are not returned."""
    extra = sorted(
        ".".join(map(str, path))
        for path in sdjwt.disclosure_paths(presentation).values()
        if not _covered(tuple(str(p) for p in path), asked)
    )
    if extra:
        raise RefusedError("claims-not-asked", f"disclosed claims that were not asked for: {', '.join(extra)}")
    shown: dict[str, Any] = {}
    missing = []
    for path in asked:
        found, value = _pick(claims, path)
        if found:
            _place(shown, path, value)
        else:
            missing.append(".".join(path))
    if missing:
        raise RefusedError("claims-missing", f"asked claims not disclosed: {', '.join(missing)}")
    return shown


def _checks(failed: str | None) -> list[Check]:
    """Every check passed up to the one that failed (refused), none after it (not reached)."""
    out, reached = [], True
    for name in CHECKS:
        if name == failed:
            out.append(Check(name, False))
            reached = False
        else:
            out.append(Check(name, True if reached else None))
    return out


def check_presentation(
    presentation: str,
    request: VerificationRequest,
    *,
    audience: str,
    issuers: IssuerKeys,
    statuses: StatusLists,
    now: datetime,
) -> tuple[dict[str, Any], list[Check]]:
    """The claims disclosed and the checks passed, or ``RefusedError``: a trusted issuer, its signature by a key of
    its published metadata (ES256 only), validity, the vct asked for, every disclosure, the key binding to this
    request (``audience`` = client_id, its nonce), the status list, and the claims (only those asked)."""
    header, payload = _unverified(presentation)
    issuer = payload.get("iss")
    if not isinstance(issuer, str) or not issuers.trusts(issuer):
        raise RefusedError("untrusted-issuer", f"the credential's issuer {str(issuer)[:200]!r} is not trusted")
    kid = header.get("kid") if isinstance(header.get("kid"), str) else None
    try:
        verified = sdjwt.verify(
            presentation, issuer_keys=issuers.keys(issuer, kid), aud=audience, nonce=request.nonce, now=now,
            status_of=lambda uri, index: statuses.status_of(issuer, uri, index), vct=request.vct,
        )  # fmt: skip
    except CredentialRefusedError as refused:
        raise RefusedError(refused.reason, refused.detail) from refused
    return disclosed_claims(presentation, verified.claims, request.claims), _checks(None)


def decide(
    request: VerificationRequest,
    presentation: str,
    *,
    audience: str,
    issuers: IssuerKeys,
    statuses: StatusLists,
    now: datetime,
) -> VerificationRequest:
    """The request answered: verified with the claims disclosed, or refused naming the reason and the check."""
    try:
        shown, checks = check_presentation(
            presentation, request, audience=audience, issuers=issuers, statuses=statuses, now=now
        )
    except RefusedError as refused:
        failed = _checks(CHECK_OF[refused.reason])
        return replace(request, state="refused", reason=refused.reason, detail=refused.detail[:500], checks=failed,
                       answered_at=now, revision=request.revision + 1)  # fmt: skip
    return replace(request, state="verified", disclosed=shown, checks=checks, answered_at=now,
                   revision=request.revision + 1)  # fmt: skip


def answerable(request: VerificationRequest | None, request_id: str, now: datetime) -> VerificationRequest:
    """The request a holder answers: it exists, waits for its answer and has not expired."""
    if request is None:
        raise VerificationNotFoundError(f"no verification request {request_id[:64]!r}")
    if request.state != "pending":
        raise VerificationAnsweredError("this request was already answered: the agent must ask again")
    if request.expired(now):
        raise VerificationExpiredError("this request has expired: the agent must ask again")
    return request


def view(request: VerificationRequest, now: datetime) -> dict[str, Any]:
    """The result the asking agent reads: state (an unanswered request past its time is ``expired``)."""
    state = "expired" if request.state == "pending" and request.expired(now) else request.state
    return {
        "request_id": request.id,
        "state": state,
        "reason": request.reason,
        "detail": request.detail,
        "card_type": request.card_type,
        "vct": request.vct,
        "claims": [list(p) for p in request.claims],
        "disclosed": request.disclosed,
        "checks": [c.as_json() for c in request.checks],
        "purpose": request.purpose,
        "created_at": request.created_at.isoformat(),
        "expires_at": request.expires_at.isoformat(),
        "answered_at": request.answered_at.isoformat() if request.answered_at else None,
    }


# ---- the port ----------------------------------------------------------------------------------------------------


class VerifierStore(Protocol):
    """Verification requests, each one item written under its revision (an answer is accepted once)."""

    def fetch_request(self, request_id: str) -> VerificationRequest | None: ...

    def stage_request(self, uow: UnitOfWork, request: VerificationRequest) -> None:
        """Write ``request`` if its stored revision is still ``request.revision - 1`` (new: absent)."""
        ...

    def stage_read(self, uow: UnitOfWork, request: VerificationRequest, reader: str, purpose: str | None,
                   at: datetime) -> None:  # fmt: skip
        """Record that ``reader`` read the result (who read what was disclosed, for what purpose)."""
        ...
