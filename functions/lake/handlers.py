"""The lake's use cases: stage one event's row (the consumer), flush the staged rows into the tables (the
flusher), the daily snapshot, the erasure's answer, and the catalogue and partition questions.

Exactly once in the tables, whatever the broker and the processes do:
- a redelivered event writes the same staged item again (keyed by the event's source and id);
- the flusher merges rows into each table on ``(day, event_key)``: a row the table holds already is not inserted
  again, so a flush that crashed after its commit and before deleting the staged rows, or an event redelivered
  after its row was flushed, re-stages a row the next pass merges as a no-op;
- one writer at a time (a lease in the store): the merges, the erasures and the snapshots never race, and an
  erasure is applied after the rows committed before it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from events.rgpd import RgpdRequestOpened
from functions.core.clock import Clock
from functions.core.policy import Policy
from functions.core.store import UnitOfWork
from functions.lake import rights, service
from functions.lake.service import LakeStore, LakeTables, Pseudonyms, Row, Rules

FLUSH_BATCH = 2000  # rows per pass at most (the next pass takes the rest)
LEASE_SECONDS = 300.0  # a writer that died frees the tables after this
SAMPLE_ROWS = 5


@dataclass(frozen=True)
class LakePorts:
    store: LakeStore
    tables: LakeTables
    pseudonymiser: Pseudonyms
    policy: Policy
    clock: Clock
    rules: Rules = field(default_factory=service.rules)


@dataclass(frozen=True)
class FlushReport:
    staged: int = 0
    inserted: dict[str, int] = field(default_factory=dict)
    held_back: int = 0  # rows of erased persons, dated up to their erasure
    erased: dict[str, int] = field(default_factory=dict)  # rows deleted per table
    erasures: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"staged": self.staged, "inserted": self.inserted, "held_back": self.held_back,
                "erasures": self.erasures, "erased_rows": self.erased}  # fmt: skip


# ---- the consumer: one event, one write ---------------------------------------------------------------------


def stage_event(event_type: str, source: str, event_id: str, data: Mapping[str, Any], ports: LakePorts) -> Row | None:
    """The event's pseudonymised row, staged with one store write; nothing for a type, or a special category,
    that is not exported."""
    row = service.row_of(ports.rules, event_type, source, event_id, data, ports.pseudonymiser)
    if row is not None:
        ports.store.put_row(row, ports.clock.now())
    return row


# ---- the flusher -------------------------------------------------------------------------------------------------


def flush(ports: LakePorts, holder: str, limit: int = FLUSH_BATCH) -> FlushReport:
    """One pass: the staged rows (at most ``limit``) into their tables, the pending erasures applied, the
    catalogue written. ``lake-flush-busy`` when another writer holds the lease."""
    if not ports.store.acquire(holder, ports.clock.now(), LEASE_SECONDS):
        raise service.FlushBusyError("another flush or snapshot is writing the tables; try again in a moment")
    try:
        return _flush(ports, limit)
    finally:
        ports.store.release(holder)


def _flush(ports: LakePorts, limit: int) -> FlushReport:
    staged = ports.store.fetch_staged(limit)
    markers = ports.store.fetch_markers({r.person for r in staged if r.person})
    kept, held = service.not_erased(staged, markers)
    by_table: dict[str, list[Row]] = defaultdict(list)
    for row in kept:
        by_table[row.table].append(row)
    inserted = {
        table: ports.tables.merge(table, service.columns_of(ports.rules, table), rows)
        for table, rows in sorted(by_table.items())
    }
    pending = ports.store.fetch_pending()
    erased = ports.tables.erase([m.person for m in pending]) if pending else {}
    if pending:
        ports.store.clear_pending(pending)
    if staged:
        ports.store.delete_staged(staged)
    if staged or pending:
        ports.tables.write_catalogue(service.catalogue(ports.rules, ports.tables.location))
    return FlushReport(len(staged), inserted, len(held), erased, len(pending))


# ---- the daily snapshot ------------------------------------------------------------------------------------------


def snapshot(ports: LakePorts, holder: str, day: str | None = None) -> dict[str, int]:
    """Each table's current-state snapshot as of ``day`` (default: yesterday, the last whole day), its rows per
    snapshot table; the partitions past the table's retention deleted (RGPD art. 5.1.e) and the flushes' small
    files compacted."""
    day = service.check_day(day or (ports.clock.now() - timedelta(days=1)).date().isoformat())
    if not ports.store.acquire(holder, ports.clock.now(), LEASE_SECONDS):
        raise service.FlushBusyError("another flush or snapshot is writing the tables; try again in a moment")
    try:
        written: dict[str, int] = {}
        for table in service.table_names(ports.rules):
            ports.tables.expire(table, service.retention_cutoff(ports.rules, table, day))
            ports.tables.compact(table)  # the day's small files (one per flush) merged
            snap = service.snapshot_of(ports.rules, table)
            if snap:
                written[snap["table"]] = ports.tables.snapshot(table, snap["table"], snap["key"], snap["order"], day)
        ports.tables.write_catalogue(service.catalogue(ports.rules, ports.tables.location))
        return written
    finally:
        ports.store.release(holder)


# ---- data-subject requests ---------------------------------------------------------------------------------------


def answer_rights(data: RgpdRequestOpened, ports: LakePorts, traceparent: str | None) -> UnitOfWork:
    """The lake's answer (``rights.answer``) with its erasure marker in the same unit."""
    result = rights.answer(data, ports.pseudonymiser, ports.policy, ports.clock.now())
    return result.unit(traceparent, lambda uow, plan: plan.stage(uow, lambda u, m: ports.store.stage_marker(u, m)))


# ---- questions ---------------------------------------------------------------------------------------------------


def catalogue(ports: LakePorts) -> dict[str, Any]:
    return service.catalogue(ports.rules, ports.tables.location)


def partition(ports: LakePorts, table: str, day: str | None, where: str | None = None) -> dict[str, Any]:
    """A table's partition (or the whole table) as an operator checks it: files, rows, a few pseudonymised rows;
    the rows (and sample) only those where ``column:value`` holds, when asked."""
    service.check_table(ports.rules, table)
    condition = service.check_where(ports.rules, table, where)
    return ports.tables.summary(table, service.check_day(day) if day else None, SAMPLE_ROWS, condition)


def today(clock: Clock) -> str:
    now: datetime = clock.now()
    return now.date().isoformat()
