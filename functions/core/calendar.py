"""Madrid's business calendar: when a council service is open, how much business time lies between two instants,
and when a given amount of it will have passed (an SLA's due time).

Holidays are Spain's and the Comunidad de Madrid's, from the maintained ``holidays`` library (country ES,
subdivision MD), plus the city's two local holidays, which the library lacks, kept as data with their source
(``data/madrid_calendar.json``: San Isidro, 15 May; La Almudena, 9 November). Opening hours are each service's
own (``BusinessCalendar.from_hours``: an area's office hours, or all day every day for a 24-hour line). Every
instant is timezone-aware and every day is a local day in Europe/Madrid; lengths are measured in UTC, so a day on
which the clocks change is an hour shorter or longer, as it really is (and an opening hour written inside the hour
the clocks skip or repeat counts by the real instant it names).
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import holidays

from functions.core.clock import MADRID

_DATA = Path(__file__).parent / "data" / "madrid_calendar.json"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 3660  # ten years: a calendar with no open hour in that span is refused, never looped over forever
GROWTH = 92  # the fewest days a calendar's running sums grow by (they double as they are asked further)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)

Interval = tuple[time, time]


@lru_cache(maxsize=1)
def _local_rule() -> dict[str, Any]:
    rule: dict[str, Any] = json.loads(_DATA.read_text(encoding="utf-8"))["local_holidays"]
    return rule


@lru_cache(maxsize=64)
def holidays_of(year: int) -> dict[date, str]:
    """Every holiday of ``year`` in the city of Madrid, by day, with its name in Spanish."""
    found = {
        day: str(name) for day, name in holidays.country_holidays("ES", subdiv="MD", years=year, language="es").items()
    }
    rule = _local_rule()
    for local in rule["by_year"].get(str(year), rule["every_year"]):
        found[date(year, int(local["month"]), int(local["day"]))] = str(local["name"])
    return found


def holiday(day: date) -> str | None:
    """The holiday's name, or ``None`` on a day that is not one."""
    return holidays_of(day.year).get(day)


@dataclass(frozen=True)
class BusinessCalendar:
    """A service's opening hours per weekday (Monday first), closed on Madrid's holidays unless ``holidays_open``
    (a 24-hour line that never closes)."""

    hours: tuple[tuple[Interval, ...], ...]  # seven entries, Monday to Sunday
    holidays_open: bool = False

    def __post_init__(self) -> None:
        # not a field (no part of equality, hashing or the repr), and shared by equal calendars: a calendar built
        # again for each question (from an area's configuration) finds the sums the first one built
        object.__setattr__(self, "_cache", _shared_days(self.hours, self.holidays_open))

    @property
    def _days(self) -> _Days:
        days: _Days = self.__dict__["_cache"]
        return days

    @classmethod
    def from_hours(cls, hours: dict[str, list[str]], *, holidays_open: bool = False) -> BusinessCalendar:
        """Hours as data: ``{"mon": ["09:00-14:00", "16:00-18:00"], ...}``, ``"24:00"`` for the end of the day; a
        day absent is closed. ``ValueError`` naming what is wrong (an unknown day, a time that is not HH:MM, an
        interval that ends before it starts or overlaps the previous one)."""
        unknown = set(hours) - set(DAYS)
        if unknown:
            raise ValueError(f"unknown days {sorted(unknown)}: use {', '.join(DAYS)}")
        week = tuple(_intervals(day, hours.get(day, [])) for day in DAYS)
        if not any(week):
            raise ValueError("a calendar with no opening hour at all")
        return cls(week, holidays_open)

    def open_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's opening intervals as aware instants (none on a holiday, unless the service keeps them open)."""
        return _open_on(self.hours, self.holidays_open, day)

    def is_open(self, at: datetime) -> bool:
        return any(start <= at < end for start, end in self.open_on(at.astimezone(MADRID).date()))

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """The open time between two instants, in seconds (0 when ``end`` is not after ``start``): the open time
        before ``end`` less the open time before ``start``, from the calendar's running sums per day."""
        if end <= start:
            return 0.0
        first, last = _ordinal(start), _ordinal(end)
        days = self._days.covering(first, last)
        return (days.before(_us(end), last) - days.before(_us(start), first)) / 1e6

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant at which ``seconds`` of open time will have passed since ``start`` (a due time); ``start``
        itself, or the next opening, for zero. ``ValueError`` when ten years hold too little open time. The running
        sums find the day it falls on; that day's intervals are then counted one by one."""
        remaining = max(0.0, seconds)
        ordinal, at = _ordinal(start), _us(start)
        found = self._days.day_reaching(ordinal, at, remaining)
        if found is None:
            raise ValueError(f"{seconds} s of open time do not fit in {MAX_DAYS} days of this calendar")
        day, sums, base = found
        if day > ordinal:
            remaining -= (sums.before_day(day) - base) / 1e6
        for opens, closes in sums.intervals_of(day):
            lo = max(opens, at)
            if closes <= lo:
                continue
            length = (closes - lo) / 1e6
            if remaining <= length:
                return (_EPOCH + timedelta(microseconds=lo) + timedelta(seconds=remaining)).astimezone(MADRID)
            remaining -= length
        return self.add(_midnight(day + 1), remaining)  # rounding left a fraction of a µs over: the next day on


