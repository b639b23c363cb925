"""pgoutput messages written as PostgreSQL 15 writes them (protocol 1), a slot and a broker in memory."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from datetime import datetime

from functions.cdc.capture import TransientPublishError
from functions.cdc.licencias import FILES, HOLDERS, TABLES, Outgoing
from functions.cdc.pgoutput import PG_EPOCH

RELIDS = {HOLDERS: 16401, FILES: 16410}


def _s(text: str) -> bytes:
    return text.encode() + b"\x00"


def _time(at: datetime) -> bytes:
    return struct.pack(">q", int((at - PG_EPOCH).total_seconds() * 1_000_000))


def begin(final_lsn: int, at: datetime, xid: int) -> bytes:
    return b"B" + struct.pack(">Q", final_lsn) + _time(at) + struct.pack(">I", xid)


def commit(commit_lsn: int, end_lsn: int, at: datetime) -> bytes:
    return b"C\x00" + struct.pack(">QQ", commit_lsn, end_lsn) + _time(at)


def relation(table: str, columns: dict[str, int] | None = None, identity: str = "") -> bytes:
    spec = TABLES[table]
    columns = dict(spec.columns) if columns is None else columns
    identity = identity or ("f" if spec.full_identity else "d")
    namespace, name = table.split(".")
    out = b"R" + struct.pack(">I", RELIDS[table]) + _s(namespace) + _s(name) + identity.encode()
    out += struct.pack(">h", len(columns))
    for column, oid in columns.items():
        out += struct.pack(">b", 1 if column == spec.key else 0) + _s(column) + struct.pack(">Ii", oid, -1)
    return out


def tuple_data(values: Sequence[str | bytes | None]) -> bytes:
    out = struct.pack(">h", len(values))
    for value in values:
        if value is None:
            out += b"n"
        elif value == b"u":
            out += b"u"
        else:
            raw = str(value).encode()
            out += b"t" + struct.pack(">i", len(raw)) + raw
    return out


def row(table: str, **values: str | None) -> list[str | bytes | None]:
    return [values.get(column) for column in TABLES[table].columns]


def insert(table: str, values: Sequence[str | bytes | None]) -> bytes:
    return b"I" + struct.pack(">I", RELIDS[table]) + b"N" + tuple_data(values)


def update(table: str, new: Sequence[str | bytes | None], old: Sequence[str | bytes | None] | None = None) -> bytes:
    head = b"U" + struct.pack(">I", RELIDS[table])
    return head + (b"O" + tuple_data(old) if old is not None else b"") + b"N" + tuple_data(new)


def delete(table: str, old: Sequence[str | bytes | None]) -> bytes:
    return b"D" + struct.pack(">I", RELIDS[table]) + b"O" + tuple_data(old)


def truncate(*tables: str) -> bytes:
    return b"T" + struct.pack(">ib", len(tables), 0) + b"".join(struct.pack(">I", RELIDS[t]) for t in tables)


class FakeSlot:
    """A slot over a list of ``(lsn, message)``: peek from the confirmed position, confirm moves it."""

    def __init__(self, rows: list[tuple[int, bytes]]) -> None:
        self.rows = rows
        self.confirmed = 0
        self.confirms: list[int] = []

    def peek(self, limit: int) -> list[tuple[int, bytes]]:
        return [(lsn, data) for lsn, data in self.rows if lsn > self.confirmed][:limit]

    def confirm(self, lsn: int) -> None:
        self.confirmed = lsn
        self.confirms.append(lsn)


class CrashError(Exception):
    """The capture's process dies (the test's stand-in for a kill)."""


class FakeBroker:
    """Accepts events, remembering each; ``fail`` scripts what the next posts raise (an exception or None)."""

    def __init__(self) -> None:
        self.accepted: list[Outgoing] = []
        self.fail: list[Exception | None] = []

    def publish(self, event: Outgoing) -> None:
        if self.fail:
            error = self.fail.pop(0)
            if error is not None:
                raise error
        self.accepted.append(event)


__all__ = ["CrashError", "FakeBroker", "FakeSlot", "TransientPublishError"]
