"""Functional: what the consent API answers to bad requests, bad tokens and callers who may not act, and
that a refused write leaves nothing behind (no state, no proof, no event)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from typing import Any, NamedTuple

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from local.harness import Platform
from tests.functional.consent_support import (
    CONSENT_CHANGED,
    GIVE,
    PROBLEM_FIELDS,
    assert_problem,
    citizen_url,
    consents,
    field_names,
    history,
    put_consent,
    settle,
    wait_for_events,
)

pytestmark = pytest.mark.functional

# ---- forged tokens ---------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _altered_signature(token: str, platform: Platform) -> str:
    header, payload, signature = token.split(".")
    raw = bytearray(_unb64(signature))
    raw[len(raw) // 2] ^= 0x01
    return f"{header}.{payload}.{_b64(bytes(raw))}"


def _claims_changed(token: str, platform: Platform) -> str:
    """The citizen's genuine token with its subject swapped for another citizen's, signature kept."""
    header, payload, signature = token.split(".")
    claims = json.loads(_unb64(payload))
    claims["sub"] = "c-victim-0001"
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"


def _signed_by_another_key(token: str, platform: Platform) -> str:
    """Same claims and the dev IdP's kid, but signed by a key the IdP never had."""
    claims = jwt.decode(token, options={"verify_signature": False})
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": jwt.get_unverified_header(token)["kid"]})


def _hs256_with_the_public_key(token: str, platform: Platform) -> str:
    """The algorithm-confusion attack: HMAC keyed with the IdP's published public key."""
    claims = jwt.decode(token, options={"verify_signature": False})
    jwk = platform.http.get(platform.url("/.well-known/jwks.json"), timeout=10).json()["keys"][0]
    public_key = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk))
    public_pem = public_key.public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": jwk["kid"]}).encode())
    payload = _b64(json.dumps(claims).encode())
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def _alg_none(token: str, platform: Platform) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": "pic-dev-1"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


FORGERIES: dict[str, Callable[[str, Platform], str]] = {
    "signature-altered": _altered_signature,
    "subject-swapped": _claims_changed,
    "signed-by-another-key": _signed_by_another_key,
    "hs256-with-public-key": _hs256_with_the_public_key,
    "alg-none": _alg_none,
}

# ---- refused writes --------------------------------------------------------------------------------

Write = Callable[[Platform, str], requests.Response]


def _raw_put(
    platform: Platform, citizen_id: str, data: str, content_type: str, headers: dict[str, str]
) -> requests.Response:
    return platform.http.put(
        citizen_url(platform, citizen_id, "/consents/location"),
        data=data.encode(),
        headers={**headers, "Content-Type": content_type},
        timeout=15,
    )


def _as_citizen(body: dict[str, Any], purpose: str = "location") -> Write:
    return lambda p, c: put_consent(p, c, purpose, body, p.as_(c))


def _with_headers(headers: Callable[[Platform, str], dict[str, str]]) -> Write:
    return lambda p, c: put_consent(p, c, "location", GIVE, headers(p, c))


def _forged(name: str) -> Write:
    return _with_headers(lambda p, c: {"Authorization": f"Bearer {FORGERIES[name](p.token(c), p)}"})


class Refusal(NamedTuple):
    """A write the API must refuse: how to send it, and the problem it must answer."""

    write: Write
    status: int
    problem: str
    field: str | None = None


