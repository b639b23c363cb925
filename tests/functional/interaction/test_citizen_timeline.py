"""Functional: a citizen's interaction timeline, ``GET /v1/citizens/{citizen_id}/interactions``, through the
real platform (gateway, kernel, policy, DynamoDB Local's index ``by-citizen``): newest first, a page at a time
with the cursor, the citizen's own only, an agent on their behalf only with a purpose and recorded in the
citizen's access log, and every malformed limit, cursor or id a 422 problem."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from local.harness import Platform
from tests.functional.consent_support import assert_problem, field_names

pytestmark = pytest.mark.functional

PURPOSE = "CITA-7731"
ITEM_KEYS = {"id", "channel", "area", "outcome", "started_at", "ended_at", "recorded_at"}


def record(platform: Platform, citizen_id: str, n: int) -> str:
    """An interaction of the citizen, recorded by the queue manager's desk; PIC's id for it."""
    body = {
        "interaction_id": f"tl-{uuid.uuid4().hex[:10]}",
        "citizen_id": citizen_id,
        "channel": {"kind": "call", "direction": "inbound", "line": "010"}
        if n % 2
        else {"kind": "chat", "conversation_id": f"conv-{n}"},
        "area": "atencion-ciudadania" if n % 2 else "hacienda",
        "topic": f"Consulta número {n}: nunca en el timeline",
        "started_at": datetime.now(UTC).isoformat(),
    }
    headers = platform.as_("svc-gestor-colas", role="system")
    response = platform.http.post(platform.url("/v1/interactions"), json=body, headers=headers, timeout=15)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def timeline(platform: Platform, citizen_id: str, headers: dict[str, str], **params: Any) -> requests.Response:
    url = platform.url(f"/v1/citizens/{citizen_id}/interactions")
    return platform.http.get(url, params=params, headers=headers, timeout=15)


def agent(platform: Platform, sub: str, level: int = 2, purpose: str | None = PURPOSE) -> dict[str, str]:
    headers = platform.as_(sub, role="agent", level=level, area="atencion-ciudadania")
    return {**headers, "Access-Purpose": purpose} if purpose else headers


@pytest.fixture(scope="module")
def citizen(platform: Platform) -> tuple[str, list[str]]:
    """GIVEN a citizen with five recorded interactions (oldest first), and another citizen with one."""
    citizen_id = f"c-tl-{uuid.uuid4().hex[:10]}"
    recorded = [record(platform, citizen_id, n) for n in range(5)]
    record(platform, f"c-tl-other-{uuid.uuid4().hex[:6]}", 0)
    return citizen_id, recorded


def test_the_citizen_pages_through_their_interactions_newest_first(
    platform: Platform, citizen: tuple[str, list[str]]
) -> None:
    citizen_id, recorded = citizen
    me = platform.as_(citizen_id)

    # WHEN the citizen reads their timeline two at a time, following next_cursor
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

    # THEN three pages hold their five interactions, newest first, each once, none of another person's
    assert [len(p) for p in pages] == [2, 2, 1]
    items = [item for page in pages for item in page]
    assert [i["id"] for i in items] == recorded[::-1]
    # AND each says when, where and how, not what was talked about
    assert all(set(i) == ITEM_KEYS for i in items)
    assert [i["channel"] for i in items] == ["call" if n % 2 else "chat" for n in range(4, -1, -1)]
    assert sorted(i["recorded_at"] for i in items) == [i["recorded_at"] for i in items][::-1]
    assert "nunca en el timeline" not in str(pages)

    # AND the default page holds all five, with nothing after it
    whole = timeline(platform, citizen_id, me).json()
    assert [i["id"] for i in whole["items"]] == recorded[::-1] and whole["next_cursor"] is None


def test_another_citizen_an_admin_and_a_system_are_refused(platform: Platform, citizen: tuple[str, list[str]]) -> None:
    citizen_id, _ = citizen
    for headers in (
        platform.as_(f"c-nosy-{uuid.uuid4().hex[:6]}"),
        platform.as_("adm-tl", role="admin"),
        platform.as_("svc-gestor-colas", role="system"),
    ):
        assert_problem(timeline(platform, citizen_id, headers), 403, "forbidden")


def test_an_agent_reads_it_only_with_a_purpose_and_the_citizen_sees_the_read_in_their_access_log(
    platform: Platform, citizen: tuple[str, list[str]]
) -> None:
    citizen_id, recorded = citizen
    reader = f"ag-tl-{uuid.uuid4().hex[:6]}"

    # WHEN an agent asks without a purpose THEN refused, saying why
    refused = assert_problem(timeline(platform, citizen_id, agent(platform, reader, purpose=None)), 403, "forbidden")
    assert "Access-Purpose" in refused["detail"]

    # WHEN they ask stating the appointment being attended THEN they see the timeline
    response = timeline(platform, citizen_id, agent(platform, reader), limit=3)
    assert response.status_code == 200, response.text
    assert [i["id"] for i in response.json()["items"]] == recorded[::-1][:3]

    # AND an agent of level 1 sees the same when/where/how, marked as the summary their level allows
    summary = timeline(platform, citizen_id, agent(platform, f"{reader}-l1", level=1)).json()
    assert summary["view"] == "summary" and [i["id"] for i in summary["items"]] == recorded[::-1]

    # AND the citizen's access log shows the agent's refused and allowed reads, with the purpose
    me = platform.as_(citizen_id)

    def reads() -> list[dict[str, Any]] | None:
        log = platform.http.get(platform.url(f"/v1/citizens/{citizen_id}/access-log"), headers=me, timeout=15)
        assert log.status_code == 200, log.text
        mine = [e for e in log.json()["entries"] if e["reader"]["id"] == reader and e["resource"] == "interactions"]
        return mine if len(mine) == 2 else None

    allowed, denied = sorted(platform.wait_for(reads, what="the agent's reads"), key=lambda e: e["decision"])
    assert allowed["decision"] == "allowed" and allowed["purpose"] == PURPOSE
    assert allowed["function"] == "pic-interaction" and allowed["sections"] == ["interactions:detail"]
    assert denied["decision"] == "denied" and denied["sections"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "veinte"}, "limit"),
        ({"limit": "-3"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "eyJhdCI6IDF9"}, "cursor"),  # {"at": 1}
        ({"cursor": "x" * 2000}, "cursor"),
    ],
)
def test_a_malformed_limit_or_cursor_is_a_422_naming_it(
    platform: Platform, citizen: tuple[str, list[str]], params: dict[str, str], field: str
) -> None:
    citizen_id, _ = citizen
    problem = assert_problem(timeline(platform, citizen_id, platform.as_(citizen_id), **params), 422, "validation")
    assert field_names(problem) == {field}


def test_a_citizen_id_that_cannot_be_one_is_a_422_and_a_citizen_without_interactions_an_empty_page(
    platform: Platform,
) -> None:
    headers = agent(platform, "ag-tl-ids")
    for bad in ("-starts-with-dash", "a" * 65, "semi;colon"):
        assert_problem(timeline(platform, bad, headers), 422, "validation")
    nobody = f"c-tl-none-{uuid.uuid4().hex[:6]}"
    response = timeline(platform, nobody, platform.as_(nobody))
    assert response.status_code == 200 and response.json() == {"items": [], "next_cursor": None}
