"""SD-JWT VC: issue, present, verify — and every refusal of the design's conformance list, each test built so
that it passes only while its check is there (the key binding is re-made valid over the forged presentation,
so the refusal comes from the check named, not from a broken sd_hash)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.core.errors import CredentialRefusedError
from functions.core.jose import KeyRing, LocalSigner, b64url, b64url_decode, encode_jws, epoch
from functions.core.sdjwt import (
    bind,
    disclosure_digest,
    disclosure_paths,
    issue,
    key_proof,
    present,
    read_key_proof,
    sd_hash,
    verify,
)
from functions.core.statuslist import StatusList, status_lookup

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
ISSUER = "https://api.pic.example/v1/wallet"
VCT = "https://api.pic.example/v1/wallet/vct/madrid-mayor"
AUD = "redirect_uri:https://api.pic.example/v1/verifications/v-1/response"
NONCE = "n-0S6_WzA2Mj"
STATUS_URI = "https://api.pic.example/v1/wallet/status/madrid-mayor-1"
CLAIMS = {
    "given_name": "Ana",
    "family_name": "López",
    "birthdate": "1950-03-01",
    "age_equal_or_over": {"18": True, "65": True},
    "nationalities": ["ES", "FR"],
    "district": "Centro",
}
DISCLOSABLE = [
    "given_name",
    "family_name",
    "birthdate",
    "age_equal_or_over",
    "age_equal_or_over.18",
    "age_equal_or_over.65",
    "nationalities.0",
    "nationalities.1",
]


@pytest.fixture
def issuer() -> LocalSigner:
    return LocalSigner.generate()


@pytest.fixture
def holder() -> LocalSigner:
    return LocalSigner.generate()


@pytest.fixture
def statuses() -> StatusList:
    return StatusList(2, 131_072)


def _credential(issuer: LocalSigner, holder: LocalSigner, **overrides: Any) -> str:
    arguments: dict[str, Any] = {
        "vct": VCT,
        "issuer": ISSUER,
        "holder_jwk": holder.public_jwk(),
        "status": {"status_list": {"idx": 7, "uri": STATUS_URI}},
        "iat": NOW - timedelta(days=1),
        "exp": NOW + timedelta(days=365),
        "signer": issuer,
        **overrides,
    }
    return issue(CLAIMS, DISCLOSABLE, **arguments)


def _verify(presentation: str, issuer: LocalSigner, statuses: StatusList, **overrides: Any) -> Any:
    arguments: dict[str, Any] = {
        "issuer_keys": KeyRing(issuer).keys(),
        "aud": AUD,
        "nonce": NONCE,
        "now": NOW,
        "status_of": status_lookup({STATUS_URI: statuses}),
        **overrides,
    }
    return verify(presentation, **arguments)


def _refused(reason: str, presentation: str, issuer: LocalSigner, statuses: StatusList, **overrides: Any) -> None:
    with pytest.raises(CredentialRefusedError) as caught:
        _verify(presentation, issuer, statuses, **overrides)
    assert caught.value.reason == reason, caught.value.detail


def _present(credential: str, holder: LocalSigner, reveal: list[str], **overrides: Any) -> str:
    arguments: dict[str, Any] = {"holder_key": holder, "aud": AUD, "nonce": NONCE, "iat": NOW, **overrides}
    return present(credential, reveal, **arguments)


def _parts(sd_jwt: str) -> tuple[str, list[str]]:
    parts = sd_jwt.split("~")
    return parts[0], parts[1:-1]


def _rebind(jws: str, disclosures: list[str], holder: LocalSigner) -> str:
    """A presentation of these parts with a valid key binding: what a dishonest holder can always make."""
    return bind("~".join([jws, *disclosures]) + "~", holder_key=holder, aud=AUD, nonce=NONCE, iat=NOW)


def _disclosure(*elements: Any) -> str:
    return b64url(json.dumps(list(elements)).encode())


# --- what works --------------------------------------------------------------------------------------------------


def test_only_the_nested_age_is_disclosed_never_the_birthdate(
    issuer: LocalSigner, holder: LocalSigner, statuses: StatusList
) -> None:
    presentation = _present(_credential(issuer, holder), holder, ["age_equal_or_over.65"])
    verified = _verify(presentation, issuer, statuses)
    assert verified.claims == {"age_equal_or_over": {"65": True}, "nationalities": [], "district": "Centro"}
    assert (verified.vct, verified.iss, verified.status) == (VCT, ISSUER, 0)
    assert "1950" not in presentation.split("~", 1)[1]  # the birthdate's disclosure is not even sent


def test_array_elements_are_disclosed_one_by_one(
    issuer: LocalSigner, holder: LocalSigner, statuses: StatusList
) -> None:
    presentation = _present(_credential(issuer, holder), holder, ["nationalities.1", "given_name"])
    claims = _verify(presentation, issuer, statuses).claims
    assert claims["nationalities"] == ["FR"] and claims["given_name"] == "Ana" and "family_name" not in claims


def test_the_holder_maps_every_disclosure_to_its_claim(issuer: LocalSigner, holder: LocalSigner) -> None:
    paths = set(disclosure_paths(_credential(issuer, holder)).values())
    assert paths == {
        ("given_name",),
        ("family_name",),
        ("birthdate",),
        ("age_equal_or_over",),
        ("age_equal_or_over", "18"),
        ("age_equal_or_over", "65"),
        ("nationalities", 0),
        ("nationalities", 1),
    }


def test_decoys_hide_how_many_claims_are_concealed(issuer: LocalSigner, holder: LocalSigner) -> None:
    def top_level_digests(credential: str) -> int:
        payload = json.loads(b64url_decode(credential.split("~")[0].split(".")[1]))
        return len(payload["_sd"])

    assert top_level_digests(_credential(issuer, holder, decoys=0)) == 4
    assert top_level_digests(_credential(issuer, holder, decoys=3)) == 7


def test_a_refusal_is_a_422_problem_with_its_reason() -> None:
    problem = CredentialRefusedError("revoked", "the credential has been revoked").to_problem()
    assert problem == {
        "type": "/problems/credential-refused",
        "title": "The credential was refused",
        "status": 422,
        "detail": "the credential has been revoked",
        "reason": "revoked",
    }
    with pytest.raises(ValueError):
        CredentialRefusedError("no-such-reason", "x")


def test_registered_claims_cannot_be_made_disclosable(issuer: LocalSigner, holder: LocalSigner) -> None:
    with pytest.raises(ValueError):
        issue(
            {"iss": "x"},
            [],
            vct=VCT,
            issuer=ISSUER,
            holder_jwk=holder.public_jwk(),
            status=None,
            iat=NOW,
            exp=NOW,
            signer=issuer,
        )


# --- the key binding ------------------------------------------------------------------------------------------


def test_a_wrong_nonce_is_refused(issuer: LocalSigner, holder: LocalSigner, statuses: StatusList) -> None:
    presentation = _present(_credential(issuer, holder), holder, ["given_name"], nonce="another")
    _refused("nonce-mismatch", presentation, issuer, statuses)


def test_a_presentation_for_another_verifier_is_refused(
    issuer: LocalSigner, holder: LocalSigner, statuses: StatusList
) -> None:
    presentation = _present(_credential(issuer, holder), holder, ["given_name"], aud="redirect_uri:https://evil")
    _refused("audience-mismatch", presentation, issuer, statuses)


def test_a_presentation_without_key_binding_is_refused(
    issuer: LocalSigner, holder: LocalSigner, statuses: StatusList
) -> None:
    presentation = _present(_credential(issuer, holder), holder, ["given_name"])
    _refused("key-binding-missing", presentation[: presentation.rindex("~") + 1], issuer, statuses)


def test_a_stale_key_binding_is_refused(issuer: LocalSigner, holder: LocalSigner, statuses: StatusList) -> None:
    presentation = _present(_credential(issuer, holder), holder, ["given_name"], iat=NOW - timedelta(minutes=7))
    _refused("key-binding-invalid", presentation, issuer, statuses)
    fresh = _present(_credential(issuer, holder), holder, ["given_name"], iat=NOW - timedelta(minutes=4))
    assert _verify(fresh, issuer, statuses)


def test_a_key_binding_from_the_future_is_refused(
    issuer: LocalSigner, holder: LocalSigner, statuses: StatusList
) -> None:
    presentation = _present(_credential(issuer, holder), holder, ["given_name"], iat=NOW + timedelta(minutes=3))
    _refused("key-binding-invalid", presentation, issuer, statuses)


def test_a_key_binding_of_another_presentation_is_refused(
    issuer: LocalSigner, holder: LocalSigner, statuses: StatusList
) -> None:
    # the verifier saw a presentation of the age only; an attacker adds the birthdate's disclosure beside
    # the same KB-JWT: its sd_hash is the hash of the other presentation
    credential = _credential(issuer, holder)
    shown = _present(credential, holder, ["age_equal_or_over.65"])
    kb = shown.rsplit("~", 1)[1]
    more = _present(credential, holder, ["age_equal_or_over.65", "birthdate"])
    _refused("key-binding-invalid", more[: more.rindex("~") + 1] + kb, issuer, statuses)


def test_a_key_binding_signed_by_another_key_is_refused(
    issuer: LocalSigner, holder: LocalSigner, statuses: StatusList
) -> None:
    # a stolen credential presented by someone without the holder's key
    presentation = _present(_credential(issuer, holder), LocalSigner.generate(), ["given_name"])
    _refused("key-binding-invalid", presentation, issuer, statuses)


def test_a_key_binding_of_another_type_is_refused(
    issuer: LocalSigner, holder: LocalSigner, statuses: StatusList
) -> None:
    jws, disclosures = _parts(_credential(issuer, holder))
    presented = "~".join([jws, disclosures[0]]) + "~"
    claims = {"iat": epoch(NOW), "aud": AUD, "nonce": NONCE, "sd_hash": sd_hash(presented)}
    kb = encode_jws({"typ": "JWT", "jwk": holder.public_jwk()}, claims, holder)
    _refused("key-binding-invalid", presented + kb, issuer, statuses)


# --- the issuer's signature and validity ---------------------------------------------------------------------


def test_an_expired_credential_is_refused(issuer: LocalSigner, holder: LocalSigner, statuses: StatusList) -> None:
    credential = _credential(issuer, holder, iat=NOW - timedelta(days=400), exp=NOW - timedelta(days=1))
    _refused("expired", _present(credential, holder, ["given_name"]), issuer, statuses)


def test_a_credential_not_yet_valid_is_refused(issuer: LocalSigner, holder: LocalSigner, statuses: StatusList) -> None:
    credential = _credential(issuer, holder, nbf=NOW + timedelta(hours=1))
    _refused("not-yet-valid", _present(credential, holder, ["given_name"]), issuer, statuses)


def test_an_unknown_issuer_key_is_refused(issuer: LocalSigner, holder: LocalSigner, statuses: StatusList) -> None:
    credential = _credential(LocalSigner.generate(), holder)
    _refused("unknown-key", _present(credential, holder, ["given_name"]), issuer, statuses)


def test_alg_none_built_by_hand_is_refused(issuer: LocalSigner, holder: LocalSigner, statuses: StatusList) -> None:
    jws, disclosures = _parts(_credential(issuer, holder))
    header = b64url(json.dumps({"alg": "none", "typ": "dc+sd-jwt", "kid": issuer.kid}).encode())
    unsigned = f"{header}.{jws.split('.')[1]}."
    _refused("alg-not-allowed", _rebind(unsigned, disclosures, holder), issuer, statuses)


def test_a_credential_of_another_typ_is_refused(issuer: LocalSigner, holder: LocalSigner, statuses: StatusList) -> None:
    jws, disclosures = _parts(_credential(issuer, holder))
    payload = json.loads(b64url_decode(jws.split(".")[1]))
    other = encode_jws({"typ": "JWT"}, payload, issuer)
    _refused("wrong-type", _rebind(other, disclosures, holder), issuer, statuses)


def test_a_credential_of_another_card_type_is_refused(
    issuer: LocalSigner, holder: LocalSigner, statuses: StatusList
) -> None:
    presentation = _present(_credential(issuer, holder), holder, ["given_name"])
    _refused("wrong-card-type", presentation, issuer, statuses, vct=[VCT.replace("madrid-mayor", "zbe")])
    assert _verify(presentation, issuer, statuses, vct=[VCT])


# --- the disclosures -----------------------------------------------------------------------------------------


def test_one_byte_changed_in_a_disclosed_value_is_refused(
    issuer: LocalSigner, holder: LocalSigner, statuses: StatusList
) -> None:
    credential = _credential(issuer, holder)
    jws, _ = _parts(credential)
    disclosure = next(d for d, path in disclosure_paths(credential).items() if path == ("given_name",))
    salt, name, value = json.loads(b64url_decode(disclosure))
    assert value == "Ana"
    tampered = _disclosure(salt, name, "Anb")
    _refused("disclosure-tampered", _rebind(jws, [tampered], holder), issuer, statuses)


def test_a_disclosure_of_another_credential_is_refused(
    issuer: LocalSigner, holder: LocalSigner, statuses: StatusList
) -> None:
    # a genuine disclosure of the same issuer, but whose digest this credential does not carry
    mine, other = _credential(issuer, holder), _credential(issuer, holder)
    foreign = next(d for d, path in disclosure_paths(other).items() if path == ("birthdate",))
    jws, _ = _parts(mine)
    _refused("disclosure-tampered", _rebind(jws, [foreign], holder), issuer, statuses)


def test_a_digest_twice_in_the_credential_is_refused(
    issuer: LocalSigner, holder: LocalSigner, statuses: StatusList
) -> None:
    # an issuer bug or a forged issuance: one disclosure answering two places (a claim disclosed twice)
    disclosure = _disclosure("c2FsdA", "given_name", "Ana")
    jws, _ = _parts(_credential(issuer, holder))
    payload = json.loads(b64url_decode(jws.split(".")[1]))
    payload["_sd"] = sorted([*payload["_sd"], disclosure_digest(disclosure)])
    payload["contact"] = {"_sd": [disclosure_digest(disclosure)]}  # the same digest in another object
    signed = encode_jws({"typ": "dc+sd-jwt"}, payload, issuer)
    _refused("disclosure-tampered", _rebind(signed, [disclosure], holder), issuer, statuses)


def test_the_same_disclosure_sent_twice_is_refused(
    issuer: LocalSigner, holder: LocalSigner, statuses: StatusList
) -> None:
    credential = _credential(issuer, holder)
    jws, _ = _parts(credential)
    given = next(d for d, path in disclosure_paths(credential).items() if path == ("given_name",))
    _refused("disclosure-tampered", _rebind(jws, [given, given], holder), issuer, statuses)


def test_a_disclosure_naming_sd_is_refused(issuer: LocalSigner, holder: LocalSigner, statuses: StatusList) -> None:
    disclosure = _disclosure("c2FsdA", "_sd", ["x"])
    jws, _ = _parts(_credential(issuer, holder))
    payload = json.loads(b64url_decode(jws.split(".")[1]))
    payload["_sd"] = sorted([*payload["_sd"], disclosure_digest(disclosure)])
    signed = encode_jws({"typ": "dc+sd-jwt"}, payload, issuer)
    _refused("disclosure-tampered", _rebind(signed, [disclosure], holder), issuer, statuses)


def test_an_array_disclosure_in_an_objects_sd_is_refused(
    issuer: LocalSigner, holder: LocalSigner, statuses: StatusList
) -> None:
    credential = _credential(issuer, holder)
    jws, _ = _parts(credential)
    element = next(d for d, path in disclosure_paths(credential).items() if path == ("nationalities", 0))
    payload = json.loads(b64url_decode(jws.split(".")[1]))
    payload["nationalities"] = []
    payload["_sd"] = sorted([*payload["_sd"], disclosure_digest(element)])
    signed = encode_jws({"typ": "dc+sd-jwt"}, payload, issuer)
    _refused("disclosure-tampered", _rebind(signed, [element], holder), issuer, statuses)


@pytest.mark.parametrize("garbage", ["", "not-a-presentation", "a~b~c", "~~", "e30.e30.AA~!!~"])
def test_garbage_is_refused_never_a_crash(garbage: str, issuer: LocalSigner, statuses: StatusList) -> None:
    with pytest.raises(CredentialRefusedError):
        _verify(garbage, issuer, statuses)


# --- the status -------------------------------------------------------------------------------------------------


def test_a_revoked_credential_is_refused(issuer: LocalSigner, holder: LocalSigner, statuses: StatusList) -> None:
    statuses.set(7, 1)
    _refused("revoked", _present(_credential(issuer, holder), holder, ["given_name"]), issuer, statuses)


def test_a_suspended_credential_is_refused(issuer: LocalSigner, holder: LocalSigner, statuses: StatusList) -> None:
    statuses.set(7, 2)
    _refused("suspended", _present(_credential(issuer, holder), holder, ["given_name"]), issuer, statuses)
    statuses.set(7, 0)  # reinstated
    assert _verify(_present(_credential(issuer, holder), holder, ["given_name"]), issuer, statuses).status == 0


def test_a_neighbours_revocation_does_not_touch_this_credential(
    issuer: LocalSigner, holder: LocalSigner, statuses: StatusList
) -> None:
    statuses.set(6, 1)
    statuses.set(8, 2)
    assert _verify(_present(_credential(issuer, holder), holder, ["given_name"]), issuer, statuses).status == 0


def test_an_unreadable_status_list_is_refused(issuer: LocalSigner, holder: LocalSigner, statuses: StatusList) -> None:
    presentation = _present(_credential(issuer, holder), holder, ["given_name"])
    _refused("status-unavailable", presentation, issuer, statuses, status_of=status_lookup({}))


def test_a_credential_without_status_is_refused_when_the_verifier_checks_status(
    issuer: LocalSigner, holder: LocalSigner, statuses: StatusList
) -> None:
    presentation = _present(_credential(issuer, holder, status=None), holder, ["given_name"])
    _refused("malformed", presentation, issuer, statuses)
    assert _verify(presentation, issuer, statuses, status_of=None).status is None


# --- OpenID4VCI key proofs ------------------------------------------------------------------------------------


def test_a_key_proof_gives_the_holders_public_key(holder: LocalSigner) -> None:
    proof = key_proof(holder, audience=ISSUER, nonce="c-nonce-1", iat=NOW)
    jwk = read_key_proof(proof, audience=ISSUER, nonce="c-nonce-1", now=NOW)
    assert jwk == {name: holder.public_jwk()[name] for name in ("kty", "crv", "x", "y")}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"audience": "https://other.example/v1/wallet"}, "audience-mismatch"),
        ({"nonce": "c-nonce-old"}, "nonce-mismatch"),
        ({"iat": NOW - timedelta(minutes=7)}, "key-binding-invalid"),
    ],
    ids=["other-issuer", "old-c-nonce", "stale"],
)
def test_a_key_proof_for_another_issuer_nonce_or_time_is_refused(
    holder: LocalSigner, change: dict[str, Any], reason: str
) -> None:
    arguments: dict[str, Any] = {"audience": ISSUER, "nonce": "c-nonce-1", "iat": NOW, **change}
    with pytest.raises(CredentialRefusedError) as caught:
        read_key_proof(key_proof(holder, **arguments), audience=ISSUER, nonce="c-nonce-1", now=NOW)
    assert caught.value.reason == reason


def test_a_key_proof_signed_by_another_key_than_its_jwk_is_refused(holder: LocalSigner) -> None:
    proof = key_proof(holder, audience=ISSUER, nonce="c-nonce-1", iat=NOW)
    head, body, _ = proof.split(".")
    other = key_proof(LocalSigner.generate(), audience=ISSUER, nonce="c-nonce-1", iat=NOW)
    with pytest.raises(CredentialRefusedError) as caught:
        read_key_proof(f"{head}.{body}.{other.split('.')[2]}", audience=ISSUER, nonce="c-nonce-1", now=NOW)
    assert caught.value.reason == "bad-signature"


def test_a_key_proof_of_another_type_is_refused(holder: LocalSigner) -> None:
    token = encode_jws(
        {"typ": "JWT", "jwk": holder.public_jwk()}, {"aud": ISSUER, "nonce": "n", "iat": epoch(NOW)}, holder
    )
    with pytest.raises(CredentialRefusedError) as caught:
        read_key_proof(token, audience=ISSUER, nonce="n", now=NOW)
    assert caught.value.reason == "wrong-type"
