"""Who may send what to the local broker: the same EventPolicies as the cluster, with the dev IdP's tokens.

Knative Eventing with ``authentication-oidc`` and ``default-authorization-mode: deny-all`` (docs/decisions/
0011) admits an event at a Broker's ingress when its sender's OIDC token is valid for the Broker's audience
(else 401) and some EventPolicy on that Broker names the token's subject and passes the event through all
its filters (else 403). This module does the same from the EventPolicy manifests ``local.manifests`` reads,
so ``make run`` refuses what the cluster refuses, and says why.

It also mints the platform's own workload tokens, as kubelet does for projected ServiceAccount tokens: the
outbox relays' sender tokens (files, re-written before they expire) and the dispatcher's delivery tokens.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from events.catalog import BROKER_AUDIENCE, Sender, sender_owning
from functions.core.errors import SenderNotAllowedError, UnauthenticatedError
from local.idp import ALGORITHM, DevIdp
from local.manifests import EventPolicy

# The broker's dispatcher stands for Knative Eventing's data plane (namespace knative-eventing): only it may
# deliver to event functions, as NetworkPolicy allow-broker-to-event-functions says in the cluster.
DISPATCHER_SUBJECT = "system:serviceaccount:knative-eventing:pic-broker-dispatcher"
DISPATCHER_NAMESPACE_PREFIX = "system:serviceaccount:knative-eventing:"


def subscriber_audience(service: str) -> str:
    """The audience of a delivery token for one event function (Knative Service ``service`` of ``pic``)."""
    return f"serving.knative.dev/service/pic/{service}"


class TokenVerifier:
    """Verifies the dev IdP's RS256 tokens for one audience: signature, issuer, audience, expiry."""

    def __init__(self, public_key: rsa.RSAPublicKey, issuer: str) -> None:
        self._key = public_key
        self._issuer = issuer

    def subject(self, authorization: str | None, audience: str) -> str:
        """The ``sub`` of an ``Authorization: Bearer ...`` token issued for ``audience``."""
        return str(self.claims(authorization, audience)["sub"])

    def claims(self, authorization: str | None, audience: str) -> dict[str, Any]:
        """The verified claims of an ``Authorization: Bearer ...`` token issued for ``audience``."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise UnauthenticatedError(
                "send Authorization: Bearer <token>, a token of your ServiceAccount for the broker's audience "
                f"{BROKER_AUDIENCE} (locally: POST /dev/sender-token)"
            )
        try:
            claims = jwt.decode(
                token.strip(),
                self._key,
                algorithms=[ALGORITHM],
                audience=audience,
                issuer=self._issuer,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise UnauthenticatedError("the token has expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise UnauthenticatedError(f"the token is not for this audience: it must be issued for {audience}") from exc
        except (jwt.InvalidTokenError, TypeError, ValueError) as exc:
            raise UnauthenticatedError(f"the token is not valid: {exc}") from exc
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject.strip():
            raise UnauthenticatedError("the token names no subject")
        return claims


def authorize_scopes(claims: dict[str, Any], event: dict[str, Any]) -> None:
    """A client-credentials token (it names a ``client_id``, ADR 0035) sends only the types its scopes name
    (``events:<type>``), on top of the EventPolicies; a ServiceAccount's own token names no client."""
    client = claims.get("client_id")
    if client is None:
        return
    scope = claims.get("scope")
    scopes = scope.split() if isinstance(scope, str) else []
    if f"events:{event.get('type')}" not in scopes:
        raise SenderNotAllowedError(
            f"client {client} may not send {event.get('type')}: its token's scopes do not list "
            f"events:{event.get('type')} (granted: {' '.join(scopes) or 'none'})",
            sender=str(claims.get("sub")),
        )


# ---- EventPolicy filters (Knative's dialects: exact, prefix, suffix, all, any, not) -------------------


def passes(expression: dict[str, Any], attributes: dict[str, Any]) -> bool:
    """Whether an event's attributes pass one filter expression."""
    (dialect, value), *rest = expression.items()
    if rest:
        raise ValueError(f"a filter expression has one dialect, not {sorted(expression)}")
    if dialect == "all":
        return all(passes(e, attributes) for e in value)
    if dialect == "any":
        return any(passes(e, attributes) for e in value)
    if dialect == "not":
        return not passes(value, attributes)
    compare = {
        "exact": lambda have, want: have == want,
        "prefix": lambda have, want: have.startswith(want),
        "suffix": lambda have, want: have.endswith(want),
    }.get(dialect)
    if compare is None:
        raise ValueError(f"filter dialect {dialect!r} is not one the local broker evaluates")
    return all(isinstance(attributes.get(k), str) and compare(attributes[k], str(v)) for k, v in value.items())


