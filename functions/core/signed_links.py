"""Personal links PIC puts in messages — a survey invitation, a one-click unsubscribe — as signed, expiring
tokens: whoever holds the link may do that one thing, and nothing in the token can be changed without the key.

One way for every domain: ``itsdangerous`` (Pallets, Flask's own signer: HMAC-SHA256 over compact JSON, a
timestamp checked on the way back) with ``PIC_LINK_SECRET``; each use has its own ``purpose`` (the signer's
salt), so a token made for one use is refused by another. The claims are readable by whoever holds the token
(signed, not encrypted): put in them ids the holder may know, never personal data.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from functions.core.errors import PicError
from functions.core.settings import get_settings


class LinkInvalidError(PicError):
    """A link whose signature does not hold (changed, made for another use, or with another key)."""

    status, slug, title = 404, "link-invalid", "This link is not valid"


class LinkExpiredError(PicError):
    status, slug, title = 410, "link-expired", "This link has expired"


def _signer(purpose: str) -> URLSafeTimedSerializer:
    return _signer_for(get_settings().link_secret, purpose)


@lru_cache(maxsize=16)
def _signer_for(secret: str, purpose: str) -> URLSafeTimedSerializer:
    """One serializer per key and use: building one derives its key again (a campaign signs a link per message)."""
    return URLSafeTimedSerializer(secret, salt=f"pic-{purpose}")


def sign(purpose: str, claims: dict[str, Any]) -> str:
    """A URL-safe token carrying ``claims`` for one ``purpose``."""
    return str(_signer(purpose).dumps(claims))


def verify(purpose: str, token: str, max_age_seconds: int) -> dict[str, Any]:
    """The claims of a token made for ``purpose`` at most ``max_age_seconds`` ago; else a typed problem."""
    try:
        claims = _signer(purpose).loads(token, max_age=max_age_seconds)
    except SignatureExpired as exc:
        raise LinkExpiredError("the link is older than it may be; ask for a new one") from exc
    except BadSignature as exc:
        raise LinkInvalidError("the link was changed or was not made for this") from exc
    if not isinstance(claims, dict):
        raise LinkInvalidError("the link carries no claims")
    return claims
