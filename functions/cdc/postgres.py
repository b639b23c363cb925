"""The source adapter: a PostgreSQL logical replication slot read through SQL, with psycopg 3.

The slot uses the built-in ``pgoutput`` plugin over the source's publication (the tables the DBA chose to
publish). ``pg_logical_slot_peek_binary_changes`` reads committed changes after the slot's confirmed position
without consuming them; ``pg_replication_slot_advance`` confirms a position once its events were published
(PostgreSQL 15 documentation, §9.27.6 "Replication Management Functions" and §49 "Logical Decoding"). Both need
only the ``REPLICATION`` attribute, not a superuser. The initial snapshot reads each table in one ``REPEATABLE
READ`` transaction after the slot exists, so no change is missed between the two (a change in between is both
in the snapshot and in the stream: published twice, the later state last, which the consumers' rules make
converge).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime

import psycopg
from psycopg import sql

from functions.cdc.changes import CaptureError, Change, TableSpec
from functions.cdc.pgoutput import lsn_text, parse_lsn

PLUGIN = "pgoutput"


class PostgresSource:
    """One slot on one database: the capture's ``ChangeSource``."""

    def __init__(self, dsn: str, slot: str, publication: str) -> None:
        self.dsn, self.slot, self.publication = dsn, slot, publication
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    @property
    def conn(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=10)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()

    def check(self) -> None:
        """The source is set up as the README's grants say, or a ``CaptureError`` saying what is missing."""
        level = self.conn.execute("SHOW wal_level").fetchone()
        if not level or level[0] != "logical":
            raise CaptureError(f"wal_level is {level[0] if level else '?'}: logical decoding needs wal_level=logical")
        found = self.conn.execute("SELECT 1 FROM pg_publication WHERE pubname = %s", (self.publication,)).fetchone()
        if not found:
            raise CaptureError(
                f"no publication {self.publication}: the tables' owner creates it (functions/cdc/README.md)"
            )

    def ensure_slot(self) -> bool:
        """Create the slot if it does not exist; answers whether it was created now (then take a snapshot)."""
        row = self.conn.execute("SELECT plugin FROM pg_replication_slots WHERE slot_name = %s", (self.slot,)).fetchone()
        if row:
            if row[0] != PLUGIN:
                raise CaptureError(f"slot {self.slot} decodes with {row[0]}, not {PLUGIN}")
            return False
        self.conn.execute("SELECT pg_create_logical_replication_slot(%s, %s)", (self.slot, PLUGIN))
        return True

    def peek(self, limit: int) -> list[tuple[int, bytes]]:
        """Up to ``limit`` rows of whole committed transactions. When there is none, the WAL written meanwhile held
        nothing published (other tables, checkpoints): the slot is moved past it so that the source keeps no WAL
        for PIC's sake; changes committed later are after that point and still to come."""
        flushed = self.conn.execute("SELECT pg_current_wal_flush_lsn()::text").fetchone()
        rows = self.conn.execute(
            "SELECT lsn::text, data FROM pg_logical_slot_peek_binary_changes(%s, NULL, %s,"
            " 'proto_version', '1', 'publication_names', %s)",
            (self.slot, limit, self.publication),
        ).fetchall()
        if not rows and flushed:
            self._skip_idle(parse_lsn(str(flushed[0])))
        return [(parse_lsn(str(lsn)), bytes(data)) for lsn, data in rows]  # type: ignore[call-overload]

    def _skip_idle(self, flushed: int) -> None:
        row = self.conn.execute(
            "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = %s", (self.slot,)
        ).fetchone()
        if row and row[0] and parse_lsn(str(row[0])) < flushed:
            self.confirm(flushed)

    def confirm(self, lsn: int) -> None:
        self.conn.execute("SELECT pg_replication_slot_advance(%s, %s::pg_lsn)", (self.slot, lsn_text(lsn)))

    def position(self) -> dict[str, object]:
        """The slot's confirmed position and how far the server's WAL is ahead of it (bytes): the lag."""
        row = self.conn.execute(
            "SELECT confirmed_flush_lsn::text, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint"
            " FROM pg_replication_slots WHERE slot_name = %s",
            (self.slot,),
        ).fetchone()
        return {"confirmed_lsn": row[0], "lag_bytes": row[1]} if row else {}

    def snapshot(self, tables: Mapping[str, TableSpec]) -> Iterator[Change]:
        """Every row of ``tables`` as it stands, in one consistent read (columns as text, as pgoutput sends)."""
        now = datetime.now(UTC)
        with psycopg.connect(self.dsn, connect_timeout=10) as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            for table, spec in tables.items():
                schema, name = table.split(".", 1)
                columns = list(spec.columns)
                query = sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
                    sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in columns),
                    sql.Identifier(schema, name),
                    sql.Identifier(spec.key),
                )
                for values in conn.execute(query):
                    row = dict(zip(columns, values, strict=True))
                    yield Change(table, "snapshot", str(row[spec.key]), row, None, 0, now)  # type: ignore[arg-type]

    def drop_slot(self) -> None:
        self.conn.execute("SELECT pg_drop_replication_slot(%s)", (self.slot,))
