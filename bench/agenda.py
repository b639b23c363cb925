"""``python -m bench agenda``: "near me" over an agenda of 5,000 events (issue 18, GEO), in process.

The agenda: 5,000 events at random places inside Madrid (a uniform point in the city's bounding box, kept when
``madrid_geo.locate`` puts it in a barrio), each a weekly recurrence over the 100 days of the open-data agenda,
with a random category, audience and price; loaded through ``handlers.load_event`` into the fake store
(``tests/unit/agenda``'s, over the Ledger: the same cell keys and sets as DynamoDB's). One query is what
``GET /v1/agenda/events`` and ``GET /v1/citizens/<id>/agenda`` do past HTTP: the H3 cells covering the circle(s),
the ids under those keys, the events (the fake's reads stand for the two BatchGetItem rounds), the exact distance
and the filters, sorted. Latency per query, wall clock, from 1,000 random points in the city.
"""

from __future__ import annotations

import random
import sys
import time as clock
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from bench.stats import Figure, pct, record_section, recorded, table
from functions.agenda import handlers, service
from functions.agenda.handlers import AgendaPorts
from functions.agenda.ingest import AgendaEvent, occurrences
from functions.core import madrid_geo
from functions.core.policy import get_policy
from tests.unit.agenda.fakes import FakeAgendaStore
from tests.unit.fakes import FixedClock

TITLE = "## Events near me: near-me queries over 5,000 events (GEO)"
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
EVENTS = 5000
QUERIES = 1000
BBOX = (40.312, 40.643, -3.889, -3.518)  # the municipality's bounding box (lat min, lat max, lon min, lon max)
CATEGORIES = ("musica", "teatro", "danza", "cine", "talleres", "deporte", "exposiciones", "infantil")
AUDIENCES = (("familias",), ("infantil", "familias"), ("jovenes",), ("mayores",), ())
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def point_in_madrid(rng: random.Random) -> tuple[float, float]:
    while True:
        lat, lon = rng.uniform(BBOX[0], BBOX[1]), rng.uniform(BBOX[2], BBOX[3])
        if madrid_geo.locate(lat, lon) is not None:
            return lat, lon


def agenda(rng: random.Random, n: int) -> list[AgendaEvent]:
    start = datetime(2026, 12, 1)
    found = []
    for i in range(n):
        lat, lon = point_in_madrid(rng)
        place = madrid_geo.locate(lat, lon)
        assert place is not None
        days = ",".join(rng.sample(WEEKDAYS, rng.randint(1, 3)))
        at = time(rng.choice((11, 17, 18, 19, 20)), 0)
        starts = occurrences(start, start + timedelta(days=100), at, {"days": days, "frequency": "WEEKLY"}, set())
        found.append(AgendaEvent(
            id=f"b{i:05d}", title=f"Actividad {i}", description="", category=rng.choice(CATEGORIES),
            audience=rng.choice(AUDIENCES), free=rng.random() < 0.6, price="", all_day=False, minutes=90,
            starts=tuple(starts), venue="Centro",
            address="", district=place.district_code, barrio=place.barrio_code, lat=round(lat, 6), lon=round(lon, 6),
            link=None, organization="",
        ))  # fmt: skip
    return found


def loaded(events: list[AgendaEvent]) -> tuple[AgendaPorts, FakeAgendaStore]:
    store = FakeAgendaStore()
    ports = AgendaPorts(store=store, policy=get_policy(), clock=FixedClock(NOW))
    for event in events:
        staged = handlers.load_event(event, ports, None)
        store.commit(staged.unit)
    return ports, store


def timed(run: list[tuple[float, float]], query: Callable[[float, float], int]) -> tuple[list[float], list[float], int]:
    """Milliseconds per query (wall clock, and this process's CPU), and the events found in total."""
    samples: list[float] = []
    cpu: list[float] = []
    found = 0
    for lat, lon in run:
        begin, begin_cpu = clock.perf_counter(), clock.thread_time()
        found += query(lat, lon)
        samples.append((clock.perf_counter() - begin) * 1e3)
        cpu.append((clock.thread_time() - begin_cpu) * 1e3)
    return samples, cpu, found


