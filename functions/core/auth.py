"""Bearer JWTs verified against a JWKS URL; verified claims become the policy ``subject``.

Citizens authenticate through Cl@ve in production and agents through the council's IdP; locally the dev
issuer of ``make run`` signs tokens. Verification happens here, in Python, because the in-process Rego
engine has no ``io.jwt`` builtins: policies receive claims that are already trusted.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any, Literal

from functions.core.errors import UnauthenticatedError
from functions.core.settings import get_settings

Role = Literal["citizen", "agent", "admin", "system"]
ROLES: tuple[str, ...] = ("citizen", "agent", "admin", "system")
ALGORITHMS = ["RS256", "ES256"]
SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5B\x5D-\x7E]+$")  # RFC 6749 §3.3: printable ASCII but space, quote, backslash


@dataclass(frozen=True)
class Subject:
    """Who is calling: a citizen (``id`` = citizen id) or an agent with attention level and area."""

    id: str
    role: str
    level: int = 0
    area: str | None = None
    # an internal system calling as an OAuth 2.0 client (client credentials, RFC 6749 §4.4): its client id and
    # the scopes its token grants (``api:<action>``, ``events:<type>``); None for every other caller, whose
    # token names no client (a person, a workload token): policies/authz checks scopes only when a client is named
    client_id: str | None = None
    scopes: tuple[str, ...] | None = None

    def as_policy_input(self) -> dict[str, Any]:
        found = asdict(self)
        found["scopes"] = list(self.scopes) if self.scopes is not None else None
        return found


MAX_SUBJECT = 256


def subject_from_claims(claims: dict[str, Any]) -> Subject:
    """Map verified claims to a ``Subject``; a missing or unknown role, an empty subject, or a level or area
    of the wrong kind is refused, never guessed (a token without a role is not a citizen's)."""
    if "role" not in claims:
        raise UnauthenticatedError(f"the token has no role claim (one of {', '.join(ROLES)})")
    role, level, area, sub = claims["role"], claims.get("level", 0), claims.get("area"), claims["sub"]
    if role not in ROLES:
        raise UnauthenticatedError(f"token role {role!r} is not one of {', '.join(ROLES)}")
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 3:
        raise UnauthenticatedError("token attention level must be an integer 0-3")
    if not isinstance(sub, str) or not sub.strip() or len(sub) > MAX_SUBJECT or not sub.isprintable():
        raise UnauthenticatedError(f"the token's subject must be 1-{MAX_SUBJECT} printable characters")
    if area is not None and (not isinstance(area, str) or len(area) > MAX_SUBJECT or not area.isprintable()):
        raise UnauthenticatedError(f"the token's area must be a string of up to {MAX_SUBJECT} printable characters")
    client_id, scopes = client_of(claims) if role == "system" else (None, None)
    return Subject(id=sub, role=role, level=level, area=area or None, client_id=client_id, scopes=scopes)


MAX_SCOPES = 64


def client_of(claims: dict[str, Any]) -> tuple[str | None, tuple[str, ...] | None]:
    """A system token's OAuth client (``client_id``, else ``azp``: RFC 9068 §2.2, OIDC Core §2) and its
    granted scopes (``scope``, space-separated scope-tokens: RFC 8693 §4.2, RFC 6749 §3.3); no client, no
    scopes (a workload token of the platform itself). A client's token without ``scope`` grants nothing."""
    client = claims.get("client_id", claims.get("azp"))
    if client is None:
        return None, None
    if not isinstance(client, str) or not client.strip() or len(client) > MAX_SUBJECT or not client.isprintable():
        raise UnauthenticatedError(f"the token's client_id must be 1-{MAX_SUBJECT} printable characters")
    scope = claims.get("scope", "")
    if not isinstance(scope, str) or len(scope) > 8192:
        raise UnauthenticatedError("the token's scope must be a string of space-separated scope-tokens (RFC 6749 §3.3)")
    scopes = tuple(scope.split(" ")) if scope else ()
    if len(scopes) > MAX_SCOPES or not all(SCOPE_TOKEN.match(s) for s in scopes):
        raise UnauthenticatedError(f"the token's scope must be at most {MAX_SCOPES} scope-tokens (RFC 6749 §3.3)")
    return client, scopes


class Authenticator:
    """Verifies RS256/ES256 bearer tokens: signature (JWKS, cached), issuer, audience, expiry."""

    def __init__(self, jwks_url: str, issuer: str, audience: str) -> None:
        import jwt  # and cryptography: imported by the functions that verify tokens, not by the event ones

        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=5)
        self._issuer = issuer
        self._audience = audience

    def verify(self, authorization: str | None) -> Subject:
        """The subject of an ``Authorization: Bearer ...`` header, or ``UnauthenticatedError``."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise UnauthenticatedError("send an Authorization: Bearer <token> header")
        import jwt

        try:
            key = self._jwks.get_signing_key_from_jwt(token.strip())
            claims = jwt.decode(
                token.strip(),
                key.key,
                algorithms=ALGORITHMS,
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise UnauthenticatedError("the token has expired") from exc
        except jwt.PyJWKClientConnectionError as exc:
            raise UnauthenticatedError("the token's signing keys could not be fetched") from exc
        except (jwt.InvalidTokenError, jwt.PyJWKClientError, TypeError, ValueError) as exc:
            # TypeError/ValueError: a header naming one algorithm with a key of another kind
            raise UnauthenticatedError(f"the token is not valid: {exc}") from exc
        return subject_from_claims(claims)


@lru_cache(maxsize=1)
def get_authenticator() -> Authenticator:
    settings = get_settings()
    return Authenticator(settings.jwks_url, settings.jwt_issuer, settings.jwt_audience)
