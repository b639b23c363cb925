"""Helpers the consent functional tests share: what a channel would send and what a user would look at.

Kept free of fixtures (those live in ``conftest.py``): plain functions over ``local.harness.Platform``.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import requests

from local.harness import Platform

REPO_ROOT = Path(__file__).resolve().parents[2]
TERMS: dict[str, Any] = json.loads((REPO_ROOT / "policies/consent/data.json").read_text(encoding="utf-8"))

CONSENT_CHANGED = "es.madrid.pic.consent.changed.v1"
CONSENT_CHANGE_REQUESTED = "es.madrid.pic.consent.change.requested.v1"
PREFERENCES_CHANGED = "es.madrid.pic.preferences.changed.v1"
SUBSCRIPTION_CHANGED = "es.madrid.pic.subscription.changed.v1"

TEXT_VERSION = "2026-01"
PROBLEM = "application/problem+json"
PROBLEM_FIELDS = ("type", "title", "status", "detail", "instance")

GIVE = {"granted": True, "text_version": TEXT_VERSION}
WITHDRAW = {"granted": False}
# seconds after the wake: a woken relay's pass over its empty shard is a query (~10 ms); the rest is slack for the
# deliveries still in flight that some tests count on (as much as the sleep through the idle wait gave before)
RELAY_PASS = 1.0


def text_sha256(purpose: str, language: str = "es", version: str = TEXT_VERSION) -> str:
    """The published hash of a consent text, straight from ``policies/consent/data.json``."""
    return str(TERMS["texts"][purpose][version][language]["sha256"])


def citizen_url(platform: Platform, citizen_id: str, tail: str = "") -> str:
    return platform.url(f"/v1/citizens/{citizen_id}{tail}")


def put_consent(
    platform: Platform, citizen_id: str, purpose: str, body: dict[str, Any], headers: dict[str, str]
) -> requests.Response:
    return platform.http.put(
        citizen_url(platform, citizen_id, f"/consents/{purpose}"), json=body, headers=headers, timeout=15
    )


def consents(platform: Platform, citizen_id: str, headers: dict[str, str]) -> dict[str, Any]:
    response = platform.http.get(citizen_url(platform, citizen_id, "/consents"), headers=headers, timeout=15)
    assert response.status_code == 200, response.text
    return dict(response.json())


def history(platform: Platform, citizen_id: str, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = platform.http.get(
        citizen_url(platform, citizen_id, "/consents/history"), headers=headers, params=params, timeout=15
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def granted(view: dict[str, Any]) -> set[tuple[str, str | None]]:
    """(purpose, channel) pairs granted in a consents view."""
    return {(e["purpose"], e["channel"]) for e in view["consents"] if e["granted"]}


def assert_problem(response: requests.Response, status: int, type_: str | None = None) -> dict[str, Any]:
    """An RFC 9457 answer: the status, ``application/problem+json`` and the members PIC always sends."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    assert response.headers["Content-Type"].startswith(PROBLEM), response.headers["Content-Type"]
    body = dict(response.json())
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert body["type"].startswith("/problems/")
    if type_:
        assert body["type"] == f"/problems/{type_}", body
    return body


def field_names(problem: dict[str, Any]) -> set[str]:
    return {str(e["field"]) for e in problem.get("errors", [])}


def wait_for_events(
    platform: Platform, type_: str, subject: str, count: int = 1, timeout: float = 15.0
) -> list[dict[str, Any]]:
    """At least ``count`` events of ``type_`` for ``subject`` accepted at the broker ingress (newest first)."""
    return list(
        platform.wait_for(
            lambda: (found := platform.events(type_, subject)) and len(found) >= count and found,
            timeout=timeout,
            what=f"{count} {type_} event(s) for {subject}",
        )
    )


def settle(platform: Platform) -> None:
    """Wait until everything committed so far has gone through the outbox relay.

    A sentinel change for a throwaway citizen is committed now; once its event is at the broker, one more
    pass of every domain's relay has published any event committed before the sentinel (whose commit's wake
    was lost, too): the relays are woken for that pass rather than waited for (each idles up to
    ``idle_ceiling``, seconds on a local platform). Lets a test assert that an event was NOT emitted without
    sleeping for seconds.
    """
    sentinel = f"c-sentinel-{uuid.uuid4().hex[:10]}"
    response = platform.http.put(
        citizen_url(platform, sentinel, "/preferences"),
        json={"language": "en"},
        headers=platform.as_(sentinel),
        timeout=15,
    )
    assert response.status_code == 200, response.text
    wait_for_events(platform, PREFERENCES_CHANGED, sentinel)
    platform.wake_relays()
    time.sleep(RELAY_PASS)
