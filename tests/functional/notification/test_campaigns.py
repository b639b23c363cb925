"""NOT's side of campaigns and surveys through the real platform (issue 16): a campaign's batch event through the
broker (binary and structured, redelivered) decided and delivered once per person; a hard bounce the local
provider reports through the signed feedback webhook blocks the address for the next campaign; the one-click
unsubscribe withdraws the consent in CON; and the bad input of each (forged webhook, unknown notification, bad
link). The logic's cases are unit tests (tests/unit/notification/test_campaigns.py)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from functions.core import webhooks
from functions.core.settings import get_settings
from local.harness import Platform
from tests.functional.notification_support import (
    TERMINAL,
    citizen_with,
    fresh_template,
    sink,
    status_of,
    system,
    unique_email,
)

BATCH = "es.madrid.pic.notification.batch.requested.v1"
CAMPAIGN_SOURCE = "/pic/campaign"
VERANOS = {
    "purpose": "campaigns",
    "subject": {"es": "Veranos de la Villa"},
    "body": {"es": "Hola, {{ name }}. Programa de los Veranos. Darse de baja: {{ unsubscribe_url }}"},
}
FEEDBACK = "/v1/notification-feedback/ses"


def consenting(platform: Platform, email: str) -> str:
    """A citizen with that e-mail who consented to campaigns by e-mail, once NOT's projection knows it."""
    citizen = citizen_with(platform, email=email)
    me = platform.as_(citizen)
    give = {"granted": True, "channels": ["email"], "text_version": "2026-01"}
    answer = platform.http.put(platform.url(f"/v1/citizens/{citizen}/consents/campaigns"), json=give, headers=me)
    assert answer.status_code == 200, answer.text
    platform.wait_for(
        lambda: (
            platform.http.get(platform.url(f"/v1/citizens/{citizen}/notification-profile"), headers=me, timeout=10)
            .json()["consents"]
            .get("campaigns", {})
            .get("granted")
        ),
        what="the consent projection",
    )
    return citizen


def batch(template: str, campaign_id: str, citizens: list[str], batch_id: str) -> dict[str, Any]:
    return {
        "batch_id": batch_id,
        "template": template,
        "campaign_id": campaign_id,
        "recipients": [
            {"citizen_id": c, "personalisation": {"name": "Inés"}, "tags": {"variant": "B", "district": "02"}}
            for c in citizens
        ],
    }


def send_batch(platform: Platform, data: dict[str, Any], event_id: str, mode: str) -> None:
    answer = platform.send_event(BATCH, data, source=CAMPAIGN_SOURCE, event_id=event_id, mode=mode)
    assert answer.status_code == 202, answer.text


def campaign_note(platform: Platform, campaign_id: str, citizen: str) -> str:
    from functions.notification.service import derived_id

    return derived_id("campaign", campaign_id, citizen)


def wait_note(platform: Platform, notification_id: str, timeout: float = 30) -> dict[str, Any]:
    """The notification once terminal (it does not exist until the batch event is handled)."""

    def terminal() -> dict[str, Any] | None:
        answer = platform.http.get(platform.url(f"/v1/notifications/{notification_id}"),
                                   headers=system(platform), timeout=10)  # fmt: skip
        if answer.status_code == 404:
            return None
        body = dict(answer.json())
        return body if body["status"] in TERMINAL else None

    return dict(platform.wait_for(terminal, timeout=timeout, what=f"{notification_id} to be terminal"))


def signed_post(platform: Platform, body: dict[str, Any], secret: str | None = None) -> Any:
    raw = json.dumps(body).encode()
    signature = webhooks.sign(secret or get_settings().feedback_secret, int(time.time()), raw)
    headers = {"Content-Type": "application/json", "X-PIC-Signature": signature}
    return platform.http.post(platform.url(FEEDBACK), data=raw, headers=headers, timeout=10)


def test_a_campaign_batch_is_delivered_once_per_person_whatever_redelivers_it(platform: Platform) -> None:
    # GIVEN two citizens who consented to campaigns by e-mail and a campaign template with its unsubscribe link
    emails = [unique_email(), unique_email()]
    citizens = [consenting(platform, e) for e in emails]
    template = fresh_template(platform, VERANOS)
    campaign = f"cmp-{uuid.uuid4().hex[:8]}"

    # WHEN the campaign's page arrives (binary), is redelivered (structured, same id), and a restarted dispatcher
    # sends a second page carrying the second person again
    first = batch(template, campaign, citizens, f"{campaign}:0")
    event_id = str(uuid.uuid4())
    send_batch(platform, first, event_id, "binary")
    send_batch(platform, first, event_id, "structured")
    send_batch(platform, batch(template, campaign, citizens[1:], f"{campaign}:0-restarted"), str(uuid.uuid4()),
               "structured")  # fmt: skip

    # THEN each is delivered once by e-mail, with the campaign and tags, the body carrying the unsubscribe link
    # and the e-mail the RFC 8058 headers
    for citizen in citizens:
        done = wait_note(platform, campaign_note(platform, campaign, citizen))
        assert (done["status"], done["channel"], done["campaign_id"]) == ("delivered", "email", campaign), done
        assert done["tags"] == {"variant": "B", "district": "02"}
    time.sleep(1.0)  # what a second delivery would need to reach the sink
    for email in emails:
        [mail] = sink(platform, "mail", email)
        assert "/app/unsubscribe/" in mail["body"]
    raw = platform.http.get(platform.url("/dev/mail"), params={"to": emails[0]}, timeout=10).json()
    assert raw["count"] == 1


