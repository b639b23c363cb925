"""Functional: the notification domain (NOT) joins data-subject rights, through the real platform — a request
opened on the RGPD channel API fans out by ``rgpd.request.opened`` (outbox, broker, Triggers) to
``pic-notification-events``, whose ``rgpd.domain.answered`` completes it; the restriction flags arrive by
``rgpd.flags.changed`` and change NOT's own contact decision."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from typing import Any

import pytest
import requests

from local.harness import Platform
from tests.functional.consent_support import GIVE, citizen_url, put_consent, settle, wait_for_events
from tests.functional.notification_support import (
    CAMPAIGN,
    IBI_VALUES,
    citizen_with,
    fresh_template,
    notify,
    profile,
    sink,
    unique_email,
    wait_status,
)

pytestmark = pytest.mark.functional

REQUEST_OPENED = "es.madrid.pic.rgpd.request.opened.v1"
DOMAIN_ANSWERED = "es.madrid.pic.rgpd.domain.answered.v1"


def open_request(platform: Platform, citizen_id: str, body: dict[str, Any]) -> str:
    response = platform.http.post(
        citizen_url(platform, citizen_id, "/rgpd-requests"), json=body, headers=platform.as_(citizen_id), timeout=15
    )
    assert response.status_code == 202, response.text
    assert "notification" in response.json()["domains"]
    return str(response.json()["request_id"])


def wait_completed(platform: Platform, request_id: str, citizen_id: str) -> dict[str, Any]:
    def completed() -> dict[str, Any] | None:
        response = platform.http.get(
            platform.url(f"/v1/rgpd-requests/{request_id}"), headers=platform.as_(citizen_id), timeout=15
        )
        assert response.status_code == 200, response.text
        body = dict(response.json())
        return body if body["status"] == "completed" else None

    return dict(platform.wait_for(completed, timeout=45, what=f"request {request_id} completed"))


def notification_answer(view: dict[str, Any]) -> dict[str, Any]:
    (found,) = [d for d in view["domains"] if d["domain"] == "notification"]
    return dict(found)


def consent_to(platform: Platform, citizen_id: str, purpose: str, channels: list[str]) -> None:
    """The citizen consents; NOT's projection knows it before the test goes on."""
    me = platform.as_(citizen_id)
    assert put_consent(platform, citizen_id, purpose, {**GIVE, "channels": channels}, me).status_code == 200
    platform.wait_for(
        lambda: profile(platform, citizen_id)["consents"].get(purpose, {}).get("granted"), what="the projection"
    )


def inbox(platform: Platform, citizen_id: str) -> list[dict[str, Any]]:
    response = platform.http.get(
        citizen_url(platform, citizen_id, "/inbox"), headers=platform.as_(citizen_id), timeout=10
    )
    assert response.status_code == 200, response.text
    return list(response.json()["messages"])


def an_inapp_citizen(platform: Platform) -> tuple[str, str, str]:
    """A citizen who reads PIC in the app, consented to campaigns there, registered a device, and has one legal
    notice (IBI) and one campaign message in their inbox: (citizen_id, notice id, campaign id)."""
    citizen = f"c-{uuid.uuid4().hex[:10]}"
    me = platform.as_(citizen)
    prefs = {"channels": ["inapp"]}
    assert platform.http.put(citizen_url(platform, citizen, "/preferences"), json=prefs, headers=me).ok
    consent_to(platform, citizen, "campaigns", ["inapp"])
    assert platform.http.put(
        citizen_url(platform, citizen, "/push-endpoint"), json={"endpoint": "https://push.example.org/d"}, headers=me
    ).ok
    platform.wait_for(lambda: profile(platform, citizen)["channels"] == ["inapp"], what="the preferences")
    ids = []
    for content, values in ((None, IBI_VALUES), (CAMPAIGN, {"name": "Inés"})):
        template = fresh_template(platform) if content is None else fresh_template(platform, content)
        body = {"template": template, "recipient": {"citizen_id": citizen}, "personalisation": values}
        created = notify(platform, body)
        assert created.status_code == 201, created.text
        done = wait_status(platform, created.json()["id"])
        assert done["status"] == "delivered" and done["channel"] == "inapp", done
        ids.append(created.json()["id"])
    return citizen, ids[0], ids[1]