def run(n_events: int = EVENTS, n_queries: int = QUERIES) -> list[Figure]:
    rng = random.Random(18)
    ports, store = loaded(agenda(rng, n_events))
    points = [point_in_madrid(rng) for _ in range(n_queries)]
    month = service.filters(date(2026, 12, 7), None, None)
    figures: list[Figure] = []
    for radius in (1000, 2500, 5000):
        reads_before = store.reads

        def near(lat: float, lon: float, radius: int = radius) -> int:
            return len(handlers.near_point(lat, lon, radius, month, ports))

        for lat, lon in points[:50]:  # warm
            near(lat, lon)
        samples, cpu, found = timed(points, near)
        cells = sum(len(madrid_geo.cells(lat, lon, radius)) for lat, lon in points) / len(points)
        reads = (store.reads - reads_before) / (len(points) + 50)
        figures.append(Figure(
            f"near a point, radius {radius:,} m, next 30 days ({n_events:,} events)",
            f"p50 {pct(samples, 50):.2f} ms, p99 {pct(samples, 99):.2f} ms (CPU p99 {pct(cpu, 99):.2f} ms); "
            f"{found / len(points):.1f} events returned (at most {service.MAX_RESULTS}), "
            f"{cells:.0f} cells read as keys, {reads:.0f} store reads",
            "p99 < 50 ms", "met" if pct(samples, 99) < 50 else "not met",
        ))  # fmt: skip
    # a person's three zones (home, work, leisure) at 1,500 m each: one read of all their cells, one of the events
    citizen = "c-bench"
    store.zones[citizen] = service.Zones(citizen, revision=1, location_consent=True)
    zone_samples: list[float] = []
    for i in range(0, len(points) - 2, 3):
        kinds: zip[tuple[service.ZoneKind, tuple[float, float]]] = zip(
            ("home", "work", "leisure"), points[i : i + 3], strict=True
        )
        chosen = tuple(service.Zone(kind, kind, lat, lon, 1500, None, None) for kind, (lat, lon) in kinds)
        store.zones[citizen] = replace(store.zones[citizen], chosen=chosen)
        begin = clock.perf_counter()
        handlers.near_zones(citizen, month, ports)
        zone_samples.append((clock.perf_counter() - begin) * 1e3)
    figures.append(Figure(
        "near a person's 3 zones (1,500 m each), grouped by zone",
        f"p50 {pct(zone_samples, 50):.2f} ms, p99 {pct(zone_samples, 99):.2f} ms",
        "p99 < 50 ms", "met" if pct(zone_samples, 99) < 50 else "not met",
    ))  # fmt: skip
    begin = clock.perf_counter()
    for lat, lon in points:
        madrid_geo.locate(lat, lon)
    figures.append(Figure("madrid_geo.locate (point in the 131 barrios, STRtree)",
                          f"{(clock.perf_counter() - begin) / len(points) * 1e6:.1f} µs each"))  # fmt: skip
    return figures


NOTE = """\
In process on one core, wall clock: the handler's work past HTTP (cells, key lookups, events, exact distance,
filters, sort) over the fake store; not HTTP, JSON, the policy decision nor DynamoDB. In production a query is
two BatchGetItem rounds (the cell keys, at most 100 a call, then the events found), so add their latency
(single-digit ms each on DynamoDB) to these figures; "Store calls per operation" counts them. H3 resolution 8
(cells of ~0.74 km²). On a shared machine the wall-clock p99 is mostly the scheduler (see the load average above);
"CPU p99" is the query's own cost on its thread. Source: `bench/agenda.py`."""


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else EVENTS
    started = datetime.now(UTC)
    figures = run(n)
    for figure in figures:
        print(f"{figure.name}: {figure.value}", file=sys.stderr)
    body = f"{recorded(started, 'python -m bench agenda')}\n\n{table(figures)}\n{NOTE}\n"
    record_section(TITLE, f"{TITLE}\n\n{body}")


if __name__ == "__main__":
    main(sys.argv[1:])
