"""Functional: a formula recorded as data never runs in the spreadsheet of the person who downloads their
data (OWASP "CSV injection"): through the real interaction API, the access request and its export zip."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import timedelta

import pytest

from local.harness import Platform
from tests.functional.rgpd.test_rgpd_domains import NOW, agent, csv_rows, iso, open_request, wait_completed

pytestmark = pytest.mark.functional

FORMULA = '=HYPERLINK("http://evil","x")'


def test_a_formula_in_an_interaction_topic_is_inert_in_the_access_export(platform: Platform, citizen_id: str) -> None:
    # GIVEN an interaction whose topic a hostile caller made a spreadsheet formula
    body = {
        "interaction_id": f"it-{uuid.uuid4().hex[:10]}",
        "citizen_id": citizen_id,
        "channel": {"kind": "call", "direction": "inbound", "line": "010"},
        "area": "hacienda",
        "topic": FORMULA,
        "started_at": iso(NOW - timedelta(minutes=5)),
        "ended_at": iso(NOW),
    }
    headers = {**agent(platform), "Access-Purpose": "CALL-010-9", "Idempotency-Key": str(uuid.uuid4())}
    created = platform.http.post(platform.url("/v1/interactions"), json=body, headers=headers, timeout=15)
    assert created.status_code == 201, created.text
    me = platform.as_(citizen_id)

    def in_position() -> bool:
        answer = platform.http.get(platform.url(f"/v1/citizens/{citizen_id}/position"), headers=me, timeout=15)
        found = {s["section"]: s for s in answer.json().get("sections", [])}
        return bool(found.get("interactions", {}).get("summary", {}).get("count"))

    platform.wait_for(in_position, timeout=30, what="the interaction in the citizen's position")

    # WHEN the citizen asks for a copy of their data and downloads the zip
    request_id = open_request(platform, citizen_id, {"right": "access"})
    view = wait_completed(platform, citizen_id, request_id)
    response = platform.http.get(platform.url(view["export"]), headers=me, timeout=15)
    assert response.status_code == 200, response.text
    archive = zipfile.ZipFile(io.BytesIO(response.content))

    # THEN in every CSV the topic starts with a quote: shown as text, never evaluated
    interactions = csv_rows(archive, "interaction/interactions.csv")
    assert [r["topic"] for r in interactions] == ["'" + FORMULA]
    items = csv_rows(archive, "position/items.csv")
    cells = [value for row in items for value in row.values()]
    assert "'" + FORMULA in cells, items
    for name in archive.namelist():
        if name.endswith(".csv"):
            for row in csv_rows(archive, name):
                assert not any(str(v).startswith(("=", "@", "\t", "\r")) for v in row.values()), (name, row)
    # AND export.json keeps the topic verbatim (the machine-readable copy loses nothing)
    document = json.loads(archive.read("export.json"))["domains"]
    assert document["interaction"]["data"]["interactions"][0]["topic"] == FORMULA
