"""The ES256-only JWS: signers (file, KMS), the key ring, and every refusal of the strict decoder."""

from __future__ import annotations

import hashlib
import hmac
import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.session import Session
from botocore.stub import Stubber
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from functions.core.errors import CredentialRefusedError
from functions.core.jose import (
    FileSigner,
    KeyRing,
    KmsSigner,
    LocalSigner,
    b64url,
    decode_jws,
    encode_jws,
    epoch,
    jwk_of,
    keys_from_jwks,
    thumbprint,
)

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
TYP = "example+jwt"


def _payload(**claims: object) -> dict[str, object]:
    return {"iss": "https://pic.example", "iat": epoch(NOW), "exp": epoch(NOW + timedelta(hours=1)), **claims}


def _refused(reason: str, token: str, keys: dict[str, dict[str, object]], *, now: datetime = NOW) -> None:
    with pytest.raises(CredentialRefusedError) as caught:
        decode_jws(token, keys, typ=TYP, now=now)
    assert caught.value.reason == reason, caught.value.detail


def _by_hand(header: dict[str, object], payload: dict[str, object], signature: bytes = b"") -> str:
    head = b64url(json.dumps(header).encode())
    body = b64url(json.dumps(payload).encode())
    return f"{head}.{body}.{b64url(signature)}"


@pytest.fixture
def signer() -> LocalSigner:
    return LocalSigner.generate()


@pytest.fixture
def keys(signer: LocalSigner) -> dict[str, dict[str, object]]:
    return KeyRing(signer).keys()


def test_a_token_round_trips_with_its_kid_the_rfc7638_thumbprint(signer: LocalSigner, keys: dict) -> None:
    token = encode_jws({"typ": TYP}, _payload(sub="x"), signer)
    header, payload = decode_jws(token, keys, typ=TYP, now=NOW)
    assert header == {"typ": TYP, "alg": "ES256", "kid": signer.kid}
    assert payload["sub"] == "x"


def test_thumbprint_is_rfc7638s_own_example() -> None:
    # RFC 7638 §3.1's example is an RSA key; its EC counterpart is checked by recomputing by the rule itself:
    # the required members only, lexicographic order, no whitespace, SHA-256, base64url.
    jwk = {
        "kty": "EC",
        "crv": "P-256",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
        "use": "sig",
        "kid": "ignored",
    }
    canonical = (
        '{"crv":"P-256","kty":"EC","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",'
        '"y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}'
    )
    assert thumbprint(jwk) == b64url(hashlib.sha256(canonical.encode()).digest())


def test_alg_none_built_by_hand_is_refused(keys: dict, signer: LocalSigner) -> None:
    token = _by_hand({"alg": "none", "typ": TYP, "kid": signer.kid}, _payload())
    _refused("alg-not-allowed", token, keys)


