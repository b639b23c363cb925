"""Whom the verifier trusts and what it has read of them: issuers' keys and status lists, fetched over HTTP through a
``Fetch`` port and cached (the adapter with ``requests`` is ``functions.verifier.fetch``).

- Keys: an issuer in ``PIC_VERIFIER_TRUSTED_ISSUERS`` publishes its JWT VC issuer metadata at
  ``<origin>/.well-known/jwt-vc-issuer<path>`` (SD-JWT VC draft §5: the well-known segment inserted between the
  host and the path) with ``issuer`` equal to its identifier and its keys in ``jwks`` (or at ``jwks_uri``). Kept
  ``KEYS_MAX_AGE``; a ``kid`` not in them makes the verifier look again, at most once per ``REFETCH_AFTER`` per
  issuer (rotation is seen at once, a flood of made-up kids does not become a flood of requests to the issuer).
- Status lists (draft-ietf-oauth-status-list §8: caching): a list is read again after
  ``PIC_VERIFIER_STATUS_MAX_AGE`` (60 s), or sooner if its token's ``ttl`` says so, and never used past its
  ``exp``. A list must be the credential issuer's (its URI under the issuer's identifier, signed by its keys).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from functions.core.clock import Clock
from functions.core.errors import CredentialRefusedError
from functions.core.jose import Jwk, b64url_decode, keys_from_jwks
from functions.core.statuslist import StatusList, read_status_token

KEYS_MAX_AGE = timedelta(hours=1)
REFETCH_AFTER = timedelta(minutes=1)
STATUS_MAX_AGE = timedelta(seconds=60)
MAX_LISTS = 512  # status lists kept at once (one per card type and issuer in practice; bounded all the same)
METADATA = "application/json"
STATUS_LIST = "application/statuslist+jwt"


class FetchError(Exception):
    """An HTTP read that did not give a 200 answer in time (the reason in the message)."""


class Fetch(Protocol):
    def __call__(self, url: str, accept: str) -> bytes:
        """The body of a 200 answer to ``GET url``, or ``FetchError``."""
        ...


def metadata_url(issuer: str) -> str:
    """The JWT VC issuer metadata URL of ``issuer`` (SD-JWT VC §5.1): ``/.well-known/jwt-vc-issuer`` inserted
    after the host, the issuer's path after it."""
    parts = urlsplit(issuer)
    return urlunsplit((parts.scheme, parts.netloc, "/.well-known/jwt-vc-issuer" + parts.path.rstrip("/"), "", ""))


def trusted_issuers(configured: str, base_url: str) -> frozenset[str]:
    """The platform's own issuer ``{base}/v1/wallet`` and those ``PIC_VERIFIER_TRUSTED_ISSUERS`` adds (a comma
    list: partners' issuers, a test's own)."""
    listed = [issuer.strip().rstrip("/") for issuer in configured.split(",") if issuer.strip()]
    return frozenset([f"{base_url.rstrip('/')}/v1/wallet", *listed])


@dataclass
class _Keys:
    keys: dict[str, Jwk]
    fetched_at: datetime


class IssuerDirectory:
    """``service.IssuerKeys`` over HTTP: the trusted issuers' keys, read from their metadata and cached."""

    def __init__(self, trusted: Iterable[str], fetch: Fetch, clock: Clock) -> None:
        self._trusted = frozenset(trusted)
        self._fetch = fetch
        self._clock = clock
        self._cache: dict[str, _Keys] = {}
        self._lock = threading.Lock()

    def trusts(self, issuer: str) -> bool:
        return issuer in self._trusted

    def keys(self, issuer: str, kid: str | None) -> Mapping[str, Jwk]:
        now = self._clock.now()
        with self._lock:
            cached = self._cache.get(issuer)
        stale = cached is None or now - cached.fetched_at >= KEYS_MAX_AGE
        unknown = cached is not None and kid is not None and kid not in cached.keys
        if stale or (unknown and cached is not None and now - cached.fetched_at >= REFETCH_AFTER):
            cached = self._read(issuer, now, cached)
        assert cached is not None
        return cached.keys

    def _read(self, issuer: str, now: datetime, cached: _Keys | None) -> _Keys:
        try:
            keys = self._published(issuer)
        except (FetchError, CredentialRefusedError) as exc:
            if cached is not None:  # keep verifying with what was read: the issuer is briefly unreachable
                return cached
            raise CredentialRefusedError("unknown-key", f"the issuer's keys could not be read: {exc}") from exc
        fresh = _Keys(keys, now)
        with self._lock:
            self._cache[issuer] = fresh
        return fresh

    def _published(self, issuer: str) -> dict[str, Jwk]:
        metadata = _json(self._fetch(metadata_url(issuer), METADATA), "the issuer's metadata")
        if metadata.get("issuer") != issuer:
            raise CredentialRefusedError("unknown-key", "the metadata is another issuer's")
        jwks = metadata.get("jwks")
        if jwks is None and isinstance(metadata.get("jwks_uri"), str):
            jwks = _json(self._fetch(metadata["jwks_uri"], "application/jwk-set+json"), "the issuer's JWK Set")
        if not isinstance(jwks, Mapping):
            raise CredentialRefusedError("unknown-key", "the metadata has no jwks")
        return keys_from_jwks(jwks)


