"""The data platform's exports (ADR 0036): pure rules — what each event type exports, the pseudonyms, the
special-category guard, the tables' columns and the data catalogue — and the port the handlers write through.

Every event type in ``events/catalog.py`` has an entry in ``data/exports.json`` (a contract test keeps it so: a
new type exports nothing until the data owners and compliance give it a rule). An exported type names its table,
the field whose time dates the row (the table's ``day`` partition, UTC), the field naming the person (stored only
as its pseudonym, column ``person_pseudonym``) and, for every other field of its model, whether it is kept as it
is, pseudonymised (HMAC-SHA256 under the lake's key, RFC 2104) or dropped. A field the rule does not name makes
the rule invalid (the contract test again): a new field of an exported type cannot leak either.

Special categories of data (RGPD art. 9) are never exported: an event flagged ``special_category``, about an area
or sent by a source the data file lists, is left out whole whatever its rule says.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from events.catalog import CATALOG
from functions.core.errors import PicError

if TYPE_CHECKING:
    from functions.core.store import UnitOfWork

EXPORTS_FILE = Path(__file__).with_name("data") / "exports.json"
PERSON_COLUMN = "person_pseudonym"
# Every row's own columns, before the rule's: the event's key (a hash of its source and id: a redelivery is the
# same row), its type, its time and the day partition (UTC date of that time).
BASE_COLUMNS: dict[str, str] = {
    "event_key": "string",
    "event_type": "string",
    "event_time": "timestamp",
    "day": "string",
    PERSON_COLUMN: "string",
}
PSEUDONYM_HEX = 32  # 128 bits of the HMAC: collisions are negligible at a city's scale
PSEUDONYM = re.compile(r"[0-9a-f]{32}")
TABLE_NAME = re.compile(r"[a-z][a-z0-9_]{1,40}")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# pydantic's datetime types are classes of their own, not subclasses of datetime
PYDANTIC_TIMES = frozenset({"AwareDatetime", "NaiveDatetime", "PastDatetime", "FutureDatetime"})
Kind = Literal["string", "int64", "double", "bool", "timestamp", "date"]


class UnknownTableError(PicError):
    status, slug, title = 404, "lake-table-unknown", "The data platform has no such table"


class InvalidPartitionError(PicError):
    status, slug, title = 400, "lake-partition-invalid", "A day partition is a date, YYYY-MM-DD"


class InvalidFilterError(PicError):
    status, slug, title = 400, "lake-filter-invalid", "A partition's filter is column:value, on a column of the table"


class FlushBusyError(PicError):
    status, slug, title = 409, "lake-flush-busy", "Another flush of the data platform's exports is running"


# ---- the rules (data) ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One event type's export: its table and what becomes of each field of its data model."""

    event_type: str
    table: str
    time: str
    person: str | None
    keep: tuple[str, ...]
    pseudonymise: tuple[str, ...]
    drop: Mapping[str, str]

    def named(self) -> list[str]:
        """Every field the rule names (each exactly once in a valid rule)."""
        return [*([self.person] if self.person else []), *self.keep, *self.pseudonymise, *self.drop]


@dataclass(frozen=True)
class Special:
    """How the platform marks special-category data (RGPD art. 9): a flag field, an area, a source."""

    flag_fields: tuple[str, ...]
    areas: frozenset[str]
    sources: tuple[str, ...]
    legal_source: str

    def applies(self, source: str, data: Mapping[str, Any]) -> bool:
        if any(bool(data.get(f)) for f in self.flag_fields):
            return True
        if str(data.get("area") or "") in self.areas:
            return True
        return any(source == s or source.startswith(s + "/") for s in self.sources)


@dataclass(frozen=True)
class Rules:
    rules: Mapping[str, Rule]  # exported types only
    not_exported: Mapping[str, str]  # type -> why not
    tables: Mapping[str, Mapping[str, Any]]  # table -> catalogue facts (title, owner, legal basis, retention...)
    special: Special

    def rule(self, event_type: str) -> Rule | None:
        return self.rules.get(event_type)

    def exported_types(self) -> list[str]:
        return sorted(self.rules)


