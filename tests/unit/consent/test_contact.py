"""The contact question asked of ``policies/consent`` and when quiet hours end (Europe/Madrid)."""

from __future__ import annotations

from datetime import UTC, datetime

from events.consent import Preferences, QuietHours
from functions.consent.service import ConsentState, PurposeConsent, contact_question, quiet_hours_end

QUIET = Preferences(quiet_hours=QuietHours(start="22:00", end="08:00"))


def test_the_question_carries_madrid_local_time_and_the_consents() -> None:
    # GIVEN 21:30 UTC in winter (22:30 in Madrid, CET = UTC+1)
    now = datetime(2026, 1, 15, 21, 30, tzinfo=UTC)
    state = ConsentState("c-1", {"campaigns": PurposeConsent(True, ("sms",), "2026-01")})
    # WHEN the question is built
    question = contact_question(state, QUIET, "campaigns", "sms", now, {"topic": "traffic", "severity": "high"})
    # THEN it names Madrid's time, the consent snapshot, the quiet hours and the message
    assert question["now"] == {"local_time": "22:30"}
    citizen = question["citizen"]
    assert isinstance(citizen, dict)
    assert citizen["consents"] == {"campaigns": {"granted": True, "channels": ["sms"], "text_version": "2026-01"}}
    assert citizen["preferences"] == {"quiet_hours": {"start": "22:00", "end": "08:00"}}
    assert question["message"] == {"topic": "traffic", "severity": "high"}


def test_summer_time_is_two_hours_ahead() -> None:
    question = contact_question(
        ConsentState("c-1"), Preferences(), "campaigns", "sms", datetime(2026, 7, 1, 6, 5, tzinfo=UTC)
    )
    assert question["now"] == {"local_time": "08:05"}
    assert "message" not in question


def test_quiet_hours_end_tomorrow_morning_when_asked_at_night() -> None:
    # GIVEN 23:00 in Madrid on 15 January WHEN quiet hours end at 08:00 THEN it is 08:00 on the 16th, Madrid time
    end = quiet_hours_end(QUIET, datetime(2026, 1, 15, 22, 0, tzinfo=UTC))
    assert end is not None and end.isoformat() == "2026-01-16T08:00:00+01:00"


def test_quiet_hours_end_the_same_morning_when_asked_before_dawn() -> None:
    end = quiet_hours_end(QUIET, datetime(2026, 1, 16, 5, 0, tzinfo=UTC))  # 06:00 in Madrid
    assert end is not None and end.isoformat() == "2026-01-16T08:00:00+01:00"


def test_quiet_hours_end_across_the_change_to_summer_time() -> None:
    # GIVEN the night of 28-29 March 2026 (clocks go from 02:00 to 03:00 in Madrid)
    end = quiet_hours_end(QUIET, datetime(2026, 3, 28, 22, 30, tzinfo=UTC))  # 23:30 CET
    # THEN 08:00 the next morning is in summer time (UTC+2)
    assert end is not None and end.isoformat() == "2026-03-29T08:00:00+02:00"


def test_no_quiet_hours_no_end() -> None:
    assert quiet_hours_end(Preferences(), datetime(2026, 1, 15, 22, 0, tzinfo=UTC)) is None