def _json(body: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CredentialRefusedError("unknown-key", f"{what} is not JSON") from exc
    if not isinstance(value, dict):
        raise CredentialRefusedError("unknown-key", f"{what} is not a JSON object")
    return value


@dataclass
class _List:
    status_list: StatusList
    fresh_until: datetime


class StatusCache:
    """``service.StatusLists`` over HTTP: each list read, its signature checked with the issuer's keys, and kept
    until the earliest of ``max_age``, its ``ttl`` and its ``exp``."""

    def __init__(self, issuers: IssuerDirectory, fetch: Fetch, clock: Clock, max_age: timedelta = STATUS_MAX_AGE):
        self._issuers = issuers
        self._fetch = fetch
        self._clock = clock
        self._max_age = max_age
        self._cache: dict[str, _List] = {}
        self._lock = threading.Lock()

    def status_of(self, issuer: str, uri: str, index: int) -> int:
        if not uri.startswith(issuer.rstrip("/") + "/"):
            raise CredentialRefusedError("status-unavailable", "the status list is not the issuer's")
        now = self._clock.now()
        with self._lock:
            cached = self._cache.get(uri)
        if cached is None or now >= cached.fresh_until:
            cached = self._read(issuer, uri, now)
        try:
            return cached.status_list.get(index)
        except IndexError as exc:
            raise CredentialRefusedError("status-unavailable", str(exc)) from exc

    def _read(self, issuer: str, uri: str, now: datetime) -> _List:
        try:
            token = self._fetch(uri, STATUS_LIST).decode("ascii")
        except (FetchError, UnicodeDecodeError) as exc:
            raise CredentialRefusedError("status-unavailable", f"the status list could not be read: {exc}") from exc
        kid = _header(token).get("kid")
        keys = self._issuers.keys(issuer, kid if isinstance(kid, str) else None)
        try:
            status_list = read_status_token(token, keys, uri=uri, now=now)
        except CredentialRefusedError as exc:  # a list not signed by the issuer tells nothing of the credential
            raise CredentialRefusedError("status-unavailable", f"status list: {exc.detail}") from exc
        fresh = _List(status_list, self._fresh_until(token, now))
        with self._lock:
            if len(self._cache) >= MAX_LISTS:
                self._cache.pop(next(iter(self._cache)))
            self._cache[uri] = fresh
        return fresh

    def _fresh_until(self, token: str, now: datetime) -> datetime:
        """``now`` + the smaller of ``max_age`` and the token's ``ttl``, and no later than its ``exp`` (the token
        was verified by ``read_status_token``: its payload is read here only for these two numbers)."""
        payload = _json_segment(token.split(".")[1])
        until = now + self._max_age
        ttl = payload.get("ttl")
        if isinstance(ttl, int) and not isinstance(ttl, bool) and ttl >= 0:
            until = min(until, now + timedelta(seconds=ttl))
        exp = payload.get("exp")
        if isinstance(exp, int | float) and not isinstance(exp, bool):
            until = min(until, datetime.fromtimestamp(exp, tz=now.tzinfo))
        return until


def _json_segment(segment: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(segment))
    except (ValueError, CredentialRefusedError):
        return {}
    return value if isinstance(value, dict) else {}


def _header(token: str) -> dict[str, Any]:
    return _json_segment(token.split(".")[0])
