"""Bearer tokens: verified signature, issuer, audience and expiry become a policy ``Subject``.

The JWKS is never fetched: ``Authenticator._jwks.get_signing_key_from_jwt`` is replaced by a fake that
returns the test key, so the rest of ``verify`` (PyJWT's checks and the claim mapping) runs for real.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from functions.core.auth import ROLES, Authenticator, Subject, subject_from_claims
from functions.core.errors import UnauthenticatedError

ISSUER = "https://idp.test"
AUDIENCE = "pic"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def authenticator(rsa_key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch) -> Authenticator:
    """An Authenticator whose JWKS "serves" the public half of ``rsa_key``; the URL is never called."""
    authn = Authenticator("http://127.0.0.1:9/.well-known/jwks.json", ISSUER, AUDIENCE)
    public = SimpleNamespace(key=rsa_key.public_key())
    monkeypatch.setattr(authn._jwks, "get_signing_key_from_jwt", lambda token: public)
    return authn


@pytest.fixture
def token(rsa_key: rsa.RSAPrivateKey) -> Callable[..., str]:
    def make(key: Any = rsa_key, algorithm: str = "RS256", drop: tuple[str, ...] = (), **claims: Any) -> str:
        now = int(time.time())
        payload = {"sub": "c-0001", "role": "citizen", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300}
        payload.update(claims)
        for name in drop:
            payload.pop(name)
        return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": "test-key"})

    return make


# ---------------------------------------------------------------------------
# Claims -> Subject
# ---------------------------------------------------------------------------


def test_a_token_without_level_is_self_service() -> None:
    assert subject_from_claims({"sub": "c-0001", "role": "citizen"}) == Subject(id="c-0001", role="citizen")


def test_a_token_without_a_role_claim_is_refused_not_taken_for_a_citizen() -> None:
    # GIVEN claims with a subject and no role WHEN mapped THEN refused (401), never guessed as a citizen
    with pytest.raises(UnauthenticatedError, match="no role claim") as err:
        subject_from_claims({"sub": "c-0001"})
    assert err.value.status == 401


@pytest.mark.parametrize("sub", ["", "   ", 1234, None, "x" * 257, "c-1\nrole: admin", "c-\x00"])
def test_a_subject_that_is_empty_not_a_string_too_long_or_unprintable_is_refused(sub: Any) -> None:
    with pytest.raises(UnauthenticatedError, match="subject"):
        subject_from_claims({"sub": sub, "role": "citizen"})


@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_attention_levels_0_to_3_are_accepted(level: int) -> None:
    subject = subject_from_claims({"sub": "agent-1", "role": "agent", "level": level, "area": "Centro"})
    assert (subject.role, subject.level, subject.area) == ("agent", level, "Centro")


@pytest.mark.parametrize("level", [-1, 4, "1", 1.0, None, [1]])
def test_an_attention_level_outside_0_to_3_or_not_an_integer_is_refused(level: Any) -> None:
    with pytest.raises(UnauthenticatedError, match="0-3"):
        subject_from_claims({"sub": "agent-1", "role": "agent", "level": level})


def test_a_boolean_attention_level_is_refused() -> None:
    with pytest.raises(UnauthenticatedError):
        subject_from_claims({"sub": "agent-1", "role": "agent", "level": True})


@pytest.mark.parametrize("role", ROLES)
def test_every_known_role_is_accepted(role: str) -> None:
    assert subject_from_claims({"sub": "x", "role": role}).role == role


@pytest.mark.parametrize("role", ["superuser", "", None, "Citizen"])
def test_an_unknown_role_is_refused_not_guessed(role: Any) -> None:
    with pytest.raises(UnauthenticatedError, match="role"):
        subject_from_claims({"sub": "x", "role": role})


def test_an_area_is_a_string_and_an_empty_area_is_none() -> None:
    assert subject_from_claims({"sub": "x", "role": "agent", "level": 1, "area": ""}).area is None
    with pytest.raises(UnauthenticatedError, match="area"):
        subject_from_claims({"sub": "x", "role": "agent", "level": 1, "area": 7})


def test_the_policy_input_of_a_subject_is_its_fields() -> None:
    subject = Subject(id="agent-1", role="agent", level=2, area="Retiro")
    assert subject.as_policy_input() == {"id": "agent-1", "role": "agent", "level": 2, "area": "Retiro",
                                         "client_id": None, "scopes": None}  # fmt: skip


def test_a_system_clients_token_gives_its_client_and_scopes() -> None:
    # GIVEN a client-credentials token (RFC 6749 §4.4): client_id (or azp) and space-separated scopes
    claims = {"sub": "camaras-zbe", "role": "system", "client_id": "camaras-zbe", "scope": "api:zbe.plates api:x.y"}
    subject = subject_from_claims(claims)
    # THEN the subject names the client and its scopes, and the policy sees them as a list
    assert (subject.client_id, subject.scopes) == ("camaras-zbe", ("api:zbe.plates", "api:x.y"))
    assert subject.as_policy_input()["scopes"] == ["api:zbe.plates", "api:x.y"]
    assert subject_from_claims({"sub": "s", "role": "system", "azp": "padron-sync"}).client_id == "padron-sync"
    # AND a client's token without a scope grants nothing; a system token naming no client has no scopes at all
    assert subject_from_claims({"sub": "s", "role": "system", "client_id": "c"}).scopes == ()
    assert subject_from_claims({"sub": "s", "role": "system"}).scopes is None
    # AND a person's token is never a client's, whatever it carries (an OIDC azp, a scope)
    citizen = subject_from_claims({"sub": "c-1", "role": "citizen", "azp": "pic-web", "scope": "openid"})
    assert (citizen.client_id, citizen.scopes) == (None, None)


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"client_id": 7}, "client_id"),
        ({"client_id": " "}, "client_id"),
        ({"client_id": "c", "scope": ["api:x"]}, "scope"),
        ({"client_id": "c", "scope": "api:x  api:y"}, "scope-tokens"),
        ({"client_id": "c", "scope": 'api:"x"'}, "scope-tokens"),
        ({"client_id": "c", "scope": " ".join(f"api:a{i}" for i in range(65))}, "scope-tokens"),
    ],
)
def test_a_malformed_client_or_scope_is_refused(claims: dict[str, Any], why: str) -> None:
    with pytest.raises(UnauthenticatedError, match=why):
        subject_from_claims({"sub": "s", "role": "system", **claims})


# ---------------------------------------------------------------------------
# Authenticator.verify
# ---------------------------------------------------------------------------


def test_a_valid_token_gives_its_subject(authenticator: Authenticator, token: Callable[..., str]) -> None:
    # GIVEN a token signed by the issuer's key for an agent of level 3
    bearer = "Bearer " + token(sub="agent-9", role="agent", level=3, area="Tetuán")
    # WHEN it is verified THEN the subject is the agent
    assert authenticator.verify(bearer) == Subject(id="agent-9", role="agent", level=3, area="Tetuán")


def test_the_scheme_is_case_insensitive_and_spaces_around_the_token_are_ignored(
    authenticator: Authenticator, token: Callable[..., str]
) -> None:
    assert authenticator.verify("bearer   " + token() + "  ").id == "c-0001"


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer    ", "Basic dXNlcjpwYXNz", "Token abc"])
def test_without_a_bearer_token_the_caller_is_unauthenticated(authenticator: Authenticator, header: Any) -> None:
    with pytest.raises(UnauthenticatedError, match="Bearer") as err:
        authenticator.verify(header)
    assert err.value.status == 401


def test_an_expired_token_is_refused(authenticator: Authenticator, token: Callable[..., str]) -> None:
    past = int(time.time()) - 3600
    with pytest.raises(UnauthenticatedError, match="expired"):
        authenticator.verify("Bearer " + token(iat=past - 300, exp=past))


@pytest.mark.parametrize(
    "claims",
    [{"aud": "another-app"}, {"iss": "https://evil.test"}],
    ids=["wrong-audience", "wrong-issuer"],
)
def test_a_token_for_another_audience_or_from_another_issuer_is_refused(
    authenticator: Authenticator, token: Callable[..., str], claims: dict[str, Any]
) -> None:
    with pytest.raises(UnauthenticatedError, match="not valid"):
        authenticator.verify("Bearer " + token(**claims))


@pytest.mark.parametrize("claim", ["exp", "sub", "iss", "aud"])
def test_a_token_missing_a_required_claim_is_refused(
    authenticator: Authenticator, token: Callable[..., str], claim: str
) -> None:
    with pytest.raises(UnauthenticatedError):
        authenticator.verify("Bearer " + token(drop=(claim,)))


@pytest.mark.parametrize("garbage", ["not-a-jwt", "a.b.c", "eyJhbGciOiJSUzI1NiJ9..", "...."])
def test_a_garbage_token_is_refused(authenticator: Authenticator, garbage: str) -> None:
    with pytest.raises(UnauthenticatedError):
        authenticator.verify("Bearer " + garbage)


def test_a_token_signed_by_another_key_is_refused(
    authenticator: Authenticator, token: Callable[..., str], other_rsa_key: rsa.RSAPrivateKey
) -> None:
    with pytest.raises(UnauthenticatedError, match="not valid"):
        authenticator.verify("Bearer " + token(key=other_rsa_key))


def test_a_symmetric_hs256_token_is_refused(authenticator: Authenticator, token: Callable[..., str]) -> None:
    with pytest.raises(UnauthenticatedError):
        authenticator.verify("Bearer " + token(key="a-shared-secret-of-at-least-32-bytes!!", algorithm="HS256"))


def test_a_token_with_a_role_the_platform_does_not_know_is_refused(
    authenticator: Authenticator, token: Callable[..., str]
) -> None:
    with pytest.raises(UnauthenticatedError, match="role"):
        authenticator.verify("Bearer " + token(role="root"))


def test_unreachable_signing_keys_are_an_authentication_failure(
    authenticator: Authenticator, token: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the JWKS endpoint cannot be reached
    def unreachable(_: str) -> Any:
        raise jwt.PyJWKClientConnectionError("connection refused")

    monkeypatch.setattr(authenticator._jwks, "get_signing_key_from_jwt", unreachable)
    # THEN the caller gets a 401 saying why, not a 500
    with pytest.raises(UnauthenticatedError, match="could not be fetched"):
        authenticator.verify("Bearer " + token())


def test_a_kid_not_in_the_jwks_is_refused(
    authenticator: Authenticator, token: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def unknown_kid(_: str) -> Any:
        raise jwt.PyJWKClientError('Unable to find a signing key that matches: "test-key"')

    monkeypatch.setattr(authenticator._jwks, "get_signing_key_from_jwt", unknown_kid)
    with pytest.raises(UnauthenticatedError, match="not valid"):
        authenticator.verify("Bearer " + token())


def test_a_token_whose_algorithm_does_not_fit_the_key_is_refused(
    authenticator: Authenticator, token: Callable[..., str]
) -> None:
    # GIVEN an ES256 token presented with the kid of the issuer's RSA key
    es256 = token(key=ec.generate_private_key(ec.SECP256R1()), algorithm="ES256")
    # THEN it is a 401 like any other invalid token
    with pytest.raises(UnauthenticatedError):
        authenticator.verify("Bearer " + es256)