def parse_rules(doc: Mapping[str, Any]) -> Rules:
    rules: dict[str, Rule] = {}
    not_exported: dict[str, str] = {}
    for event_type, entry in doc["types"].items():
        if not entry.get("export"):
            not_exported[event_type] = str(entry["reason"])
            continue
        rules[event_type] = Rule(
            event_type=event_type, table=entry["table"], time=entry["time"], person=entry.get("person"),
            keep=tuple(entry["keep"]), pseudonymise=tuple(entry["pseudonymise"]), drop=dict(entry["drop"]),
        )  # fmt: skip
    sc = doc["special_category"]
    special = Special(tuple(sc["flag_fields"]), frozenset(sc["areas"]), tuple(sc["sources"]), sc["legal_source"])
    return Rules(rules, not_exported, doc["tables"], special)


@cache
def rules() -> Rules:
    """The rules of ``data/exports.json``, read once per process."""
    return parse_rules(json.loads(EXPORTS_FILE.read_text(encoding="utf-8")))


def rule_problems(r: Rules) -> list[str]:
    """What makes the rules unsafe: a catalogued type without an entry, a field of an exported model not named
    (or named twice), a table without its catalogue facts, an unknown time field."""
    problems = [f"{t}: no export rule" for t in sorted(set(CATALOG) - set(r.rules) - set(r.not_exported))]
    problems += [f"{t}: not a catalogued type" for t in sorted((set(r.rules) | set(r.not_exported)) - set(CATALOG))]
    for t, rule in r.rules.items():
        if t not in CATALOG:
            continue
        fields = set(CATALOG[t].model.model_fields)
        named = rule.named()
        problems += [f"{t}: field {f!r} named twice" for f in sorted({f for f in named if named.count(f) > 1})]
        problems += [f"{t}: field {f!r} has no rule (keep, pseudonymise or drop)" for f in sorted(fields - set(named))]
        problems += [f"{t}: field {f!r} is not in the model" for f in sorted(set(named) - fields)]
        if rule.time not in rule.keep:
            problems.append(f"{t}: the time field {rule.time!r} must be kept")
        if rule.table not in r.tables or not TABLE_NAME.fullmatch(rule.table):
            problems.append(f"{t}: table {rule.table!r} has no catalogue entry")
        for f in rule.keep:
            if f in fields and kind_of(CATALOG[t].model.model_fields[f].annotation) is None:
                problems.append(f"{t}: kept field {f!r} is not a scalar (drop or pseudonymise it)")
    return problems


# ---- columns -------------------------------------------------------------------------------------------------


def kind_of(annotation: Any) -> Kind | None:
    """The column kind of a model field's type; ``None`` for what a flat table cannot hold (lists, objects)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        kinds = {kind_of(a) for a in typing.get_args(annotation) if a is not type(None)}
        return kinds.pop() if len(kinds) == 1 else None
    if origin is Literal:
        return "string"
    if origin is typing.Annotated:
        return kind_of(typing.get_args(annotation)[0])
    if getattr(annotation, "__name__", "") in PYDANTIC_TIMES:
        return "timestamp"
    if isinstance(annotation, type):
        if issubclass(annotation, bool):
            return "bool"
        if issubclass(annotation, int):
            return "int64"
        if issubclass(annotation, float):
            return "double"
        if issubclass(annotation, datetime):
            return "timestamp"
        if issubclass(annotation, date):
            return "date"
        if issubclass(annotation, str | Decimal):
            return "string"
    return None


def columns_of(r: Rules, table: str) -> dict[str, Kind]:
    """A table's columns (name → kind), the same for every type that writes it: the base columns, then each
    type's kept fields (their model's type) and pseudonymised fields (strings), in the rules' order."""
    out: dict[str, Kind] = dict(BASE_COLUMNS)  # type: ignore[arg-type]
    for t, rule in sorted(r.rules.items()):
        if rule.table != table:
            continue
        model_fields = CATALOG[t].model.model_fields
        for f in rule.keep:
            out.setdefault(f, kind_of(model_fields[f].annotation) or "string")
        for f in rule.pseudonymise:
            out.setdefault(f, "string")
    return out


def table_names(r: Rules) -> list[str]:
    return sorted({rule.table for rule in r.rules.values()})


def snapshot_of(r: Rules, table: str) -> Mapping[str, Any] | None:
    snap = r.tables.get(table, {}).get("snapshot")
    return snap if isinstance(snap, Mapping) else None


def check_table(r: Rules, table: str) -> str:
    """``table`` if it is an exported table or a snapshot's, else ``lake-table-unknown``."""
    if table in table_names(r) or table in {s["table"] for t in table_names(r) if (s := snapshot_of(r, t))}:
        return table
    raise UnknownTableError(f"no exported table is called {table[:60]!r}")


