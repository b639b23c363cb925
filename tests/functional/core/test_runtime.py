"""Functional: the local runtime itself — health, the dev identity provider, OPA's Data API over the embedded
engine (and the REST adapter that uses it), and state that survives a restart of ``make run``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jwt
import pytest

from functions.core.policy import EmbeddedPolicy, OpaRestPolicy, PolicyBundle
from local.harness import Platform, free_port, start_platform
from tests.functional.consent_support import GIVE, REPO_ROOT, assert_problem, consents, granted, history, put_consent

pytestmark = pytest.mark.functional


def authz_input(subject: dict[str, Any], action: str, citizen_id: str) -> dict[str, Any]:
    return {"subject": subject, "action": action, "resource": {"citizen_id": citizen_id}}


CITIZEN_ON_OWN_RECORD = authz_input({"id": "c-1", "role": "citizen", "level": 0}, "consent.write", "c-1")
CITIZEN_ON_ANOTHERS = authz_input({"id": "c-1", "role": "citizen", "level": 0}, "consent.read", "c-2")
AGENT_LEVEL_1 = {
    **authz_input({"id": "agent-1", "role": "agent", "level": 1, "area": "010"}, "consent.write", "c-2"),
    "purpose": "CITA-0042",
}
AGENT_LEVEL_0 = authz_input({"id": "agent-2", "role": "agent", "level": 0}, "preferences.read", "c-2")
ADMIN = authz_input({"id": "admin-1", "role": "admin", "level": 0}, "subscriptions.read", "c-2")
UNKNOWN_ACTION = authz_input({"id": "c-1", "role": "citizen", "level": 0}, "consent.delete", "c-1")


def test_healthz_is_ready_with_every_part_up(platform: Platform) -> None:
    # GIVEN the platform started by the session

    # WHEN health is asked for
    response = platform.http.get(platform.url("/healthz"), timeout=10)

    # THEN it is ready, and every part says so
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["parts"]) == {
        "functions", "policies", "supervisor", "gateway", "dynamodb", "broker", "relay", "notification-release",
        "case-sweep",
        "routing-sweep",
        "survey-release",
        "campaign-dispatch",
        "booking-sweep",
        "intake-inbox",
        "lake-flusher",
    }  # fmt: skip
    assert all(body["parts"].values()), body


def test_the_jwks_publishes_the_one_rs256_key_that_signs_tokens(platform: Platform) -> None:
    # GIVEN the dev identity provider

    # WHEN its JWKS is read and a token is minted
    keys = platform.http.get(platform.url("/.well-known/jwks.json"), timeout=10).json()["keys"]
    token = platform.token("c-jwks", role="agent", level=2, area="010")

    # THEN there is one RS256 signing key with a kid, and it verifies the token's claims
    (key,) = keys
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig" and key["kid"]
    assert jwt.get_unverified_header(token)["kid"] == key["kid"]
    public = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(key))
    claims = jwt.decode(token, public, algorithms=["RS256"], audience="pic", issuer=platform.base)  # type: ignore[arg-type]
    assert (claims["sub"], claims["role"], claims["level"], claims["area"]) == ("c-jwks", "agent", 2, "010")


@pytest.mark.parametrize(
    "request_body",
    [{"sub": "x", "role": "boss"}, {"sub": "x", "level": 4}, {"sub": ""}, {"sub": "x", "scope": "all"}],
    ids=["unknown-role", "level-out-of-range", "empty-subject", "unknown-claim"],
)
def test_the_dev_idp_refuses_to_mint_what_no_real_idp_would(platform: Platform, request_body: dict[str, Any]) -> None:
    # GIVEN the dev identity provider

    # WHEN a token is asked for with a claim outside what PIC knows
    response = platform.http.post(platform.url("/dev/token"), json=request_body, timeout=10)

    # THEN 422 as a problem, and no token
    problem = assert_problem(response, 422, "validation")
    assert "access_token" not in problem


@pytest.mark.parametrize(
    ("policy_input", "allowed"),
    [(CITIZEN_ON_OWN_RECORD, True), (AGENT_LEVEL_1, True), (CITIZEN_ON_ANOTHERS, False), (ADMIN, False)],
    ids=["citizen-own-record", "agent-level-1", "citizen-another-record", "admin"],
)
def test_the_opa_data_api_answers_the_authz_decision(
    platform: Platform, policy_input: dict[str, Any], allowed: bool
) -> None:
    # GIVEN the authz policy behind OPA's Data API

    # WHEN a decision is asked for
    response = platform.http.post(platform.url("/v1/data/authz/decision"), json={"input": policy_input}, timeout=10)

    # THEN the result says allow or not, with reasons either way
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert result["allow"] is allowed
    assert result["reasons"]
    assert result["on_behalf"] is (policy_input["subject"]["role"] == "agent" and allowed)


@pytest.mark.parametrize(
    "path", ["/v1/data/nothing/decision", "/v1/data/authz/allow", "/v1/data/authz/nothing/decision"]
)
def test_the_opa_data_api_answers_an_undefined_document_with_no_result(platform: Platform, path: str) -> None:
    # GIVEN a path that names no policy decision

    # WHEN it is asked for
    response = platform.http.post(platform.url(path), json={"input": CITIZEN_ON_OWN_RECORD}, timeout=10)

    # THEN, as OPA does, 200 with an empty document
    assert response.status_code == 200
    assert response.json() == {}


@pytest.mark.parametrize(
    "policy_input",
    [CITIZEN_ON_OWN_RECORD, AGENT_LEVEL_1, CITIZEN_ON_ANOTHERS, AGENT_LEVEL_0, UNKNOWN_ACTION],
    ids=["citizen-own-record", "agent-level-1", "citizen-another-record", "agent-level-0", "unknown-action"],
)
def test_the_rest_adapter_decides_as_the_embedded_engine(platform: Platform, policy_input: dict[str, Any]) -> None:
    # GIVEN the REST adapter pointed at the platform, and the embedded engine on the same policies
    rest = OpaRestPolicy(platform.base)
    embedded = EmbeddedPolicy(PolicyBundle.load(REPO_ROOT / "policies"))

    # WHEN both decide the same input
    over_http = rest.decide("authz", policy_input)
    in_process = embedded.decide("authz", policy_input)

    # THEN they agree on the outcome, the reasons and the whole result
    assert over_http.allow == in_process.allow
    assert over_http.reasons == in_process.reasons
    assert over_http.result == in_process.result


def test_state_and_tokens_survive_a_restart_on_the_same_data_directory(tmp_path: Path) -> None:
    # GIVEN a second platform of its own, where a citizen gave personalisation and campaigns by e-mail
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    port, dynamodb_port = free_port(), free_port()
    first = start_platform(data_dir, port=port, dynamodb_port=dynamodb_port)
    try:
        citizen_id = "c-persistent-1"
        old_token = first.as_(citizen_id)
        assert put_consent(first, citizen_id, "personalisation", GIVE, old_token).status_code == 200
        body = {**GIVE, "channels": ["email"]}
        assert put_consent(first, citizen_id, "campaigns", body, old_token).status_code == 200
        before_state = consents(first, citizen_id, old_token)
        before_history = history(first, citizen_id, old_token)
        jwks_before = first.http.get(first.url("/.well-known/jwks.json"), timeout=10).json()
    finally:
        # WHEN it is stopped (Ctrl-C) and started again on the same data directory
        exit_code = first.stop()
    assert exit_code == 0
    second = start_platform(data_dir, port=port, dynamodb_port=dynamodb_port)
    try:
        # THEN the consents and their history are still there, read with the token minted before the restart
        after_state = consents(second, citizen_id, old_token)
        assert after_state == before_state
        assert after_state["mode"] == "b"
        assert granted(after_state) == {("personalisation", None), ("campaigns", "email")}
        assert history(second, citizen_id, old_token) == before_history
        assert len(before_history["proofs"]) == 2
        # AND the identity provider kept its key
        assert second.http.get(second.url("/.well-known/jwks.json"), timeout=10).json() == jwks_before
    finally:
        assert second.stop() == 0
