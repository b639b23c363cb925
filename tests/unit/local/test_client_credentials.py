"""The dev IdP's client-credentials grant (RFC 6749 §4.4) for the internal systems' clients (ADR 0035): client
authentication (client_secret_basic, client_secret_post, never both), scopes (RFC 6749 §3.3, §5.2
invalid_scope), audiences (RFC 8707 resource: the API or the broker), and the broker's scope check per type."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt
import pytest

from events.catalog import BROKER_AUDIENCE
from functions.core.auth import subject_from_claims
from functions.core.errors import SenderNotAllowedError
from local.idp import CLIENT_SECRETS, ClientCredentials, DevIdp, OidcError
from local.manifests import load
from local.senders import SenderPolicies, TokenVerifier, authorize_scopes
from tests.unit.conftest import ROOT

RECEIPT = "es.madrid.pic.tax.receipt.issued.v1"
UPSERTED = "es.madrid.pic.citizen.record.upserted.v1"


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> DevIdp:
    return DevIdp(
        tmp_path_factory.mktemp("idp"), issuer="http://idp", audience="pic"
    )  # one RSA key: 2048 bits are slow


@pytest.fixture
def clients(idp: DevIdp, tmp_path: Path) -> ClientCredentials:
    return ClientCredentials(idp, tmp_path)


def claims_of(idp: DevIdp, answer: dict[str, Any], audience: str = "pic") -> dict[str, Any]:
    return jwt.decode(answer["access_token"], idp.public_key(), algorithms=["RS256"], audience=audience)


def test_a_client_gets_a_system_token_naming_it_and_its_api_scopes(idp: DevIdp, clients: ClientCredentials) -> None:
    # GIVEN the registered client tributos-cobros and its secret for this data directory
    secret = clients.secret("tributos-cobros")
    # WHEN it asks with HTTP Basic (client_secret_basic) naming no scope
    answer = clients.grant({"grant_type": "client_credentials"}, ("tributos-cobros", secret))
    # THEN the token is a system's, names the client, and grants its API scopes only (not its event types)
    claims = claims_of(idp, answer)
    assert claims["role"] == "system"
    assert claims["sub"] == claims["client_id"] == claims["azp"] == "tributos-cobros"
    assert claims["scope"] == answer["scope"] == "api:payment.collect api:payment.reconcile"
    assert answer["token_type"] == "Bearer" and "refresh_token" not in answer  # RFC 6749 §4.4.3
    # AND the kernel reads it as a client's subject
    subject = subject_from_claims(claims)
    assert subject.client_id == "tributos-cobros" and subject.scopes == ("api:payment.collect", "api:payment.reconcile")


def test_client_secret_post_and_a_narrower_scope(idp: DevIdp, clients: ClientCredentials) -> None:
    form = {"grant_type": "client_credentials", "client_id": "tributos-cobros",
            "client_secret": clients.secret("tributos-cobros"), "scope": "api:payment.reconcile"}  # fmt: skip
    assert claims_of(idp, clients.grant(form, None))["scope"] == "api:payment.reconcile"


@pytest.mark.parametrize(
    ("form", "basic", "error"),
    [
        ({}, ("tributos-cobros", "wrong"), "invalid_client"),
        ({}, ("nobody", "x"), "invalid_client"),
        ({"client_id": "tributos-cobros"}, None, "invalid_client"),
        ({"client_secret": "x"}, ("tributos-cobros", "x"), "invalid_request"),
        ({"scope": "api:zbe.plates"}, None, "invalid_scope"),
        ({"scope": "events:" + RECEIPT}, None, "invalid_scope"),
        ({"resource": "https://elsewhere"}, None, "invalid_target"),
    ],
)
def test_refusals_are_oauth_errors(
    clients: ClientCredentials, form: dict[str, str], basic: tuple[str, str] | None, error: str
) -> None:
    # GIVEN a request that does not authenticate, asks for what the client may not have, or for another audience
    if basic is None and error != "invalid_client":
        basic = ("tributos-cobros", clients.secret("tributos-cobros"))
    # THEN the RFC 6749 §5.2 (or RFC 8707) error, never a token
    with pytest.raises(OidcError) as refused:
        clients.grant({"grant_type": "client_credentials", **form}, basic)
    assert refused.value.error == error


def test_a_broker_token_is_its_senders_with_its_event_scopes(idp: DevIdp, clients: ClientCredentials) -> None:
    # WHEN tributos-cobros asks for the broker's audience (RFC 8707 resource)
    basic = ("tributos-cobros", clients.secret("tributos-cobros"))
    answer = clients.grant({"grant_type": "client_credentials", "resource": BROKER_AUDIENCE}, basic)
    # THEN the token is its ServiceAccount's (the EventPolicies name it) with its event types as scopes
    claims = TokenVerifier(idp.public_key(), "http://idp").claims(f"Bearer {answer['access_token']}", BROKER_AUDIENCE)
    assert claims["sub"] == "system:serviceaccount:pic:legacy-tributos" and claims["scope"] == f"events:{RECEIPT}"
    # AND the broker admits the type its scopes name; another type the EventPolicy admits is refused by scope
    policies = SenderPolicies.of("pic", load(ROOT / "infra" / "k8s" / "overlays" / "local").event_policies)
    receipt = {"type": RECEIPT, "source": "/legacy/tributos"}
    upserted = {"type": UPSERTED, "source": "/legacy/tributos"}
    policies.authorize(claims["sub"], receipt)
    authorize_scopes(claims, receipt)
    policies.authorize(claims["sub"], upserted)  # the EventPolicy lets the ServiceAccount send it...
    with pytest.raises(SenderNotAllowedError, match=f"do not list events:{UPSERTED}"):
        authorize_scopes(claims, upserted)  # ...its client's token may not
    # AND a ServiceAccount's own token (no client) is decided by the EventPolicies alone
    authorize_scopes({"sub": claims["sub"]}, upserted)


def test_a_client_that_sends_no_events_gets_no_broker_token(clients: ClientCredentials) -> None:
    basic = ("quiosco-pruebas", clients.secret("quiosco-pruebas"))
    with pytest.raises(OidcError) as refused:
        clients.grant({"grant_type": "client_credentials", "resource": BROKER_AUDIENCE}, basic)
    assert refused.value.error == "invalid_scope"  # it has no events: scope at all


def test_secrets_are_generated_once_per_data_directory(idp: DevIdp, tmp_path: Path) -> None:
    first = ClientCredentials(idp, tmp_path).secret("padron-sync")
    assert ClientCredentials(idp, tmp_path).secret("padron-sync") == first
    assert (tmp_path / CLIENT_SECRETS).stat().st_mode & 0o777 == 0o600
    (tmp_path / "other").mkdir()
    assert ClientCredentials(idp, tmp_path / "other").secret("padron-sync") != first
    with pytest.raises(OidcError):
        ClientCredentials(idp, tmp_path).secret("nobody")