class _Days:
    """A calendar's open intervals per local day, in whole microseconds since the epoch (exact: no rounding), and the
    open time before each day (a running sum), built on first use around the days asked and grown (doubling) as
    later or earlier days are asked. The business time between two instants is then a difference of two sums and
    a due time a search in them, instead of every day between them rebuilt as aware datetimes (an SLA sweep asks
    this millions of times). Growing replaces the state whole, so a thread reading meanwhile sees a consistent
    one."""

    def __init__(self, hours: tuple[tuple[Interval, ...], ...], holidays_open: bool) -> None:
        self._hours, self._holidays_open = hours, holidays_open
        self._state = _Sums(0, (), (0,))

    def covering(self, first: int, last: int) -> _Sums:
        """The sums, holding at least the days ``first`` to ``last`` (ordinals)."""
        state = self._state
        if state.first <= first and last < state.end:
            return state
        if not state.intervals:
            state = _Sums.of(first, self._days(first, last + 1 + GROWTH))
        else:
            growth = max(GROWTH, len(state.intervals))
            lo = state.first if first >= state.first else min(first, state.first - growth)
            hi = state.end if last < state.end else max(last + 1, state.end + growth)
            earlier = self._days(lo, state.first)
            state = _Sums.of(lo, earlier + state.intervals + self._days(state.end, hi))
        self._state = state
        return state

    def _days(self, first: int, end: int) -> tuple[tuple[tuple[int, int], ...], ...]:
        """The open intervals of the days ``first`` to ``end`` (excluded), in µs; an interval that closes before
        it opens (written inside the hour the clocks skip) is empty."""
        return tuple(
            tuple((_us(lo), max(_us(lo), _us(hi))) for lo, hi in _open_on(self._hours, self._holidays_open, day))
            for day in map(date.fromordinal, range(first, end))
        )

    def day_reaching(self, ordinal: int, at: int, seconds: float) -> tuple[int, _Sums, int] | None:
        """The first day from ``ordinal`` (the day of the instant ``at``) by whose end ``seconds`` of open time
        have passed since ``at`` (for zero: the first with open time after it), within ``MAX_DAYS``; with the sums
        it was found in and the open µs they count before ``at``."""
        limit = ordinal + MAX_DAYS
        last = ordinal
        while True:
            sums = self.covering(ordinal, last)
            base = sums.before(at, ordinal)
            day = sums.first_reaching(base, seconds, ordinal)
            if day is not None:
                return (day, sums, base) if day < limit else None
            if sums.end >= limit:
                return None
            last = min(limit - 1, sums.end)


