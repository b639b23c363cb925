"""What accepting a notification costs in store calls, from the kernel's ``Server-Timing`` header: the template
and the recipient's projection in ONE BatchGetItem (two reads before), and one transaction (the notification,
its release marker if deferred, its status event and the request's idempotency record). DynamoDB bills per
call; a change that adds one fails here, not silently in production (docs/benchmarks.md)."""

from __future__ import annotations

import os

import pytest

from local.harness import Platform
from tests.functional.core.test_read_cost import store_calls
from tests.functional.notification_support import (
    IBI_VALUES,
    citizen_with,
    fresh_template,
    notify,
    profile,
    unique_email,
    wait_status,
)

pytestmark = [
    pytest.mark.functional,
    pytest.mark.skipif(
        os.environ.get("PIC_TEST_STORE") == "alternator-like",
        reason="counts of the native store: without TransactWriteItems one unit of work is about 2n + 3 calls "
        "(docs/decisions/0005); these ran in the functional phase",
    ),
]


def test_a_notification_to_a_citizen_costs_one_read_and_one_transaction(platform: Platform) -> None:
    # GIVEN a citizen with an e-mail and a template
    citizen = citizen_with(platform, email=unique_email())
    template = fresh_template(platform)

    # WHEN a notification is requested for them
    response = notify(
        platform, {"template": template, "recipient": {"citizen_id": citizen}, "personalisation": IBI_VALUES}
    )

    # THEN it cost one BatchGetItem (template and profile) and one TransactWriteItems
    assert response.status_code == 201, response.text
    assert store_calls(dict(response.headers)) == (2, "BatchGetItem=1 TransactWriteItems=1")


def test_a_notification_to_an_address_costs_one_read_and_one_transaction(platform: Platform) -> None:
    template = fresh_template(platform)
    response = notify(
        platform, {"template": template, "recipient": {"email": unique_email()}, "personalisation": IBI_VALUES}
    )
    assert response.status_code == 201, response.text
    assert store_calls(dict(response.headers)) == (2, "GetItem=1 TransactWriteItems=1")


def test_marking_a_message_read_costs_one_query_and_one_put(platform: Platform) -> None:
    # GIVEN an in-app message delivered to a citizen who prefers the app
    citizen = citizen_with(platform, email=unique_email())
    me = platform.as_(citizen)
    preferences = platform.http.put(
        platform.url(f"/v1/citizens/{citizen}/preferences"), json={"channels": ["inapp"]}, headers=me
    )
    assert preferences.status_code == 200, preferences.text
    platform.wait_for(lambda: profile(platform, citizen)["channels"] == ["inapp"], what="the preferences projection")
    body = {"template": fresh_template(platform), "recipient": {"citizen_id": citizen}, "personalisation": IBI_VALUES}
    created = notify(platform, body).json()
    assert wait_status(platform, created["id"])["channel"] == "inapp"

    # WHEN it is marked read, twice THEN the first costs the inbox Query and one conditional PutItem, the second
    # only the Query (read already: nothing to write)
    url = platform.url(f"/v1/citizens/{citizen}/inbox/{created['id']}/read")
    first = platform.http.post(url, headers=me)
    assert first.status_code == 204, first.text
    assert store_calls(dict(first.headers)) == (2, "PutItem=1 Query=1")
    second = platform.http.post(url, headers=me)
    assert store_calls(dict(second.headers)) == (1, "Query=1")
