"""SD-JWT VC (RFC 9901 and SD-JWT-based Verifiable Credentials): issue, present (a Python holder), verify.

The issuer signs digests of the claims it lets the holder disclose one by one (``_sd``, and ``{"...": digest}``
for array elements), plus decoys so the number of hidden claims is not told; the holder sends only the
disclosures it chooses and a key-binding JWT (``kb+jwt``) signed with the key in ``cnf.jwk`` over the verifier's
``aud`` and ``nonce`` and the ``sd_hash`` of exactly what it presents. ``verify`` checks everything the design's
"conformance" list names (issue 17; ADR 0026 at merge), each refusal a
``CredentialRefusedError`` with its reason slug.

Paths name disclosable claims: a dotted string (``"age_equal_or_over.65"``, ``"nationalities.0"`` for an
array's first element) or a tuple of keys and indexes.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from functions.core.errors import CredentialRefusedError
from functions.core.jose import (
    LEEWAY,
    Jwk,
    Signer,
    b64url,
    b64url_decode,
    decode_jws,
    decode_jws_with,
    encode_jws,
    epoch,
)

TYP = "dc+sd-jwt"
KB_TYP = "kb+jwt"
SD_ALG = "sha-256"
KB_MAX_AGE = timedelta(minutes=5)  # a key-binding JWT older than this is a replay (design: iat within 5 min)
DEFAULT_DECOYS = 2
VALID, INVALID, SUSPENDED = 0x00, 0x01, 0x02  # Token Status List values
# Claims of the SD-JWT VC itself, never selectively disclosable and never returned as "disclosed claims"
REGISTERED = frozenset({"iss", "iat", "nbf", "exp", "vct", "vct#integrity", "cnf", "status", "_sd_alg", "sub"})
RESERVED_NAMES = frozenset({"_sd", "..."})

Path = tuple[str | int, ...]
StatusOf = Callable[[str, int], int]  # (status list uri, index) -> status value; raises status-unavailable


def _path(value: str | Path) -> tuple[str, ...]:
    """A path compared as strings: ``"nationalities.0"`` is the array's first element, and ``"age_equal_or_over.65"``
    the member named "65" (an object's key and an array's index never meet at one place)."""
    parts = value if isinstance(value, tuple) else tuple(value.split("."))
    return tuple(str(part) for part in parts)


def disclosure_digest(disclosure: str) -> str:
    return b64url(hashlib.sha256(disclosure.encode("ascii")).digest())


def _disclosure(*elements: Any) -> str:
    return b64url(json.dumps([b64url(secrets.token_bytes(16)), *elements], ensure_ascii=False).encode("utf-8"))


def _decoy() -> str:
    return b64url(hashlib.sha256(secrets.token_bytes(32)).digest())


# --- issuing --------------------------------------------------------------------------------------------------


@dataclass
class _Issuing:
    disclosable: set[tuple[str, ...]]
    decoys: int
    disclosures: list[str] = field(default_factory=list)

    def conceal(self, value: Any, path: tuple[str, ...]) -> Any:
        """``value`` with its disclosable members (at any depth) replaced by digests, disclosures collected."""
        if isinstance(value, Mapping):
            plain: dict[str, Any] = {}
            digests: list[str] = []
            for name, member in value.items():
                if name in RESERVED_NAMES:
                    raise ValueError(f"{name!r} cannot be a claim name")
                inner = self.conceal(member, (*path, name))
                if (*path, name) in self.disclosable:
                    disclosure = _disclosure(name, inner)
                    self.disclosures.append(disclosure)
                    digests.append(disclosure_digest(disclosure))
                else:
                    plain[name] = inner
            if digests:
                digests.extend(_decoy() for _ in range(self.decoys))
                plain["_sd"] = sorted(digests)  # sorted: the order tells nothing of the claims' order
            return plain
        if isinstance(value, list):
            elements: list[Any] = []
            for index, member in enumerate(value):
                inner = self.conceal(member, (*path, str(index)))
                if (*path, str(index)) in self.disclosable:
                    disclosure = _disclosure(inner)
                    self.disclosures.append(disclosure)
                    elements.append({"...": disclosure_digest(disclosure)})
                else:
                    elements.append(inner)
            return elements
        return value


def issue(
    claims: Mapping[str, Any],
    disclosable: Iterable[str | Path],
    *,
    vct: str,
    issuer: str,
    holder_jwk: Jwk,
    status: Mapping[str, Any] | None,
    iat: datetime,
    exp: datetime,
    signer: Signer,
    decoys: int = DEFAULT_DECOYS,
    nbf: datetime | None = None,
) -> str:
    """An SD-JWT VC (``<jws>~<disclosure>~…~``) of ``claims`` bound to the holder's key, the members at the
    ``disclosable`` paths concealed, ``decoys`` fake digests beside each object's real ones. ``status`` is the
    credential's ``{"status_list": {"idx": i, "uri": u}}``."""
    wanted = {_path(path) for path in disclosable}
    clash = {path[0] for path in wanted} & REGISTERED | set(claims) & REGISTERED
    if clash:
        raise ValueError(f"registered claims cannot be issued as claims: {sorted(map(str, clash))}")
    issuing = _Issuing(wanted, decoys)
    payload: dict[str, Any] = issuing.conceal(dict(claims), ())
    if "_sd" not in payload and decoys:
        payload["_sd"] = sorted(_decoy() for _ in range(decoys))
    try:
        public_holder_key = {name: holder_jwk[name] for name in ("kty", "crv", "x", "y")}
    except KeyError as exc:
        raise ValueError(f"the holder's JWK lacks {exc}") from exc
    payload.update(
        {
            "iss": issuer,
            "iat": epoch(iat),
            "nbf": epoch(nbf or iat),
            "exp": epoch(exp),
            "vct": vct,
            "cnf": {"jwk": public_holder_key},
            "_sd_alg": SD_ALG,
        }
    )
    if status is not None:
        payload["status"] = dict(status)
    jws = encode_jws({"typ": TYP}, payload, signer)
    return "~".join([jws, *issuing.disclosures]) + "~"


