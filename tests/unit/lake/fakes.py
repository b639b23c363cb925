"""In-memory fakes of the lake's ports: the staging store (with the calls it received, to count them) and the
tables (rows per table keyed by event key, like the Delta merge)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from functions.core.store import UnitOfWork
from functions.lake.service import PERSON_COLUMN, Kind, Marker, Row
from tests.unit.fakes import Ledger


class CrashError(Exception):
    """A process dying between two steps."""


@dataclass
class FakeLakeStore:
    ledger: Ledger = field(default_factory=Ledger)
    staged: dict[str, Row] = field(default_factory=dict)
    markers: dict[str, Marker] = field(default_factory=dict)
    pending: dict[str, Marker] = field(default_factory=dict)
    lease: tuple[str, datetime] | None = None
    calls: list[str] = field(default_factory=list)
    crash_on_delete: bool = False

    def put_row(self, row: Row, now: datetime) -> None:
        self.calls.append("put_row")
        self.staged[row.event_key] = row

    def fetch_staged(self, limit: int) -> list[Row]:
        return list(self.staged.values())[:limit]

    def delete_staged(self, rows: Iterable[Row]) -> None:
        if self.crash_on_delete:
            raise CrashError("died before deleting the staged rows")
        for row in rows:
            self.staged.pop(row.event_key, None)

    def fetch_markers(self, persons: Iterable[str]) -> dict[str, datetime]:
        return {p: self.markers[p].erased_at for p in persons if p in self.markers}

    def stage_marker(self, uow: UnitOfWork, marker: Marker) -> None:
        def apply() -> None:
            self.markers[marker.person] = marker
            self.pending[marker.person] = marker

        self.ledger.stage(uow, f"erased#{marker.person}", None, apply, any_version=True)

    def fetch_pending(self) -> list[Marker]:
        return list(self.pending.values())

    def clear_pending(self, markers: Iterable[Marker]) -> None:
        for m in markers:
            self.pending.pop(m.person, None)

    def acquire(self, holder: str, now: datetime, seconds: float) -> bool:
        if self.lease and self.lease[0] != holder and self.lease[1] > now:
            return False
        self.lease = (holder, now + timedelta(seconds=seconds))
        return True

    def release(self, holder: str) -> None:
        if self.lease and self.lease[0] == holder:
            self.lease = None

    def commit(self, uow: UnitOfWork) -> None:
        self.ledger.commit(uow)


@dataclass
class FakeTables:
    location: str = "/lake"
    rows: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # table -> event_key -> values
    snapshots: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    catalogues: list[Mapping[str, Any]] = field(default_factory=list)
    compacted: list[str] = field(default_factory=list)

    def merge(self, table: str, columns: Mapping[str, Kind], rows: list[Row]) -> int:
        held = self.rows.setdefault(table, {})
        new = [r for r in rows if r.event_key not in held]
        for r in new:
            assert set(r.values) == set(columns)
            held[r.event_key] = dict(r.values)
        return len(new)

    def erase(self, persons: list[str]) -> dict[str, int]:
        out = {}
        for table, held in self.rows.items():
            gone = [k for k, v in held.items() if v[PERSON_COLUMN] in persons]
            for k in gone:
                del held[k]
            out[table] = len(gone)
        for key, snap in self.snapshots.items():
            before = len(snap)
            snap[:] = [v for v in snap if v[PERSON_COLUMN] not in persons]
            out[key[0]] = before - len(snap)
        return out

    def snapshot(self, source: str, target: str, key: str, order: str, day: str) -> int:
        latest: dict[str, dict[str, Any]] = {}
        for v in self.rows.get(source, {}).values():
            if v["day"] <= day and (v[key] not in latest or latest[v[key]][order] < v[order]):
                latest[v[key]] = v
        self.snapshots[(target, day)] = [{**v, "snapshot_date": day} for v in latest.values()]
        return len(latest)

    def expire(self, table: str, before: str) -> int:
        held = self.rows.get(table, {})
        old = [k for k, v in held.items() if v["day"] < before]
        for k in old:
            del held[k]
        return len(old)

    def compact(self, table: str) -> None:
        self.compacted.append(table)

    def write_catalogue(self, doc: Mapping[str, Any]) -> None:
        self.catalogues.append(doc)

    def summary(self, table: str, day: str | None, sample: int, where: tuple[str, str] | None = None) -> dict[str, Any]:
        rows = [v for v in self.rows.get(table, {}).values() if day is None or v["day"] == day]
        rows = [v for v in rows if where is None or str(v[where[0]]) == where[1]]
        return {"table": table, "day": day, "rows": len(rows), "sample": rows[:sample], "files": []}
