"""``python -m bench lake``: the data platform's exports (issue 19, ADR 0036), in process on the real Delta tables.

- **Staged**: what ``pic-lake-events`` does past HTTP for each fact: the data validated against its catalogued model,
  the rule applied (kept, pseudonymised with HMAC-SHA256, dropped), the row written to the store — the fake store
  here, counting its calls: one PutItem per event, none for a type or special category not exported.
- **Flushed**: ``handlers.flush`` over the staged rows (a day of office visits and case changes) into Delta tables in
  a temporary directory (delta-rs: a merge on ``(day, event_key)`` per table), in batches of ``FLUSH_BATCH``; the same
  rows flushed again (a crash before the cleanup) to show the merge's cost when everything is already there; the
  Parquet files' sizes per row.
- **Erasure**: one person's rows deleted from a day of the table (the partition rewritten, then vacuumed).
Figures per wall second on a shared machine.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.stats import Figure, record_section, recorded, table
from events.catalog import CATALOG
from functions.core.policy import get_policy
from functions.lake import handlers
from functions.lake.handlers import LakePorts
from functions.lake.service import Pseudonymiser
from functions.lake.tables import DeltaTables
from tests.unit.fakes import FixedClock
from tests.unit.lake import samples
from tests.unit.lake.fakes import FakeLakeStore

TITLE = "## The data platform's exports: rows staged and flushed, file sizes (issue 19)"
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
TICKET, CASE = samples.TICKET, samples.CASE


def _events(n: int) -> list[tuple[str, str, str, dict[str, object]]]:
    """``n`` facts of one day: office visits and case changes, 1 in 20 at Servicios Sociales (never exported)."""
    out = []
    for i in range(n):
        at = NOW + timedelta(seconds=i % 36_000)
        area = "servicios-sociales" if i % 20 == 1 else "atencion-ciudadania"
        if i % 2:
            data = {**samples.ticket(area), "citizen_id": f"c-bench-{i % 5000}", "at": at.isoformat()}
            out.append((TICKET, "/legacy/gestor-colas", f"t-{i}", data))
        else:
            data = samples.case(
                1 + i % 7,
                citizen_id=f"c-bench-{i % 5000}",
                case_id=f"case-{i % 3000:024x}",
                at=at,
                area="servicios-sociales" if i % 20 == 0 else "hacienda",
            )
            out.append((CASE, "/pic/case", f"c-{i}", data))
    return out


def run(n: int = 20_000) -> list[Figure]:
    events = _events(n)
    store = FakeLakeStore()
    root = Path(tempfile.mkdtemp(prefix="pic-bench-lake-"))
    try:
        tables = DeltaTables(str(root), ["cases", "office_visits", "cases_current"])
        ports = LakePorts(store, tables, Pseudonymiser(b"k" * 32), get_policy(), FixedClock(NOW))  # type: ignore[arg-type]
        start = time.perf_counter()
        for event_type, source, event_id, data in events:
            valid = CATALOG[event_type].model.model_validate(data).model_dump(mode="json")
            handlers.stage_event(event_type, source, event_id, valid, ports)
        staged_s = time.perf_counter() - start
        calls, staged = len(store.calls), len(store.staged)
        rows = list(store.staged.values())

        start = time.perf_counter()
        inserted = 0
        while store.staged:
            inserted += sum(handlers.flush(ports, "bench").inserted.values())
        flushed_s = time.perf_counter() - start

        for row in rows:  # a crash before the cleanup: every row staged again
            store.staged[row.event_key] = row
        start = time.perf_counter()
        again = 0
        while store.staged:
            again += sum(handlers.flush(ports, "bench").inserted.values())
        again_s = time.perf_counter() - start

        parquet = [p for p in (root / "tables").rglob("*.parquet")]
        size = sum(p.stat().st_size for p in parquet)
        start = time.perf_counter()
        erased = tables.erase([ports.pseudonymiser.of("c-bench-42")])
        erase_s = time.perf_counter() - start
        start = time.perf_counter()
        snapshot = handlers.snapshot(ports, "bench", NOW.date().isoformat())
        snapshot_s = time.perf_counter() - start
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return [
        Figure(f"facts staged (validated, rule applied, pseudonymised, one store write; {n:,} facts)",
               f"{n / staged_s:,.0f}/s ({staged_s / n * 1e3:.2f} ms each)"),
        Figure("store calls per fact (PutItem; none for Servicios Sociales' facts)",
               f"{calls / n:.2f} ({calls:,} calls, {n - staged:,} facts not exported)"),
        Figure(f"rows flushed into Delta (merge on day and event key, {handlers.FLUSH_BATCH:,} a pass)",
               f"{inserted / flushed_s:,.0f} rows/s ({inserted:,} rows in {flushed_s:.1f} s)"),
        Figure("the same rows flushed again (a crash before the cleanup): inserted",
               f"{again} rows in {again_s:.1f} s ({len(rows) / again_s:,.0f} rows/s checked)"),
        Figure("Parquet written (snappy; files of the two tables' day partitions)",
               f"{size / 1e6:.2f} MB in {len(parquet)} files, {size / max(inserted, 1):.0f} bytes a row"),
        Figure("one person erased (each partition holding them rewritten, then vacuumed)",
               f"{erase_s * 1e3:,.0f} ms ({sum(erased.values())} rows)"),
        Figure("daily snapshot of cases (latest version of each case)",
               f"{snapshot_s * 1e3:,.0f} ms ({sum(snapshot.values()):,} cases)"),
    ]  # fmt: skip


NOTE = """\
In process: the event function's work past HTTP and the flusher's against Delta tables on the local disk (delta-rs;
deployed, S3: each commit and file one request more, the flush interval absorbs it). Per fact the consumer makes ONE
store call (a PutItem of the staged row, ~0.5 KB); the flusher's pass reads the stage (8 Queries, one per shard), the
markers of the rows' persons (BatchGetItem, 100 a call), the pending erasures (1 Query), deletes the staged rows
(BatchWriteItem, 25 a call) and takes and releases its lease (2 writes). Each pass writes one Parquet file per table
and day: small files the daily snapshot job compacts (ADR 0036). Source: `bench/lake.py`."""


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 20_000
    started = datetime.now(UTC)
    figures = run(n)
    for figure in figures:
        print(f"{figure.name}: {figure.value}", file=sys.stderr)
    body = f"{recorded(started, 'python -m bench lake')}\n\n{table(figures)}\n{NOTE}\n"
    record_section(TITLE, f"{TITLE}\n\n{body}")


if __name__ == "__main__":
    main(sys.argv[1:])