# --- the holder -------------------------------------------------------------------------------------------------


def _split(sd_jwt: str) -> tuple[str, list[str], str]:
    """(issuer JWS, disclosures, key-binding JWT or "") of an SD-JWT or a presentation."""
    if not isinstance(sd_jwt, str) or "~" not in sd_jwt:
        raise CredentialRefusedError("malformed", "not an SD-JWT (no '~')")
    parts = sd_jwt.split("~")
    jws, disclosures, kb = parts[0], parts[1:-1], parts[-1]
    if any(not d for d in disclosures):
        raise CredentialRefusedError("malformed", "an empty disclosure")
    return jws, disclosures, kb


def _unverified_payload(jws: str) -> dict[str, Any]:
    try:
        payload = json.loads(b64url_decode(jws.split(".")[1]))
    except (IndexError, ValueError) as exc:
        raise CredentialRefusedError("malformed", "not a JWS") from exc
    if not isinstance(payload, dict):
        raise CredentialRefusedError("malformed", "the payload is not an object")
    return payload


def disclosure_paths(sd_jwt: str) -> dict[str, Path]:
    """Each disclosure of an SD-JWT with the path of the claim it discloses (the holder's map)."""
    jws, disclosures, _ = _split(sd_jwt)
    by_digest = {disclosure_digest(d): d for d in disclosures}
    paths: dict[str, Path] = {}

    def walk(value: Any, path: Path) -> None:
        if isinstance(value, dict):
            for digest in value.get("_sd", []):
                if digest in by_digest:
                    _, name, inner = json.loads(b64url_decode(by_digest[digest]))
                    paths[by_digest[digest]] = (*path, name)
                    walk(inner, (*path, name))
            for name, member in value.items():
                if name != "_sd":
                    walk(member, (*path, name))
        elif isinstance(value, list):
            for index, member in enumerate(value):
                if isinstance(member, dict) and set(member) == {"..."}:
                    if member["..."] in by_digest:
                        _, inner = json.loads(b64url_decode(by_digest[member["..."]]))
                        paths[by_digest[member["..."]]] = (*path, index)
                        walk(inner, (*path, index))
                else:
                    walk(member, (*path, index))

    walk(_unverified_payload(jws), ())
    return paths


