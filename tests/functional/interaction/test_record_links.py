"""Functional: interactions recorded against an area system's record (``record``: source + local_id) join the
golden record's timeline once C360 links the record, whichever came first — through the real platform (the
broker's ``citizen-record-upserted`` and ``interaction-citizen-updated`` Triggers, C360, the interaction log's
projection of ``citizen.updated`` on DynamoDB Local, the timeline's index ``by-citizen``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from local.harness import Platform
from tests.functional.citizen.test_citizen import fresh_dni, person, upsert, wait_for_citizen

pytestmark = pytest.mark.functional

PADRON = "/legacy/padron"
QUEUE = "/legacy/gestor-colas"
RECORDED = "es.madrid.pic.interaction.recorded.v1"


def visit(local_id: str, topic: str) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {
        "interaction_id": f"oac-{uuid.uuid4().hex[:10]}",
        "record": {"source": PADRON, "local_id": local_id},
        "channel": {
            "kind": "office-visit",
            "office": "OAC Arganzuela",
            "service": "Empadronamiento",
            "ticket": "A042",
            "issued_at": now,
        },
        "area": "atencion-ciudadania",
        "topic": topic,
        "started_at": now,
    }


def timeline_ids(platform: Platform, citizen_id: str) -> list[str]:
    url = platform.url(f"/v1/citizens/{citizen_id}/interactions")
    response = platform.http.get(url, headers=platform.as_(citizen_id), timeout=15)
    assert response.status_code == 200, response.text
    return [str(item["id"]) for item in response.json()["items"]]


@pytest.mark.units_of_work
def test_interactions_before_and_after_the_link_both_join_the_citizens_timeline(platform: Platform) -> None:
    local_id = f"PAD{uuid.uuid4().hex[:10].upper()}"

    # GIVEN a visit recorded against a Padrón record C360 does not know yet (the desk's POST: stored now)
    desk = platform.as_("svc-gestor-colas", role="system")
    before = platform.http.post(
        platform.url("/v1/interactions"), json=visit(local_id, "Alta en el padrón"), headers=desk, timeout=15
    )
    assert before.status_code == 201, before.text
    before_id = str(before.json()["id"])

    # WHEN the Padrón sends its record and C360 links it to a golden record
    upsert(platform, PADRON, person(local_id, fresh_dni()))
    citizen_id = wait_for_citizen(platform, PADRON, local_id)

    # AND the queue manager records another visit against the same record, through the broker
    after = visit(local_id, "Certificado de empadronamiento")
    response = platform.send_event(RECORDED, after, source=QUEUE, event_id=str(uuid.uuid4()))
    assert response.status_code == 202, response.text

    # THEN both visits are in the citizen's timeline, newest first
    both = platform.wait_for(
        lambda: ids if len(ids := timeline_ids(platform, citizen_id)) == 2 else None,
        timeout=20,
        what="both visits in the timeline",
    )
    assert both[1] == before_id and both[0] != before_id

    # AND the citizen may now read the visit recorded against their record
    one = platform.http.get(platform.url(f"/v1/interactions/{before_id}"), headers=platform.as_(citizen_id), timeout=15)
    assert one.status_code == 200, one.text
    assert one.json()["record"] == {"source": PADRON, "local_id": local_id}
