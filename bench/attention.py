"""The attention platform end to end (CASE, KB, issue 15): ``python -m bench attention``.

- Case creation end to end: a citizen opens a case (``POST /v1/cases``, pushed to an online agent when one may take
  it), and the time until the case shows in their global position (``case.updated`` through the outbox relay and
  the broker, projected by POS) — one case every 200 ms, each timed on its own (open loop), as a person would.
- The public knowledge-base search at light load (``GET /v1/kb/search``, no token), its server-side phases and its
  store calls (one GetItem while the catalogue stands still).
- In process: building the search index (the shipped articles, then a catalogue of 2,000) and a search on it.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import requests

from bench.reads import figures_for, steady_reads
from bench.stats import Figure, ms, pct, record_section, recorded, table, timed
from local.harness import Platform

TITLE = "## Attention end to end (CASE, KB)"
NOTE = """\
Case creation end to end: a citizen opens a case (`POST /v1/cases`, level 1 of Hacienda, with an agent online for
its queue: the push is part of it) and polls their global position every 10 ms until the case is in its `cases`
section (`case.updated` through the outbox relay and the broker, projected by POS): what the citizen sees after
pressing "send". One case every 200 ms, each its own citizen. The public knowledge-base search: `GET
/v1/kb/search` without a token, 5 per second, the catalogue unchanged (the index is cached per process; each search
asks the catalogue's counter, one GetItem). In process: the index built from the shipped articles and from 2,000
(the same texts under other ids), and one search on each. Every part shares the machine's 2 cores with the clients
and with other sessions' test suites. Source: `bench/attention.py`."""


def _case(citizen: str) -> dict[str, Any]:
    return {"citizen_id": citizen, "area": "hacienda", "category": "recibo-ibi", "channel": "web",
            "subject": "No me ha llegado el recibo del IBI"}  # fmt: skip


def _in_position(platform: Platform, session: requests.Session, citizen: str, headers: dict[str, str]) -> bool:
    read = session.get(platform.url(f"/v1/citizens/{citizen}/position"), headers=headers, timeout=15)
    sections = {s["section"]: s for s in read.json().get("sections", [])}
    return bool(sections.get("cases", {}).get("items"))


def case_creation(platform: Platform, cases: int = 60, rate: float = 5.0) -> list[Figure]:
    """POST round trip and time until the global position shows the case, per case."""
    agent = platform.as_(f"ag-bench-{uuid.uuid4().hex[:6]}", role="agent", level=1, area="linea-madrid")
    body = {"presence": "online", "capacity": 50, "queues": ["hacienda-l1"]}
    requests.put(platform.url("/v1/agents/me"), json=body, headers=agent, timeout=15).raise_for_status()
    session = requests.Session()
    posts, visible = [], []
    interval, next_at = 1.0 / rate, time.perf_counter()
    for _ in range(cases):
        citizen = f"c-bench-case-{uuid.uuid4().hex[:10]}"
        me = platform.as_(citizen)
        next_at += interval
        started = time.perf_counter()
        answer = session.post(platform.url("/v1/cases"), json=_case(citizen), headers=me, timeout=15)
        posts.append(time.perf_counter() - started)
        answer.raise_for_status()
        deadline = started + 30
        while not _in_position(platform, session, citizen, me):
            if time.perf_counter() > deadline:
                raise RuntimeError(f"the case of {citizen} never reached the position")
            time.sleep(0.01)
        visible.append(time.perf_counter() - started)
        time.sleep(max(0.0, next_at - time.perf_counter()))
    return [
        Figure(f"case opened: POST /v1/cases p50 / p99 of {cases}", f"{ms(pct(posts, 50))} / {ms(pct(posts, 99))}"),
        Figure(
            f"case opened → in the citizen's global position, p50 / p99 of {cases}",
            f"{ms(pct(visible, 50))} / {ms(pct(visible, 99))}",
        ),
    ]


def kb_search(platform: Platform, reads: int = 200, rate: float = 5.0) -> list[Figure]:
    path = "/v1/kb/search?q=darse+de+alta+en+el+padron&language=es"
    latencies, phases, mixes = steady_reads(platform, path, {}, reads, rate)
    return figures_for("public KB search", latencies, phases, mixes)


def kb_index_in_process() -> list[Figure]:
    """The index built from the shipped articles and from 2,000, and one search on each (µs)."""
    from functions.kb.articles import seed_articles
    from functions.kb.search import build_index

    now = datetime.now(UTC)
    shipped = seed_articles(now)
    many = [replace(a, id=f"{a.id}-{i}") for i in range(2_000 // len(shipped) + 1) for a in shipped][:2_000]
    figures = []
    for name, articles in ((f"{len(shipped)} shipped articles", shipped), ("2,000 articles", many)):
        started = time.perf_counter()
        index = build_index(articles, language="es", audience="public", at=now)
        built = time.perf_counter() - started
        search = index.search
        p50, p99 = timed(lambda _, search=search: search("darse de alta en el padron"), 200)  # type: ignore[misc]
        figures.append(Figure(f"KB index of {name}: build (es, public)", ms(built)))
        figures.append(Figure("  a search on it, p50 / p99", f"{p50:.0f} / {p99:.0f} µs"))
    return figures


def run(platform: Platform) -> list[Figure]:
    started = datetime.now(UTC)
    figures = case_creation(platform) + kb_search(platform) + kb_index_in_process()
    record_section(TITLE, f"{NOTE}\n\n{recorded(started, 'python -m bench attention')}\n\n{table(figures)}")
    return figures
