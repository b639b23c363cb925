"""Madrid's business calendar: when a council service is open, how much business time lies between two instants,
and when a given amount of it will have passed (an SLA's due time).

Holidays are Spain's and the Comunidad de Madrid's, from the maintained ``holidays`` library (country ES,
subdivision MD), plus the city's two local holidays, which the library lacks, kept as data with their source
(``data/madrid_calendar.json``: San Isidro, 15 May; La Almudena, 9 November). Opening hours are each service's
own (``BusinessCalendar.from_hours``: an area's office hours, or all day every day for a 24-hour line). Every
instant is timezone-aware and every day is a local day in Europe/Madrid; lengths are measured in UTC, so a day on
which the clocks change is an hour shorter or longer, as it really is.
"""

from __future__ import annotations

import json
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
        if not self.holidays_open and holiday(day) is not None:
            return []
        return [(_at(day, start), _at(day, end)) for start, end in self.hours[day.weekday()]]

    def is_open(self, at: datetime) -> bool:
        return any(start <= at < end for start, end in self.open_on(at.astimezone(MADRID).date()))

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """The open time between two instants, in seconds (0 when ``end`` is not after ``start``)."""
        if end <= start:
            return 0.0
        total = 0.0
        day = start.astimezone(MADRID).date()
        last = end.astimezone(MADRID).date()
        while day <= last:
            for opens, closes in self.open_on(day):
                lo, hi = max(opens, start), min(closes, end)
                if hi > lo:
                    total += (hi.astimezone(UTC) - lo.astimezone(UTC)).total_seconds()
            day += timedelta(days=1)
        return total

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant at which ``seconds`` of open time will have passed since ``start`` (a due time); ``start``
        itself, or the next opening, for zero. ``ValueError`` when ten years hold too little open time."""
        remaining = max(0.0, seconds)
        day = start.astimezone(MADRID).date()
        for _ in range(MAX_DAYS):
            for opens, closes in self.open_on(day):
                lo = max(opens, start)
                if closes <= lo:
                    continue
                length = (closes.astimezone(UTC) - lo.astimezone(UTC)).total_seconds()
                if remaining <= length and (remaining > 0 or lo < closes):
                    return (lo.astimezone(UTC) + timedelta(seconds=remaining)).astimezone(MADRID)
                remaining -= length
            day += timedelta(days=1)
        raise ValueError(f"{seconds} s of open time do not fit in {MAX_DAYS} days of this calendar")


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