def sd_hash(presented: str) -> str:
    """The KB-JWT's ``sd_hash``: SHA-256 of the presentation up to and including its last ``~``."""
    return disclosure_digest(presented)


def present(
    sd_jwt: str, reveal: Iterable[str | Path], *, holder_key: Signer, aud: str, nonce: str, iat: datetime
) -> str:
    """A presentation of ``sd_jwt`` disclosing only the claims at ``reveal`` (and the disclosures enclosing
    them, which a nested claim needs), with a key-binding JWT for this verifier (``aud``) and ``nonce``."""
    wanted = [_path(path) for path in reveal]
    jws, _, _ = _split(sd_jwt)
    chosen = [
        disclosure
        for disclosure, path in disclosure_paths(sd_jwt).items()
        if any(want[: len(path)] == _path(path) for want in wanted)
    ]
    return bind("~".join([jws, *chosen]) + "~", holder_key=holder_key, aud=aud, nonce=nonce, iat=iat)


def bind(presented: str, *, holder_key: Signer, aud: str, nonce: str, iat: datetime) -> str:
    """``presented`` (``<jws>~<disclosure>~…~``) with its key-binding JWT appended: the holder's proof of
    possession for this verifier (``aud``) and request (``nonce``) over the ``sd_hash`` of what it shows."""
    kb = encode_jws(
        {"typ": KB_TYP},
        {"iat": epoch(iat), "aud": aud, "nonce": nonce, "sd_hash": sd_hash(presented)},
        _Unnamed(holder_key),
    )
    return presented + kb


class _Unnamed:
    """A holder's signer without ``kid`` in the KB-JWT header: the verifier takes the key from ``cnf``."""

    alg = "ES256"

    def __init__(self, signer: Signer) -> None:
        self._signer = signer
        self.kid = ""

    def sign(self, signing_input: bytes) -> bytes:
        return self._signer.sign(signing_input)

    def public_jwk(self) -> Jwk:
        return self._signer.public_jwk()


# --- verifying --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verified:
    """What a verifier learns: the type, the issuer, the claims disclosed (and those never concealed), the
    status value and the validity."""

    vct: str
    iss: str
    claims: dict[str, Any]
    status: int | None
    exp: int
    iat: int | None
    holder_jwk: Jwk


def _tampered(detail: str) -> CredentialRefusedError:
    return CredentialRefusedError("disclosure-tampered", detail)


@dataclass
class _Disclosing:
    """The verifier's walk: every digest in the payload seen once, each disclosure matched to exactly one."""

    by_digest: dict[str, list[Any]]
    seen: set[str] = field(default_factory=set)
    used: set[str] = field(default_factory=set)

    def mark(self, digest: Any) -> bool:
        if not isinstance(digest, str):
            raise CredentialRefusedError("malformed", "a digest is not a string")
        if digest in self.seen:
            raise _tampered("a digest appears twice")
        self.seen.add(digest)
        if digest in self.by_digest:
            self.used.add(digest)
            return True
        return False

    def reveal(self, value: Any) -> Any:
        if isinstance(value, dict):
            return self._object(value)
        if isinstance(value, list):
            return self._array(value)
        return value

    def _object(self, value: dict[str, Any]) -> dict[str, Any]:
        if "..." in value:
            raise CredentialRefusedError("malformed", "'...' used as a claim name")
        digests = value.get("_sd", [])
        if not isinstance(digests, list):
            raise CredentialRefusedError("malformed", "_sd is not an array")
        out = {name: self.reveal(member) for name, member in value.items() if name != "_sd"}
        for digest in digests:
            if not self.mark(digest):
                continue  # a decoy, or a claim the holder did not disclose
            elements = self.by_digest[digest]
            if len(elements) != 3:
                raise _tampered("an array element's disclosure in an object's _sd")
            name = elements[1]
            if not isinstance(name, str) or name in RESERVED_NAMES:
                raise _tampered(f"a disclosure names the claim {name!r}")
            if name in out:
                raise _tampered(f"the claim {name!r} is both plain and disclosed")
            out[name] = self.reveal(elements[2])
        return out

    def _array(self, value: list[Any]) -> list[Any]:
        out: list[Any] = []
        for member in value:
            if isinstance(member, dict) and "..." in member:
                if set(member) != {"..."}:
                    raise CredentialRefusedError("malformed", "an array element digest with other members")
                if self.mark(member["..."]):
                    elements = self.by_digest[member["..."]]
                    if len(elements) != 2:
                        raise _tampered("an object property's disclosure in an array")
                    out.append(self.reveal(elements[1]))
            else:
                out.append(self.reveal(member))
        return out


