"""Functional: notifications end to end through the real platform — templates, the API and CloudEvents,
the policy, delivery to the local sinks (SMTP capture, SMS, push, in-app inbox), exactly once."""

from __future__ import annotations

import uuid

import pytest

from local.harness import Platform
from tests.functional.consent_support import assert_problem, field_names, settle
from tests.functional.notification_support import (
    CAMPAIGN,
    IBI,
    IBI_VALUES,
    REQUESTED,
    citizen_with,
    fresh_template,
    notify,
    put_template,
    send_event,
    sink,
    status_of,
    system,
    unique_email,
    unique_mobile,
    wait_status,
)

pytestmark = pytest.mark.functional


def test_an_email_notification_reaches_the_smtp_capture_once(platform: Platform) -> None:
    # GIVEN a template and an explicit e-mail address
    template = fresh_template(platform)
    email = unique_email()

    # WHEN Tributos asks for a notification
    response = notify(platform, {"template": template, "recipient": {"email": email}, "personalisation": IBI_VALUES})

    # THEN it is accepted on e-mail, delivered, and exactly one message is at /dev/mail, rendered in Spanish
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "accepted"
    done = wait_status(platform, response.json()["id"])
    assert done["status"] == "delivered", done
    assert [h["status"] for h in done["history"]] == ["requested", "accepted", "sending", "delivered"]
    (mail,) = sink(platform, "mail", email)
    assert mail["subject"] == "Su recibo del IBI de 2026"
    assert "Hola, Inés." in mail["body"] and "30 de noviembre" in mail["body"]
    assert mail["notification_id"] == response.json()["id"]


def test_an_sms_to_a_citizen_uses_the_golden_records_phone(platform: Platform) -> None:
    # GIVEN a citizen whose Padrón record carries only a mobile number
    phone = unique_mobile()
    citizen = citizen_with(platform, phone=phone)
    template = fresh_template(platform)

    # WHEN a notification for the citizen is requested
    response = notify(
        platform, {"template": template, "recipient": {"citizen_id": citizen}, "personalisation": IBI_VALUES}
    )

    # THEN it goes by SMS (the one reachable channel) and one SMS is at /dev/sms
    assert response.status_code == 201, response.text
    done = wait_status(platform, response.json()["id"])
    assert done["status"] == "delivered" and done["channel"] == "sms", done
    (sms,) = sink(platform, "sms", phone)
    assert "IBI de 2026" in sms["body"]


def test_a_citizen_who_prefers_the_app_gets_an_inbox_message_and_marks_it_read(platform: Platform) -> None:
    # GIVEN a citizen with an e-mail who prefers in-app messages
    citizen = citizen_with(platform, email=unique_email())
    me = platform.as_(citizen)
    response = platform.http.put(
        platform.url(f"/v1/citizens/{citizen}/preferences"), json={"channels": ["inapp", "email"]}, headers=me
    )
    assert response.status_code == 200, response.text
    platform.wait_for(
        lambda: (
            platform.http.get(platform.url(f"/v1/citizens/{citizen}/notification-profile"), headers=me).json()[
                "channels"
            ]
            == ["inapp", "email"]
        ),
        what="the preferences projection",
    )
    template = fresh_template(platform)

    # WHEN a notification is requested
    created = notify(
        platform, {"template": template, "recipient": {"citizen_id": citizen}, "personalisation": IBI_VALUES}
    )

    # THEN it lands in the inbox, unread; marking it read (twice) leaves it read
    done = wait_status(platform, created.json()["id"])
    assert done["channel"] == "inapp" and done["status"] == "delivered", done
    inbox = platform.http.get(platform.url(f"/v1/citizens/{citizen}/inbox"), headers=me).json()
    assert inbox["unread"] == 1
    assert inbox["messages"][0]["subject"] == "Su recibo del IBI de 2026"
    url = platform.url(f"/v1/citizens/{citizen}/inbox/{created.json()['id']}/read")
    assert platform.http.post(url, headers=me).status_code == 204
    assert platform.http.post(url, headers=me).status_code == 204
    assert platform.http.get(platform.url(f"/v1/citizens/{citizen}/inbox"), headers=me).json()["unread"] == 0
    # and no one else reads it
    other = platform.as_(f"c-{uuid.uuid4().hex[:8]}")
    assert_problem(platform.http.get(platform.url(f"/v1/citizens/{citizen}/inbox"), headers=other), 403, "forbidden")


def test_a_campaign_without_consent_is_not_allowed_and_says_why(platform: Platform) -> None:
    # GIVEN a citizen with an e-mail who never consented to campaigns
    email = unique_email()
    citizen = citizen_with(platform, email=email)
    template = fresh_template(platform, CAMPAIGN)

    # WHEN a campaign message is requested for them
    response = notify(
        platform, {"template": template, "recipient": {"citizen_id": citizen}, "personalisation": {"name": "Inés"}}
    )

    # THEN it is not allowed, reason no-consent with the legal reasons, and nothing is sent
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "not-allowed"
    assert response.json()["reason"] == "no-consent"
    status = status_of(platform, response.json()["id"])
    assert any("RGPD art. 6.1.a" in r for r in status["reasons"]), status["reasons"]
    settle(platform)
    assert sink(platform, "mail", email) == []


