"""Madrid's business calendar (``functions.core.calendar``): national and Comunidad de Madrid holidays from the
``holidays`` library, the city's own two as data, opening hours per weekday, business time between instants and
due times after it, across weekends, holidays and the changes of time; the running sums per day give what
counting each day's intervals one by one gives, on random calendars and instants."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from functions.core.calendar import ALWAYS_OPEN, DAYS, MAX_DAYS, BusinessCalendar, holiday
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


# ---- the running sums give what counting day by day gives --------------------------------------------------------


def counted_seconds(calendar: BusinessCalendar, start: datetime, end: datetime) -> float:
    """``business_seconds`` as it was written before the running sums: every day's intervals, one by one."""
    if end <= start:
        return 0.0
    total, day, last = 0.0, start.astimezone(MADRID).date(), end.astimezone(MADRID).date()
    while day <= last:
        for opens, closes in calendar.open_on(day):
            lo, hi = max(opens, start), min(closes, end)
            if hi > lo:
                total += (hi.astimezone(UTC) - lo.astimezone(UTC)).total_seconds()
        day += timedelta(days=1)
    return total


def counted_add(calendar: BusinessCalendar, start: datetime, seconds: float) -> datetime:
    """``add`` as it was written before the running sums."""
    remaining, day = max(0.0, seconds), start.astimezone(MADRID).date()
    for _ in range(MAX_DAYS):
        for opens, closes in calendar.open_on(day):
            lo = max(opens, start)
            if closes <= lo:
                continue
            length = (closes.astimezone(UTC) - lo.astimezone(UTC)).total_seconds()
            if remaining <= length and (remaining > 0 or lo < closes):
                return (lo.astimezone(UTC) + timedelta(seconds=remaining)).astimezone(MADRID)
            remaining -= length
        day += timedelta(days=1)
    raise ValueError("does not fit")


def random_calendar(rng: random.Random) -> BusinessCalendar:
    """Hours in quarters of an hour, none from 02:00 to 03:00: in the hour the clocks skip or repeat, counting
    day by day compared local times as they read (a quirk, not a rule); the sums count real time there."""
    hours: dict[str, list[str]] = {}
    quarters = [q for q in range(0, 24 * 4 + 1) if not 8 <= q <= 12]
    for day in rng.sample(DAYS, rng.randint(1, 7)):
        marks = sorted(rng.sample(quarters, 2 * rng.randint(1, 3)))
        hours[day] = [f"{_mark(a)}-{_mark(b)}" for a, b in zip(marks[::2], marks[1::2], strict=True) if a < b]
    return BusinessCalendar.from_hours(hours, holidays_open=rng.random() < 0.3)


def _mark(quarter: int) -> str:
    return "24:00" if quarter == 96 else f"{quarter // 4:02d}:{quarter % 4 * 15:02d}"


def random_instant(rng: random.Random, precise: bool) -> datetime:
    moment = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(0, 3 * 365 * 86400, 60))
    if precise:
        moment += timedelta(microseconds=rng.randrange(0, 60_000_000))
    return moment.astimezone(MADRID) if rng.random() < 0.7 else moment


@pytest.mark.parametrize("seed", range(25))
def test_the_running_sums_count_what_counting_each_day_counts(seed: int) -> None:
    rng = random.Random(seed)
    calendar = random_calendar(rng)
    for _ in range(120):
        precise = rng.random() < 0.3
        start = random_instant(rng, precise)
        span = rng.choice((0, 1, 3600, 86400, 40 * 86400, 400 * 86400)) * rng.random()
        end = start + timedelta(seconds=span if precise else round(span))
        seconds = rng.choice((0.0, 60.0, 3600.0, 8 * 3600.0, 300 * 3600.0, rng.random() * 1e5))
        expected = counted_seconds(calendar, start, end)
        assert calendar.business_seconds(start, end) == pytest.approx(expected, abs=1e-6), (calendar, start, end)
        try:
            counted = counted_add(calendar, start, seconds)
        except ValueError:
            with pytest.raises(ValueError, match="do not fit"):  # ten years of this calendar hold too little
                calendar.add(start, seconds)
            continue
        due = calendar.add(start, seconds)
        assert abs((due - counted).total_seconds()) <= 1e-6 and due.tzinfo is MADRID, (calendar, start, seconds)
        if not precise and seconds == int(seconds):  # whole seconds: exactly the same figures
            assert calendar.business_seconds(start, end) == expected and due == counted


def test_a_calendar_with_too_little_open_time_is_refused_and_early_days_are_counted_too() -> None:
    sparse = BusinessCalendar.from_hours({"sat": ["10:00-10:01"]})
    with pytest.raises(ValueError, match="do not fit"):
        sparse.add(at(2026, 3, 9, 9), 600 * 60.0)  # ten years of one minute a week: about 520 minutes
    assert sparse.add(at(2026, 3, 9, 9), 60.0) == at(2026, 3, 14, 10, 1)
    # a day far earlier than any asked before: the sums grow backwards and still agree
    assert OFFICE.business_seconds(at(2001, 3, 12, 9), at(2001, 3, 12, 11)) == 2 * HOUR
    assert OFFICE.business_seconds(at(2001, 3, 12, 9), at(2026, 3, 12, 11)) == counted_seconds(
        OFFICE, at(2001, 3, 12, 9), at(2026, 3, 12, 11)
    )


def test_a_calendar_built_again_from_the_same_hours_shares_the_sums_the_first_built() -> None:
    # an area's configuration builds its calendar for each question: the sums are built once per process
    again = BusinessCalendar.from_hours({day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")})
    assert again == OFFICE and again._days is OFFICE._days  # the cache is the point
    assert again.business_seconds(at(2026, 3, 13, 16), at(2026, 3, 16, 10)) == 2 * HOUR
    assert BusinessCalendar.from_hours({"mon": ["09:00-17:00"]})._days is not OFFICE._days
