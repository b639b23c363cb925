"""Functional: who may send what to the broker, against the running platform (docs/decisions/0011).

The broker ingress (``POST /events``) admits an event only from an authenticated sender (a ServiceAccount's
token for the broker's audience, from the dev IdP: 401 otherwise) that an EventPolicy generated from the
catalog admits for that type and source (403 naming why otherwise), within the ingress limits (413/400).
Event functions (``/_ksvc/...``) take deliveries from the broker's dispatcher only. A hostile corpus runs
against the ingress: nothing it sends is stored, and every answer is a problem, never a 500.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import requests

from events.catalog import BROKER_AUDIENCE
from local.harness import Platform
from tests.functional.consent_support import CONSENT_CHANGED, assert_problem, settle
from tests.functional.core.test_events_path import change_request

pytestmark = pytest.mark.functional

ALERT = "es.madrid.pic.alert.published.v1"
UPSERTED = "es.madrid.pic.citizen.record.upserted.v1"


def forged_consent(citizen_id: str) -> dict[str, Any]:
    """What a forger sends: a consent.changed that, if admitted, notifications would project as a grant."""
    return {
        "citizen_id": citizen_id,
        "purpose": "campaigns",
        "before": {"granted": False, "channels": [], "text_version": None},
        "after": {"granted": True, "channels": ["email", "sms"], "text_version": "2026-01"},
        "mode": "b",
        "proof_id": str(uuid.uuid4()),
        "actor": {"kind": "citizen", "id": citizen_id},
        "capture_channel": "app",
        "language": "es",
        "text_sha256": "0" * 64,
        "changed_at": "2026-03-02T09:14:06Z",
    }


def binary(type_: str, source: str, event_id: str, **extra: str) -> dict[str, str]:
    return {
        "ce-specversion": "1.0",
        "ce-id": event_id,
        "ce-source": source,
        "ce-type": type_,
        "content-type": "application/json",
        **extra,
    }


def stored(platform: Platform, event_id: str) -> bool:
    found = platform.http.get(platform.url("/dev/events"), params={"limit": 1000}, timeout=10).json()["events"]
    return any(e["id"] == event_id for e in found)


def projected_consents(platform: Platform, citizen_id: str) -> Any:
    response = platform.http.get(
        platform.url(f"/v1/citizens/{citizen_id}/notification-profile"), headers=platform.as_(citizen_id), timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()["consents"]


# ---- who may send -------------------------------------------------------------------------------------------


def test_an_unauthenticated_forged_consent_change_is_refused_and_not_projected(
    platform: Platform, citizen_id: str
) -> None:
    # GIVEN a citizen whose consents notifications projects (none given yet)
    before = projected_consents(platform, citizen_id)
    event_id = str(uuid.uuid4())

    # WHEN someone without a token posts a consent.changed granting campaigns, as if from the consent domain
    response = platform.http.post(
        platform.url("/events"),
        data=json.dumps(forged_consent(citizen_id)),
        headers=binary(CONSENT_CHANGED, "/pic/consent", event_id, **{"ce-subject": citizen_id}),
        timeout=15,
    )

    # THEN 401 as a problem, with the challenge; the broker keeps nothing and the projection is unchanged
    problem = assert_problem(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "sender-token" in problem["detail"]
    settle(platform)
    assert not stored(platform, event_id)
    assert projected_consents(platform, citizen_id) == before


@pytest.mark.parametrize(
    ("account", "type_", "source", "why"),
    [
        ("legacy-padron", CONSENT_CHANGED, "/legacy/padron", f"may not send {CONSENT_CHANGED}"),
        ("legacy-padron", CONSENT_CHANGED, "/pic/consent", "type = "),
        ("legacy-padron", ALERT, "/legacy/padron", f"may not send {ALERT}"),
        ("legacy-deportes", UPSERTED, "/legacy/padron", "source = /legacy/deportes"),
        ("pic-notification-relay", CONSENT_CHANGED, "/pic/notification", "type = "),
        ("someone-else", UPSERTED, "/legacy/padron", "no EventPolicy admits it"),
    ],
    ids=[
        "legacy-system-sends-a-platform-fact",
        "legacy-system-poses-as-the-consent-domain",
        "legacy-system-sends-another-systems-type",
        "legacy-system-uses-another-systems-source",
        "a-domain-sends-another-domains-fact",
        "an-account-no-policy-names",
    ],
)
def test_a_sender_the_policies_do_not_admit_is_refused_with_the_reason(
    platform: Platform, citizen_id: str, account: str, type_: str, source: str, why: str
) -> None:
    # GIVEN a valid sender token of `account` and an event it is not allowed to send
    event_id = str(uuid.uuid4())
    data = forged_consent(citizen_id) if type_ == CONSENT_CHANGED else {"local_id": "X1", "topic": "traffic"}

    # WHEN it sends it
    response = platform.send_event(type_, data, source=source, event_id=event_id, subject=citizen_id, account=account)

    # THEN 403, a problem that names the sender and why; nothing is kept
    problem = assert_problem(response, 403, "sender-not-allowed")
    assert why in problem["detail"], problem["detail"]
    assert problem["sender"] == f"system:serviceaccount:pic:{account}"
    assert not stored(platform, event_id)


def test_an_admitted_sender_may_use_a_path_below_its_source(platform: Platform, citizen_id: str) -> None:
    # GIVEN the offices' back-office, sending for one office below its source
    event_id = str(uuid.uuid4())

    # WHEN it sends a consent change request
    response = platform.send_event(
        "es.madrid.pic.consent.change.requested.v1",
        change_request(citizen_id),
        source="/legacy/oficinas/oac-tetuan",
        event_id=event_id,
    )

    # THEN it is admitted
    assert response.status_code == 202, response.text
    assert stored(platform, event_id)


def test_a_channel_token_is_no_sender_token_and_a_sender_token_opens_no_channel_route(
    platform: Platform, citizen_id: str
) -> None:
    # GIVEN a channel-API token of role "system" and a sender token of the Padrón
    channel = platform.as_("svc-tributos", role="system")
    sender = platform.sender("/legacy/padron")
    event_id = str(uuid.uuid4())

    # WHEN the channel token is used at the broker
    at_broker = platform.http.post(
        platform.url("/events"),
        data=json.dumps({"local_id": "PAD1"}),
        headers={**binary(UPSERTED, "/legacy/padron", event_id), **channel},
        timeout=15,
    )
    # AND the sender token at the channel API
    at_api = platform.http.get(platform.url(f"/v1/citizens/{citizen_id}/consents"), headers=sender, timeout=10)

    # THEN both are 401: the audiences differ (pic vs the broker's)
    assert BROKER_AUDIENCE in assert_problem(at_broker, 401, "unauthenticated")["detail"]
    assert_problem(at_api, 401, "unauthenticated")
    assert not stored(platform, event_id)


@pytest.mark.parametrize("ttl", [-60], ids=["expired"])
def test_an_expired_sender_token_is_refused(platform: Platform, ttl: int) -> None:
    token = platform.http.post(
        platform.url("/dev/sender-token"), json={"service_account": "legacy-padron", "ttl_seconds": ttl}, timeout=10
    ).json()["access_token"]
    response = platform.http.post(
        platform.url("/events"),
        data=b"{}",
        headers={**binary(UPSERTED, "/legacy/padron", str(uuid.uuid4())), "Authorization": f"Bearer {token}"},
        timeout=15,
    )
    assert "expired" in assert_problem(response, 401, "unauthenticated")["detail"]


def test_the_dev_idp_mints_sender_tokens_only_for_valid_service_account_names(platform: Platform) -> None:
    response = platform.http.post(
        platform.url("/dev/sender-token"), json={"service_account": "Legacy Padrón"}, timeout=10
    )
    assert "service_account" in json.dumps(assert_problem(response, 422, "validation")["errors"])


# ---- the side door: event functions take deliveries from the broker only ------------------------------------


@pytest.mark.parametrize("credential", ["none", "sender", "channel"])
def test_a_forged_delivery_straight_to_an_event_function_is_refused(
    platform: Platform, citizen_id: str, credential: str
) -> None:
    # GIVEN a change request a forger posts straight to the consent event function, bypassing the broker
    headers = binary("es.madrid.pic.consent.change.requested.v1", "/legacy/oficinas", str(uuid.uuid4()))
    headers.update(
        {"none": {}, "sender": platform.sender("/legacy/oficinas"), "channel": platform.as_(citizen_id)}[credential]
    )

    # WHEN it reaches /_ksvc/pic-consent-events/
    response = platform.http.post(
        platform.url("/_ksvc/pic-consent-events/"), data=json.dumps(change_request(citizen_id)), headers=headers
    )

    # THEN 401 (no delivery token of the dispatcher for that function), and the consent is unchanged
    assert_problem(response, 401, "unauthenticated")
    settle(platform)
    history = platform.http.get(
        platform.url(f"/v1/citizens/{citizen_id}/consents/history"), headers=platform.as_(citizen_id), timeout=10
    )
    assert history.json()["proofs"] == []


def test_a_delivery_token_of_another_workload_is_forbidden_at_an_event_function(platform: Platform) -> None:
    # GIVEN a token for the function's audience, but of a workload outside Knative Eventing's namespace
    from local.idp import DevIdp
    from local.senders import subscriber_audience

    idp = DevIdp(platform.data_dir, issuer=platform.base, audience="pic")
    token = idp.mint_for("system:serviceaccount:pic:legacy-padron", subscriber_audience("pic-consent-events"))

    # WHEN it calls the function
    response = platform.http.post(
        platform.url("/_ksvc/pic-consent-events/"),
        data=b"{}",
        headers={**binary(UPSERTED, "/legacy/padron", "x"), "Authorization": f"Bearer {token}"},
    )

    # THEN 403, naming the way in
    assert "POST /events" in assert_problem(response, 403, "forbidden")["detail"]


# ---- dead-letter replay is an operator's --------------------------------------------------------------------


def test_replaying_a_dead_letter_needs_the_replay_identity(platform: Platform, citizen_id: str) -> None:
    # GIVEN a dead letter (a change request with an unknown purpose)
    event_id = str(uuid.uuid4())
    sent = platform.send_event(
        "es.madrid.pic.consent.change.requested.v1",
        change_request(citizen_id, purpose="telepathy"),
        source="/legacy/oficinas",
        event_id=event_id,
    )
    assert sent.status_code == 202, sent.text
    (dead,) = platform.wait_for(
        lambda: [d for d in platform.deadletters() if d["event"]["id"] == event_id], what="the dead letter"
    )
    url = platform.url(f"/dev/deadletters/{dead['id']}/replay")

    # WHEN it is replayed without a token, and with a legacy system's token
    anonymous = platform.http.post(url, timeout=10)
    as_system = platform.http.post(url, headers=platform.sender("/legacy/oficinas"), timeout=10)

    # THEN 401 and 403, and it was not replayed; the replay tool's identity may
    assert_problem(anonymous, 401, "unauthenticated")
    assert "pic-deadletter-replay" in assert_problem(as_system, 403)["detail"]
    (letter,) = [d for d in platform.deadletters() if d["id"] == dead["id"]]
    assert letter["replayed_at"] is None
    assert platform.replay(dead["id"]).status_code == 202


# ---- ingress limits: a hostile corpus -----------------------------------------------------------------------

KIB = 1024


def _corpus() -> list[tuple[str, dict[str, str], bytes, int, str]]:
    """(case, headers besides the sender's, body, status, problem type) of hostile ingress requests."""
    ok = json.dumps({"local_id": "PAD1"}).encode()
    structured = {"content-type": "application/cloudevents+json"}

    def envelope(**members: Any) -> bytes:
        base = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/legacy/padron", "type": UPSERTED}
        return json.dumps({**base, **members}).encode()

    latin1 = json.dumps(
        {"specversion": "1.0", "id": "l1", "source": "/legacy/padron", "type": UPSERTED, "data": "Ibáñez"},
        ensure_ascii=False,
    ).encode("latin-1")

    def head(**extra: str) -> dict[str, str]:
        return binary(UPSERTED, "/legacy/padron", str(uuid.uuid4()), **extra)

    return [
        ("binary-10-MB", head(), b"x" * (10 * KIB * KIB), 413, "payload-too-large"),
        ("structured-257-KiB", structured, envelope(data="x" * 257 * KIB), 413, "payload-too-large"),
        ("binary-json-10000-levels", head(), b"[" * 10_000 + b"]" * 10_000, 400, "malformed-request"),
        ("structured-data-10000-levels", structured, b'{"data": ' + b"[" * 10_000 + b"]" * 10_000 + b"}", 400,
         "malformed-request"),
        ("structured-invalid-utf-8", structured, envelope(data="ok")[:-2] + b'\xff"}', 400, "malformed-request"),
        ("structured-latin-1", structured, latin1, 400, "malformed-request"),
        ("binary-json-invalid-utf-8", head(), b'{"local_id": "\xc3\x28"}', 400, "malformed-request"),
        ("structured-not-json", structured, b"{not json", 400, "malformed-request"),
        ("time-not-rfc-3339", head(**{"ce-time": "15/01/2026 10:00"}), ok, 400, "invalid-event"),
        ("time-impossible", head(**{"ce-time": "2026-13-45T25:61:00Z"}), ok, 400, "invalid-event"),
        ("id-300-characters", {**head(), "ce-id": "i" * 300}, ok, 400, "invalid-event"),
        ("source-600-characters", {**head(), "ce-source": "/legacy/padron/" + "s" * 600}, ok, 400, "invalid-event"),
        ("extension-name-with-dash", head(**{"ce-x-tenant": "a"}), ok, 400, "invalid-event"),
        ("extension-name-too-long", head(**{"ce-thisextensionnameistoolong": "a"}), ok, 400, "invalid-event"),
        ("structured-extension-upper-case", structured, envelope(Tenant="a"), 400, "invalid-event"),
        ("control-character-in-subject", structured, envelope(subject="c-1\u0007"), 400, "invalid-event"),
        ("nul-in-id", structured, envelope(id="a\u0000b"), 400, "invalid-event"),
        ("missing-type", {k: v for k, v in head().items() if k != "ce-type"}, ok, 400, "invalid-event"),
        ("specversion-0.3", {**head(), "ce-specversion": "0.3"}, ok, 400, "invalid-event"),
    ]  # fmt: skip


CORPUS = _corpus()


def newest_record(platform: Platform) -> tuple[str, float] | None:
    """The last record upsert the broker accepted (id, when), if any."""
    found = platform.events(UPSERTED)
    return (found[0]["id"], found[0]["pic_received_at"]) if found else None


@pytest.mark.parametrize(("case", "headers", "body", "status", "problem"), CORPUS, ids=[c[0] for c in CORPUS])
def test_a_hostile_ingress_request_is_a_typed_problem_and_stores_nothing(
    platform: Platform, case: str, headers: dict[str, str], body: bytes, status: int, problem: str
) -> None:
    # GIVEN an authorised sender (the Padrón) and a request that breaks an ingress limit
    before = newest_record(platform)

    # WHEN it is posted to the broker
    response = platform.http.post(
        platform.url("/events"), data=body, headers={**headers, **platform.sender("/legacy/padron")}, timeout=30
    )

    # THEN the typed problem, and the broker kept nothing of it
    assert_problem(response, status, problem)
    assert newest_record(platform) == before


@pytest.mark.parametrize(
    ("case", "authorization"),
    [
        ("no-header", None),
        ("basic-scheme", "Basic bGVnYWN5OnBhZHJvbg=="),
        ("empty-bearer", "Bearer "),
        ("garbage", "Bearer not.a.jwt"),
        ("unsigned", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."),
        ("header-injection", "Bearer abc\tdef"),
    ],
)
def test_bad_tokens_at_the_ingress_are_401_problems(platform: Platform, case: str, authorization: str | None) -> None:
    headers = binary(UPSERTED, "/legacy/padron", str(uuid.uuid4()))
    if authorization is not None:
        headers["Authorization"] = authorization
    try:
        response = platform.http.post(platform.url("/events"), data=b"{}", headers=headers, timeout=15)
    except requests.exceptions.InvalidHeader:  # the client itself refuses to send it: nothing reached us
        return
    assert_problem(response, 401, "unauthenticated")
