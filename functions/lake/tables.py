"""The exported tables: Delta Lake tables of Parquet files in object storage (ADR 0036), through delta-rs
(``deltalake``): atomic commits, a merge on the event key (a row committed twice is one row), deletes and
``vacuum`` for erasure, and tables Spark, Athena, Trino and DuckDB read.

``location`` is ``<data dir>/lake`` locally and ``s3://<bucket>/lake`` deployed; each table is
``<location>/tables/<name>``, partitioned by ``day`` (the facts) or ``snapshot_date`` (the daily snapshots), and
the data catalogue is ``<location>/catalogue.json``.

File statistics are kept only for the date and time columns (``delta.dataSkippingStatsColumns``): Delta writes
each file's minimum and maximum per column into its log, which vacuum does not rewrite, so statistics of
``person_pseudonym`` would keep an erased person's pseudonym in the log after their rows and files are gone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
from deltalake import DeltaTable, write_deltalake

from functions.lake.service import PERSON_COLUMN, PSEUDONYM, Kind, Row, check_day

ARROW: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int64": pa.int64(),
    "double": pa.float64(),
    "bool": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
}
FACTS_CONFIG = {"delta.dataSkippingStatsColumns": "day,event_time"}
SNAPSHOT_CONFIG = {"delta.dataSkippingStatsColumns": "snapshot_date,event_time"}


def _value(value: Any, kind: Kind) -> Any:
    if value is None:
        return None
    if kind == "timestamp":
        at = datetime.fromisoformat(str(value))
        return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    if kind == "date":
        return date.fromisoformat(str(value))
    return value


def arrow_rows(columns: Mapping[str, Kind], rows: list[Row]) -> pa.Table:
    schema = pa.schema([(c, ARROW[k]) for c, k in columns.items()])
    return pa.Table.from_pylist(
        [{c: _value(r.values.get(c), k) for c, k in columns.items()} for r in rows], schema=schema
    )


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


class DeltaTables:
    """The lake's tables (``service.LakeTables``) as Delta tables under ``location``."""

    def __init__(self, location: str, names: list[str], storage_options: dict[str, str] | None = None) -> None:
        self.location = location.rstrip("/")
        self.names = names  # every table an erasure reaches: the facts' and the snapshots'
        self.options = storage_options

    def uri(self, table: str) -> str:
        return f"{self.location}/tables/{table}"

    def open(self, table: str) -> DeltaTable | None:
        uri = self.uri(table)
        if not DeltaTable.is_deltatable(uri, storage_options=self.options):
            return None
        return DeltaTable(uri, storage_options=self.options)

    def merge(self, table: str, columns: Mapping[str, Kind], rows: list[Row]) -> int:
        data = arrow_rows(columns, rows)
        dt = self.open(table) or DeltaTable.create(
            self.uri(table), data.schema, partition_by=["day"], configuration=FACTS_CONFIG, storage_options=self.options
        )
        metrics = (
            dt.merge(data, "t.day = s.day AND t.event_key = s.event_key", source_alias="s", target_alias="t")
            .when_not_matched_insert_all()
            .execute()
        )
        return int(metrics.get("num_target_rows_inserted", 0))

    def erase(self, persons: list[str]) -> dict[str, int]:
        """Each partition holding a person's rows is rewritten without them (an overwrite of that partition), then
        the replaced files are vacuumed whatever their age. Not Delta's ``DELETE``: its commit records its predicate
        in the log, which would keep the pseudonyms there; an overwrite's predicate names only the partition."""
        if not persons:
            return {}
        if not all(PSEUDONYM.fullmatch(p) for p in persons):
            raise ValueError("an erasure names pseudonyms only")
        erased = pa.array(sorted(set(persons)), pa.string())
        deleted: dict[str, int] = {}
        for name in self.names:
            dt = self.open(name)
            if dt is None:
                continue
            column = (dt.metadata().partition_columns or ["day"])[0]
            held = dt.to_pyarrow_table(columns=[PERSON_COLUMN, column])
            days = sorted(set(held.filter(pc.is_in(held[PERSON_COLUMN], erased))[column].to_pylist()))
            count = 0
            for day in days:
                rows = dt.to_pyarrow_table(filters=[(column, "=", check_day(day))])
                rest = rows.filter(pc.invert(pc.is_in(rows[PERSON_COLUMN], erased)))
                count += rows.num_rows - rest.num_rows
                write_deltalake(dt, rest, mode="overwrite", predicate=f"{column} = '{day}'")
            deleted[name] = count
            if days:
                # the files that held the rows stay in older versions until vacuumed: removed now, whatever their age
                dt = self.open(name) or dt
                dt.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
        return deleted

    def snapshot(self, source: str, target: str, key: str, order: str, day: str) -> int:
        """The current state of each ``key`` as of ``day`` (its row latest by ``order``), written as partition
        ``snapshot_date=day`` of ``target`` (replacing it: a rerun of the day writes the same partition)."""
        dt = self.open(source)
        if dt is None:
            return 0
        facts = dt.to_pyarrow_table()
        day = check_day(day)  # a literal below: a date only
        con = duckdb.connect()
        con.register("facts", facts)
        # day is a checked date; key and order are column names from the rules (data in the repository)
        latest = con.sql(
            f"SELECT * EXCLUDE (rn), '{day}' AS snapshot_date FROM (SELECT *, row_number() OVER (PARTITION BY "  # noqa: S608
            f'"{key}" ORDER BY "{order}" DESC, event_time DESC) AS rn FROM facts WHERE day <= \'{day}\') WHERE rn = 1'
        ).to_arrow_table()
        # DuckDB answers its own zone name ("Etc/UTC"), which Delta's schema does not take: the facts' types back
        latest = latest.cast(pa.schema([*facts.schema, pa.field("snapshot_date", pa.string())]))
        uri = self.uri(target)
        if not DeltaTable.is_deltatable(uri, storage_options=self.options):
            DeltaTable.create(uri, latest.schema, partition_by=["snapshot_date"], configuration=SNAPSHOT_CONFIG,
                              storage_options=self.options)  # fmt: skip
        write_deltalake(uri, latest, mode="overwrite", predicate=f"snapshot_date = '{day}'",
                        storage_options=self.options)  # fmt: skip
        return int(latest.num_rows)

    def expire(self, table: str, before: str) -> int:
        """The partitions past the retention deleted (their files go at the next vacuum, ``compact``)."""
        dt = self.open(table)
        if dt is None:
            return 0
        metrics = dt.delete(f"day < '{check_day(before)}'")
        return int(metrics.get("num_deleted_rows", 0))

    def compact(self, table: str) -> None:
        """The flushes' small files merged (daily), the replaced ones vacuumed after Delta's default 7 days."""
        dt = self.open(table)
        if dt is not None:
            dt.optimize.compact()
            dt.vacuum(dry_run=False)

    def write_catalogue(self, doc: Mapping[str, Any]) -> None:
        fs, path = pafs.FileSystem.from_uri(self.location)
        fs.create_dir(path, recursive=True)
        with fs.open_output_stream(f"{path}/catalogue.json") as out:
            out.write(json.dumps(doc, ensure_ascii=False, indent=1).encode())

    def summary(self, table: str, day: str | None, sample: int, where: tuple[str, str] | None = None) -> dict[str, Any]:
        """A partition as an operator checks it: its files, rows and a few rows (pseudonymised as stored)."""
        dt = self.open(table)
        if dt is None:
            return {"table": table, "day": day, "version": None, "files": [], "rows": 0, "sample": []}
        column = (dt.metadata().partition_columns or ["day"])[0]
        actions = pa.table(dt.get_add_actions(flatten=True)).to_pylist()
        files = [
            {"path": str(a["path"]), "bytes": int(a["size_bytes"])}
            for a in actions
            if day is None or a.get(f"partition.{column}") == day
        ]
        filters = [(column, "=", day)] if day else None
        data = dt.to_pyarrow_table(filters=filters)
        if where and where[0] in data.column_names:
            column_values = data[where[0]]
            data = data.filter(pc.equal(pc.cast(column_values, pa.string()), where[1]))
        rows = [{k: _json(v) for k, v in r.items()} for r in data.slice(0, sample).to_pylist()]
        return {"table": table, "day": day, "version": dt.version(), "files": sorted(files, key=lambda f: f["path"]),
                "rows": data.num_rows, "sample": rows}  # fmt: skip
