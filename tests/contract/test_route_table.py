"""The route table of every HTTP function against ``policies/authz``: each route names an action the policy
declares, every read of a citizen's data is declared (so the kernel records it in the access log), and an
agent whose view is a summary has one to see. A new route that forgets any of this fails here, before it
runs anywhere (the role matrix, tests/functional/core/test_role_matrix.py, then checks it over HTTP)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from events.generate import discover_routes
from functions.core.http import Route

ROOT = Path(__file__).resolve().parents[2]
ACTIONS: dict[str, Any] = json.loads((ROOT / "policies/authz/data.json").read_text(encoding="utf-8"))["actions"]
ROUTES = [(capability, route) for capability, routes in discover_routes().items() for route in routes]
PUBLIC = {  # what anyone may read: no personal data
    ("GET", "/v1/consent-terms"),  # published consent texts
    ("GET", "/v1/flags"),  # the micro-apps' flags: app names, district codes, shares (every function polls it)
    # Redsys's merchant notification: trusted by its HMAC signature, not a bearer token; it answers only the
    # payment's id and state to the gateway that signed it
    ("POST", "/v1/payments/redsys/notifications"),
    # a receipt's verification by its code (printed on it): the amount, when, how and the debts' references,
    # never who paid; the code is 80 random bits, not guessable
    ("GET", "/v1/payments/verify/<code>"),
    # WhatsApp Business's webhook (Meta's Cloud API): the verification answers the challenge to our verify token;
    # notifications are trusted by their X-Hub-Signature-256 HMAC alone and answer only what was sent back
    ("GET", "/v1/assistant/whatsapp/webhook"),
    ("POST", "/v1/assistant/whatsapp/webhook"),
    # the knowledge base's public articles and their search: the council's published information, what any
    # portal shows; and "was this useful", a count per version and language (a voter is a hash, never a person)
    ("GET", "/v1/kb/search"),
    ("GET", "/v1/kb/public/articles/<article_id>"),
    ("POST", "/v1/kb/public/articles/<article_id>/feedback"),
    # the wallet issuer (OpenID4VCI 1.0): its metadata, card types and keys are published information; the token,
    # nonce and credential endpoints are authorised by the one-time secrets they take (pre-authorized code and
    # tx_code, access token), checked by the wallet domain; a status list is 131,072 random entries per type,
    # which tell nobody whose bit is whose (Token Status List draft §12)
    ("GET", "/.well-known/openid-credential-issuer/v1/wallet"),
    ("GET", "/.well-known/oauth-authorization-server/v1/wallet"),
    ("GET", "/.well-known/jwt-vc-issuer/v1/wallet"),
    ("POST", "/v1/wallet/oid4vci/token"),
    ("POST", "/v1/wallet/oid4vci/nonce"),
    ("POST", "/v1/wallet/oid4vci/credential"),
    ("GET", "/v1/wallet/status/<list_id>"),
    ("GET", "/v1/wallet/card-types"),
    # bookings (issue 18): the catalogue of bookable resources and each slot's free places and waiting-list length,
    # counts only (who holds a place is never shown)
    ("GET", "/v1/bookings/resources"),
    ("GET", "/v1/bookings/resources/<resource_id>/slots"),
    # Open311 GeoReport v2 (issue 18): the spec's reads need no key; a report shows its service, place, description,
    # status and photos, never who made it (email, name, phone, device, account stay in the domain), as FixMyStreet's
    *(
        ("GET", f"/open311/v2/{path}.{fmt}")
        for fmt in ("json", "xml")
        for path in (
            "services",
            "services/<service_code>",
            "requests",
            "requests/<service_request_id>",
            "tokens/<token>",
        )
    ),
    ("GET", "/open311/discovery.json"),  # Open311 Service Discovery: where the endpoint is and its formats
    ("GET", "/open311/discovery.xml"),
    ("GET", "/v1/incidents/suggestions"),  # the same public reports, near a point
    ("GET", "/v1/incidents/<incident_id>"),
    ("GET", "/v1/incidents/<incident_id>/photos/<n>"),  # published photos: re-encoded, EXIF location dropped
}


def test_every_http_function_is_an_api_or_a_channel_and_each_is_audited() -> None:
    # GIVEN the functions/*/main.py that serve HTTP (an @functions_framework.http entry point)
    http = {
        main.parent.name
        for main in sorted((ROOT / "functions").glob("*/main.py"))
        if "@functions_framework.http" in main.read_text(encoding="utf-8")
    }
    # THEN each declares API ROUTES (audited here and by the role matrix) or channel PAGES (session routes,
    # audited page by page in tests/functional/web/test_page_audit.py): none is left out silently
    api = set(discover_routes())
    channels = {name for name in http - api if hasattr(importlib.import_module(f"functions.{name}.main"), "PAGES")}
    assert http == api | channels, sorted(http - api - channels)
    assert channels == {"web"}


def label(item: tuple[str, Route]) -> str:
    return f"{item[1].method} {item[1].rule}"


def test_the_route_table_covers_every_http_function() -> None:
    # GIVEN the functions/*/main.py that serve HTTP THEN each contributes routes to the table
    capabilities = {capability for capability, _ in ROUTES}
    assert {"consent", "citizen", "position", "rgpd", "audit", "interaction", "notification"} <= capabilities


@pytest.mark.parametrize("item", ROUTES, ids=label)
def test_every_route_names_an_action_the_policy_declares(item: tuple[str, Route]) -> None:
    _, route = item
    if route.public:
        assert (route.method, route.rule) in PUBLIC, "a new public route: is it really free of personal data?"
        return
    assert route.action in ACTIONS, f"{route.action!r} is not in policies/authz/data.json"


@pytest.mark.parametrize("item", ROUTES, ids=label)
def test_every_read_of_a_citizens_data_is_declared(item: tuple[str, Route]) -> None:
    # GIVEN a route that answers a GET about a citizen (named in its path or found by its resolver)
    _, route = item
    if route.method != "GET" or not route.names_citizen:
        return
    # THEN it declares what it shows: the kernel records the read before the data leaves
    assert route.reads is not None, f"{route.method} {route.rule} reads a citizen's data but declares no Reads"
    assert route.reads.resource and route.reads.sections


@pytest.mark.parametrize("item", ROUTES, ids=label)
def test_an_agent_whose_view_is_a_summary_has_one(item: tuple[str, Route]) -> None:
    # GIVEN a route showing a citizen's data of a section an agent may see as a summary
    _, route = item
    action = ACTIONS.get(route.action or "", {})
    if route.reads is None or "agent" not in action.get("roles", []) or "data" not in action:
        return
    # THEN the route says what that summary is (else such agents get a 403, and the desk shows nothing)
    assert route.reads.summary is not None, f"{route.method} {route.rule}: no summary for agents of level 1"


def test_every_declared_action_is_used_by_a_route() -> None:
    used = {route.action for _, route in ROUTES}
    assert set(ACTIONS) - used == set(), "actions no route uses: remove them or add their routes"


def test_a_route_that_is_not_public_must_name_an_action() -> None:
    with pytest.raises(ValueError, match="must name its policy action"):
        Route("/v1/x", "GET", lambda ctx: None, "an undeclared route")  # type: ignore[arg-type,return-value]