MALFORMED = '{"granted": true,'
FORM = "application/x-www-form-urlencoded"
REFUSED_WRITES: dict[str, Refusal] = {
    "malformed-json": Refusal(
        lambda p, c: _raw_put(p, c, MALFORMED, "application/json", p.as_(c)), 400, "malformed-request"
    ),
    "form-encoded": Refusal(lambda p, c: _raw_put(p, c, "granted=true", FORM, p.as_(c)), 415, "unsupported-media-type"),
    "unknown-purpose": Refusal(_as_citizen(GIVE, purpose="horoscope"), 422, "consent-invalid", "purpose"),
    "unknown-channel": Refusal(
        _as_citizen({**GIVE, "channels": ["email", "pigeon"]}, purpose="campaigns"), 422, "consent-invalid", "channels"
    ),
    "no-text-version": Refusal(_as_citizen({"granted": True}), 422, "consent-invalid"),
    "unpublished-text-version": Refusal(
        _as_citizen({**GIVE, "text_version": "1999-01"}), 422, "consent-invalid", "text_version"
    ),
    "channels-on-a-purpose-not-per-channel": Refusal(
        _as_citizen({**GIVE, "channels": ["email"]}), 422, "consent-invalid"
    ),
    "field-not-in-schema": Refusal(_as_citizen({**GIVE, "granted_by": "me"}), 422, "validation", "granted_by"),
    "granted-missing": Refusal(_as_citizen({"text_version": "2026-01"}), 422, "validation", "granted"),
    "no-token": Refusal(_with_headers(lambda p, c: {}), 401, "unauthenticated"),
    "not-bearer": Refusal(_with_headers(lambda p, c: {"Authorization": f"Basic {p.token(c)}"}), 401, "unauthenticated"),
    "expired-token": Refusal(_with_headers(lambda p, c: p.as_(c, ttl=-10)), 401, "unauthenticated"),
    **{f"forged-{name}": Refusal(_forged(name), 401, "unauthenticated") for name in FORGERIES},
    "another-citizen": Refusal(_with_headers(lambda p, c: p.as_("c-somebody-else")), 403, "forbidden"),
    "admin": Refusal(_with_headers(lambda p, c: p.as_("admin-1", role="admin")), 403, "forbidden"),
    "system": Refusal(_with_headers(lambda p, c: p.as_("batch-1", role="system")), 403, "forbidden"),
    "agent-of-level-0": Refusal(_with_headers(lambda p, c: p.as_("agent-9", role="agent", level=0)), 403, "forbidden"),
}


def _purpose_of(response: requests.Response) -> str:
    return str(response.request.path_url).rsplit("/", 1)[-1]


@pytest.fixture(scope="module")
def consenting_citizen(platform: Platform) -> str:
    """A citizen with personalisation given (one proof, one event): refused writes must not touch them."""
    citizen_id = f"c-badinput-{uuid.uuid4().hex[:8]}"
    assert put_consent(platform, citizen_id, "personalisation", GIVE, platform.as_(citizen_id)).status_code == 200
    wait_for_events(platform, CONSENT_CHANGED, citizen_id)
    return citizen_id


@pytest.mark.parametrize("case", list(REFUSED_WRITES))
@pytest.mark.units_of_work
def test_a_refused_write_is_a_problem_and_changes_nothing(
    platform: Platform, consenting_citizen: str, case: str
) -> None:
    # GIVEN a citizen with personalisation given
    me = platform.as_(consenting_citizen)
    before_state, before_history = consents(platform, consenting_citizen, me), history(platform, consenting_citizen, me)
    refusal = REFUSED_WRITES[case]

    # WHEN a bad write is attempted on their record
    response = refusal.write(platform, consenting_citizen)

    # THEN it is refused with the right status as problem+json, naming the field where there is one
    problem = assert_problem(response, refusal.status, refusal.problem)
    assert problem["instance"] == f"/v1/citizens/{consenting_citizen}/consents/{_purpose_of(response)}"
    if refusal.field:
        assert refusal.field in field_names(problem), problem
    # AND the consents and their history are exactly as before
    assert consents(platform, consenting_citizen, me) == before_state
    assert history(platform, consenting_citizen, me) == before_history


@pytest.mark.units_of_work
def test_no_refused_write_emits_an_event(platform: Platform, citizen_id: str) -> None:
    # GIVEN a citizen with personalisation given, and its one consent.changed event out
    me = platform.as_(citizen_id)
    assert put_consent(platform, citizen_id, "personalisation", GIVE, me).status_code == 200
    wait_for_events(platform, CONSENT_CHANGED, citizen_id)
    before_state, before_history = consents(platform, citizen_id, me), history(platform, citizen_id, me)

    # WHEN every kind of refused write is attempted on their record
    statuses = {case: refusal.write(platform, citizen_id).status_code for case, refusal in REFUSED_WRITES.items()}

    # THEN all were refused, nothing was half-written, and still only the one event was emitted
    assert all(400 <= s < 500 for s in statuses.values()), statuses
    assert consents(platform, citizen_id, me) == before_state
    assert history(platform, citizen_id, me) == before_history
    settle(platform)
    assert len(platform.events(CONSENT_CHANGED, citizen_id)) == 1


def test_a_malformed_body_is_an_rfc9457_problem(platform: Platform, citizen_id: str) -> None:
    # GIVEN a citizen
    me = platform.as_(citizen_id)

    # WHEN their channel sends a body that is not JSON
    response = _raw_put(platform, citizen_id, "{granted: yes", "application/json", me)

    # THEN 400 application/problem+json with every member PIC documents
    problem = assert_problem(response, 400, "malformed-request")
    assert set(PROBLEM_FIELDS) <= set(problem)
    assert problem["instance"] == f"/v1/citizens/{citizen_id}/consents/location"
    assert "JSON" in problem["detail"]


