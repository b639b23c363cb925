"""Bearer JWTs verified against a JWKS URL; verified claims become the policy ``subject``.

Citizens authenticate through Cl@ve in production and agents through the council's IdP; locally the dev
issuer of ``make run`` signs tokens. Verification happens here, in Python, because the in-process Rego
engine has no ``io.jwt`` builtins: policies receive claims that are already trusted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any, Literal

from functions.core.errors import UnauthenticatedError
from functions.core.settings import get_settings

Role = Literal["citizen", "agent", "admin", "system"]
ROLES: tuple[str, ...] = ("citizen", "agent", "admin", "system")
ALGORITHMS = ["RS256", "ES256"]


@dataclass(frozen=True)
class Subject:
    """Who is calling: a citizen (``id`` = citizen id) or an agent with attention level and area."""

    id: str
    role: str
    level: int = 0
    area: str | None = None

    def as_policy_input(self) -> dict[str, Any]:
        return asdict(self)


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
    return Subject(id=sub, role=role, level=level, area=area or None)


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