def _decode_disclosures(disclosures: list[str]) -> dict[str, list[Any]]:
    by_digest: dict[str, list[Any]] = {}
    for disclosure in disclosures:
        try:
            elements = json.loads(b64url_decode(disclosure))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _tampered("a disclosure is not JSON") from exc
        if not isinstance(elements, list) or len(elements) not in (2, 3) or not isinstance(elements[0], str):
            raise _tampered("a disclosure is not [salt, (name,) value]")
        digest = disclosure_digest(disclosure)
        if digest in by_digest:
            raise _tampered("the same disclosure is presented twice")
        by_digest[digest] = elements
    return by_digest


def _check_key_binding(kb: str, presented: str, holder_jwk: Jwk, *, aud: str, nonce: str, now: datetime) -> None:
    if not kb:
        raise CredentialRefusedError("key-binding-missing", "the presentation has no key-binding JWT")
    try:
        _, claims = decode_jws_with(kb, lambda _header: holder_jwk, typ=KB_TYP)
    except CredentialRefusedError as exc:
        if exc.reason == "alg-not-allowed":
            raise
        raise CredentialRefusedError("key-binding-invalid", f"key-binding JWT: {exc.detail}") from exc
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise CredentialRefusedError("key-binding-invalid", "the key-binding JWT has no iat")
    if iat > (now + LEEWAY).timestamp() or iat < (now - KB_MAX_AGE - LEEWAY).timestamp():
        raise CredentialRefusedError("key-binding-invalid", "the key-binding JWT is not fresh")
    if claims.get("sd_hash") != sd_hash(presented):
        raise CredentialRefusedError("key-binding-invalid", "sd_hash is not the hash of this presentation")
    if claims.get("nonce") != nonce:
        raise CredentialRefusedError("nonce-mismatch", "the key-binding JWT answers another request")
    if claims.get("aud") != aud:
        raise CredentialRefusedError("audience-mismatch", "the key-binding JWT is for another verifier")


def _status(payload: Mapping[str, Any], status_of: StatusOf | None) -> int | None:
    if status_of is None:
        return None
    reference = payload.get("status", {})
    entry = reference.get("status_list") if isinstance(reference, Mapping) else None
    if not isinstance(entry, Mapping) or not isinstance(entry.get("uri"), str):
        raise CredentialRefusedError("malformed", "the credential has no status list reference")
    idx = entry.get("idx")
    if isinstance(idx, bool) or not isinstance(idx, int) or idx < 0:
        raise CredentialRefusedError("malformed", "the status list index is not a natural number")
    value = status_of(entry["uri"], idx)
    if value == INVALID:
        raise CredentialRefusedError("revoked", "the credential has been revoked")
    if value == SUSPENDED:
        raise CredentialRefusedError("suspended", "the credential is suspended")
    if value != VALID:
        raise CredentialRefusedError("status-unavailable", f"unknown status value {value:#04x}")
    return value


