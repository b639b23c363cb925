"""Contracts that cannot break silently (issue 19, C1): what the compatibility check costs in ``make test`` and what the
documentation pages cost to render.

- the check: ``events.compat.check`` of ``schemas/`` against the last release (every event type's data schema and
  every operation of the OpenAPI), wall time over several runs (reading the files included), in one process;
- the pages: each page of ``functions/apidocs`` rendered in process from the documents already read (what a warm
  pod does per request), its size; and the first request of a pod (reading and parsing the specifications).

``python -m bench.contracts`` or ``python -m bench contracts``.
"""

from __future__ import annotations

import functools
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench.stats import pct, record_section, recorded
from events import compat

TITLE = "## Contracts: the compatibility check and the documentation pages"
RUNS = 7
PAGE_RUNS = 30


def _timed(call: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def check_figures() -> tuple[int, int, int, list[float]]:
    release = compat.latest_release()
    events, api = compat.read_contracts(compat.SCHEMAS_DIR)
    operations = sum(1 for item in api.get("paths", {}).values() for m in item if m in compat.METHODS)
    breaks = compat.check(release, compat.SCHEMAS_DIR)
    return len(events), operations, len(breaks), _timed(lambda: compat.check(release, compat.SCHEMAS_DIR), RUNS)


def page_figures() -> tuple[float, list[tuple[str, int, float]]]:
    from functions.apidocs import pages, service

    started = time.perf_counter()
    api, events = pages.api_view(), pages.events_view()
    first = (time.perf_counter() - started) * 1000
    biggest = max(api.domains, key=lambda d: len(d.operations))
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("/docs", "index.html", {"events": events}),
        ("/docs/api", "api.html", {}),
        (f"/docs/api/{biggest.name} (the largest domain)", "domain.html", {"domain": biggest}),
        ("/docs/events", "events.html", {"events": events}),
        ("/docs/events/es.madrid.pic.consent.changed.v1", "event.html",
         {"event": events.find("es.madrid.pic.consent.changed.v1")}),
    ]  # fmt: skip
    rows = []
    for label, template, values in cases:
        size = len(pages.render(template, "es", "/docs", **values))
        samples = _timed(functools.partial(pages.render, template, "es", "/docs", **values), PAGE_RUNS)
        rows.append((label, size, pct(samples, 95)))
    assert service.valid_event_type("es.madrid.pic.consent.changed.v1")
    return first, rows


def report(started: datetime) -> str:
    types, operations, breaks, samples = check_figures()
    first, rows = page_figures()
    lines = "\n".join(f"| `{label}` | {size / 1024:.0f} KiB | {p95:.1f} ms |" for label, size, p95 in rows)
    return f"""{TITLE}

The compatibility check `make test` runs in its contract phase (`tests/contract/test_compatibility.py`,
`events/compat.py`): `schemas/` against the last release in `contracts/released/`, reading the files included; the
goal is 5 s. Then the documentation pages of `functions/apidocs`, rendered in process from the specifications
already read (a warm pod's work per request; the HTTP kernel's authz decision is not included), and a pod's first
request, which reads and parses them (`asyncapi.yaml` with libyaml). Source: `bench/contracts.py`.
{recorded(started, "python -m bench contracts")}

| measure | figure |
|---|---|
| event types compared | {types} |
| API operations compared | {operations} |
| breaks found (must be 0 on main) | {breaks} |
| **the check, median of {RUNS} runs (goal ≤ 5 s)** | **{statistics.median(samples):.0f} ms** (max {max(samples):.0f}) |
| a pod's first page: the specifications read and parsed | {first:.0f} ms |

| page | size | render p95 ({PAGE_RUNS} runs) |
|---|---|---|
{lines}
"""


def main(argv: list[str] | None = None) -> int:
    text = report(datetime.now(UTC))
    print(text)
    if "--no-record" not in (sys.argv[1:] if argv is None else argv):
        record_section(TITLE, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
