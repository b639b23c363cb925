"""SLA clocks from a case's history (``functions.case.sla``) on Madrid's business calendar: met, running, warning,
breached (and when), paused while waiting on the citizen, a late event or another calendar recomputed from the
history, a new clock for each message of the citizen, a reopened case's resolution counting on."""

from __future__ import annotations

from datetime import datetime

from functions.case.sla import Happened, Target, clock
from functions.core.calendar import ALWAYS_OPEN, BusinessCalendar
from functions.core.clock import MADRID

OFFICE = BusinessCalendar.from_hours({day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")})
HOUR = 3600.0
FIRST = Target("first-response", 4 * HOUR)
RESOLUTION = Target("resolution", 8 * HOUR)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=MADRID)


def state(when: datetime, name: str) -> Happened:
    return Happened(when, "state", name)


def test_a_first_response_in_time_is_met() -> None:
    history = [state(at(3, 9, 10), "new"), Happened(at(3, 9, 11, 30), "agent-reply")]
    done = clock(FIRST, history, OFFICE, at(3, 9, 15))
    assert (done.status, done.elapsed, done.met_at) == ("met", 1.5 * HOUR, at(3, 9, 11, 30))


def test_no_response_breaches_in_business_hours_and_says_when() -> None:
    history = [state(at(3, 9, 16), "new")]  # Monday 16:00; target 2 h: one hour today, one tomorrow
    late = clock(Target("first-response", 2 * HOUR), history, OFFICE, at(3, 10, 12))
    assert (late.status, late.breached_at, late.elapsed) == ("breached", at(3, 10, 10), 4 * HOUR)


def test_waiting_on_the_citizen_pauses_the_resolution_clock() -> None:
    history = [state(at(3, 9, 9), "new"), state(at(3, 9, 11), "waiting-on-citizen"), state(at(3, 11, 9), "open")]
    running = clock(RESOLUTION, history, OFFICE, at(3, 11, 10))
    assert (running.status, running.elapsed, running.due_at) == ("running", 3 * HOUR, at(3, 11, 15))
    assert running.paused == ((at(3, 9, 11), at(3, 11, 9)),)
    waiting = clock(RESOLUTION, history[:2], OFFICE, at(3, 10, 12))
    assert (waiting.status, waiting.due_at, waiting.elapsed) == ("paused", None, 2 * HOUR)


def test_a_late_event_or_another_calendar_recomputes_from_the_history() -> None:
    history = [state(at(3, 9, 9), "new"), state(at(3, 11, 9), "open"), state(at(3, 9, 11), "waiting-on-citizen")]
    assert clock(RESOLUTION, history, OFFICE, at(3, 11, 10)).elapsed == 3 * HOUR  # delivered last, counted in order
    assert clock(RESOLUTION, history, ALWAYS_OPEN, at(3, 11, 10)).elapsed == 3 * HOUR  # 09-11 and 09-10
    assert clock(RESOLUTION, history, ALWAYS_OPEN, at(3, 11, 10)).due_at == at(3, 11, 15)


def test_the_warning_comes_at_eighty_percent() -> None:
    history = [state(at(3, 9, 9), "new")]
    assert clock(RESOLUTION, history, OFFICE, at(3, 9, 15)).status == "running"  # 6 h of 8
    assert clock(RESOLUTION, history, OFFICE, at(3, 9, 15, 30)).status == "warning"  # 6.5 h: over 6.4


def test_a_holiday_is_not_business_time() -> None:
    history = [state(at(5, 14, 16), "new")]  # Thursday 14 May; Friday 15 is San Isidro
    assert clock(RESOLUTION, history, OFFICE, at(5, 14, 16, 30)).due_at == at(5, 18, 16)


def test_each_message_of_the_citizen_starts_a_new_next_response_clock() -> None:
    target = Target("next-response", 2 * HOUR)
    history = [state(at(3, 9, 9), "open"), Happened(at(3, 9, 10), "citizen-message"),
               Happened(at(3, 9, 10, 30), "agent-reply"), Happened(at(3, 9, 14), "citizen-message")]  # fmt: skip
    assert clock(target, history[:3], OFFICE, at(3, 9, 12)).status == "met"
    now = clock(target, history, OFFICE, at(3, 9, 15))
    assert (now.status, now.elapsed, now.due_at) == ("running", HOUR, at(3, 9, 16))


def test_closing_before_a_response_stops_the_clock_and_a_reopened_case_counts_on() -> None:
    history = [state(at(3, 9, 9), "new"), state(at(3, 9, 10), "merged")]
    assert clock(FIRST, history, OFFICE, at(3, 9, 12)).status == "stopped"
    resolved = [state(at(3, 9, 9), "new"), state(at(3, 9, 12), "resolved")]
    assert clock(RESOLUTION, resolved, OFFICE, at(3, 9, 13)).status == "met"
    reopened = clock(RESOLUTION, [*resolved, state(at(3, 10, 9), "open")], OFFICE, at(3, 10, 10))
    assert (reopened.status, reopened.elapsed) == ("running", 4 * HOUR)


def test_nothing_before_the_case_exists() -> None:
    assert clock(FIRST, [], OFFICE, at(3, 9, 9)).status == "not-started"
    assert clock(FIRST, [state(at(3, 9, 10), "new")], OFFICE, at(3, 9, 9)).status == "not-started"  # not yet