def describe(expression: dict[str, Any]) -> str:
    """A filter expression in words, for the 403 that names why."""
    (dialect, value), *_ = expression.items()
    if dialect in ("all", "any"):
        joined = f" {'and' if dialect == 'all' else 'or'} ".join(describe(e) for e in value)
        return f"({joined})" if len(value) > 1 else joined
    if dialect == "not":
        return f"not {describe(value)}"
    verb = {"exact": "=", "prefix": "starts with", "suffix": "ends with"}[dialect]
    return " and ".join(f"{k} {verb} {v}" for k, v in value.items())


def _names(pattern: str, subject: str) -> bool:
    return subject.startswith(pattern[:-1]) if pattern.endswith("*") else subject == pattern


@dataclass(frozen=True)
class SenderPolicies:
    """The EventPolicies that apply to one broker (deny-all when there are none)."""

    broker: str
    policies: tuple[EventPolicy, ...]

    @classmethod
    def of(cls, broker: str, policies: Iterable[EventPolicy]) -> SenderPolicies:
        return cls(broker, tuple(p for p in policies if p.brokers is None or broker in p.brokers))

    def authorize(self, subject: str, event: dict[str, Any]) -> None:
        """Nothing if an EventPolicy admits ``subject`` for ``event``; ``SenderNotAllowedError`` naming why."""
        naming = [p for p in self.policies if any(_names(s, subject) for s in p.subjects)]
        if not naming:
            raise SenderNotAllowedError(
                f"{subject} is not a sender of broker {self.broker}: no EventPolicy admits it", sender=subject
            )
        reasons = []
        for policy in naming:
            failed = [f for f in policy.filters if not passes(f, event)]
            if not failed:
                return
            reasons.append(f"EventPolicy {policy.name} admits it only for {' and '.join(describe(f) for f in failed)}")
        raise SenderNotAllowedError(
            f"{subject} may not send {event.get('type')} with source {event.get('source')}: " + "; ".join(reasons),
            sender=subject,
        )


# ---- the platform's own workload tokens ----------------------------------------------------------------


class TokenCache:
    """Workload tokens minted by the dev IdP, minted again once half their life is gone (kubelet's rule for
    projected ServiceAccount tokens)."""

    def __init__(self, idp: DevIdp, ttl_seconds: int = 3600) -> None:
        self._idp = idp
        self._ttl = ttl_seconds
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, subject: str, audience: str) -> str:
        now = time.monotonic()
        with self._lock:
            token, renew_at = self._tokens.get((subject, audience), ("", 0.0))
            if now >= renew_at:
                token = self._idp.mint_for(subject, audience, self._ttl)
                self._tokens[(subject, audience)] = (token, now + self._ttl / 2)
            return token

    def delivery_token(self, service: str) -> str:
        """The dispatcher's token for delivering to one event function."""
        return self.get(DISPATCHER_SUBJECT, subscriber_audience(service))


def write_token_file(cache: TokenCache, sender: Sender, directory: Path) -> Path:
    """Write ``sender``'s broker token to ``<directory>/<account>.token`` when it changed (atomically, as
    kubelet swaps a projected token); returns the path its relay reads."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{sender.account}.token"
    token = cache.get(sender.subject, BROKER_AUDIENCE)
    if not path.exists() or path.read_text(encoding="utf-8") != token:
        staged = path.with_suffix(".tmp")
        staged.write_text(token, encoding="utf-8")
        staged.chmod(0o600)
        staged.replace(path)
    return path


# ---- for clients that send as a legacy system (loaders, seeds, tests, benchmarks) -------------------------


class SenderTokens:
    """Sender tokens from the dev IdP's ``POST /dev/sender-token``, one per ServiceAccount, fetched again
    before they expire: what a legacy system's connector does with its credentials."""

    def __init__(self, base_url: str, session: requests.Session | None = None, ttl_seconds: int = 3600) -> None:
        self._url = base_url.rstrip("/") + "/dev/sender-token"
        self._session = session or requests.Session()
        self._ttl = ttl_seconds
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def token(self, account: str) -> str:
        with self._lock:
            token, renew_at = self._tokens.get(account, ("", 0.0))
            if time.monotonic() < renew_at:
                return token
        response = self._session.post(
            self._url, json={"service_account": account, "ttl_seconds": self._ttl}, timeout=10
        )
        response.raise_for_status()
        token = str(response.json()["access_token"])
        with self._lock:
            self._tokens[account] = (token, time.monotonic() + self._ttl / 2)
        return token

    def headers_for(self, source: str, account: str | None = None) -> dict[str, str]:
        """``Authorization`` for sending with ``source``: as ``account``, else as the system that owns it."""
        if account is None:
            owner = sender_owning(source)
            if owner is None:
                raise ValueError(f"no catalogued sender owns source {source!r}: name the account to send as")
            account = owner.account
        return {"Authorization": f"Bearer {self.token(account)}"}
