"""Functional: the notifications sent to a citizen, ``GET /v1/citizens/{citizen_id}/notifications``, through the
real platform (gateway, kernel, policy, DynamoDB Local's ``by-recipient`` index): newest first on every
channel, a page at a time with the cursor, no message or address, the citizen's own only, an agent on their
behalf only with a purpose and recorded in the citizen's access log, and a malformed limit or cursor a 422."""

from __future__ import annotations

import uuid

import pytest

from local.harness import Platform
from tests.functional.notification_support import (
    CAMPAIGN,
    IBI_VALUES,
    citizen_with,
    fresh_template,
    notify,
    unique_email,
    wait_status,
)
from tests.functional.timeline_support import MALFORMED, Timeline

pytestmark = pytest.mark.functional

TIMELINE = Timeline("notifications", "pic-notification", purpose="EXP-2026-0042")
ITEM_KEYS = {"id", "template_id", "channel", "status", "purpose", "created_at", "updated_at"}


@pytest.fixture(scope="module")
def sent(platform: Platform) -> tuple[str, str, list[str]]:
    """GIVEN a citizen with an e-mail in C360, five notifications to them (the third a campaign they never
    consented to: not allowed), oldest first, and one to another citizen."""
    email = unique_email()
    citizen_id = citizen_with(platform, email=email)
    ibi, campaign = fresh_template(platform), fresh_template(platform, CAMPAIGN)
    ids = []
    for n in range(5):
        template, values = (campaign, {"name": "Inés"}) if n == 2 else (ibi, IBI_VALUES)
        body = {"template": template, "recipient": {"citizen_id": citizen_id}, "personalisation": values}
        response = notify(platform, body)
        assert response.status_code == 201, response.text
        ids.append(str(response.json()["id"]))
    other = {"template": ibi, "recipient": {"citizen_id": f"c-ntl-{uuid.uuid4().hex[:6]}"}, "personalisation": {}}
    assert notify(platform, {**other, "personalisation": IBI_VALUES}).status_code == 201
    for notification_id in ids:
        wait_status(platform, notification_id)
    return citizen_id, email, ids


def test_the_citizen_pages_through_what_was_sent_to_them_newest_first(
    platform: Platform, sent: tuple[str, str, list[str]]
) -> None:
    citizen_id, email, ids = sent

    # WHEN the citizen reads the notifications sent to them two at a time, following next_cursor
    pages = TIMELINE.read_all(platform, citizen_id, limit=2)

    # THEN three pages hold the five, newest first, each once, none sent to anybody else
    assert [len(p) for p in pages] == [2, 2, 1]
    items = [item for page in pages for item in page]
    assert [i["id"] for i in items] == ids[::-1]
    # AND each says the template, channel, status and purpose and when: not the message nor the address
    assert all(set(i) == ITEM_KEYS for i in items)
    by_id = {i["id"]: i for i in items}
    refused = by_id[ids[2]]
    assert refused["status"] == "not-allowed" and refused["channel"] is None and refused["purpose"] == "campaigns"
    delivered = by_id[ids[0]]
    assert delivered["status"] == "delivered" and delivered["channel"] == "email"
    assert delivered["purpose"] == "service-notifications" and delivered["updated_at"] >= delivered["created_at"]
    assert email not in str(pages) and "Inés" not in str(pages) and "IBI" not in str(pages)


def test_another_citizen_an_admin_and_a_system_are_refused(
    platform: Platform, sent: tuple[str, str, list[str]]
) -> None:
    TIMELINE.assert_others_refused(platform, sent[0], system="svc-tributos")


def test_an_agent_reads_it_only_with_a_purpose_and_the_citizen_sees_the_read_in_their_access_log(
    platform: Platform, sent: tuple[str, str, list[str]]
) -> None:
    citizen_id, _, ids = sent
    summary = TIMELINE.assert_agent_needs_a_purpose(platform, citizen_id, ids[::-1])
    # AND level 1's summary says only whether and when each reached the person
    assert all(set(i) == {"id", "status", "channel", "created_at", "updated_at"} for i in summary)


@pytest.mark.parametrize(("params", "field"), MALFORMED)
def test_a_malformed_limit_or_cursor_is_a_422_naming_it(
    platform: Platform, sent: tuple[str, str, list[str]], params: dict[str, str], field: str
) -> None:
    TIMELINE.assert_malformed_refused(platform, sent[0], params, field)


def test_a_citizen_id_that_cannot_be_one_is_a_422_and_one_sent_nothing_an_empty_page(platform: Platform) -> None:
    TIMELINE.assert_bad_ids_refused_and_nobody_empty(platform)