def check_where(r: Rules, table: str, where: str | None) -> tuple[str, str] | None:
    """``column:value`` on a column of the facts' table (an operator's check of a partition), or ``None``."""
    if not where:
        return None
    column, sep, value = where.partition(":")
    facts = (
        table
        if table in r.tables
        else next((t for t in r.tables if (snapshot_of(r, t) or {}).get("table") == table), table)
    )
    if not sep or column not in columns_of(r, facts) or len(value) > 200:
        raise InvalidFilterError(f"{where[:60]!r} is not column:value on a column of {table}")
    return column, value


def retention_cutoff(r: Rules, table: str, day: str) -> str:
    """The first day a table keeps on ``day``: its catalogued retention (years) back from it."""
    years = int(r.tables[table]["retention"]["years"])
    at = date.fromisoformat(day)
    try:
        return at.replace(year=at.year - years).isoformat()
    except ValueError:  # 29 February
        return at.replace(year=at.year - years, day=28).isoformat()


def check_day(day: str) -> str:
    try:
        if DAY.fullmatch(day) and date.fromisoformat(day):
            return day
    except ValueError:
        pass
    raise InvalidPartitionError(f"{day[:20]!r} is not a date (YYYY-MM-DD)")


# ---- pseudonyms ----------------------------------------------------------------------------------------------


class Pseudonyms(Protocol):
    def of(self, value: str) -> str: ...


@dataclass(frozen=True)
class Pseudonymiser:
    """Keyed pseudonyms (RGPD art. 4.5): HMAC-SHA256 (RFC 2104) of the value under the lake's key. The same value
    gives the same pseudonym in every table (analysts can join), and nobody without the key can compute one from
    an id (unlike a plain hash, which anyone can compute from a DNI). The key never leaves PIC."""

    key: bytes = field(repr=False)

    def of(self, value: str) -> str:
        return hmac.new(self.key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]


# ---- one event → one row -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """A pseudonymised row, staged until the flusher commits it to its table."""

    table: str
    event_key: str
    person: str | None  # the person's pseudonym
    event_time: datetime
    values: Mapping[str, Any]  # JSON values, every column of the table

    @property
    def day(self) -> str:
        return self.event_time.astimezone(UTC).date().isoformat()


def event_key(source: str, event_id: str) -> str:
    """The row's key: a redelivery of the event (same source and id, CloudEvents 1.0) is the same row."""
    return hashlib.sha256(f"{source}\n{event_id}".encode()).hexdigest()[:40]


def _time(value: Any) -> datetime:
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def row_of(
    r: Rules, event_type: str, source: str, event_id: str, data: Mapping[str, Any], pseudo: Pseudonyms
) -> Row | None:
    """The pseudonymised row ``data`` (the model's JSON) exports, or ``None``: not exported, or special category."""
    rule = r.rule(event_type)
    if rule is None or r.special.applies(source, data):
        return None
    at = _time(data[rule.time])
    person_id = data.get(rule.person) if rule.person else None
    person = pseudo.of(str(person_id)) if person_id else None
    values: dict[str, Any] = {c: None for c in columns_of(r, rule.table)}
    key = event_key(source, event_id)
    values.update(event_key=key, event_type=event_type, event_time=at.isoformat(), day=at.date().isoformat())
    values[PERSON_COLUMN] = person
    for f in rule.keep:
        values[f] = data.get(f)
    for f in rule.pseudonymise:
        values[f] = pseudo.of(str(data[f])) if data.get(f) is not None else None
    return Row(rule.table, key, person, at, values)


def not_erased(rows: Iterable[Row], markers: Mapping[str, datetime]) -> tuple[list[Row], list[Row]]:
    """The rows to commit and those an erasure marker holds back: a fact about the person dated not after their
    erasure (ADR 0012: a late delivery, a retry, a replay re-creates nothing). A later fact is a new one (its own
    lawful basis) and is exported."""
    kept: list[Row] = []
    held: list[Row] = []
    for row in rows:
        erased_at = markers.get(row.person) if row.person else None
        (held if erased_at is not None and row.event_time <= erased_at else kept).append(row)
    return kept, held


# ---- the data catalogue --------------------------------------------------------------------------------------


