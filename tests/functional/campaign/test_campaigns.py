"""Campaigns on the real platform (DynamoDB Local, the broker, the functions over HTTP, the dispatcher part): the
audience projected from real CloudEvents (binary and structured, one redelivered), a segment and its count by
channel, a campaign validated (a bad filter, a past schedule, a template field it cannot fill), paused and resumed,
dispatched to NOT as ``notification.batch.requested`` pages and finished; the impact report from NOT's status
events (a redelivery counted once) as JSON and PNG; four-eyes for a city-wide campaign."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.harness import Platform
from tests.functional.notification_support import put_template

pytestmark = pytest.mark.functional

UPDATED = "es.madrid.pic.citizen.updated.v1"
CONSENT = "es.madrid.pic.consent.changed.v1"
DELIVERED = "es.madrid.pic.notification.delivered.v1"
BATCH = "es.madrid.pic.notification.batch.requested.v1"
ITEM = "es.madrid.pic.position.item.upserted.v1"
TEMPLATE = {
    "purpose": "campaigns",
    "subject": {"es": "Vacuna de la gripe en {{ district_name }}", "en": "Flu vaccine in {{ district_name }}"},
    "body": {
        "es": "Ya puede vacunarse de la gripe en su centro de salud de {{ district_name }}.",
        "en": "You can now get your flu vaccine at your health centre in {{ district_name }}.",
    },
}


def manager(platform: Platform, sub: str = "ag-cm-1") -> dict[str, str]:
    return platform.as_(sub, role="agent", level=2, area="comunicacion")


def project(platform: Platform, cid: str, *, phone: bool, mode: str = "binary") -> None:
    at = datetime.now(UTC) - timedelta(minutes=5)
    updated = {
        "citizen_id": cid,
        "link": {"source": "/legacy/padron", "local_id": f"P{cid}", "change": "added"},
        "match": {"method": "new", "score": 1.0, "evidence": []},
        "updated_at": at.isoformat(),
        "contact": {"email": None if phone else f"{cid}@example.org", "phone": "+34600000000" if phone else None},
        "profile": {"birth_date": "1950-03-01", "district": "02"},
    }
    assert platform.send_event(UPDATED, updated, source="/pic/citizen", subject=cid, mode=mode).status_code == 202
    consent = {
        "citizen_id": cid, "purpose": "campaigns", "before": {"granted": False},
        "after": {"granted": True, "channels": ["email", "sms"], "text_version": "2026-01"}, "mode": "a",
        "proof_id": f"p-{cid}", "actor": {"kind": "citizen", "id": cid}, "capture_channel": "web", "language": "es",
        "text_sha256": None, "changed_at": at.isoformat(),
    }  # fmt: skip
    event_id = str(uuid.uuid4())
    for _ in range(2 if phone else 1):  # the second: a redelivery of the same event
        sent = platform.send_event(CONSENT, consent, source="/pic/consent", subject=cid, event_id=event_id, mode=mode)
        assert sent.status_code == 202


def post(platform: Platform, path: str, body: Any = None, who: dict[str, str] | None = None) -> Any:
    headers = who or manager(platform)
    return platform.http.post(platform.url(path), json=body if body is not None else {}, headers=headers, timeout=60)


def campaign_state(platform: Platform, campaign_id: str) -> dict[str, Any]:
    found = platform.http.get(platform.url(f"/v1/campaigns/{campaign_id}"), headers=manager(platform), timeout=15)
    assert found.status_code == 200, found.text
    return dict(found.json())


def test_a_segment_counted_by_channel_and_a_campaign_paused_resumed_finished_and_reported(platform: Platform) -> None:
    # GIVEN three people of Arganzuela aged 65+ with consent for campaigns (one by SMS only), projected from events
    tag = uuid.uuid4().hex[:6]
    people = [f"c-cmp-{tag}-{i}" for i in range(3)]
    for i, cid in enumerate(people):
        project(platform, cid, phone=i == 2, mode="structured" if i == 1 else "binary")
    platform.settle(*people)
    template = f"camp-{tag}"
    assert put_template(platform, template, TEMPLATE).status_code == 201

    # WHEN a bad filter is saved, THEN each error is named
    bad = post(platform, "/v1/segments", {"name": "x", "filter": {"all": [{"district": ["99"]}, {"age": {"min": -3}}]}})
    assert bad.status_code == 422 and len(bad.json()["errors"]) >= 2, bad.text

    # WHEN the segment is saved and counted
    tree = {
        "all": [
            {"district": ["02"]},
            {"age": {"min": 65}},
            {"consent": {"purpose": "campaigns", "channels": ["sms", "email"]}},
        ]
    }
    made = post(platform, "/v1/segments", {"name": f"Arganzuela 65+ {tag}", "filter": tree})
    assert made.status_code == 201, made.text
    segment_id = made.json()["id"]
    assert "Arganzuela" in made.json()["explanation"]["en"]
    counted = post(platform, f"/v1/segments/{segment_id}/count", {"purpose": "campaigns"})
    assert counted.status_code == 200, counted.text
    body = counted.json()
    # THEN (the segment is this session's: other tests' people are elsewhere or not projected) email and SMS
    assert body["targeted"] >= 3 and body["by_channel"]["sms"] >= 1 and body["by_channel"]["email"] >= 2
    assert all("citizen_id" not in row for row in body["sample"])

    # WHEN campaigns are asked for with a past schedule, or a template field they cannot fill
    base = {"name": f"Gripe {tag}", "segment_id": segment_id, "template": template}
    past = post(platform, "/v1/campaigns", {**base, "schedule": {"at": "2020-01-01T00:00:00+00:00"}})
    assert past.status_code == 422 and past.json()["type"].endswith("schedule-in-past"), past.text
    other = {**TEMPLATE, "body": {"es": "Debe {{ importe }} en {{ district_name }}.", "en": "{{ importe }}."}}
    assert put_template(platform, f"{template}-x", other).status_code == 201
    unfillable = post(platform, "/v1/campaigns", {**base, "template": f"{template}-x"})
    assert unfillable.status_code == 422 and "importe" in unfillable.text, unfillable.text

    # WHEN a valid one is created, scheduled, paused before its first page and resumed
    created = post(platform, "/v1/campaigns", base)
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    assert not created.json()["city_wide"]
    assert post(platform, f"/v1/campaigns/{campaign_id}/schedule").status_code == 200
    assert post(platform, f"/v1/campaigns/{campaign_id}/pause").status_code == 200
    assert post(platform, f"/v1/campaigns/{campaign_id}/pause").status_code == 409  # already paused
    assert post(platform, f"/v1/campaigns/{campaign_id}/resume").status_code == 200

    # THEN the dispatcher hands every member to NOT in batch pages keyed by the run, and the campaign finishes
    done = platform.wait_for(
        lambda: (s := campaign_state(platform, campaign_id))["state"] == "finished" and s, timeout=20, what="finished"
    )
    batches = platform.events(BATCH, subject=campaign_id)
    recipients = [r["citizen_id"] for e in batches for r in e["data"]["recipients"]]
    assert set(people) <= set(recipients) and len(recipients) == len(set(recipients)) == done["progress"]["dispatched"]
    assert all(e["data"]["campaign_id"] == f"{campaign_id}:1" and e["source"] == "/pic/campaign" for e in batches)
    assert [h["action"] for h in done["history"]][:4] == ["create", "schedule", "pause", "resume"]

    # THEN NOT decides each person at arrival (consent re-checked) and delivers: the report counts NOT's statuses
    def report() -> dict[str, Any]:
        found = platform.http.get(platform.url(f"/v1/campaigns/{campaign_id}/report"), headers=manager(platform),
                                  timeout=15)  # fmt: skip
        assert found.status_code == 200, found.text
        return dict(found.json())

    platform.wait_for(lambda: report()["totals"]["delivered"] >= 3, timeout=60, what="NOT's deliveries counted")
    # WHEN one of NOT's delivered events reaches the campaign again (the broker delivers at least once)
    sent = [e for e in platform.events(DELIVERED) if e["data"].get("campaign_id") == f"{campaign_id}:1"]
    again = sent[0]
    assert (
        platform.send_event(DELIVERED, again["data"], source="/pic/notification", event_id=again["id"]).status_code
        == 202
    )
    platform.settle(again["data"]["notification_id"])
    # THEN each is counted once, by district and channel
    totals = report()
    assert totals["totals"]["delivered"] == 3 and totals["by_district"]["02"]["delivered"] == 3
    assert totals["by_channel"]["sms"]["delivered"] == 1
    png = platform.http.get(
        platform.url(f"/v1/campaigns/{campaign_id}/report"), params={"format": "png", "language": "en"},
        headers=manager(platform), timeout=30,
    )  # fmt: skip
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    csv = platform.http.get(platform.url(f"/v1/campaigns/{campaign_id}/report"), params={"format": "csv"},
                            headers=manager(platform), timeout=15)  # fmt: skip
    assert csv.status_code == 200 and "Arganzuela" in csv.text


def test_a_city_wide_campaign_needs_another_managers_approval(platform: Platform) -> None:
    # GIVEN a segment with no district filter and a template for campaigns
    tag = uuid.uuid4().hex[:6]
    template = f"camp-{tag}"
    assert put_template(platform, template, TEMPLATE).status_code == 201
    made = post(platform, "/v1/segments", {"name": f"All {tag}", "filter": {"consent": {"purpose": "campaigns"}}})
    assert made.status_code == 201, made.text
    base = {"name": f"All {tag}", "segment_id": made.json()["id"], "template": template}
    unnamed = post(platform, "/v1/campaigns", base)  # not everyone has a district for {{ district_name }}
    assert unnamed.status_code == 422 and "district_name" in unnamed.text, unnamed.text
    created = post(platform, "/v1/campaigns", {**base, "personalisation": {"district_name": "Madrid"}})
    assert created.status_code == 201 and created.json()["city_wide"], created.text
    campaign_id = created.json()["id"]

    # WHEN its creator schedules or approves it, THEN four-eyes refuses; another manager's approval lets it go
    assert post(platform, f"/v1/campaigns/{campaign_id}/schedule").json()["type"].endswith("four-eyes")
    assert post(platform, f"/v1/campaigns/{campaign_id}/approve").status_code == 403
    assert post(platform, f"/v1/campaigns/{campaign_id}/approve", who=manager(platform, "ag-cm-2")).status_code == 200
    assert post(platform, f"/v1/campaigns/{campaign_id}/cancel").status_code == 200
    # AND an agent of another area may not even read it
    other = platform.as_("ag-x", role="agent", level=3, area="atencion-ciudadania")
    assert platform.http.get(platform.url(f"/v1/campaigns/{campaign_id}"), headers=other, timeout=15).status_code == 403


def test_an_area_systems_item_reaches_the_segment_through_c360s_link_and_leaves_when_withdrawn(
    platform: Platform,
) -> None:
    # GIVEN a receipt Tributos holds against its record of a person, before C360 has linked that record
    tag = uuid.uuid4().hex[:6]
    cid, local_id, area = f"c-rel-{tag}", f"T{tag}", f"hacienda-x{tag}"
    at = datetime.now(UTC) - timedelta(minutes=5)
    receipt = {
        "local_id": local_id, "section": "taxes", "item_id": f"ibi-2026-{tag}", "status": "pending",
        "title": "IBI 2026", "area": area, "as_of": at.isoformat(),
    }  # fmt: skip
    assert platform.send_event(ITEM, receipt, source="/legacy/tributos", subject=local_id).status_code == 202
    segment = post(platform, "/v1/segments", {"name": f"IBI {tag}", "filter": {"relation": {"section": "taxes",
                                                                                          "area": area}}})  # fmt: skip
    assert segment.status_code == 201, segment.text

    def targeted() -> int:
        counted = post(platform, f"/v1/segments/{segment.json()['id']}/count", {"purpose": "campaigns", "fresh": True})
        assert counted.status_code == 200, counted.text
        return int(counted.json()["targeted"])

    platform.settle(local_id)
    assert targeted() == 0  # nobody to give it to yet

    # WHEN C360 links the record to the person (in structured mode)
    link = {
        "citizen_id": cid, "link": {"source": "/legacy/tributos", "local_id": local_id, "change": "added"},
        "match": {"method": "document", "score": 1.0, "evidence": []}, "updated_at": at.isoformat(),
    }  # fmt: skip
    sent = platform.send_event(UPDATED, link, source="/pic/citizen", subject=cid, mode="structured")
    assert sent.status_code == 202
    platform.settle(cid)
    # THEN the person is in the segment
    assert targeted() == 1

    # WHEN Tributos withdraws the receipt (and a stale copy of it arrives after)
    withdrawn = {**receipt, "removed": True, "as_of": (at + timedelta(minutes=1)).isoformat()}
    assert platform.send_event(ITEM, withdrawn, source="/legacy/tributos", subject=local_id).status_code == 202
    assert platform.send_event(ITEM, receipt, source="/legacy/tributos", subject=local_id).status_code == 202
    platform.settle(local_id)
    # THEN the person leaves it
    assert targeted() == 0
