"""The SLA report: each clock of each case resolved in the month counted met or breached, attributed to the agent
who resolved it (or the queue, area, level); CSV and a real plot."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from events.case import CaseRequested
from functions.case import config, report, service
from functions.case.service import Actor

MONDAY = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)  # 10:00 in Madrid
HACIENDA = config.defaults()["hacienda"]
ANA, HUGO = Actor("agent", "ana", 1, "x"), Actor("agent", "hugo", 2, "hacienda")


def case(n: int, replied_after: timedelta, resolver: Actor) -> service.Case:
    request = CaseRequested.model_validate({"citizen_id": "c-1", "area": "hacienda", "category": "recibo-ibi",
                                            "channel": "web", "subject": f"Caso {n}"})  # fmt: skip
    opened = service.open_case(request, "x", f"r-{n}", HACIENDA, MONDAY)
    replied = service.reply(opened, ANA, "hola", internal=False, now=MONDAY + replied_after)
    return service.move(replied, resolver, "resolved", "hecho", MONDAY + replied_after + timedelta(hours=1))


def test_met_and_breached_per_agent_and_measure() -> None:
    # GIVEN two cases answered within the 8 business hours and one answered two working days later
    cases = [case(1, timedelta(hours=1), ANA), case(2, timedelta(hours=2), HUGO), case(3, timedelta(days=2), HUGO)]
    rows = {(r.key, r.measure): r for r in report.rows(cases, {"hacienda": HACIENDA}, "agent")}
    assert (rows[("ana", "first-response")].met, rows[("ana", "first-response")].breached) == (1, 0)
    assert (rows[("hugo", "first-response")].met, rows[("hugo", "first-response")].breached) == (1, 1)
    assert rows[("hugo", "first-response")].percent_met == 50.0
    by_level = report.rows(cases, {"hacienda": HACIENDA}, "level")
    assert {r.key for r in by_level} == {"1"}


def test_open_cases_are_not_counted_and_csv_and_plots_are_real() -> None:
    done = case(1, timedelta(hours=1), ANA)
    still = replace(done, resolved_at=None, state="open")
    found = report.rows([done, still], {"hacienda": HACIENDA}, "queue")
    assert sum(r.total for r in found) == 2  # the first response and the resolution of the resolved one
    text = report.as_csv(found, "queue")
    assert text.splitlines()[0] == "queue,measure,met,breached,total,percent_met" and "hacienda-l1" in text
    assert report.plot(found, "queue", "2026-12", "png").startswith(b"\x89PNG")
    assert b"<svg" in report.plot(found, "queue", "2026-12", "svg")


def test_the_plot_speaks_the_desks_language_and_says_when_nothing_was_resolved() -> None:
    # matplotlib writes an SVG's text as glyph paths, with the string in a comment beside each: enough to read it
    spanish = report.plot([], "queue", "2026-12", "svg", "es").decode()
    english = report.plot([], "queue", "2026-12", "svg", "en").decode()
    assert "ningún caso resuelto" in spanish and "ANS cumplido por cola" in spanish
    assert "no case resolved" in english and "SLA met by queue" in english


def test_the_backlog_age() -> None:
    waiting = [case(1, timedelta(hours=1), ANA), case(2, timedelta(hours=1), ANA)]
    age = report.backlog_age(waiting, MONDAY + timedelta(hours=10))
    assert age == {"waiting": 2, "oldest_hours": 10.0, "median_hours": 10.0}
    assert report.backlog_age([], MONDAY)["waiting"] == 0