# ---- restriction (RGPD art. 18): flags by their own event ----------------------------------------------------


def test_a_restricted_citizen_gets_no_campaign_but_legal_notices_still_go(platform: Platform) -> None:
    # GIVEN a citizen with an e-mail in C360 who consented to campaigns by e-mail
    email = unique_email()
    citizen = citizen_with(platform, email=email)
    consent_to(platform, citizen, "campaigns", ["email"])

    # WHEN they ask to restrict processing and the request completes
    request_id = open_request(platform, citizen, {"right": "restriction", "grounds": "accuracy-contested"})
    view = wait_completed(platform, request_id, citizen)
    platform.wait_for(lambda: profile(platform, citizen)["restricted"], what="the flags in NOT's projection")

    # THEN NOT answered not-applicable (the flags travel by their own event)
    assert notification_answer(view)["outcome"] == "not-applicable"

    # AND a campaign is not-allowed with the restriction reason, citing RGPD art. 18
    campaign = notify(
        platform,
        {"template": fresh_template(platform, CAMPAIGN), "recipient": {"citizen_id": citizen},
         "personalisation": {"name": "Inés"}},
    )  # fmt: skip
    assert campaign.status_code == 201, campaign.text
    assert campaign.json()["status"] == "not-allowed" and campaign.json()["reason"] == "restricted"
    refused = wait_status(platform, campaign.json()["id"])
    assert any("RGPD art. 18" in r for r in refused["reasons"]), refused["reasons"]

    # AND a legal-obligation notice still goes, by e-mail
    notice = notify(
        platform,
        {"template": fresh_template(platform), "recipient": {"citizen_id": citizen}, "personalisation": IBI_VALUES},
    )
    delivered = wait_status(platform, notice.json()["id"])
    assert delivered["status"] == "delivered" and delivered["channel"] == "email", delivered
    assert len(sink(platform, "mail", email)) == 1


# ---- access (RGPD art. 15) ----------------------------------------------------------------------------------


def test_an_access_request_exports_the_inbox_and_the_projection(platform: Platform) -> None:
    # GIVEN a citizen with an in-app legal notice and a campaign message, preferences and a push endpoint
    citizen, notice, campaign = an_inapp_citizen(platform)

    # WHEN they ask for access and the request completes
    request_id = open_request(platform, citizen, {"right": "access"})
    view = wait_completed(platform, request_id, citizen)

    # THEN NOT answered with what it exported
    answer = notification_answer(view)
    assert answer["outcome"] == "done"
    counts = {a["what"]: a["count"] for a in answer["actions"] if a["result"] == "exported"}
    assert counts["in-app messages"] == 2

    # AND the export holds NOT's data: both messages with their purpose, the projection
    export = platform.http.get(platform.url(view["export"]), headers=platform.as_(citizen), timeout=15)
    assert export.status_code == 200, export.text
    archive = zipfile.ZipFile(io.BytesIO(export.content))
    data = json.loads(archive.read("export.json"))["domains"]["notification"]["data"]
    purposes = {m["notification_id"]: m["purpose"] for m in data["inbox"]}
    assert purposes == {notice: "service-notifications", campaign: "campaigns"}
    assert data["profile"]["preferences"]["value"]["channels"] == ["inapp"]
    assert data["profile"]["consents"]["value"]["campaigns"]["granted"] is True
    assert data["profile"]["push_endpoint"]["value"] == "https://push.example.org/d"
    # AND the notifications sent to them, with what was sent and how it went (RGPD art. 15)
    sent = {n["id"]: n for n in data["notifications"]}
    assert (
        set(sent) == {notice, campaign}
        and counts["notifications sent to the person (by citizen id or to their addresses)"] == 2
    )
    assert sent[notice]["status"] == "delivered" and sent[notice]["body"].startswith("Hola, Inés")
    assert any(name.startswith("notification/") for name in archive.namelist())


