"""Functional: quiet hours defer interruptive channels (released when they end, not dropped), and the
highest-severity civil-protection alerts override them (Ley 17/2015)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from local.harness import ROOT, Platform
from tests.functional.consent_support import settle
from tests.functional.notification_support import (
    ALERT,
    IBI_VALUES,
    citizen_with,
    fresh_template,
    notify,
    profile,
    send_event,
    sink,
    status_of,
    unique_mobile,
    wait_status,
)

pytestmark = pytest.mark.functional


def quiet_now() -> dict[str, str]:
    """Quiet hours that cover the present moment in Madrid (one hour ago until two hours from now)."""
    local = datetime.now(ZoneInfo("Europe/Madrid"))
    return {
        "start": (local - timedelta(hours=1)).strftime("%H:%M"),
        "end": (local + timedelta(hours=2)).strftime("%H:%M"),
    }


def with_quiet_hours(platform: Platform, citizen: str, channels: list[str]) -> None:
    body = {"channels": channels, "quiet_hours": quiet_now()}
    response = platform.http.put(
        platform.url(f"/v1/citizens/{citizen}/preferences"), json=body, headers=platform.as_(citizen)
    )
    assert response.status_code == 200, response.text
    platform.wait_for(lambda: profile(platform, citizen)["quiet_hours"] is not None, what="the preferences projection")


def release(platform: Platform, now: datetime) -> str:
    """One pass of the release poller (the pic-notification-release Deployment) against this platform."""
    port = platform.args[platform.args.index("--dynamodb-port") + 1]
    env = {
        **os.environ, "PYTHONPATH": str(ROOT), "PIC_DYNAMODB_ENDPOINT": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_REGION": "eu-south-2",
    }  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "functions.notification.release", "--once", "--now", now.isoformat()],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return done.stdout


def test_an_sms_in_quiet_hours_waits_for_their_end_and_is_then_sent_once(platform: Platform) -> None:
    # GIVEN a citizen with only a mobile, in their quiet hours
    phone = unique_mobile()
    citizen = citizen_with(platform, phone=phone)
    with_quiet_hours(platform, citizen, ["sms"])
    template = fresh_template(platform)

    # WHEN a service notification is requested
    created = notify(
        platform, {"template": template, "recipient": {"citizen_id": citizen}, "personalisation": IBI_VALUES}
    )

    # THEN it is accepted but deferred to the end of the quiet hours, and nothing is sent yet
    assert created.status_code == 201, created.text
    assert (created.json()["status"], created.json()["reason"]) == ("accepted", "quiet-hours")
    status = status_of(platform, created.json()["id"])
    assert status["deliver_after"] and any("quiet hours" in r for r in status["reasons"])
    settle(platform)
    assert sink(platform, "sms", phone) == []
    assert status_of(platform, created.json()["id"])["status"] == "accepted"

    # WHEN the release poller runs after they end (twice: a restart re-walks the minute)
    after = datetime.fromisoformat(status["deliver_after"]).astimezone(UTC) + timedelta(minutes=1)
    assert "released 1" in release(platform, after)
    release(platform, after)

    # THEN the SMS is sent, once
    done = wait_status(platform, created.json()["id"])
    assert done["status"] == "delivered"
    settle(platform)
    assert len(sink(platform, "sms", phone)) == 1


def subscribed_with_push(platform: Platform, topic: str, zone: str) -> tuple[str, str]:
    citizen = f"c-{uuid.uuid4().hex[:10]}"
    endpoint = f"https://push.example.org/{uuid.uuid4().hex}"
    me = platform.as_(citizen)
    assert platform.http.put(
        platform.url(f"/v1/citizens/{citizen}/push-endpoint"), json={"endpoint": endpoint}, headers=me
    ).ok
    response = platform.http.post(
        platform.url(f"/v1/citizens/{citizen}/subscriptions"), json={"topic": topic, "zone": zone}, headers=me
    )
    assert response.status_code == 201, response.text
    with_quiet_hours(platform, citizen, ["push"])
    platform.wait_for(lambda: f"{topic}.{zone}" in profile(platform, citizen)["subscriptions"], what="the subscription")
    return citizen, endpoint


def test_an_extreme_civil_protection_alert_overrides_quiet_hours_a_severe_one_waits(platform: Platform) -> None:
    # GIVEN two citizens in their quiet hours, subscribed to civil protection in Tetuán (06) and Usera (12)
    _, tetuan = subscribed_with_push(platform, "civil-protection", "06")
    _, usera = subscribed_with_push(platform, "civil-protection", "12")

    # WHEN an extreme alert is published for Tetuán and a severe one for Usera
    extreme = {
        "topic": "civil-protection",
        "zones": ["06"],
        "severity": "extreme",
        "text": {"es": "Aviso rojo: no salga de casa."},
    }
    severe = {
        "topic": "civil-protection",
        "zones": ["12"],
        "severity": "severe",
        "text": {"es": "Aviso naranja por tormentas."},
    }
    send_event(platform, ALERT, extreme, source="/legacy/proteccion-civil", event_id=str(uuid.uuid4()))
    send_event(
        platform, ALERT, severe, source="/legacy/proteccion-civil", event_id=str(uuid.uuid4()), mode="structured"
    )

    # THEN the extreme one is pushed at once; the severe one waits for the end of the quiet hours
    platform.wait_for(lambda: sink(platform, "push", tetuan), what="the extreme alert")
    settle(platform)
    assert len(sink(platform, "push", tetuan)) == 1
    assert sink(platform, "push", usera) == []
