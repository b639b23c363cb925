"""Compact JWS with ES256 only: the signer port, its adapters (a PEM file, AWS KMS), the key ring and a strict
decoder shared by the wallet's issuer and the verifier (issue 17, design "Shared library").

Why not PyJWT's ``jwt.decode``: a verifier of credentials must refuse what general JWT libraries accept by
default or by configuration — any algorithm but ES256 (``none``, HS256 with the public key as secret), a
``kid`` it does not know, a ``typ`` of another kind of token — and a KMS key never leaves KMS, so signing is a
port with a raw ``r||s`` answer. Encoding and decoding are a few lines over ``cryptography`` (already pinned);
every refusal raises ``CredentialRefusedError`` with its reason slug.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from functions.core.errors import CredentialRefusedError

ALG = "ES256"
LEEWAY = timedelta(seconds=60)  # clocks of issuer, holder and verifier differ a little (design: 60 s)
_COORD = 32  # P-256 coordinates and signature halves are 32 bytes

Jwk = dict[str, Any]


def b64url(data: bytes) -> str:
    """Unpadded base64url (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """The bytes of unpadded base64url text; anything else (padding, other alphabets) is ``malformed``."""
    if not isinstance(text, str) or "=" in text or not text.isascii():
        raise CredentialRefusedError("malformed", "not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise CredentialRefusedError("malformed", "not base64url") from exc


def canonical_json(value: Any) -> bytes:
    """Compact JSON, the form signed and hashed."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def epoch(instant: datetime) -> int:
    """NumericDate (RFC 7519 §2) of an aware instant."""
    return int(instant.timestamp())


# --- keys ---------------------------------------------------------------------------------------------------


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 thumbprint of an EC key (SHA-256, base64url): our ``kid``, so a kid names exactly one key."""
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    return b64url(hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest())


def jwk_of(public_key: ec.EllipticCurvePublicKey) -> Jwk:
    """The public JWK of a P-256 key, with its thumbprint as ``kid``."""
    if not isinstance(public_key.curve, ec.SECP256R1):
        raise ValueError("only P-256 keys are used (ES256)")
    numbers = public_key.public_numbers()
    jwk: Jwk = {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(numbers.x.to_bytes(_COORD, "big")),
        "y": b64url(numbers.y.to_bytes(_COORD, "big")),
    }
    return {**jwk, "kid": thumbprint(jwk), "alg": ALG, "use": "sig"}


def public_key_of(jwk: Mapping[str, Any]) -> ec.EllipticCurvePublicKey:
    """The P-256 public key a JWK names; any other kind of key, or a point off the curve, is ``malformed``."""
    if not isinstance(jwk, Mapping) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise CredentialRefusedError("malformed", "the key is not an EC P-256 JWK")
    if "d" in jwk:
        raise CredentialRefusedError("malformed", "a public JWK carries a private key")
    x, y = b64url_decode(jwk.get("x", "")), b64url_decode(jwk.get("y", ""))
    if len(x) != _COORD or len(y) != _COORD:
        raise CredentialRefusedError("malformed", "the key's coordinates are not 32 bytes")
    try:
        return ec.EllipticCurvePublicNumbers(
            int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
        ).public_key()
    except ValueError as exc:
        raise CredentialRefusedError("malformed", "the key is not a point of P-256") from exc


def der_to_raw(der: bytes) -> bytes:
    """An ASN.1 DER ECDSA signature (what KMS and OpenSSL answer) as JWS's raw ``r||s`` (RFC 7518 §3.4)."""
    r, s = decode_dss_signature(der)
    return r.to_bytes(_COORD, "big") + s.to_bytes(_COORD, "big")


def raw_to_der(raw: bytes) -> bytes:
    """JWS's raw ``r||s`` as the DER ``cryptography`` verifies."""
    return encode_dss_signature(int.from_bytes(raw[:_COORD], "big"), int.from_bytes(raw[_COORD:], "big"))


# --- the signer port and its adapters -----------------------------------------------------------------------


class Signer(Protocol):
    """Signs a JWS signing input with ES256; the private key may never leave its holder (a file, KMS)."""

    kid: str
    alg: str

    def sign(self, signing_input: bytes) -> bytes:
        """The raw ``r||s`` ES256 signature of ``signing_input``."""
        ...

    def public_jwk(self) -> Jwk:
        """The public key, as published in the JWKS."""
        ...


class LocalSigner:
    """A P-256 private key in memory: a holder's key (tests, the CLI holder, benches) and the file signer's."""

    alg = ALG

    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        self._key = private_key
        self._jwk = jwk_of(private_key.public_key())
        self.kid: str = self._jwk["kid"]

    @classmethod
    def generate(cls) -> LocalSigner:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    def sign(self, signing_input: bytes) -> bytes:
        return der_to_raw(self._key.sign(signing_input, ec.ECDSA(hashes.SHA256())))

    def public_jwk(self) -> Jwk:
        return dict(self._jwk)

    def private_pem(self) -> bytes:
        """The PKCS#8 PEM of the key (the CLI holder keeps its keys in a file)."""
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


class FileSigner(LocalSigner):
    """A P-256 key in a PEM file (``PIC_WALLET_KEY_FILE``, ``make run``), created with mode 0600 if absent."""

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            pem = LocalSigner.generate().private_pem()
            # O_EXCL: two processes starting at once must not both write a key; the loser reads the winner's
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "wb") as out:
                    out.write(pem)
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{path} is not an EC private key")
        super().__init__(key)


class KmsClient(Protocol):
    """The two calls of boto3's KMS client the signer makes."""

    def sign(self, **kwargs: Any) -> dict[str, Any]: ...

    def get_public_key(self, **kwargs: Any) -> dict[str, Any]: ...


class KmsSigner:
    """An ``ECC_NIST_P256`` ``SIGN_VERIFY`` key in AWS KMS (or a KMS-compatible endpoint,
    ``AWS_ENDPOINT_URL_KMS``): the private key never leaves KMS. The public key is fetched once."""

    alg = ALG

    def __init__(self, key_id: str, client: KmsClient | None = None) -> None:
        if client is None:
            import boto3  # imported on first use: only the cloud overlays sign with KMS

            client = boto3.client("kms")
        self._client = client
        self._key_id = key_id
        answer = client.get_public_key(KeyId=key_id)
        if answer.get("KeySpec", "ECC_NIST_P256") != "ECC_NIST_P256":
            raise ValueError(f"KMS key {key_id} is {answer.get('KeySpec')}, not ECC_NIST_P256")
        public = serialization.load_der_public_key(answer["PublicKey"])
        if not isinstance(public, ec.EllipticCurvePublicKey):
            raise ValueError(f"KMS key {key_id} is not an EC key")
        self._jwk = jwk_of(public)
        self.kid: str = self._jwk["kid"]

    def sign(self, signing_input: bytes) -> bytes:
        answer = self._client.sign(
            KeyId=self._key_id, Message=signing_input, MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256"
        )
        return der_to_raw(answer["Signature"])

    def public_jwk(self) -> Jwk:
        return dict(self._jwk)


@dataclass
class KeyRing:
    """The current signer and the public keys of older ones that still verify what they signed (rotation:
    ``PIC_WALLET_OLD_KEYS``). Verifiers look keys up by ``kid``."""

    current: Signer
    older: list[Jwk] = field(default_factory=list)

    def keys(self) -> dict[str, Jwk]:
        """Every verifying key by kid (the thumbprint, recomputed: a published kid is never trusted)."""
        ring = {thumbprint(jwk): jwk for jwk in self.older}
        current = self.current.public_jwk()
        ring[thumbprint(current)] = current
        return ring

    def jwks(self) -> dict[str, Any]:
        """The JWK Set to publish (JWT VC issuer metadata), current key first."""
        keys = self.keys()
        current = keys.pop(self.current.kid)
        return {"keys": [current, *({**jwk, "kid": kid} for kid, jwk in keys.items())]}


def keys_from_jwks(jwks: Mapping[str, Any]) -> dict[str, Jwk]:
    """A verifier's key table from a published JWK Set: EC P-256 keys by their thumbprint; others skipped."""
    keys: dict[str, Jwk] = {}
    for jwk in jwks.get("keys", []):
        if isinstance(jwk, Mapping) and jwk.get("kty") == "EC" and jwk.get("crv") == "P-256" and "d" not in jwk:
            keys[str(jwk.get("kid") or thumbprint(jwk))] = dict(jwk)
    return keys


# --- encoding and decoding ----------------------------------------------------------------------------------


def encode_jws(header: Mapping[str, Any], payload: Mapping[str, Any], signer: Signer) -> str:
    """A compact JWS signed by ``signer``; ``alg`` (and ``kid``, unless the header has ``jwk``) set from it."""
    head = {**header, "alg": signer.alg}
    if "jwk" not in head and signer.kid:  # a holder's KB-JWT names no kid: its key is the credential's cnf
        head.setdefault("kid", signer.kid)
    signing_input = f"{b64url(canonical_json(head))}.{b64url(canonical_json(payload))}"
    return f"{signing_input}.{b64url(signer.sign(signing_input.encode('ascii')))}"


def _json_object(segment: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(segment))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CredentialRefusedError("malformed", f"the {what} is not JSON") from exc
    if not isinstance(value, dict):
        raise CredentialRefusedError("malformed", f"the {what} is not a JSON object")
    return value


def _numeric(payload: Mapping[str, Any], claim: str) -> int | None:
    value = payload.get(claim)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CredentialRefusedError("malformed", f"{claim} is not a NumericDate")
    return int(value)


def check_times(payload: Mapping[str, Any], now: datetime, *, require: Iterable[str] = ("exp",)) -> None:
    """``exp`` passed, ``nbf`` or ``iat`` still to come (60 s leeway) are refused; ``require`` names claims
    that must be present."""
    for claim in require:
        if payload.get(claim) is None:
            raise CredentialRefusedError("malformed", f"{claim} is missing")
    at, leeway = now.timestamp(), LEEWAY.total_seconds()
    exp, nbf, iat = _numeric(payload, "exp"), _numeric(payload, "nbf"), _numeric(payload, "iat")
    if exp is not None and at >= exp + leeway:
        raise CredentialRefusedError("expired", f"expired at {exp}")
    if nbf is not None and at < nbf - leeway:
        raise CredentialRefusedError("not-yet-valid", f"not valid before {nbf}")
    if iat is not None and at < iat - leeway:
        raise CredentialRefusedError("not-yet-valid", f"issued in the future ({iat})")


def decode_jws_with(
    token: str, key_for: Callable[[dict[str, Any]], Jwk], *, typ: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload of a compact JWS whose signature verifies with the key ``key_for(header)`` names.
    Only ES256; ``typ`` exact. Time claims are the caller's (``check_times``)."""
    if not isinstance(token, str):
        raise CredentialRefusedError("malformed", "the token is not a string")
    parts = token.split(".")
    if len(parts) != 3:
        raise CredentialRefusedError("malformed", "not a compact JWS")
    header = _json_object(parts[0], "JWS header")
    if header.get("alg") != ALG:
        raise CredentialRefusedError("alg-not-allowed", f"alg {header.get('alg')!r} is not allowed, only {ALG}")
    if "crit" in header:
        raise CredentialRefusedError("malformed", "critical header parameters are not understood")
    if header.get("typ") != typ:
        raise CredentialRefusedError("wrong-type", f"typ {header.get('typ')!r}, expected {typ!r}")
    public_key = public_key_of(key_for(header))
    signature = b64url_decode(parts[2])
    if len(signature) != 2 * _COORD:
        raise CredentialRefusedError("bad-signature", "an ES256 signature is 64 bytes")
    try:
        public_key.verify(raw_to_der(signature), f"{parts[0]}.{parts[1]}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise CredentialRefusedError("bad-signature", "the signature does not verify") from exc
    return header, _json_object(parts[1], "JWS payload")


def decode_jws(
    token: str,
    keys: Mapping[str, Jwk],
    *,
    typ: str,
    now: datetime,
    require: Iterable[str] = ("exp",),
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload of a compact JWS signed by one of ``keys`` (by ``kid``), of type ``typ``, valid at
    ``now``; refusals: malformed, alg-not-allowed, wrong-type, unknown-key, bad-signature, expired,
    not-yet-valid."""

    def by_kid(header: dict[str, Any]) -> Jwk:
        kid = header.get("kid")
        if not isinstance(kid, str) or kid not in keys:
            raise CredentialRefusedError("unknown-key", f"kid {kid!r} is not one of the issuer's keys")
        return keys[kid]

    header, payload = decode_jws_with(token, by_kid, typ=typ)
    check_times(payload, now, require=require)
    return header, payload
