"""Functional: a citizen's interaction timeline, ``GET /v1/citizens/{citizen_id}/interactions``, through the
real platform (gateway, kernel, policy, DynamoDB Local's index ``by-citizen``): newest first, a page at a time
with the cursor, the citizen's own only, an agent on their behalf only with a purpose and recorded in the
citizen's access log, and every malformed limit, cursor or id a 422 problem."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from local.harness import Platform
from tests.functional.timeline_support import MALFORMED, Timeline

pytestmark = pytest.mark.functional

TIMELINE = Timeline("interactions", "pic-interaction", purpose="CITA-7731")
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

    # WHEN the citizen reads their timeline two at a time, following next_cursor
    pages = TIMELINE.read_all(platform, citizen_id, limit=2)

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
    whole = TIMELINE.get(platform, citizen_id, platform.as_(citizen_id)).json()
    assert [i["id"] for i in whole["items"]] == recorded[::-1] and whole["next_cursor"] is None


def test_another_citizen_an_admin_and_a_system_are_refused(platform: Platform, citizen: tuple[str, list[str]]) -> None:
    TIMELINE.assert_others_refused(platform, citizen[0], system="svc-gestor-colas")


def test_an_agent_reads_it_only_with_a_purpose_and_the_citizen_sees_the_read_in_their_access_log(
    platform: Platform, citizen: tuple[str, list[str]]
) -> None:
    citizen_id, recorded = citizen
    TIMELINE.assert_agent_needs_a_purpose(platform, citizen_id, recorded[::-1])


@pytest.mark.parametrize(("params", "field"), MALFORMED)
def test_a_malformed_limit_or_cursor_is_a_422_naming_it(
    platform: Platform, citizen: tuple[str, list[str]], params: dict[str, str], field: str
) -> None:
    TIMELINE.assert_malformed_refused(platform, citizen[0], params, field)


def test_a_citizen_id_that_cannot_be_one_is_a_422_and_a_citizen_without_interactions_an_empty_page(
    platform: Platform,
) -> None:
    TIMELINE.assert_bad_ids_refused_and_nobody_empty(platform)
