"""``GET /v1/citizens/{id}/contact-decision``: ``policies/consent`` answered for a real citizen, now."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from local.harness import Platform
from tests.functional.consent_support import GIVE, citizen_url, put_consent

pytestmark = pytest.mark.functional
MADRID = ZoneInfo("Europe/Madrid")


def quiet_hours_around_now() -> dict[str, str]:
    """Quiet hours from an hour ago to an hour from now, Madrid time (crossing midnight when it must)."""
    now = datetime.now(MADRID)
    return {"start": (now - timedelta(hours=1)).strftime("%H:%M"), "end": (now + timedelta(hours=1)).strftime("%H:%M")}


def ask(platform: Platform, citizen_id: str, headers: dict[str, str], **params: str) -> dict[str, object]:
    response = platform.http.get(citizen_url(platform, citizen_id, "/contact-decision"), params=params, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.fixture
def citizen_in_quiet_hours(platform: Platform, citizen_id: str) -> str:
    # GIVEN a citizen who consents to campaigns by e-mail and SMS and is inside their quiet hours now
    me = {**platform.as_(citizen_id), "content-type": "application/json"}
    assert put_consent(platform, citizen_id, "campaigns", {**GIVE, "channels": ["email", "sms"]}, me).status_code == 200
    prefs = {"language": "es", "channels": ["email"], "quiet_hours": quiet_hours_around_now()}
    assert platform.http.put(citizen_url(platform, citizen_id, "/preferences"), json=prefs, headers=me).ok
    return citizen_id


def test_an_internal_system_may_email_a_consenting_citizen(platform: Platform, citizen_in_quiet_hours: str) -> None:
    # WHEN the notifications system asks about campaigns by e-mail
    system = platform.as_("svc-notifications", role="system")
    answer = ask(platform, citizen_in_quiet_hours, system, purpose="campaigns", channel="email")
    # THEN it may: consent given, e-mail does not interrupt
    assert answer["allow"] is True and answer["defer"] is False
    assert answer["legal_basis"] == "RGPD art. 6.1.a"
    assert any("2026-01" in reason for reason in answer["reasons"])


def test_an_sms_waits_for_the_end_of_quiet_hours(platform: Platform, citizen_in_quiet_hours: str) -> None:
    # WHEN the same question is asked for SMS, which interrupts
    system = platform.as_("svc-notifications", role="system")
    answer = ask(platform, citizen_in_quiet_hours, system, purpose="campaigns", channel="sms")
    # THEN not now: deferred to the end of the quiet hours, about an hour from now (not dropped)
    assert answer["allow"] is False and answer["defer"] is True
    defer_until = datetime.fromisoformat(str(answer["defer_until"]))
    assert timedelta(minutes=58) <= defer_until - datetime.now(MADRID) <= timedelta(minutes=61)
    assert any("quiet hours" in str(reason).lower() for reason in answer["reasons"])


def test_an_extreme_civil_protection_alert_overrides_quiet_hours(
    platform: Platform, citizen_in_quiet_hours: str
) -> None:
    # WHEN a service notification about an extreme civil-protection alert would go by SMS
    system = platform.as_("svc-alerts", role="system")
    answer = ask(
        platform,
        citizen_in_quiet_hours,
        system,
        purpose="service-notifications",
        channel="sms",
        topic="civil-protection",
        severity="extreme",
    )
    # THEN it goes now, on the legal basis of a public task, saying why quiet hours were overridden
    assert answer["allow"] is True and answer["defer"] is False
    assert "6.1.c" in str(answer["legal_basis"])
    assert any("Ley 17/2015" in str(reason) for reason in answer["reasons"])


def test_no_consent_no_campaign_with_the_reason(platform: Platform, citizen_id: str) -> None:
    # GIVEN a citizen who never consented WHEN asked about campaigns by e-mail
    answer = ask(
        platform, citizen_id, platform.as_("svc-campaigns", role="system"), purpose="campaigns", channel="email"
    )
    # THEN no, and the reason names the purpose, the channel and the legal source; the citizen is in mode a
    assert answer["allow"] is False and answer["defer"] is False and answer["mode"] == "a"
    assert any("campaigns" in str(r) and "6.1.a" in str(r) for r in answer["reasons"])


def test_a_citizen_may_ask_about_themselves_but_a_system_reads_no_consents(platform: Platform, citizen_id: str) -> None:
    # GIVEN the citizen's own token, and an internal system's
    mine = ask(platform, citizen_id, platform.as_(citizen_id), purpose="surveys", channel="email")
    assert mine["allow"] is False
    # WHEN the system tries to read the consents themselves THEN 403: it may only ask for the decision
    system = platform.as_("svc-notifications", role="system")
    assert platform.http.get(citizen_url(platform, citizen_id, "/consents"), headers=system).status_code == 403


def test_purpose_and_channel_are_required(platform: Platform, citizen_id: str) -> None:
    response = platform.http.get(
        citizen_url(platform, citizen_id, "/contact-decision"),
        params={"purpose": "campaigns"},
        headers=platform.as_(citizen_id),
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == ["channel"]
