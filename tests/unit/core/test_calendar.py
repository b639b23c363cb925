"""Madrid's business calendar (``functions.core.calendar``): national and Comunidad de Madrid holidays from the
``holidays`` library, the city's own two as data, opening hours per weekday, business time between instants and
due times after it, across weekends, holidays and the changes of time."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from functions.core.calendar import ALWAYS_OPEN, BusinessCalendar, holiday
from functions.core.clock import MADRID

OFFICE = BusinessCalendar.from_hours({day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")})
HOUR = 3600.0


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=MADRID)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 5, 15), "San Isidro"),  # the city's own, not in the library
        (date(2026, 11, 9), "Almudena"),
        (date(2026, 5, 2), "Madrid"),  # the Comunidad's (Dos de Mayo)
        (date(2026, 12, 8), "Inmaculada"),  # national
        (date(2026, 12, 7), "Constitución"),  # the Monday that replaces 6 December, a Sunday in 2026
    ],
)
def test_madrids_holidays_are_national_regional_and_local(day: date, name: str) -> None:
    assert name in (holiday(day) or "")


def test_an_ordinary_working_day_is_no_holiday() -> None:
    assert holiday(date(2026, 12, 9)) is None and holiday(date(2026, 5, 14)) is None


def test_business_time_skips_nights_weekends_and_holidays() -> None:
    # Friday 16:00 to Monday 10:00: one hour on Friday, one on Monday
    assert OFFICE.business_seconds(at(2026, 3, 13, 16), at(2026, 3, 16, 10)) == 2 * HOUR
    # Thursday 14 May 16:00 to Monday 18 May 10:00: San Isidro (Friday) closed too
    assert OFFICE.business_seconds(at(2026, 5, 14, 16), at(2026, 5, 18, 10)) == 2 * HOUR
    assert OFFICE.business_seconds(at(2026, 5, 18, 10), at(2026, 5, 14, 16)) == 0


def test_a_due_time_counts_open_hours_only() -> None:
    # 8 business hours from Thursday 14 May 16:00: one that day, then Monday 18 May from 09:00 to 16:00
    assert OFFICE.add(at(2026, 5, 14, 16), 8 * HOUR) == at(2026, 5, 18, 16)
    # asked while closed, the clock starts at the next opening
    assert OFFICE.add(at(2026, 5, 16, 12), 30 * 60) == at(2026, 5, 18, 9, 30)
    assert OFFICE.add(at(2026, 5, 16, 12), 0) == at(2026, 5, 18, 9)


def test_a_day_with_the_change_of_time_is_as_long_as_it_really_is() -> None:
    # 29 March 2026: clocks go from 02:00 to 03:00 in Madrid, the day has 23 hours
    assert ALWAYS_OPEN.business_seconds(at(2026, 3, 28, 12), at(2026, 3, 29, 12)) == 23 * HOUR
    assert ALWAYS_OPEN.add(at(2026, 10, 24, 12), 24 * HOUR) == at(2026, 10, 25, 11)  # 25 October: 25 hours


def test_a_due_time_and_the_business_time_to_it_agree() -> None:
    rng = random.Random(14)
    split = BusinessCalendar.from_hours(
        {"mon": ["08:30-14:00", "16:00-19:30"], "wed": ["10:00-13:00"], "sat": ["10:00-12:00"]}
    )
    for _ in range(300):
        start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
        seconds = rng.randrange(0, 40) * 15 * 60.0
        due = split.add(start, seconds)
        assert split.business_seconds(start, due) == seconds, (start, seconds, due)


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({"lun": ["09:00-14:00"]}, "unknown days"),
        ({"mon": ["9-14"]}, "HH:MM"),
        ({"mon": ["14:00-09:00"]}, "ends before"),
        ({"mon": ["09:00-14:00", "13:00-15:00"]}, "previous interval"),
        ({}, "no opening hour"),
    ],
)
def test_hours_that_cannot_be_meant_are_refused_saying_why(hours: dict[str, list[str]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar.from_hours(hours)
