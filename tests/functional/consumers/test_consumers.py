"""Functional: an internal system as an API consumer through the real platform (ADR 0035) — the dev IdP's
client-credentials grant, the kernel's scope decision (real Rego), the quota's conditional write on DynamoDB
Local raced by concurrent requests across the gateway's worker processes, the 429 with Retry-After, the broker's
scope check, and the usage an administrator reads."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from events.catalog import BROKER_AUDIENCE
from local.harness import Platform
from tests.functional.consent_support import assert_problem
from tests.functional.web.web_support import sign_in

pytestmark = pytest.mark.functional

KIOSK = "quiosco-pruebas"  # 3 requests per 5-second window, scope api:verifier.types (functions/core/data)
QUOTA, WINDOW = 3, 5
ALLOWED, OUTSIDE = "/v1/verifier/card-types", "/v1/zbe/plates"


def secret(platform: Platform, client_id: str) -> str:
    answer = platform.http.post(platform.url("/dev/client-secret"), json={"client_id": client_id}, timeout=10)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["client_secret"])


def client_token(platform: Platform, client_id: str, **form: str) -> str:
    answer = platform.http.post(platform.url("/token"), data={"grant_type": "client_credentials", **form},
                                auth=(client_id, secret(platform, client_id)), timeout=10)  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    return str(answer.json()["access_token"])


def usage(platform: Platform) -> dict[str, int]:
    admin = platform.as_("adm-plataforma", role="admin")
    answer = platform.http.get(platform.url(f"/v1/consumers/{KIOSK}/usage"), headers=admin, timeout=10)
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["total"])


def fresh_window() -> None:
    """Wait for the start of the next window, so that a burst falls in one window: the quota is time itself."""
    time.sleep(WINDOW - time.time() % WINDOW + 0.05)


def test_the_token_endpoint_authenticates_clients_and_refuses_as_rfc_6749(platform: Platform) -> None:
    url = platform.url("/token")
    # GIVEN the kiosk's secret WHEN it posts it in the form (client_secret_post) THEN a token with its scope
    posted = platform.http.post(url, data={"grant_type": "client_credentials", "client_id": KIOSK,
                                           "client_secret": secret(platform, KIOSK)}, timeout=10)  # fmt: skip
    assert posted.status_code == 200 and posted.json()["scope"] == "api:verifier.types", posted.text
    # WHEN the secret is wrong (HTTP Basic) THEN 401 invalid_client with the Basic challenge (RFC 6749 §5.2)
    wrong = platform.http.post(url, data={"grant_type": "client_credentials"}, auth=(KIOSK, "wrong"), timeout=10)
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    assert wrong.headers["WWW-Authenticate"].startswith("Basic")
    # WHEN it asks for a scope it was not given THEN 400 invalid_scope, naming what it may have
    scoped = platform.http.post(url, data={"grant_type": "client_credentials", "scope": "api:zbe.plates"},
                                auth=(KIOSK, secret(platform, KIOSK)), timeout=10)  # fmt: skip
    assert (scoped.status_code, scoped.json()["error"]) == (400, "invalid_scope")
    assert "api:verifier.types" in scoped.json()["error_description"]


def test_scopes_quota_and_usage(platform: Platform) -> None:
    bearer = {"Authorization": f"Bearer {client_token(platform, KIOSK)}"}
    before = usage(platform)
    fresh_window()
    # GIVEN a fresh window WHEN the kiosk calls a route its scope names THEN 200 with what is left of the quota
    allowed = platform.http.get(platform.url(ALLOWED), headers=bearer, timeout=10)
    assert allowed.status_code == 200, allowed.text
    assert allowed.headers["RateLimit-Policy"] == f'"quota";q={QUOTA};w={WINDOW}'
    assert allowed.headers["RateLimit"].startswith(f'"quota";r={QUOTA - 1};t=')
    # WHEN it calls a route its role may use but its scope does not name THEN 403, the policy naming the scope
    refused = assert_problem(platform.http.get(platform.url(OUTSIDE), headers=bearer, timeout=10), 403, "forbidden")
    assert "its scopes do not list api:zbe.plates" in refused["detail"]
    # WHEN 12 requests race in the same window (one of its 3 left), through the gateway's worker processes
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda _: platform.http.get(platform.url(ALLOWED), headers=bearer, timeout=10),
                                range(12)))  # fmt: skip
    # THEN exactly the quota is admitted in the window; each other one is a 429 problem with Retry-After within it
    assert sorted(a.status_code for a in answers) == [200] + [429] * 11, [a.text for a in answers]
    for over in (a for a in answers if a.status_code == 429):
        body = assert_problem(over, 429, "quota-exceeded")
        assert 1 <= int(over.headers["Retry-After"]) <= WINDOW and body["retry_after"] == int(
            over.headers["Retry-After"]
        )
        assert over.headers["RateLimit"].startswith('"quota";r=0;')
        assert body["client_id"] == KIOSK and body["quota"] == {"requests": QUOTA, "window_seconds": WINDOW}
    # AND an administrator sees it all in the consumer's usage: admitted (the 403 was admitted by the quota, then
    # refused by the policy), 403 and 429 refusals
    after = usage(platform)
    assert {k: after[k] - before[k] for k in after} == {"admitted": QUOTA, "forbidden": 1, "over_quota": 11}


def test_a_person_or_a_platform_workload_costs_no_quota_and_sees_no_consumers(platform: Platform) -> None:
    # GIVEN a system token minted without a client (the platform's own workloads, /dev/token) THEN no RateLimit
    workload = platform.http.get(platform.url(ALLOWED), headers=platform.as_("svc-kiosk", role="system"), timeout=10)
    assert workload.status_code == 200 and "RateLimit" not in workload.headers
    # AND only an administrator reads the consumers
    listed = platform.http.get(platform.url("/v1/consumers"), headers=platform.as_("adm", role="admin"), timeout=10)
    kiosk = next(c for c in listed.json()["consumers"] if c["client_id"] == KIOSK)
    assert kiosk["quota"] == {"requests": QUOTA, "window_seconds": WINDOW} and kiosk["owner"] == "Plataforma PIC"
    system = platform.http.get(platform.url("/v1/consumers"), headers=platform.as_("svc", role="system"), timeout=10)
    assert_problem(system, 403, "forbidden")
    unknown = platform.http.get(platform.url("/v1/consumers/nobody/usage"), headers=platform.as_("adm", role="admin"),
                                timeout=10)  # fmt: skip
    assert_problem(unknown, 404, "unknown-consumer")


def test_at_the_broker_a_clients_token_sends_only_its_scopes_types(platform: Platform) -> None:
    # GIVEN Tributos' client with a broker token (RFC 8707 resource): its ServiceAccount, scope tax receipts only
    token = client_token(platform, "tributos-cobros", resource=BROKER_AUDIENCE)
    event: dict[str, Any] = {"specversion": "1.0", "id": "c2-scope-1", "source": "/legacy/tributos",
                             "type": "es.madrid.pic.citizen.record.upserted.v1", "datacontenttype": "application/json",
                             "data": {}}  # fmt: skip
    # WHEN it sends a type its EventPolicy admits but its scopes do not name THEN 403, before anything else
    sent = requests.post(platform.url("/events"), json=event, timeout=10, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/cloudevents+json"})  # fmt: skip
    body = assert_problem(sent, 403, "sender-not-allowed")
    assert "do not list events:es.madrid.pic.citizen.record.upserted.v1" in body["detail"]


def test_the_desk_shows_administrators_each_consumers_use_in_both_languages(platform: Platform) -> None:
    # GIVEN a platform administrator signed in on the desk
    admin = sign_in(platform, "adm-consumers", "admin", "/desk/")
    # WHEN they open the consumers page and the kiosk's, in Spanish and in English
    listed = admin.get(platform.url("/desk/consumers"), timeout=15)
    one = admin.get(platform.url(f"/app/lang/en?next=/desk/consumers/{KIOSK}"), timeout=15)  # the language link
    # THEN the table names each consumer with its quota, and the kiosk's page its use by day and hour
    assert listed.status_code == 200 and 'id="consumer-quiosco-pruebas"' in listed.text, listed.text[:500]
    assert "3 peticiones cada 5 s" in listed.text and 'aria-current="page"' in listed.text
    assert one.status_code == 200 and "3 requests per 5 s" in one.text and '<html lang="en">' in one.text
    assert 'id="usage-by-day"' in one.text or 'id="no-usage"' in one.text
    missing = admin.get(platform.url("/desk/consumers/nobody"), timeout=15)
    assert missing.status_code == 404