def catalogue(r: Rules, location: str) -> dict[str, Any]:
    """Every exported table with its schema, owner, legal basis, retention and pseudonymisation — what the
    catalogue API serves, the page shows and the flusher writes as ``catalogue.json`` beside the tables."""
    out = []
    for name in table_names(r):
        facts = r.tables[name]
        rules_of = {t: rule for t, rule in sorted(r.rules.items()) if rule.table == name}
        cols = columns_of(r, name)
        pseudonymised = sorted({PERSON_COLUMN, *(f for rule in rules_of.values() for f in rule.pseudonymise)})
        entry: dict[str, Any] = {
            "name": name, "title": facts["title"], "description": facts["description"], "owner": facts["owner"],
            "legal_basis": facts["legal_basis"], "legal_source": facts["legal_source"], "retention": facts["retention"],
            "format": "Delta Lake (Parquet files)", "location": f"{location.rstrip('/')}/tables/{name}",
            "partitioned_by": ["day"],
            "schema": [{"name": c, "type": k, "pseudonymised": c in pseudonymised} for c, k in cols.items()],
            "pseudonymisation": "HMAC-SHA256 (RFC 2104) under the lake's key, first 128 bits in hex",
            "sources": [{"type": t, "time": rule.time, "dropped": dict(rule.drop)} for t, rule in rules_of.items()],
        }  # fmt: skip
        snap = snapshot_of(r, name)
        if snap:
            entry["snapshot"] = {
                "name": snap["table"], "title": snap["title"], "key": snap["key"], "latest_by": snap["order"],
                "partitioned_by": ["snapshot_date"], "location": f"{location.rstrip('/')}/tables/{snap['table']}",
            }  # fmt: skip
        out.append(entry)
    return {
        "tables": out,
        "special_category": {
            "excluded": True,
            "areas": sorted(r.special.areas),
            "legal_source": r.special.legal_source,
        },
        "not_exported": [{"type": t, "reason": why} for t, why in sorted(r.not_exported.items())],
    }


# ---- the port --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Marker:
    """An erasure of the person whose pseudonym is ``person``: their rows are deleted from every table and no
    fact about them dated up to ``erased_at`` is exported again (ADR 0012). No id: the pseudonym only."""

    person: str
    erased_at: datetime
    request_id: str


class LakeStore(Protocol):
    """The staging area and the erasure markers (DynamoDB table ``lake``)."""

    def put_row(self, row: Row, now: datetime) -> None:
        """Stage one row: one idempotent write (the same event key overwrites itself)."""

    def fetch_staged(self, limit: int) -> list[Row]: ...

    def delete_staged(self, rows: Iterable[Row]) -> None: ...

    def fetch_markers(self, persons: Iterable[str]) -> dict[str, datetime]: ...

    def stage_marker(self, uow: UnitOfWork, marker: Marker) -> None:
        """The marker and the pending erasure the flusher applies to the tables (same unit as the answer)."""

    def fetch_pending(self) -> list[Marker]: ...

    def clear_pending(self, markers: Iterable[Marker]) -> None: ...

    def acquire(self, holder: str, now: datetime, seconds: float) -> bool:
        """The writer's lease: one flusher or snapshot at a time writes the tables (Delta's commits are atomic;
        one writer also orders erasures after the rows they must delete)."""

    def release(self, holder: str) -> None: ...


class LakeTables(Protocol):
    """The tables in object storage (Delta Lake: ``tables.DeltaTables``)."""

    location: str

    def merge(self, table: str, columns: Mapping[str, Kind], rows: list[Row]) -> int:
        """Insert the rows whose event key the table does not hold yet; answers how many were inserted."""

    def erase(self, persons: list[str]) -> dict[str, int]:
        """Delete the persons' rows from every table and remove the old file versions; rows deleted per table."""

    def snapshot(self, source: str, target: str, key: str, order: str, day: str) -> int: ...

    def expire(self, table: str, before: str) -> int:
        """Delete the partitions dated before ``before`` (the retention's end); answers the rows deleted."""

    def compact(self, table: str) -> None:
        """Merge the small files the flushes wrote; the replaced ones go after Delta's default retention."""

    def write_catalogue(self, doc: Mapping[str, Any]) -> None: ...

    def summary(
        self, table: str, day: str | None, sample: int, where: tuple[str, str] | None = None
    ) -> dict[str, Any]: ...
