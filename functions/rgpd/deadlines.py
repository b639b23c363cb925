"""The RGPD art. 12.3 deadline of a data-subject request, pure date arithmetic.

RGPD art. 12.3: answer "without undue delay and in any event within one month of receipt of the request";
"extended by two further months where necessary" (three months in total), telling the person, with the
reasons, within the first month. Sources: the Agencia Tributaria's data-protection page, "Período de
resolución" ("un mes (natural)… prorrogarse otros dos meses (siendo un total de tres meses)"),
https://sede.agenciatributaria.gob.es/Sede/gl_es/todas-gestiones/procedimientos-no-tributarios/tratamiento-datos-personales/tratamiento-datos-personales/informacion-interesado-sobre-proteccion-datos/4-ejercicio-derechos/4_1_introduccion/4_1_4-periodo-resolucion.html
and the APDCAT, https://apdcat.gencat.cat/es/drets_i_obligacions/drets/drets_habeas_data/index.html.

How a month is counted: Regulation (EEC, Euratom) No 1182/71 (periods, dates and time limits of EU acts)
art. 3: the period runs to the day of the following month with the same date as the day of receipt
(received 5 March, due 5 April); where that month has no such day, to its last day (31 January -> 28/29
February); a period ending on a Saturday or Sunday ends on the next working day (art. 3.4). Public holidays
also move the end under art. 3.4, but no official holiday calendar is in PIC's data yet, so none is applied:
that can only make PIC's deadline earlier than the legal one, never later.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta

from functions.core.clock import MADRID

FIRST_PERIOD_MONTHS = 1
EXTENDED_PERIOD_MONTHS = 3  # one month plus "two further months" (art. 12.3)
SATURDAY = 5


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the last day of that month when it has no such day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_working_day(day: date) -> date:
    """``day`` itself unless it is a Saturday or Sunday (Regulation 1182/71 art. 3.4)."""
    while day.weekday() >= SATURDAY:
        day += timedelta(days=1)
    return day


def end_of_day(day: date) -> datetime:
    """The last instant of ``day`` in Madrid, in UTC: a deadline runs to the end of its last day."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=MADRID).astimezone(UTC)


def local_date(at: datetime) -> date:
    """The day ``at`` falls on in Madrid: the day a date rule counts (receipt, "not in the future")."""
    return at.astimezone(MADRID).date()


def due_date(received_at: datetime, months: int = FIRST_PERIOD_MONTHS) -> date:
    """The last day to answer a request received at ``received_at`` (read in Madrid time)."""
    return next_working_day(add_months(local_date(received_at), months))


def due_at(received_at: datetime, months: int = FIRST_PERIOD_MONTHS) -> datetime:
    """The deadline as an instant: the end of ``due_date`` in Madrid."""
    return end_of_day(due_date(received_at, months))


def extended_due_at(received_at: datetime) -> datetime:
    """The deadline once extended: three months from receipt in total (art. 12.3)."""
    return due_at(received_at, EXTENDED_PERIOD_MONTHS)


def is_overdue(deadline: datetime, now: datetime, completed_at: datetime | None = None) -> bool:
    """Past its deadline without an answer, or answered after it."""
    return (completed_at or now) > deadline