def test_a_citizen_may_not_read_another_citizens_consents(platform: Platform, citizen_id: str) -> None:
    # GIVEN two citizens
    nosy = platform.as_("c-nosy-neighbour")

    # WHEN one reads the other's consents
    response = platform.http.get(citizen_url(platform, citizen_id, "/consents"), headers=nosy, timeout=15)

    # THEN 403, with the policy's reason (who, whose record, and the legal ground)
    problem = assert_problem(response, 403, "forbidden")
    assert "c-nosy-neighbour" in problem["detail"] and citizen_id in problem["detail"]
    assert "RGPD art. 5.1.f" in problem["detail"]


@pytest.mark.parametrize("role", ["admin", "system"])
@pytest.mark.parametrize("tail", ["/consents", "/consents/history", "/preferences", "/subscriptions"])
def test_admin_and_system_roles_may_not_read_a_citizens_record(
    platform: Platform, citizen_id: str, role: str, tail: str
) -> None:
    # GIVEN a caller with role admin or system

    # WHEN it reads a citizen's record
    response = platform.http.get(
        citizen_url(platform, citizen_id, tail), headers=platform.as_(f"{role}-1", role=role), timeout=15
    )

    # THEN 403: only the citizen, or an agent on their behalf
    problem = assert_problem(response, 403, "forbidden")
    assert f'Role "{role}"' in problem["detail"]


def test_an_expired_token_is_refused_even_for_reading(platform: Platform, citizen_id: str) -> None:
    # GIVEN a token that expired ten seconds ago
    expired = platform.as_(citizen_id, ttl=-10)

    # WHEN it is used to read
    response = platform.http.get(citizen_url(platform, citizen_id, "/consents"), headers=expired, timeout=15)

    # THEN 401, saying it expired
    problem = assert_problem(response, 401, "unauthenticated")
    assert "expired" in problem["detail"]


@pytest.mark.parametrize(
    "path",
    ["/v1/citizens/{id}/consents/history/2026", "/v1/citizens/{id}/avatar", "/v1/consent-terms/es/extra"],
)
def test_an_unknown_route_is_a_404_problem(platform: Platform, citizen_id: str, path: str) -> None:
    # GIVEN a signed-in citizen
    me = platform.as_(citizen_id)

    # WHEN they ask for a path no function serves
    response = platform.http.get(platform.url(path.format(id=citizen_id)), headers=me, timeout=15)

    # THEN 404 as a problem
    assert_problem(response, 404, "not-found")


def test_a_method_a_route_does_not_have_is_a_405_problem(platform: Platform, citizen_id: str) -> None:
    # GIVEN a signed-in citizen
    me = platform.as_(citizen_id)

    # WHEN they DELETE their consents (withdrawing is a PUT per purpose)
    response = platform.http.delete(citizen_url(platform, citizen_id, "/consents"), headers=me, timeout=15)

    # THEN 405 as a problem, and nothing changed
    assert_problem(response, 405, "method-not-allowed")
    assert consents(platform, citizen_id, me)["mode"] == "a"


def test_a_404_for_an_unknown_route_names_the_instance(platform: Platform, citizen_id: str) -> None:
    # GIVEN a signed-in citizen
    me = platform.as_(citizen_id)

    # WHEN they ask for a path no function serves
    path = f"/v1/citizens/{citizen_id}/avatar"
    response = platform.http.get(platform.url(path), headers=me, timeout=15)

    # THEN the problem names the path as its instance
    assert assert_problem(response, 404).get("instance") == path


def test_a_401_tells_the_client_to_send_a_bearer_token(platform: Platform, citizen_id: str) -> None:
    # GIVEN no token

    # WHEN a channel reads consents
    response = platform.http.get(citizen_url(platform, citizen_id, "/consents"), timeout=15)

    # THEN 401 with a Bearer challenge
    assert response.status_code == 401
    assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")


def test_a_405_lists_the_allowed_methods(platform: Platform, citizen_id: str) -> None:
    # GIVEN a signed-in citizen
    me = platform.as_(citizen_id)

    # WHEN they DELETE their consents
    response = platform.http.delete(citizen_url(platform, citizen_id, "/consents"), headers=me, timeout=15)

    # THEN the answer says which methods the resource has
    assert response.status_code == 405
    assert "GET" in response.headers.get("Allow", "")
