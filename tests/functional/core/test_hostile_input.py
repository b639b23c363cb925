"""Functional: hostile input from outside, against the real platform over HTTP and raw sockets.

Deeply nested or non-UTF-8 JSON, bodies over the limit sent chunked, URLs ``urllib`` cannot take apart,
requests the HTTP server itself refuses: each answered with a 4xx problem document, never a 500, a hang
or HTML; and an event function refuses the same JSON with 400, which the broker dead-letters at once.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local.harness import Platform
from tests.functional.consent_support import GIVE, assert_problem, citizen_url, consents
from tests.functional.notification_support import fresh_template, system

pytestmark = pytest.mark.functional

DEEP = b"[" * 10_000 + b"]" * 10_000
DEEP_OBJECT = b'{"granted":' + b'{"a":' * 10_000 + b"1" + b"}" * 10_000 + b"}"  # within 64 KiB


def _put_raw(platform: Platform, citizen_id: str, body: bytes | Iterator[bytes], **headers: str) -> requests.Response:
    return platform.http.put(
        citizen_url(platform, citizen_id, "/consents/location"),
        data=body,
        headers={**platform.as_(citizen_id), "Content-Type": "application/json", **headers},
        timeout=60,
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (DEEP, "deeper than 32"),
        (DEEP_OBJECT, "deeper than 32"),
        (b'{"granted": true, "text_version": "2026-01\xff"}', "not UTF-8"),
        ('{"granted": true}'.encode("utf-16"), "not UTF-8"),
        (b'{"granted": true, "granted": false, "text_version": "2026-01"}', "appears twice"),
        (b'{"granted": true, "text_version": "\\ud800"}', "not valid JSON"),
        (b'{"granted": true, "text_version": 1e999}', "infinity"),
    ],
    ids=["deep-array", "deep-object", "invalid-utf8", "utf16", "duplicate-member", "lone-surrogate", "huge-number"],
)
def test_a_hostile_json_body_is_a_400_problem(platform: Platform, citizen_id: str, body: bytes, reason: str) -> None:
    # GIVEN a signed-in citizen and their consents
    before = consents(platform, citizen_id, platform.as_(citizen_id))

    # WHEN their channel sends a hostile JSON body
    response = _put_raw(platform, citizen_id, body)

    # THEN 400 malformed-request, saying which rule the body breaks
    problem = assert_problem(response, 400, "malformed-request")
    assert reason in problem["detail"], problem
    # AND nothing was written
    assert consents(platform, citizen_id, platform.as_(citizen_id)) == before


def test_a_chunked_body_over_the_limit_is_refused_before_it_is_read(platform: Platform, citizen_id: str) -> None:
    # GIVEN a body of 4 MiB sent chunked (no Content-Length to check up front)
    chunks = (b" " * 65536 for _ in range(64))

    # WHEN it is sent to a route that takes at most 64 KiB
    response = _put_raw(platform, citizen_id, chunks)

    # THEN 413 payload-too-large
    assert_problem(response, 413, "payload-too-large")


def test_a_chunked_body_within_the_limit_is_read_as_any_other(platform: Platform, citizen_id: str) -> None:
    # GIVEN a consent sent chunked WHEN it arrives THEN it is taken like any other body
    response = _put_raw(platform, citizen_id, iter([json.dumps(GIVE).encode()]))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("url", ["https://[x", "https://[x]/cb"])
def test_a_callback_url_that_does_not_parse_is_a_422_naming_the_field(platform: Platform, url: str) -> None:
    # GIVEN a system with a template
    template = fresh_template(platform)

    # WHEN it asks for a notification with a callback URL urllib cannot take apart
    body = {"template": template, "recipient": {"email": "ana@example.org"}, "callback_url": url}
    response = platform.http.post(platform.url("/v1/notifications"), json=body, headers=system(platform), timeout=15)

    # THEN 422 naming callback_url, not a 500
    problem = assert_problem(response, 422)
    assert "callback_url" in [e["field"] for e in problem.get("errors", [])], problem


def test_a_push_endpoint_that_does_not_parse_is_a_422_naming_the_field(platform: Platform, citizen_id: str) -> None:
    # GIVEN a citizen WHEN they register a push endpoint that is a broken URL
    response = platform.http.put(
        citizen_url(platform, citizen_id, "/push-endpoint"),
        json={"endpoint": "https://[x/push"},
        headers=platform.as_(citizen_id),
        timeout=15,
    )

    # THEN 422 naming endpoint
    problem = assert_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == ["endpoint"], problem


# ---- events: the event kernel reads data the same way ---------------------------------------------------


def test_a_deeply_nested_event_is_answered_400_so_the_broker_dead_letters_it(platform: Platform) -> None:
    # GIVEN a notification request event whose data nests 10,000 levels
    event_id = f"deep-{uuid.uuid4().hex[:8]}"
    headers = {
        "ce-specversion": "1.0",
        "ce-id": event_id,
        "ce-source": "/legacy/tributos",
        "ce-type": "es.madrid.pic.notification.requested.v1",
        "Content-Type": "application/json",
        **platform.delivery_headers("pic-notification-events"),  # past the ingress, as the broker's dispatcher
    }

    # WHEN it is delivered to the event function, as the broker delivers (binary mode)
    response = platform.http.post(
        platform.url("/_ksvc/pic-notification-events/"), data=DEEP, headers=headers, timeout=30
    )

    # THEN 400 invalid-event with the reason: Knative dead-letters a 400 at once, with it as knativeerrordata
    problem = assert_problem(response, 400, "invalid-event")
    assert "deeper than 32" in problem["detail"] and problem["instance"] == f"/legacy/tributos#{event_id}"


def test_a_structured_event_with_invalid_utf8_is_a_400_problem(platform: Platform) -> None:
    envelope = (
        b'{"specversion": "1.0", "id": "bad-utf8-1", "source": "/legacy/tributos", '
        b'"type": "es.madrid.pic.notification.requested.v1", "data": {"template": "caf\xe9"}}'
    )
    response = platform.http.post(
        platform.url("/_ksvc/pic-notification-events/"),
        data=envelope,
        headers={
            "Content-Type": "application/cloudevents+json",
            **platform.delivery_headers("pic-notification-events"),
        },
        timeout=30,
    )
    problem = assert_problem(response, 400, "invalid-event")
    assert "not UTF-8" in problem["detail"]


# ---- the platform's own endpoints ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/data/consent/decision", "/dev/token"])
def test_the_gateways_own_json_endpoints_refuse_deep_json_as_a_problem(platform: Platform, path: str) -> None:
    response = platform.http.post(
        platform.url(path), data=DEEP, headers={"Content-Type": "application/json"}, timeout=30
    )
    problem = assert_problem(response, 400, "malformed-request")
    assert "deeper than 32" in problem["detail"]


# ---- what the HTTP server answers by itself, checked with raw sockets ---------------------------------------


def _raw(platform: Platform, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are and read the whole answer (the server closes after an error)."""
    host, port = platform.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    return int(status_line.split()[1]), headers, body


