"""From a replication slot's messages to committed transactions of row changes, in commit order.

Logical decoding hands over whole transactions, in the order they committed, each as Begin, the changes and
Commit (``pgoutput`` sends a Relation message, the table's columns as they stood, before a table's first change in
a batch and again after any DDL of it). This module turns those into ``Transaction``s of ``Change``s keyed by
column name, and checks each Relation against the columns the mapping reads: a column it reads that is gone,
renamed or of another type is a ``SchemaChangedError`` *before* the first change written under the new schema,
so the capture stops there (nothing garbled is published, nothing after it is confirmed). A column added is not a
change the mapping sees (additive, as event schemas evolve) and passes. ``TRUNCATE`` empties a table without a
row per delete: the capture cannot tell the consumers which items went, so it stops too, saying so.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from functions.cdc import pgoutput
from functions.cdc.pgoutput import UNCHANGED, Value, lsn_text

Op = Literal["insert", "update", "delete", "snapshot"]


class CaptureError(Exception):
    """The capture cannot go on without a person: it stops, saying why, before the change at ``lsn``."""

    def __init__(self, reason: str, lsn: int | None = None) -> None:
        super().__init__(reason + (f" (before the change at LSN {lsn_text(lsn)})" if lsn is not None else ""))
        self.reason = reason
        self.lsn = lsn


class SchemaChangedError(CaptureError):
    """A table the mapping reads changed under it (DDL), or was truncated."""


@dataclass(frozen=True)
class TableSpec:
    """What the mapping reads of one table: column name -> PostgreSQL type OID; ``full_identity`` when a delete
    must carry the whole old row (``REPLICA IDENTITY FULL``), not only its key."""

    columns: Mapping[str, int]
    key: str
    full_identity: bool = False


@dataclass(frozen=True)
class Change:
    table: str  # schema.name
    op: Op
    key: str  # the row's primary key
    row: dict[str, str | None]  # the new row (insert, update, snapshot) or the old one (delete)
    old: dict[str, str | None] | None  # the old row of an update, when the table sends it (REPLICA IDENTITY FULL)
    lsn: int  # the change's own WAL position: with the table and key, what names it for ever
    commit_time: datetime


@dataclass
class Transaction:
    xid: int
    commit_time: datetime
    end_lsn: int = 0  # confirmed once every change of it was accepted
    changes: list[Change] = field(default_factory=list)


def transactions(rows: Iterable[tuple[int, bytes]], tables: Mapping[str, TableSpec]) -> Iterator[Transaction]:
    """Each committed transaction of ``rows`` (``(lsn, pgoutput message)`` as the slot gives them), in commit
    order, with the changes of the tables in ``tables`` (others are ignored: not this mapping's)."""
    relations: dict[int, pgoutput.Relation] = {}
    current: Transaction | None = None
    for lsn, data in rows:
        message = pgoutput.decode(data)
        if isinstance(message, pgoutput.Begin):
            current = Transaction(message.xid, message.commit_time)
        elif isinstance(message, pgoutput.Commit):
            if current is None:
                raise pgoutput.DecodeError("a commit without its begin")
            current.end_lsn = message.end_lsn
            yield current
            current = None
        elif isinstance(message, pgoutput.Relation):
            if message.table in tables:
                check_relation(message, tables[message.table], lsn)
            relations[message.relid] = message
        elif isinstance(message, pgoutput.Truncate):
            names = [relations[r].table for r in message.relids if r in relations]
            if any(name in tables for name in names):
                raise SchemaChangedError(
                    f"TRUNCATE of {', '.join(names)}: the rows went without a delete each, so the consumers cannot be"
                    " told which; publish a fresh snapshot (python -m functions.cdc snapshot) and skip past it",
                    lsn,
                )
        elif isinstance(message, pgoutput.Insert | pgoutput.Update | pgoutput.Delete):
            if current is None:
                raise pgoutput.DecodeError("a change outside a transaction")
            relation = relations.get(message.relid)
            if relation is None:
                raise pgoutput.DecodeError(f"a change of relation {message.relid} before its Relation message")
            if relation.table in tables:
                current.changes.append(_change(relation, tables[relation.table], message, lsn, current.commit_time))


def check_relation(relation: pgoutput.Relation, spec: TableSpec, lsn: int) -> None:
    """The table still has every column the mapping reads, of the same type, and the identity deletes need."""
    have = {c.name: c.type_oid for c in relation.columns}
    problems = []
    for name, oid in spec.columns.items():
        if name not in have:
            problems.append(f"column {name} is gone (dropped or renamed)")
        elif have[name] != oid:
            problems.append(f"column {name} is now of type OID {have[name]}, not {oid}")
    if spec.full_identity and relation.replica_identity != "f":
        problems.append("REPLICA IDENTITY is no longer FULL (a delete would not say whose item it was)")
    if problems:
        raise SchemaChangedError(f"{relation.table} changed: {'; '.join(problems)}; update the mapping", lsn)


def _row(
    relation: pgoutput.Relation, values: tuple[Value, ...], fallback: dict[str, str | None] | None
) -> dict[str, str | None]:
    row: dict[str, str | None] = {}
    for column, value in zip(relation.columns, values, strict=False):
        if value is UNCHANGED:  # a TOASTed value the update left alone: the old row has it (REPLICA IDENTITY FULL)
            row[column.name] = (fallback or {}).get(column.name)
        else:
            row[column.name] = value  # type: ignore[assignment]
    return row


def _change(
    relation: pgoutput.Relation,
    spec: TableSpec,
    message: pgoutput.Insert | pgoutput.Update | pgoutput.Delete,
    lsn: int,
    commit_time: datetime,
) -> Change:
    if isinstance(message, pgoutput.Insert):
        row, old, op = _row(relation, message.new, None), None, "insert"
    elif isinstance(message, pgoutput.Update):
        old = _row(relation, message.old, None) if message.old is not None else None
        row, op = _row(relation, message.new, old), "update"
    else:
        row, old, op = _row(relation, message.old, None), None, "delete"
    return Change(relation.table, op, str(row.get(spec.key) or ""), row, old, lsn, commit_time)  # type: ignore[arg-type]
