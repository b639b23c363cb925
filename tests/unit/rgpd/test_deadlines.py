"""RGPD art. 12.3 deadline arithmetic: one month from receipt (Regulation 1182/71 art. 3), extendable to three."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.rgpd import deadlines

MADRID = ZoneInfo("Europe/Madrid")


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (date(2026, 3, 5), date(2026, 4, 6)),  # 5 April 2026 is a Sunday: Monday 6 April
        (date(2026, 3, 10), date(2026, 4, 10)),  # a Friday: no move
        (date(2026, 1, 31), date(2026, 2, 28)),  # no 31 February: the month's last day (then Monday 2 March)
        (date(2028, 1, 31), date(2028, 2, 29)),  # leap year: 29 February 2028, a Tuesday
        (date(2026, 12, 15), date(2027, 1, 15)),  # across the year's end
        (date(2026, 11, 26), date(2026, 12, 28)),  # 26 December 2026 is a Saturday: Monday 28
    ],
)
def test_one_month_from_receipt_to_the_same_date_or_the_months_last_day_then_a_working_day(
    received: date, due: date
) -> None:
    # GIVEN a request received at noon, Madrid time
    at = datetime(received.year, received.month, received.day, 12, tzinfo=MADRID)

    # WHEN its deadline is computed
    # THEN it is the expected day (see each case), until its last second in Madrid
    expected = deadlines.next_working_day(due)
    assert deadlines.due_date(at) == expected
    assert deadlines.due_at(at) == datetime(expected.year, expected.month, expected.day, 23, 59, 59, tzinfo=MADRID)


def test_31_january_2026_is_due_on_monday_2_march() -> None:
    # GIVEN 28 February 2026, the last day of February, is a Saturday
    assert date(2026, 2, 28).weekday() == 5

    # THEN a request of 31 January is due on Monday 2 March
    assert deadlines.due_date(datetime(2026, 1, 31, 9, tzinfo=MADRID)) == date(2026, 3, 2)


def test_receipt_is_read_in_madrid_time() -> None:
    # GIVEN a request received at 23:30 UTC on 30 April, already 1 May in Madrid (CEST, UTC+2)
    at = datetime(2026, 4, 30, 23, 30, tzinfo=UTC)

    # THEN it counts as received on 1 May: due on 1 June (a Monday)
    assert deadlines.due_date(at) == date(2026, 6, 1)


def test_the_deadline_runs_to_the_end_of_its_last_day_in_madrid_across_summer_time() -> None:
    # GIVEN a request received in winter (CET) whose deadline falls in summer time (CEST)
    due = deadlines.due_at(datetime(2026, 3, 10, 10, tzinfo=MADRID))

    # THEN the instant is 23:59:59 CEST, 21:59:59 UTC
    assert due == datetime(2026, 4, 10, 21, 59, 59, tzinfo=UTC)


def test_an_extension_gives_three_months_from_receipt_in_total() -> None:
    at = datetime(2026, 11, 30, 10, tzinfo=MADRID)
    # 28 February 2027 (no 30 February) is a Sunday: Monday 1 March
    assert deadlines.extended_due_at(at).astimezone(MADRID).date() == date(2027, 3, 1)


def test_overdue_is_past_the_deadline_without_an_answer_or_answered_after_it() -> None:
    due = datetime(2026, 4, 10, 21, 59, 59, tzinfo=UTC)
    before, after = datetime(2026, 4, 10, 12, tzinfo=UTC), datetime(2026, 4, 11, tzinfo=UTC)
    assert not deadlines.is_overdue(due, before)
    assert deadlines.is_overdue(due, after)
    assert not deadlines.is_overdue(due, after, completed_at=before)
    assert deadlines.is_overdue(due, after, completed_at=after)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)), st.integers(min_value=0, max_value=36))
def test_add_months_keeps_the_day_or_clamps_to_the_months_end(day: date, months: int) -> None:
    later = deadlines.add_months(day, months)
    assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == months
    assert later.day == min(day.day, calendar.monthrange(later.year, later.month)[1])


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_the_deadline_is_a_working_day_between_one_month_and_one_month_and_three_days_away(at: datetime) -> None:
    due = deadlines.due_date(at)
    received = at.astimezone(MADRID).date()
    assert due.weekday() < 5
    assert 0 <= (due - deadlines.add_months(received, 1)).days <= 2