# ---- erasure (RGPD art. 17) ----------------------------------------------------------------------------------


def post_event(platform: Platform, event: dict[str, Any], mode: str) -> requests.Response:
    if mode == "binary":
        headers = {f"ce-{k}": str(v) for k, v in event.items() if k != "data"}
        headers["content-type"] = "application/json"
        headers.update(platform.sender(event["source"]))
        return platform.http.post(platform.url("/events"), data=json.dumps(event["data"]), headers=headers, timeout=15)
    headers = {"content-type": "application/cloudevents+json", **platform.sender(event["source"])}
    return platform.http.post(platform.url("/events"), data=json.dumps(event), headers=headers, timeout=15)


@pytest.mark.parametrize("mode", ["binary", "structured"])
@pytest.mark.units_of_work
def test_an_erasure_erases_messages_and_keeps_legal_notices_with_their_legal_basis(
    platform: Platform, mode: str
) -> None:
    # GIVEN a citizen with an in-app legal notice and a campaign message, preferences and a push endpoint
    citizen, notice, _campaign = an_inapp_citizen(platform)

    # WHEN they ask for erasure and the request completes
    request_id = open_request(platform, citizen, {"right": "erasure", "grounds": "consent-withdrawn"})
    view = wait_completed(platform, request_id, citizen)

    # THEN NOT erased the push endpoint, the projection, the campaign message and the campaign's notification,
    # and kept the legal notice (its in-app record and the notification sent) with its legal basis (Ley
    # 39/2015) and the date it may be erased
    answer = notification_answer(view)
    assert answer["outcome"] == "done"
    erased = {a["what"]: a["count"] for a in answer["actions"] if a["result"] == "erased"}
    assert erased["push endpoint"] == 1 and erased["projection of contact preferences"] == 1
    # (the consents projection is erased by NOT, or was already gone: the erasure's own withdrawal removes it)
    assert erased.get("projection of consents", 1) == 1 and profile(platform, citizen)["consents"] == {}
    assert erased["in-app messages (campaigns, surveys, alerts)"] == 1
    sent = "notifications sent to the person for campaigns, surveys and alerts (address, subject, body)"
    assert erased[sent] == 1
    notices = [a for a in answer["actions"] if a["result"] == "kept" and a["category"] == "legal-notices"]
    assert [a["what"].split(" (")[0] for a in notices] == [
        "notifications sent to the person under a legal obligation",
        "in-app records of legal notices",
    ]
    for kept in notices:
        assert kept["count"] == 1 and "kept until 20" in kept["what"]
        assert "Ley 39/2015" in kept["legal_basis"] and "Ley 16/1985" in kept["legal_basis"]
    # AND the erasure's marker is kept, and what stays in the outbox until its TTL is said
    categories = {a["category"] for a in answer["actions"] if a["result"] == "kept"}
    assert categories == {"legal-notices", "erasure-marker", "outbox-events", "request-replays"}

    # AND the citizen's inbox holds only the legal notice; the push endpoint is gone
    assert [m["notification_id"] for m in inbox(platform, citizen)] == [notice]
    assert "push" not in profile(platform, citizen)["reachable"]

    # WHEN the broker delivers the same request again (same source and id)
    (opened,) = wait_for_events(platform, REQUEST_OPENED, citizen)
    event = {k: v for k, v in opened.items() if k in ("specversion", "id", "source", "type", "subject", "time", "data")}
    assert post_event(platform, event, mode).status_code == 202
    settle(platform)

    # THEN nothing is done twice: one answer from NOT, the inbox unchanged, nothing dead-lettered
    answers = [e for e in platform.events(DOMAIN_ANSWERED, citizen) if e["source"] == "/pic/notification"]
    assert len(answers) == 1
    assert [m["notification_id"] for m in inbox(platform, citizen)] == [notice]
    assert not [d for d in platform.deadletters() if citizen in json.dumps(d)]
