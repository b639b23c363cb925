"""Functional: the notifications sent to a citizen, ``GET /v1/citizens/{citizen_id}/notifications``, through the
real platform (gateway, kernel, policy, DynamoDB Local's ``by-recipient`` index): newest first on every
channel, a page at a time with the cursor, no message or address, the citizen's own only, an agent on their
behalf only with a purpose and recorded in the citizen's access log, and a malformed limit or cursor a 422."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from local.harness import Platform
from tests.functional.consent_support import assert_problem, field_names
from tests.functional.notification_support import (
    CAMPAIGN,
    IBI_VALUES,
    citizen_with,
    fresh_template,
    notify,
    unique_email,
    wait_status,
)

pytestmark = pytest.mark.functional

PURPOSE = "EXP-2026-0042"
ITEM_KEYS = {"id", "template_id", "channel", "status", "purpose", "created_at", "updated_at"}


def timeline(platform: Platform, citizen_id: str, headers: dict[str, str], **params: Any) -> requests.Response:
    url = platform.url(f"/v1/citizens/{citizen_id}/notifications")
    return platform.http.get(url, params=params, headers=headers, timeout=15)


def agent(platform: Platform, sub: str, level: int = 2, purpose: str | None = PURPOSE) -> dict[str, str]:
    headers = platform.as_(sub, role="agent", level=level, area="atencion-ciudadania")
    return {**headers, "Access-Purpose": purpose} if purpose else headers


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
    me = platform.as_(citizen_id)

    # WHEN the citizen reads the notifications sent to them two at a time, following next_cursor
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        response = timeline(platform, citizen_id, me, limit=2, **({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"items", "next_cursor"}
        pages.append(body["items"])
        if (cursor := body["next_cursor"]) is None:
            break

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
    citizen_id, _, _ = sent
    for headers in (
        platform.as_(f"c-nosy-{uuid.uuid4().hex[:6]}"),
        platform.as_("adm-ntl", role="admin"),
        platform.as_("svc-tributos", role="system"),
    ):
        assert_problem(timeline(platform, citizen_id, headers), 403, "forbidden")


def test_an_agent_reads_it_only_with_a_purpose_and_the_citizen_sees_the_read_in_their_access_log(
    platform: Platform, sent: tuple[str, str, list[str]]
) -> None:
    citizen_id, _, ids = sent
    reader = f"ag-ntl-{uuid.uuid4().hex[:6]}"

    # WHEN an agent asks without a purpose THEN refused, saying why
    refused = assert_problem(timeline(platform, citizen_id, agent(platform, reader, purpose=None)), 403, "forbidden")
    assert "Access-Purpose" in refused["detail"]

    # WHEN they ask stating the file they attend THEN they see the list
    response = timeline(platform, citizen_id, agent(platform, reader), limit=100)
    assert response.status_code == 200, response.text
    assert [i["id"] for i in response.json()["items"]] == ids[::-1]

    # AND an agent of level 1 sees only whether and when each reached the person (the summary)
    summary = timeline(platform, citizen_id, agent(platform, f"{reader}-l1", level=1)).json()
    assert summary["view"] == "summary" and [i["id"] for i in summary["items"]] == ids[::-1]
    assert all(set(i) == {"id", "status", "channel", "created_at", "updated_at"} for i in summary["items"])

    # AND the citizen's access log shows the agent's refused and allowed reads, with the purpose
    me = platform.as_(citizen_id)

    def reads() -> list[dict[str, Any]] | None:
        log = platform.http.get(platform.url(f"/v1/citizens/{citizen_id}/access-log"), headers=me, timeout=15)
        assert log.status_code == 200, log.text
        mine = [e for e in log.json()["entries"] if e["reader"]["id"] == reader and e["resource"] == "notifications"]
        return mine if len(mine) == 2 else None

    allowed, denied = sorted(platform.wait_for(reads, what="the agent's reads"), key=lambda e: e["decision"])
    assert allowed["decision"] == "allowed" and allowed["purpose"] == PURPOSE
    assert allowed["function"] == "pic-notification" and allowed["sections"] == ["notifications:detail"]
    assert denied["decision"] == "denied" and denied["sections"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "1e3"}, "limit"),
        ({"cursor": "%%%"}, "cursor"),
        ({"cursor": "eyJhdCI6ICJ5ZXN0ZXJkYXkiLCAiaWQiOiAibnRmLTEifQ=="}, "cursor"),  # {"at": "yesterday", ...}
    ],
)
def test_a_malformed_limit_or_cursor_is_a_422_naming_it(
    platform: Platform, sent: tuple[str, str, list[str]], params: dict[str, str], field: str
) -> None:
    citizen_id, _, _ = sent
    problem = assert_problem(timeline(platform, citizen_id, platform.as_(citizen_id), **params), 422, "validation")
    assert field_names(problem) == {field}


def test_a_citizen_id_that_cannot_be_one_is_a_422_and_one_sent_nothing_an_empty_page(platform: Platform) -> None:
    headers = agent(platform, "ag-ntl-ids")
    for bad in ("-starts-with-dash", "a" * 65, "semi;colon"):
        assert_problem(timeline(platform, bad, headers), 422, "validation")
    nobody = f"c-ntl-none-{uuid.uuid4().hex[:6]}"
    response = timeline(platform, nobody, platform.as_(nobody))
    assert response.status_code == 200 and response.json() == {"items": [], "next_cursor": None}