def test_a_campaign_with_consent_on_email_is_sent(platform: Platform) -> None:
    # GIVEN a citizen who consented to campaigns by e-mail (and the projection knows it)
    email = unique_email()
    citizen = citizen_with(platform, email=email)
    me = platform.as_(citizen)
    give = {"granted": True, "channels": ["email"], "text_version": "2026-01"}
    assert (
        platform.http.put(platform.url(f"/v1/citizens/{citizen}/consents/campaigns"), json=give, headers=me).status_code
        == 200
    )
    platform.wait_for(
        lambda: (
            platform.http.get(platform.url(f"/v1/citizens/{citizen}/notification-profile"), headers=me)
            .json()["consents"]
            .get("campaigns", {})
            .get("granted")
        ),
        what="the consent projection",
    )
    template = fresh_template(platform, CAMPAIGN)

    # WHEN a campaign message is requested
    response = notify(
        platform, {"template": template, "recipient": {"citizen_id": citizen}, "personalisation": {"name": "Inés"}}
    )

    # THEN it is delivered by e-mail
    done = wait_status(platform, response.json()["id"])
    assert done["status"] == "delivered" and done["channel"] == "email", done
    assert len(sink(platform, "mail", email)) == 1


def test_a_citizen_without_any_reachable_channel_gets_not_allowed_no_channel(platform: Platform) -> None:
    # GIVEN a citizen id PIC knows nothing about (no golden record, no contact point)
    template = fresh_template(platform)

    # WHEN a notification is requested for them
    response = notify(
        platform,
        {"template": template, "recipient": {"citizen_id": f"cit-{uuid.uuid4()}"}, "personalisation": IBI_VALUES},
    )

    # THEN not an error: status not-allowed, reason no-channel
    assert response.status_code == 201, response.text
    assert (response.json()["status"], response.json()["reason"]) == ("not-allowed", "no-channel")


def test_idempotency_key_replays_the_first_answer(platform: Platform) -> None:
    # GIVEN a notification request sent twice with the same Idempotency-Key
    template = fresh_template(platform)
    email = unique_email()
    body = {"template": template, "recipient": {"email": email}, "personalisation": IBI_VALUES}
    key = str(uuid.uuid4())
    first = notify(platform, body, key)
    again = notify(platform, body, key)

    # THEN the same notification, one message
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    wait_status(platform, first.json()["id"])
    settle(platform)
    assert len(sink(platform, "mail", email)) == 1


@pytest.mark.parametrize("mode", ["binary", "structured"])
@pytest.mark.units_of_work
def test_a_requested_event_redelivered_three_times_sends_exactly_one_message(platform: Platform, mode: str) -> None:
    # GIVEN an internal system's notification.requested event for an SMS
    template = fresh_template(platform)
    phone = unique_mobile()
    data = {"template": template, "recipient": {"phone": phone}, "personalisation": IBI_VALUES, "reference": "IBI-1"}
    event_id = str(uuid.uuid4())

    # WHEN the broker receives it three times (at-least-once delivery), the copies concurrently in flight
    for _ in range(3):
        send_event(platform, REQUESTED, data, source="/legacy/tributos", event_id=event_id, mode=mode)

    # THEN exactly one SMS reaches the sink, and the status events name one notification
    platform.wait_for(lambda: sink(platform, "sms", phone), what="the SMS")
    settle(platform)
    (sms,) = sink(platform, "sms", phone)
    done = wait_status(platform, sms["notification_id"])
    assert done["status"] == "delivered" and done["reference"] == "IBI-1"
    delivered = platform.events("es.madrid.pic.notification.delivered.v1", sms["notification_id"])
    assert len(delivered) == 1


@pytest.mark.units_of_work
def test_every_lifecycle_event_redelivered_three_times_still_sends_one_message(platform: Platform) -> None:
    # GIVEN a delivered e-mail notification
    template = fresh_template(platform)
    email = unique_email()
    created = notify(platform, {"template": template, "recipient": {"email": email}, "personalisation": IBI_VALUES})
    notification_id = created.json()["id"]
    wait_status(platform, notification_id)
    settle(platform)

    # WHEN every event of its lifecycle is sent to the broker again, twice more each (same source and id)
    events = [
        e
        for t in ("accepted", "sending", "delivered")
        for e in platform.events(f"es.madrid.pic.notification.{t}.v1", notification_id)
    ]
    assert len(events) == 3
    for event in events:
        for _ in range(2):
            send_event(
                platform, event["type"], event["data"], source=event["source"], event_id=event["id"], mode="structured"
            )
    settle(platform)

    # THEN still exactly one message in the sink and one delivered status
    assert len(sink(platform, "mail", email)) == 1
    assert status_of(platform, notification_id)["status"] == "delivered"


