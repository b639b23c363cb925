"""Functional: bulk jobs (JSON and CSV, per-row errors, size limits) and alerts fanned out by topic and zone."""

from __future__ import annotations

import uuid

import pytest

from local.harness import Platform
from tests.functional.consent_support import assert_problem, settle
from tests.functional.notification_support import (
    ALERT,
    IBI_VALUES,
    fresh_template,
    profile,
    send_event,
    sink,
    system,
    unique_email,
)

pytestmark = pytest.mark.functional


def bulk_progress(platform: Platform, bulk_id: str) -> dict:
    response = platform.http.get(
        platform.url(f"/v1/notifications/bulk/{bulk_id}"), headers=system(platform), timeout=10
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def wait_done(platform: Platform, bulk_id: str) -> dict:
    return dict(
        platform.wait_for(
            lambda: (p := bulk_progress(platform, bulk_id))["state"] == "done" and p, timeout=40, what="the bulk job"
        )
    )


def test_a_json_bulk_job_sends_the_valid_rows_and_reports_the_malformed_one(platform: Platform) -> None:
    # GIVEN a template and three rows, the third with an address that is not one
    template = fresh_template(platform)
    emails = [unique_email(), unique_email()]
    rows = [{"recipient": {"email": e}, "personalisation": IBI_VALUES} for e in emails]
    rows.append({"recipient": {"email": "nope"}, "personalisation": IBI_VALUES})

    # WHEN they are sent as one bulk request
    response = platform.http.post(
        platform.url("/v1/notifications/bulk"),
        json={"template": template, "recipients": rows},
        headers=system(platform),
    )

    # THEN a job id at once, row 3 reported, and the two others delivered once each
    assert response.status_code == 202, response.text
    job = response.json()
    assert (job["total"], job["valid"], job["malformed_count"]) == (3, 2, 1)
    assert job["malformed"][0]["row"] == 3 and job["malformed"][0]["errors"][0]["field"] == "recipient.email"
    done = wait_done(platform, job["id"])
    assert (done["accepted"], done["delivered"], done["failed"]) == (2, 2, 0)
    for email in emails:
        assert len(sink(platform, "mail", email)) == 1


def test_a_csv_bulk_job_reports_malformed_rows_and_processes_the_rest(platform: Platform) -> None:
    # GIVEN a CSV with a good row, a row with too few values and a row missing a personalisation value
    template = fresh_template(platform)
    good = unique_email()
    csv = f"email,name,year,due\n{good},Inés,2026,30 de noviembre\n{unique_email()},Ana\n{unique_email()},Ana,2026,\n"

    # WHEN it is posted as text/csv
    response = platform.http.post(
        platform.url("/v1/notifications/bulk"), params={"template": template}, data=csv.encode(),
        headers={**system(platform), "Content-Type": "text/csv"},
    )  # fmt: skip

    # THEN rows 2 and 3 are reported with their reasons; row 1 is delivered
    assert response.status_code == 202, response.text
    job = response.json()
    assert [m["row"] for m in job["malformed"]] == [2, 3]
    assert job["malformed"][1]["errors"][0]["field"] == "personalisation.due"
    wait_done(platform, job["id"])
    assert len(sink(platform, "mail", good)) == 1


def test_more_than_100000_recipients_is_a_413_problem(platform: Platform) -> None:
    template = fresh_template(platform)
    csv = "email,name,year,due\n" + "a@example.org,A,2026,hoy\n" * 100_001
    response = platform.http.post(
        platform.url("/v1/notifications/bulk"), params={"template": template}, data=csv.encode(),
        headers={**system(platform), "Content-Type": "text/csv"}, timeout=60,
    )  # fmt: skip
    assert_problem(response, 413, "payload-too-large")


def test_a_bulk_request_for_an_unknown_template_is_a_422(platform: Platform) -> None:
    response = platform.http.post(
        platform.url("/v1/notifications/bulk"),
        json={"template": "nope-none", "recipients": [{"recipient": {"email": unique_email()}}]},
        headers=system(platform),
    )
    assert_problem(response, 422, "template-unknown")


def subscribe(platform: Platform, citizen: str, topic: str, zone: str) -> None:
    response = platform.http.post(
        platform.url(f"/v1/citizens/{citizen}/subscriptions"),
        json={"topic": topic, "zone": zone},
        headers=platform.as_(citizen),
    )
    assert response.status_code == 201, response.text
    platform.wait_for(
        lambda: f"{topic}.{zone}" in profile(platform, citizen)["subscriptions"], what="the subscription projection"
    )


def test_a_zone_alert_reaches_the_subscribers_of_the_district_and_its_barrios_only(platform: Platform) -> None:
    # GIVEN a citizen subscribed to traffic in barrio 011 (Palacio) with a push endpoint, one in district 01
    # (Centro) without any, and one in district 02 (Arganzuela)
    topic = "traffic"
    barrio, district, elsewhere = (f"c-{uuid.uuid4().hex[:10]}" for _ in range(3))
    endpoint = f"https://push.example.org/{uuid.uuid4().hex}"
    assert (
        platform.http.put(
            platform.url(f"/v1/citizens/{barrio}/push-endpoint"),
            json={"endpoint": endpoint},
            headers=platform.as_(barrio),
        ).status_code
        == 200
    )
    subscribe(platform, barrio, topic, "011")
    subscribe(platform, district, topic, "01")
    subscribe(platform, elsewhere, topic, "02")

    # WHEN Movilidad publishes a traffic alert for district 01 (structured mode, sent twice)
    event_id = str(uuid.uuid4())
    data = {
        "topic": topic,
        "zones": ["01"],
        "severity": "moderate",
        "text": {"es": "Corte de tráfico en la Gran Vía hasta las 20:00."},
    }
    for mode in ("structured", "binary"):
        send_event(platform, ALERT, data, source="/legacy/movilidad", event_id=event_id, mode=mode)

    # THEN the barrio subscriber gets one push, the district one an in-app message, the other nothing
    platform.wait_for(lambda: sink(platform, "push", endpoint), what="the push")
    inbox_url = platform.url(f"/v1/citizens/{district}/inbox")
    platform.wait_for(
        lambda: platform.http.get(inbox_url, headers=platform.as_(district)).json()["messages"], what="the inbox"
    )
    settle(platform)
    (push,) = sink(platform, "push", endpoint)
    assert "Gran Vía" in push["body"]
    assert len(platform.http.get(inbox_url, headers=platform.as_(district)).json()["messages"]) == 1
    assert (
        platform.http.get(platform.url(f"/v1/citizens/{elsewhere}/inbox"), headers=platform.as_(elsewhere)).json()[
            "messages"
        ]
        == []
    )


def test_an_alert_for_an_unknown_zone_is_dead_lettered_with_the_reason(platform: Platform) -> None:
    event_id = str(uuid.uuid4())
    data = {"topic": "traffic", "zones": ["99"], "severity": "minor", "text": {"es": "Aviso."}}
    send_event(platform, ALERT, data, source="/legacy/movilidad", event_id=event_id)
    letter = platform.wait_for(
        lambda: [d for d in platform.deadletters() if d["event"]["id"] == event_id], what="the dead letter"
    )[0]
    assert "99" in str(letter)