@dataclass(frozen=True)
class _Sums:
    first: int  # the ordinal of the first day held
    intervals: tuple[tuple[tuple[int, int], ...], ...]  # per day held: its open intervals, µs since the epoch
    sums: tuple[int, ...]  # open µs before each day held, and after the last

    @property
    def end(self) -> int:
        return self.first + len(self.intervals)

    @classmethod
    def of(cls, first: int, intervals: tuple[tuple[tuple[int, int], ...], ...]) -> _Sums:
        sums = [0]
        for day in intervals:
            sums.append(sums[-1] + sum(closes - opens for opens, closes in day))
        return cls(first, intervals, tuple(sums))

    def intervals_of(self, day: int) -> tuple[tuple[int, int], ...]:
        return self.intervals[day - self.first]

    def before_day(self, day: int) -> int:
        return self.sums[day - self.first]

    def before(self, at: int, day: int) -> int:
        """Open µs from the first day held to the instant ``at`` (µs), which falls on ``day``."""
        within = sum(min(at, closes) - opens for opens, closes in self.intervals[day - self.first] if at > opens)
        return self.sums[day - self.first] + within

    def first_reaching(self, base: int, seconds: float, ordinal: int) -> int | None:
        """The first day from ``ordinal`` by whose end ``seconds`` more open time than ``base`` has passed (any,
        for zero), or ``None`` if not among the days held."""
        start = ordinal - self.first + 1
        if seconds > 0:
            index = bisect_left(self.sums, base + seconds * 1e6, start)
        else:
            index = bisect_right(self.sums, base, start)
        return self.first + index - 1 if index < len(self.sums) else None


@lru_cache(maxsize=256)
def _shared_days(hours: tuple[tuple[Interval, ...], ...], holidays_open: bool) -> _Days:
    """One set of running sums per distinct calendar in a process."""
    return _Days(hours, holidays_open)


def _open_on(
    hours: tuple[tuple[Interval, ...], ...], holidays_open: bool, day: date
) -> list[tuple[datetime, datetime]]:
    if not holidays_open and holiday(day) is not None:
        return []
    return [(_at(day, start), _at(day, end)) for start, end in hours[day.weekday()]]


def _us(at: datetime) -> int:
    """An aware instant as whole microseconds since the epoch."""
    return (at - _EPOCH) // _US


def _ordinal(at: datetime) -> int:
    """The local day (in Madrid) of an instant, as a date ordinal."""
    return at.astimezone(MADRID).date().toordinal()


def _midnight(day: int) -> datetime:
    return datetime.combine(date.fromordinal(day), time(0), tzinfo=MADRID)


def _at(day: date, moment: time) -> datetime:
    """A local time of a day as an aware instant; ``24:00`` (``time.max``) is the next day's midnight."""
    if moment == time.max:
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=MADRID)
    return datetime.combine(day, moment, tzinfo=MADRID)


def _intervals(day: str, texts: list[str]) -> tuple[Interval, ...]:
    found: list[Interval] = []
    for text in texts:
        try:
            opens, closes = (part.strip() for part in text.split("-"))
            interval = (_time(opens), _time(closes))
        except ValueError as exc:
            raise ValueError(f"{day}: {text!r} is not HH:MM-HH:MM") from exc
        if interval[1] <= interval[0]:
            raise ValueError(f"{day}: {text!r} ends before it starts")
        if found and interval[0] < found[-1][1]:
            raise ValueError(f"{day}: {text!r} starts before the previous interval ends (list them in order)")
        found.append(interval)
    return tuple(found)


def _time(text: str) -> time:
    if text == "24:00":
        return time.max
    hours, minutes = text.split(":")
    if len(hours) != 2 or len(minutes) != 2:
        raise ValueError(text)
    return time(int(hours), int(minutes))


ALWAYS_OPEN = BusinessCalendar.from_hours({day: ["00:00-24:00"] for day in DAYS}, holidays_open=True)