SERVER_REFUSALS: dict[str, tuple[bytes, int, str]] = {
    "uri-too-long": (b"GET /v1/consent-terms?q=" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri-too-long"),
    "header-too-large": (
        b"GET /v1/consent-terms HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n",
        431,
        "header-fields-too-large",
    ),
    "too-many-headers": (
        b"GET /v1/consent-terms HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(150)) + b"\r\n",
        431,
        "header-fields-too-large",
    ),
    "garbage-request-line": (b"HELLO THERE\r\n\r\n", 400, "malformed-request"),
    "bad-http-version": (b"GET /v1/consent-terms HTTP/9.9\r\nHost: x\r\n\r\n", 400, "malformed-request"),
    "header-without-colon": (
        b"GET /v1/consent-terms HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n",
        400,
        "malformed-request",
    ),
    "unknown-transfer-coding": (
        b"POST /events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
        400,
        "malformed-request",
    ),
}


@pytest.mark.parametrize("case", list(SERVER_REFUSALS))
def test_what_the_server_refuses_by_itself_is_a_problem_too(platform: Platform, case: str) -> None:
    # GIVEN a request the HTTP server cannot take (before any function runs)
    request, status, slug = SERVER_REFUSALS[case]

    # WHEN it is sent as raw bytes
    code, headers, body = _raw(platform, request)

    # THEN the answer is problem+json with the server's status, like every other error PIC answers
    assert code == status, body[:300]
    assert headers["content-type"] == "application/problem+json", body[:300]
    problem: dict[str, Any] = json.loads(body)
    assert problem["status"] == status and problem["type"] == f"/problems/{slug}", problem