def test_an_unknown_template_is_a_422_naming_it(platform: Platform) -> None:
    response = notify(
        platform, {"template": "no-such-template", "recipient": {"email": unique_email()}, "personalisation": {}}
    )
    problem = assert_problem(response, 422, "template-unknown")
    assert field_names(problem) == {"template"}


def test_missing_personalisation_fields_are_named_each(platform: Platform) -> None:
    # GIVEN a template with fields name, year and due
    template = fresh_template(platform)

    # WHEN only name is given (and an undeclared field)
    response = notify(
        platform,
        {
            "template": template,
            "recipient": {"email": unique_email()},
            "personalisation": {"name": "Inés", "iban": "x"},
        },
    )

    # THEN 422 naming year and due (missing) and iban (unknown); nothing stored
    problem = assert_problem(response, 422, "personalisation-invalid")
    assert field_names(problem) == {"personalisation.year", "personalisation.due", "personalisation.iban"}


@pytest.mark.parametrize(
    ("recipient", "field"),
    [
        ({"email": "not-an-address"}, "recipient.email"),
        ({"phone": "12"}, "recipient.phone"),
        ({"phone": "+34 912 345 678"}, "recipient.phone"),
    ],
)
def test_an_invalid_recipient_is_a_422(platform: Platform, recipient: dict[str, str], field: str) -> None:
    template = fresh_template(platform)
    response = notify(platform, {"template": template, "recipient": recipient, "personalisation": IBI_VALUES})
    problem = assert_problem(response, 422, "recipient-invalid")
    assert field_names(problem) == {field}


def test_a_recipient_with_two_addresses_is_refused(platform: Platform) -> None:
    template = fresh_template(platform)
    response = notify(
        platform,
        {
            "template": template,
            "recipient": {"email": unique_email(), "phone": unique_mobile()},
            "personalisation": IBI_VALUES,
        },
    )
    assert_problem(response, 422, "validation")


def test_a_citizen_may_not_send_notifications(platform: Platform) -> None:
    template = fresh_template(platform)
    me = platform.as_("c-123")
    response = platform.http.post(
        platform.url("/v1/notifications"),
        json={"template": template, "recipient": {"email": unique_email()}, "personalisation": IBI_VALUES},
        headers=me,
    )
    assert_problem(response, 403, "forbidden")


def test_templates_are_versioned_and_previewed_with_a_readability_score(platform: Platform) -> None:
    # GIVEN a template stored once
    template = fresh_template(platform)

    # WHEN it is stored again unchanged, then changed
    same = put_template(platform, template, IBI)
    changed = put_template(
        platform, template, {**IBI, "subject": {"es": "Recibo del IBI {{ year }}", "en": "Tax {{ year }}"}}
    )

    # THEN unchanged keeps version 1; a change is version 2; both versions remain readable
    assert same.status_code == 200 and same.json()["version"] == 1
    assert changed.status_code == 200 and changed.json()["version"] == 2
    assert changed.json()["fields"] == ["due", "name", "year"]
    old = platform.http.get(
        platform.url(f"/v1/templates/{template}"), params={"version": 1}, headers=system(platform)
    ).json()
    assert old["subject"]["es"] == "Su recibo del IBI de {{ year }}" and old["versions"] == [1, 2]

    # AND the preview renders it and shows the Fernández-Huerta score
    preview = platform.http.post(
        platform.url(f"/v1/templates/{template}/preview"),
        json={"personalisation": IBI_VALUES},
        headers=system(platform),
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["subject"] == "Recibo del IBI 2026"
    assert preview.json()["readability"]["index"] == "fernandez-huerta"
    assert 0 < preview.json()["readability"]["score"] <= 120


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**CAMPAIGN, "body": {"es": "Hola {{ user.__class__ }}"}}, "body.es"),
        ({**CAMPAIGN, "body": {"es": "Hola {{ name "}}, "body.es"),
        ({**IBI, "purpose": "lottery"}, "purpose"),
    ],
)
def test_a_template_that_is_unsafe_broken_or_for_no_purpose_is_refused(
    platform: Platform, body: dict, field: str
) -> None:
    response = put_template(platform, f"t-{uuid.uuid4().hex[:10]}", body)
    problem = assert_problem(response, 422, "template-invalid")
    assert field in field_names(problem)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"template": "no-such-template", "recipient": {"email": "a@example.org"}}, "template-unknown"),
        ({"template": "x", "recipient": {}}, "invalid-event"),
    ],
)
def test_a_requested_event_that_cannot_be_processed_is_dead_lettered_with_the_reason(
    platform: Platform, data: dict, problem: str
) -> None:
    event_id = str(uuid.uuid4())
    send_event(platform, REQUESTED, data, source="/legacy/tributos", event_id=event_id, mode="structured")
    letter = platform.wait_for(
        lambda: [d for d in platform.deadletters() if d["event"]["id"] == event_id], what="the dead letter"
    )[0]
    assert f"/problems/{problem}" in str(letter)