def verify(
    presentation: str,
    *,
    issuer_keys: Mapping[str, Jwk],
    aud: str,
    nonce: str,
    now: datetime,
    status_of: StatusOf | None,
    vct: str | Iterable[str] | None = None,
) -> Verified:
    """Verify a presentation for this verifier (``aud``, its ``nonce``): the issuer's signature by a known
    ``kid``, ``typ``, the validity (60 s leeway), every disclosure (each digest present once in the payload),
    the key binding (fresh, ``sd_hash``, nonce, aud) and, with ``status_of``, the status. ``vct``, if given,
    is the type(s) expected (else ``wrong-card-type``). Returns the disclosed claims only."""
    jws, disclosures, kb = _split(presentation)
    _, payload = decode_jws(jws, issuer_keys, typ=TYP, now=now, require=("exp", "iss", "vct"))
    if payload.get("_sd_alg", SD_ALG) != SD_ALG:
        raise CredentialRefusedError("malformed", f"_sd_alg {payload.get('_sd_alg')!r} is not {SD_ALG}")
    if not isinstance(payload["vct"], str) or not isinstance(payload["iss"], str):
        raise CredentialRefusedError("malformed", "vct and iss are strings")
    expected = {vct} if isinstance(vct, str) else set(vct) if vct is not None else None
    if expected is not None and payload["vct"] not in expected:
        raise CredentialRefusedError("wrong-card-type", f"a {payload['vct']} credential, not the one asked for")
    walk = _Disclosing(_decode_disclosures(disclosures))
    revealed = walk.reveal(payload)
    if walk.used != set(walk.by_digest):
        raise _tampered("a disclosure whose digest is not in the credential")
    cnf = payload.get("cnf")
    holder_jwk = cnf.get("jwk") if isinstance(cnf, Mapping) else None
    if not isinstance(holder_jwk, dict):
        raise CredentialRefusedError("key-binding-missing", "the credential is bound to no holder key (cnf.jwk)")
    _check_key_binding(kb, presentation[: len(presentation) - len(kb)], holder_jwk, aud=aud, nonce=nonce, now=now)
    status = _status(payload, status_of)
    return Verified(
        vct=payload["vct"],
        iss=payload["iss"],
        claims={name: value for name, value in revealed.items() if name not in REGISTERED},
        status=status,
        exp=int(payload["exp"]),
        iat=int(payload["iat"]) if isinstance(payload.get("iat"), int | float) else None,
        holder_jwk=dict(holder_jwk),
    )


# --- OpenID4VCI key proofs (the holder's key, bound into the credential's cnf) -----------------------------------

PROOF_TYP = "openid4vci-proof+jwt"
PROOF_MAX_AGE = timedelta(minutes=5)


def key_proof(holder_key: Signer, *, audience: str, nonce: str, iat: datetime) -> str:
    """An OpenID4VCI 1.0 key proof (``proofs.jwt``): the holder's public key in the header, signed by it, for the
    credential issuer ``audience`` and its ``c_nonce`` (the Python holder; one per credential of a batch)."""
    return encode_jws(
        {"typ": PROOF_TYP, "jwk": holder_key.public_jwk()},
        {"aud": audience, "nonce": nonce, "iat": epoch(iat)},
        _Unnamed(holder_key),
    )


def read_key_proof(proof: str, *, audience: str, nonce: str, now: datetime) -> Jwk:
    """The holder's public key of an OpenID4VCI key proof, once its signature by that key, ``typ``, ``aud`` (the
    credential issuer id), ``nonce`` (the c_nonce the issuer gave) and freshness (``iat`` within 5 minutes)
    hold. Refusals as ``verify``'s (the issuer answers them as ``invalid_proof``/``invalid_nonce``)."""

    def embedded(header: dict[str, Any]) -> Jwk:
        jwk = header.get("jwk")
        if not isinstance(jwk, dict):
            raise CredentialRefusedError("malformed", "the key proof carries no jwk header")
        return jwk

    header, claims = decode_jws_with(proof, embedded, typ=PROOF_TYP)
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise CredentialRefusedError("malformed", "the key proof has no iat")
    if iat > (now + LEEWAY).timestamp() or iat < (now - PROOF_MAX_AGE - LEEWAY).timestamp():
        raise CredentialRefusedError("key-binding-invalid", "the key proof is not fresh")
    if claims.get("aud") != audience:
        raise CredentialRefusedError("audience-mismatch", "the key proof is for another credential issuer")
    if claims.get("nonce") != nonce:
        raise CredentialRefusedError("nonce-mismatch", "the key proof answers another c_nonce")
    return {name: header["jwk"][name] for name in ("kty", "crv", "x", "y")}