def test_a_hard_bounce_blocks_the_address_for_the_next_campaign(platform: Platform) -> None:
    # GIVEN a consenting citizen whose mailbox does not exist (the local provider hard-bounces "bounce..." @)
    email = f"bounce.{uuid.uuid4().hex[:8]}@example.org"
    citizen = consenting(platform, email)
    template = fresh_template(platform, VERANOS)
    first, second = f"cmp-{uuid.uuid4().hex[:8]}", f"cmp-{uuid.uuid4().hex[:8]}"

    # WHEN a campaign reaches them, and the provider reports the hard bounce through NOT's signed webhook
    send_batch(platform, batch(template, first, [citizen], first), str(uuid.uuid4()), "binary")
    note = campaign_note(platform, first, citizen)
    assert wait_note(platform, note)["status"] == "delivered"
    platform.wait_for(lambda: "bounced-hard" in (status_of(platform, note).get("engaged") or {}), timeout=20,
                      what="the bounce recorded")  # fmt: skip
    platform.wait_for(lambda: "email" not in profile_reachable_allowed(platform, citizen), timeout=20,
                      what="the block in NOT's projection")  # fmt: skip

    # THEN the next campaign's message to that address is not allowed, reason blocked
    send_batch(platform, batch(template, second, [citizen], second), str(uuid.uuid4()), "binary")
    refused = wait_note(platform, campaign_note(platform, second, citizen))
    assert (refused["status"], refused["reason"]) == ("not-allowed", "blocked"), refused


def profile_reachable_allowed(platform: Platform, citizen: str) -> set[str]:
    """The channels NOT holds no block on for the citizen (``blocked`` of the notification profile)."""
    body = platform.http.get(platform.url(f"/v1/citizens/{citizen}/notification-profile"),
                             headers=platform.as_(citizen), timeout=10).json()  # fmt: skip
    return set(body["reachable"]) - set(body.get("blocked") or {})


def test_one_click_unsubscribe_withdraws_the_consent_in_con(platform: Platform) -> None:
    # GIVEN a campaign message delivered to a consenting citizen
    email = unique_email()
    citizen = consenting(platform, email)
    template = fresh_template(platform, VERANOS)
    campaign = f"cmp-{uuid.uuid4().hex[:8]}"
    send_batch(platform, batch(template, campaign, [citizen], campaign), str(uuid.uuid4()), "binary")
    assert wait_note(platform, campaign_note(platform, campaign, citizen))["status"] == "delivered"
    [mail] = sink(platform, "mail", email)
    token = mail["body"].rsplit("/app/unsubscribe/", 1)[1].split()[0]

    # WHEN the link is read (a mail scanner), then one-click POSTed twice (RFC 8058 body)
    url = platform.url(f"/v1/unsubscribe/{token}")
    seen = platform.http.get(url, timeout=10)
    assert seen.json() == {"purpose": "campaigns", "channel": "email", "unsubscribed": False}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for _ in range(2):
        done = platform.http.post(url, data="List-Unsubscribe=One-Click", headers=form, timeout=10)
        assert done.status_code == 200 and done.json()["unsubscribed"] is True, done.text

    # THEN CON holds the consent withdrawn (read back through CON's API)
    me = platform.as_(citizen)

    def withdrawn() -> bool:
        answer = platform.http.get(platform.url(f"/v1/citizens/{citizen}/consents/campaigns"), headers=me, timeout=10)
        found = answer.json()["consents"] if answer.status_code == 200 else []
        return bool(found) and found[0]["granted"] is False

    platform.wait_for(withdrawn, timeout=20, what="CON to record the withdrawal")
    assert "unsubscribed" in (status_of(platform, campaign_note(platform, campaign, citizen)).get("engaged") or {})


def test_bad_feedback_and_bad_links_are_clear_problems(platform: Platform) -> None:
    event = {"eventType": "Open", "mail": {"tags": {"notification": ["ntf-none-such"]}}}
    raw = json.dumps(event).encode()
    unsigned = platform.http.post(platform.url(FEEDBACK), data=raw, headers={"Content-Type": "application/json"})
    assert (unsigned.status_code, unsigned.json()["type"].rsplit("/", 1)[-1]) == (403, "feedback-signature-invalid")
    forged = signed_post(platform, event, secret="not-the-providers-key-at-all")
    assert forged.status_code == 403
    unknown = signed_post(platform, event)
    assert (unknown.status_code, unknown.json()["type"].rsplit("/", 1)[-1]) == (404, "notification-not-found")
    bad = platform.http.post(platform.url("/v1/unsubscribe/not-a-token"), timeout=10)
    assert (bad.status_code, bad.json()["type"].rsplit("/", 1)[-1]) == (404, "link-invalid")
    assert bad.headers["content-type"].startswith("application/problem+json")