def test_hs256_with_the_public_key_as_secret_is_refused(keys: dict, signer: LocalSigner) -> None:
    # the classic confusion: a verifier that lets the token choose its algorithm checks an HMAC keyed with
    # the (public) PEM or JWK it holds for the issuer
    header = {"alg": "HS256", "typ": TYP, "kid": signer.kid}
    head = b64url(json.dumps(header).encode())
    body = b64url(json.dumps(_payload()).encode())
    secret = (  # the issuer's public key as PEM, which anyone has
        serialization.load_pem_private_key(signer.private_pem(), None)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    _refused("alg-not-allowed", f"{head}.{body}.{b64url(mac)}", keys)


def test_es256_sig_of_64_bytes_under_another_alg_name_is_refused(signer: LocalSigner, keys: dict) -> None:
    token = encode_jws({"typ": TYP}, _payload(), signer)
    _, body, sig = token.split(".")
    forged = b64url(json.dumps({"alg": "ES384", "typ": TYP, "kid": signer.kid}).encode())
    _refused("alg-not-allowed", f"{forged}.{body}.{sig}", keys)


def test_an_unknown_kid_is_refused(keys: dict) -> None:
    stranger = LocalSigner.generate()
    _refused("unknown-key", encode_jws({"typ": TYP}, _payload(), stranger), keys)


def test_a_known_kid_on_a_token_another_key_signed_is_a_bad_signature(signer: LocalSigner, keys: dict) -> None:
    stranger = LocalSigner.generate()
    stranger.kid = signer.kid  # claims the issuer's kid
    _refused("bad-signature", encode_jws({"typ": TYP}, _payload(), stranger), keys)


def test_a_changed_payload_is_a_bad_signature(signer: LocalSigner, keys: dict) -> None:
    head, _, sig = encode_jws({"typ": TYP}, _payload(role="citizen"), signer).split(".")
    body = b64url(json.dumps(_payload(role="admin")).encode())
    _refused("bad-signature", f"{head}.{body}.{sig}", keys)


def test_another_typ_is_refused(signer: LocalSigner, keys: dict) -> None:
    _refused("wrong-type", encode_jws({"typ": "JWT"}, _payload(), signer), keys)


def test_expired_beyond_the_leeway_is_refused_within_it_accepted(signer: LocalSigner, keys: dict) -> None:
    token = encode_jws({"typ": TYP}, _payload(exp=epoch(NOW - timedelta(seconds=61))), signer)
    _refused("expired", token, keys)
    token = encode_jws({"typ": TYP}, _payload(exp=epoch(NOW - timedelta(seconds=30))), signer)
    assert decode_jws(token, keys, typ=TYP, now=NOW)


def test_nbf_in_the_future_is_refused(signer: LocalSigner, keys: dict) -> None:
    token = encode_jws({"typ": TYP}, _payload(nbf=epoch(NOW + timedelta(minutes=5))), signer)
    _refused("not-yet-valid", token, keys)


def test_iat_in_the_future_is_refused(signer: LocalSigner, keys: dict) -> None:
    token = encode_jws({"typ": TYP}, _payload(iat=epoch(NOW + timedelta(minutes=5))), signer)
    _refused("not-yet-valid", token, keys)


def test_a_missing_exp_is_refused(signer: LocalSigner, keys: dict) -> None:
    payload = _payload()
    del payload["exp"]
    _refused("malformed", encode_jws({"typ": TYP}, payload, signer), keys)


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", "!!.e30.AA", "e30.e30.AA", "W10.e30.AA"])
def test_garbage_is_malformed_never_a_crash(token: str, keys: dict) -> None:
    with pytest.raises(CredentialRefusedError) as caught:
        decode_jws(token, keys, typ=TYP, now=NOW)
    assert caught.value.reason in ("malformed", "alg-not-allowed")


def test_crit_headers_are_refused(signer: LocalSigner, keys: dict) -> None:
    _refused("malformed", encode_jws({"typ": TYP, "crit": ["b64"], "b64": False}, _payload(), signer), keys)


def test_a_published_key_with_its_private_part_is_refused(signer: LocalSigner) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    leaked = {**jwk_of(key.public_key()), "d": b64url(key.private_numbers().private_value.to_bytes(32, "big"))}
    token = encode_jws({"typ": TYP}, _payload(), LocalSigner(key))
    _refused("malformed", token, {leaked["kid"]: leaked})


def test_the_file_signer_creates_its_key_0600_once_and_reuses_it(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "wallet.pem"
    first = FileSigner(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert FileSigner(path).kid == first.kid
    token = encode_jws({"typ": TYP}, _payload(), first)
    assert decode_jws(token, KeyRing(FileSigner(path)).keys(), typ=TYP, now=NOW)


def test_the_key_ring_verifies_with_an_older_key_after_rotation() -> None:
    old, new = LocalSigner.generate(), LocalSigner.generate()
    token = encode_jws({"typ": TYP}, _payload(), old)
    ring = KeyRing(new, older=[old.public_jwk()])
    assert [k["kid"] for k in ring.jwks()["keys"]] == [new.kid, old.kid]
    assert decode_jws(token, keys_from_jwks(ring.jwks()), typ=TYP, now=NOW)
    _refused("unknown-key", token, KeyRing(new).keys())


def test_the_kms_signer_converts_der_and_reads_the_public_key_once() -> None:
    # GIVEN a KMS client stubbed by botocore: GetPublicKey answers the DER SubjectPublicKeyInfo of a local
    # key, Sign the DER signature that local key makes of exactly the message it is asked to sign
    local = ec.generate_private_key(ec.SECP256R1())
    client = Session().create_client("kms", region_name="eu-south-2", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    spki = local.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    stubber.add_response(
        "get_public_key",
        {"KeyId": "alias/pic-wallet", "PublicKey": spki, "KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"},
        {"KeyId": "alias/pic-wallet"},
    )
    header = {"typ": TYP, "alg": "ES256", "kid": thumbprint(jwk_of(local.public_key()))}
    payload = _payload()
    signing_input = (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(payload, separators=(",", ":")).encode())
    ).encode()
    stubber.add_response(
        "sign",
        {
            "KeyId": "alias/pic-wallet",
            "Signature": local.sign(signing_input, ec.ECDSA(hashes.SHA256())),
            "SigningAlgorithm": "ECDSA_SHA_256",
        },
        {
            "KeyId": "alias/pic-wallet",
            "Message": signing_input,
            "MessageType": "RAW",
            "SigningAlgorithm": "ECDSA_SHA_256",
        },
    )
    with stubber:
        signer = KmsSigner("alias/pic-wallet", client)
        token = encode_jws({"typ": TYP}, payload, signer)
    # THEN the token is the one expected and verifies with the public key KMS gave, raw r||s of 64 bytes
    stubber.assert_no_pending_responses()
    assert token.startswith(signing_input.decode() + ".")
    assert decode_jws(token, {signer.kid: signer.public_jwk()}, typ=TYP, now=NOW)[1] == payload
