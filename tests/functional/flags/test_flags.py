"""Micro-apps switched by flags, end to end on the local platform (issue 13, FLAG): an administrator switches
inbox off and, within the poll interval, a citizen's call of the inbox API answers ``micro-app-off`` while the
agent desk still reads it; the switch is audited (``flag.changed``, the history); nobody else may switch; the
snapshot answers 304 to its ETag; a citizen pins and hides apps on their home, and only on their own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local.harness import Platform

pytestmark = pytest.mark.functional

POLL = 2.0  # PIC_FLAGS_POLL_SECONDS of make run (local/__main__.py)
CHANGED = "es.madrid.pic.flag.changed.v1"
AGENT = {"role": "agent", "level": 1, "area": "atencion-ciudadania"}


def flag(platform: Platform, name: str) -> dict[str, Any]:
    body: dict[str, Any] = platform.http.get(platform.url("/v1/flags"), timeout=10).json()
    return dict(body["flags"][name])


def switch(platform: Platform, name: str, **rules: Any) -> requests.Response:
    admin = platform.as_("adm-flags", role="admin")
    body = {"enabled": True, "reason": "functional test", "version": flag(platform, name)["version"], **rules}
    return platform.http.put(platform.url(f"/v1/flags/{name}"), json=body, headers=admin, timeout=10)


@pytest.fixture
def inbox_switched_back(platform: Platform, citizen_id: str) -> Iterator[None]:
    """Whatever the test does to inbox, it is on again (and served so) when the test ends: the platform is
    shared by the session's other tests."""
    yield
    if not flag(platform, "inbox")["enabled"]:
        assert switch(platform, "inbox", enabled=True).status_code == 200
    me = platform.as_(citizen_id)
    platform.wait_for(
        lambda: platform.http.get(platform.url(f"/v1/citizens/{citizen_id}/inbox"), headers=me, timeout=10).ok,
        timeout=POLL * 5,
        what="inbox on again",
    )


def test_a_switched_off_inbox_answers_micro_app_off_within_the_poll_interval(
    platform: Platform, citizen_id: str, inbox_switched_back: None
) -> None:
    me = platform.as_(citizen_id)
    inbox = platform.url(f"/v1/citizens/{citizen_id}/inbox")
    # GIVEN the inbox answers its citizen
    assert platform.http.get(inbox, headers=me, timeout=10).status_code == 200
    # WHEN an administrator switches inbox off
    answer = switch(platform, "inbox", enabled=False, reason="provider outage")
    assert answer.status_code == 200, answer.text
    assert answer.json()["enabled"] is False and answer.json()["changed_by"] == "admin:adm-flags"

    # THEN within the poll interval (every process of the platform polls), the citizen's call is refused
    def refused() -> dict[str, Any] | None:
        got = platform.http.get(inbox, headers=me, timeout=10)
        return dict(got.json()) if got.status_code == 404 else None  # a 404 Response is falsy: its body

    problem = platform.wait_for(refused, timeout=POLL * 4, what="inbox switched off")
    assert problem["type"] == "/problems/micro-app-off" and problem["app"] == "inbox"
    # AND a write is refused before its body is read: nothing written
    read = platform.http.post(f"{inbox}/n-none/read", headers=me, timeout=10)
    assert read.status_code == 404 and read.json()["type"] == "/problems/micro-app-off"
    # AND the agent desk, another channel, still reads it
    agent = {**platform.as_("ag-flags", **AGENT), "Access-Purpose": "CITA-1"}
    assert platform.http.get(inbox, headers=agent, timeout=10).status_code == 200
    # AND the switch is audited: flag.changed with who, before and after; the history lists it
    events = platform.wait_for(lambda: platform.events(CHANGED, subject="flag/inbox"), what="flag.changed")
    data = events[0]["data"]
    assert data["before"]["enabled"] is True and data["after"]["enabled"] is False
    assert data["changed_by"] == "admin:adm-flags" and data["reason"] == "provider outage"
    admin = platform.as_("adm-flags", role="admin")
    history = platform.http.get(platform.url("/v1/flags/inbox/history"), headers=admin, timeout=10).json()
    assert history["changes"][-1]["version"] == data["version"]


def test_only_an_administrator_switches_a_micro_app(platform: Platform, citizen_id: str) -> None:
    body = {"enabled": True, "reason": "let me in", "version": flag(platform, "services")["version"]}
    for headers in (platform.as_(citizen_id), {**platform.as_("ag-flags-3", **AGENT), "Access-Purpose": "X-1"}):
        refused = platform.http.put(platform.url("/v1/flags/cases"), json=body, headers=headers, timeout=10)
        assert refused.status_code == 403 and refused.json()["type"] == "/problems/forbidden"
    assert flag(platform, "services")["enabled"] is False  # nothing written
    # AND an administrator's malformed change (a barrio is not a district) is a 422 naming the field
    bad = switch(platform, "services", districts=["011"])
    assert bad.status_code == 422 and "districts" in bad.text
    # AND a change on a version since replaced is a 409
    stale = platform.http.put(
        platform.url("/v1/flags/cases"),
        json={**body, "version": 999},
        headers=platform.as_("adm-flags", role="admin"),
        timeout=10,
    )
    assert stale.status_code == 409 and stale.json()["type"] == "/problems/flag-version-stale"


def test_the_snapshot_answers_304_to_its_etag(platform: Platform) -> None:
    first = platform.http.get(platform.url("/v1/flags"), timeout=10)
    assert first.status_code == 200 and first.headers["ETag"] == f'"{first.json()["revision"]}"'
    again = platform.http.get(platform.url("/v1/flags"), headers={"If-None-Match": first.headers["ETag"]}, timeout=10)
    assert again.status_code == 304 and not again.content


@pytest.mark.units_of_work
def test_a_citizen_pins_and_hides_apps_on_their_own_home(platform: Platform, citizen_id: str) -> None:
    me = platform.as_(citizen_id)
    apps = platform.url(f"/v1/citizens/{citizen_id}/apps")
    # WHEN the citizen pins inbox and hides alerts
    put = platform.http.put(apps, json={"pinned": ["inbox"], "hidden": ["alerts"]}, headers=me, timeout=10)
    assert put.status_code == 200, put.text
    # THEN their home lists inbox first and alerts last, hidden; the coming apps (off) are not there
    home = platform.http.get(apps, headers=me, timeout=10).json()
    names = [a["app"] for a in home["apps"]]
    assert names[0] == "inbox" and names[-1] == "alerts" and home["apps"][-1]["hidden"] is True
    assert "services" not in names and "pay" in names
    # AND another citizen may neither read nor change it; an unknown app is a 422 naming the field
    other = platform.as_("c-someone-else")
    assert platform.http.get(apps, headers=other, timeout=10).status_code == 403
    assert platform.http.put(apps, json={"pinned": []}, headers=other, timeout=10).status_code == 403
    bad = platform.http.put(apps, json={"pinned": ["lottery"]}, headers=me, timeout=10)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "pinned"
