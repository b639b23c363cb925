"""The columnar side of segments: audience rows written to Parquet, and segments evaluated over them by
DuckDB — counts per channel as NOT will decide them, a pseudonymised sample, and the members of a saved
segment's snapshot read back a page at a time by the dispatcher.

Why counts are exact predictions and still cheap: the policy input of ``policies/notifications`` holds no id
and no address, only the purpose's consent, quiet hours, flags, reachable channels and the preferred order.
The matching rows are grouped by exactly those columns in SQL (a few hundred groups for a whole city), the
policy is asked once per group through ``functions.core.channel_choice.decide`` — the very code NOT runs at
send time — and the groups' sizes are summed by the chosen channel or the refusal's code. A message that
quiet hours defer is still sent, by the deferred channel: it counts under that channel.

The SQL is the subset DuckDB and Spark SQL share (``segments.to_sql``); the data platform runs the same
``WHERE`` and ``GROUP BY`` over the same columns in Spark (docs/benchmarks.md, "Campaigns: segments").
DuckDB's memory is bounded per connection (``memory_limit``), spilling to disk beyond it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson

from functions.campaign import segments
from functions.campaign.audience import PURPOSES, AudienceRow
from functions.core.channel_choice import CHANNELS, Choice, Message, candidates_of, decide
from functions.core.policy import Policy

# The export's schema (Parquet): name → DuckDB type. Lists are VARCHAR[] (Spark: array<string>).
COLUMNS: dict[str, str] = {
    "citizen_id": "VARCHAR",
    "birth_date": "DATE",
    "language": "VARCHAR",
    "district": "VARCHAR",
    "barrio": "VARCHAR",
    "zones": "VARCHAR[]",
    "relations": "VARCHAR[]",  # "<section>:<area>" keys and each section alone (segments.relation_keys)
    "channels": "VARCHAR[]",  # preferred, most preferred first
    "quiet_start": "VARCHAR",  # "HH:MM" or NULL
    "quiet_end": "VARCHAR",
    "consents": "VARCHAR",  # CON's snapshot, JSON text, every purpose
    "consent_campaigns": "VARCHAR[]",  # channels granted for the purpose (empty when not granted)
    "consent_surveys": "VARCHAR[]",
    "consent_json_campaigns": "VARCHAR",  # the purpose's consent as the policy reads it, canonical JSON: a group key
    "consent_json_surveys": "VARCHAR",
    "restricted": "BOOLEAN",
    "objections": "VARCHAR[]",
    "reachable": "VARCHAR[]",  # in CHANNELS order (a canonical group key)
    "last_interaction": "TIMESTAMP",  # UTC
}
MEMBER_COLUMNS: dict[str, str] = {
    "position": "BIGINT",  # 0-based rank in citizen_id order: a page is a range of it, skipped to by row group
    "citizen_id": "VARCHAR",
    "channel": "VARCHAR",
    "reason": "VARCHAR",
    "district": "VARCHAR",
    "language": "VARCHAR",
    "barrio": "VARCHAR",
}
CONSENT_KEYS = ("granted", "channels", "text_version")  # what policies/consent reads of a purpose's consent
ROW_GROUP_SIZE = 100_000
AGE_BANDS = ((0, 17), (18, 29), (30, 44), (45, 64), (65, 79), (80, 200))


@dataclass(frozen=True)
class Member:
    """One person a campaign goes to, as the snapshot holds them: the channel NOT is predicted to choose
    (``None``: predicted not to be sent, with ``reason``), and what the impact report breaks down by."""

    citizen_id: str
    channel: str | None
    reason: str | None
    district: str | None
    language: str
    barrio: str | None = None  # a snapshot written before barrios were kept has none


@dataclass(frozen=True)
class Count:
    """A segment's count for a purpose: who matches (``targeted``), by the channel NOT will choose, and
    how many will not be sent and why (``no-consent``, ``no-channel``, ``restricted``, ``objection``...)."""

    targeted: int
    by_channel: dict[str, int]
    not_sent: dict[str, int]
    sample: list[dict[str, Any]] = field(default_factory=list)  # pseudonymised: no id, no address
    took_ms: float = 0.0
    groups: int = 0  # distinct policy inputs among the targeted (one decision each)


# ---------------------------------------------------------------------------------------------------------------
# Rows → Parquet
# ---------------------------------------------------------------------------------------------------------------


def purpose_consent(consents: dict[str, Any], purpose: str) -> dict[str, Any]:
    """The purpose's consent reduced to what the policy reads: equal consents make one group whatever else
    CON's snapshot carries (timestamps, sources)."""
    consent = consents.get(purpose)
    if not isinstance(consent, dict):
        return {}
    return {k: consent[k] for k in CONSENT_KEYS if k in consent}


def canonical(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def record(row: AudienceRow) -> dict[str, Any]:
    """One row as the export's columns."""
    quiet = row.quiet_hours or {}
    found: dict[str, Any] = {
        "citizen_id": row.citizen_id,
        "birth_date": row.birth_date.isoformat() if row.birth_date else None,
        "language": row.language,
        "district": row.district,
        "barrio": row.barrio,
        "zones": list(row.zones),
        "relations": sorted(segments.relation_keys(row.relations)),
        "channels": list(row.channels),
        "quiet_start": quiet.get("start"),
        "quiet_end": quiet.get("end"),
        "consents": canonical(row.consents),
        "restricted": row.restricted,
        "objections": list(row.objections),
        "reachable": [c for c in CHANNELS if c in row.reachable],
        "last_interaction": (
            row.last_interaction.astimezone(UTC).replace(tzinfo=None).isoformat() if row.last_interaction else None
        ),
    }
    for purpose in PURPOSES:
        found[f"consent_{purpose}"] = list(segments.granted_channels(row, purpose))
        found[f"consent_json_{purpose}"] = canonical(purpose_consent(row.consents, purpose))
    return found


def connect(memory_limit: str | None = None, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with bounded memory (``PIC_CAMPAIGN_DUCKDB_MEMORY``, e.g. ``"512MB"``; DuckDB's
    own default is 80 % of the machine) and insertion order not kept (big exports stream in less memory)."""
    con = duckdb.connect()
    limit = memory_limit or os.environ.get("PIC_CAMPAIGN_DUCKDB_MEMORY")
    if limit:
        con.execute(f"SET memory_limit = '{_safe(limit)}'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    # where a sort or join beyond the memory limit spills: the system's temporary directory (a pod's writable
    # scratch volume; DuckDB's default, ``.tmp`` beside the working directory, is the read-only image)
    con.execute(f"SET temp_directory = '{_safe(os.path.join(tempfile.gettempdir(), 'pic-duckdb'))}'")
    return con


def _safe(text: str) -> str:
    """A literal for the few places DuckDB takes no parameter (paths in COPY, settings)."""
    return text.replace("'", "''")


def _struct(columns: dict[str, str]) -> str:
    return "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items()) + "}"


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` renamed over it on success (readers never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        tmp.replace(path)
    finally:
        with suppress(FileNotFoundError):
            tmp.unlink()


def write_rows(rows: Iterable[AudienceRow], path: Path, memory_limit: str | None = None) -> int:
    """Write rows to a Parquet file (replacing it atomically); how many were written.

    The rows stream to newline-delimited JSON (orjson, constant memory) that DuckDB reads with the declared
    types and writes as Parquet: DuckDB alone, no dataframe library, and a projection scanned page by page
    never holds the city in Python."""
    written = 0
    with tempfile.NamedTemporaryFile("wb", suffix=".ndjson", dir=path.parent if path.parent.exists() else None) as f:
        for row in rows:
            f.write(orjson.dumps(record(row)))
            f.write(b"\n")
            written += 1
        f.flush()
        with _replacing(path) as tmp:
            con = connect(memory_limit)
            try:
                source = (
                    f"read_json('{_safe(f.name)}', format = 'newline_delimited', columns = {_struct(COLUMNS)})"
                    if written else
                    "(SELECT " + ", ".join(f"CAST(NULL AS {t}) AS {n}" for n, t in COLUMNS.items()) + " LIMIT 0)"
                )  # fmt: skip
                con.execute(
                    f"COPY (SELECT {', '.join(COLUMNS)} FROM {source}) TO '{_safe(str(tmp))}' "  # noqa: S608 - fixed text, values bound, paths escaped
                    f"(FORMAT parquet, ROW_GROUP_SIZE {ROW_GROUP_SIZE})"
                )
            finally:
                con.close()
    return written


# ---------------------------------------------------------------------------------------------------------------
# Counting: one decision per group of identical policy input
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyPerson:
    """A group's policy input as ``channel_choice.Person``: only the purpose's consent."""

    consents: dict[str, dict[str, Any]]
    quiet_hours: dict[str, str] | None
    restricted: bool
    objections: tuple[str, ...]


def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise ValueError(f"purpose {purpose!r} is not one of {PURPOSES}")


def group_columns(purpose: str) -> list[str]:
    """The policy input's columns (SQL expressions) for a purpose; ``?`` binds the purpose once."""
    _check_purpose(purpose)
    return [  # never NULL: the snapshot joins members to their group's decision by plain equality
        f"COALESCE(consent_json_{purpose}, '{{}}')",
        "COALESCE(quiet_start, '')",
        "COALESCE(quiet_end, '')",
        "COALESCE(restricted, FALSE)",
        "COALESCE(array_contains(objections, ?), FALSE)",
        "COALESCE(reachable, CAST([] AS VARCHAR[]))",
        "COALESCE(channels, CAST([] AS VARCHAR[]))",
    ]


def choice_of(group: tuple[Any, ...], purpose: str, policy: Policy, at: datetime) -> Choice:
    """The decision for one group (a row of ``group_columns``), exactly as NOT will take it for each person."""
    consent_json, quiet_start, quiet_end, restricted, objected, reachable, channels = group[:7]
    person = PolicyPerson(
        consents={purpose: orjson.loads(consent_json)} if consent_json and consent_json != "{}" else {},
        quiet_hours={"start": quiet_start, "end": quiet_end} if quiet_start and quiet_end else None,
        restricted=bool(restricted),
        objections=(purpose,) if objected else (),
    )
    reach = tuple(reachable or ())
    return decide(Message(purpose), person, candidates_of(tuple(channels or ())), reach, at, policy)


def decide_row(row: AudienceRow, purpose: str, policy: Policy, at: datetime) -> Choice:
    """One row's predicted decision (a saved segment's delta keeps it beside the member), by the same
    reduction of the row to its group as ``count`` makes."""
    rec = record(row)
    group = (rec[f"consent_json_{purpose}"], rec["quiet_start"], rec["quiet_end"], rec["restricted"],
             purpose in row.objections, rec["reachable"], rec["channels"])  # fmt: skip
    return choice_of(group, purpose, policy, at)


def _outcome(choice: Choice) -> tuple[str | None, str | None]:
    """(channel, None) when it will be sent (maybe deferred by quiet hours), else (None, reason)."""
    if choice.allowed:
        return choice.channel, None
    return None, choice.reason or "not-allowed"


def _today(at: datetime) -> date:
    """The day ages and recency are counted on: Madrid's (``segments.evaluation_day``)."""
    return segments.evaluation_day(at)


@dataclass(frozen=True)
class _Group:
    """People alike for the policy: the group's columns, how many, and its decision."""

    columns: tuple[Any, ...]
    size: int
    channel: str | None
    reason: str | None


def _named(purpose: str) -> str:
    """The group columns as ``g0``…``g6``."""
    return ", ".join(f"{column} AS g{i}" for i, column in enumerate(group_columns(purpose)))


GROUP_KEYS = ", ".join(f"g{i}" for i in range(7))


def _decided_groups(
    con: duckdb.DuckDBPyConnection, source: str, segment_filter: Any, purpose: str, policy: Policy, at: datetime
) -> list[_Group]:  # fmt: skip
    """Each group of the matching rows: its columns, its size, and its (channel, reason)."""
    where, params = segments.to_sql(segment_filter, _today(at))
    sql = (
        f"SELECT {GROUP_KEYS}, count(*) FROM (SELECT {_named(purpose)} FROM {source} WHERE {where}) AS m "  # noqa: S608 - fixed text, values bound, paths escaped
        f"GROUP BY {GROUP_KEYS}"
    )
    found = []
    for *group, size in con.execute(sql, [purpose, *params]).fetchall():
        channel, reason = _outcome(choice_of(tuple(group), purpose, policy, at))
        found.append(_Group(tuple(group), int(size), channel, reason))
    return found


def _key(group: Iterable[Any]) -> tuple[Any, ...]:
    """A group's columns as a dictionary key (lists become tuples)."""
    return tuple(tuple(v) if isinstance(v, list) else v for v in group)


def _source(path: Path) -> str:
    """The export: one Parquet file, or a folder of parts (``*.parquet``: an export written in parallel, one
    ``write_rows`` per scan segment, read as one table; hidden files, such as a part being written, are not
    parts)."""
    if path.is_dir():
        return f"read_parquet('{_safe(str(path / '[!.]*.parquet'))}')"
    return f"read_parquet('{_safe(str(path))}')"


def _tally(groups: list[_Group]) -> tuple[int, dict[str, int], dict[str, int]]:
    by_channel: Counter[str] = Counter({c: 0 for c in CHANNELS})
    not_sent: Counter[str] = Counter()
    for group in groups:
        if group.channel:
            by_channel[group.channel] += group.size
        else:
            not_sent[group.reason or "not-allowed"] += group.size
    return sum(g.size for g in groups), dict(by_channel), dict(sorted(not_sent.items()))


def age_band(birth: date | None, today: date) -> str | None:
    """A coarse age band for a sample row (never the birth date)."""
    if birth is None:
        return None
    age = segments.age_on(birth, today)
    for low, high in AGE_BANDS:
        if low <= age <= high:
            return f"{low}+" if high >= 200 else f"{low}-{high}"
    return None


def _sample(
    con: duckdb.DuckDBPyConnection, source: str, segment_filter: Any, purpose: str, policy: Policy, at: datetime,
    n: int, decided: dict[tuple[Any, ...], tuple[str | None, str | None]],
) -> list[dict[str, Any]]:  # fmt: skip
    """``n`` matching rows in a random order, pseudonymised with a key made for this sample alone (two
    samples cannot be linked, nor a sample to an id): pseudonym, age band, district, predicted channel."""
    if n <= 0:
        return []
    where, params = segments.to_sql(segment_filter, _today(at))
    columns = group_columns(purpose)
    salt = secrets.token_hex(8)
    sql = (
        f"SELECT citizen_id, birth_date, district, {', '.join(columns)} FROM {source} WHERE {where} "  # noqa: S608 - fixed text, values bound, paths escaped
        f"ORDER BY hash(citizen_id || ?) LIMIT {int(n)}"
    )
    key = secrets.token_bytes(32)
    today = _today(at)
    found = []
    for citizen_id, birth, district, *group in con.execute(sql, [purpose, *params, salt]).fetchall():
        channel, reason = decided.get(_key(group)) or _outcome(choice_of(tuple(group), purpose, policy, at))
        found.append({
            "pseudonym": hmac.new(key, citizen_id.encode(), hashlib.sha256).hexdigest()[:16],
            "age_band": age_band(birth, today),
            "district": district,
            "channel": channel,
            "reason": reason,
        })  # fmt: skip
    return found


def count(
    path: Path, segment_filter: Any, purpose: str, policy: Policy, at: datetime, sample: int = 10,
    memory_limit: str | None = None,
) -> Count:  # fmt: skip
    """The segment over the export at ``path``: one policy decision per group of identical policy input."""
    started = time.perf_counter()
    con = connect(memory_limit)
    try:
        groups = _decided_groups(con, _source(path), segment_filter, purpose, policy, at)
        decided = {_key(g.columns): (g.channel, g.reason) for g in groups}
        rows = _sample(con, _source(path), segment_filter, purpose, policy, at, sample, decided)
    finally:
        con.close()
    targeted, by_channel, not_sent = _tally(groups)
    took = (time.perf_counter() - started) * 1000
    return Count(targeted, by_channel, not_sent, rows, round(took, 1), len(groups))


def build_snapshot(
    path: Path, segment_filter: Any, purpose: str, policy: Policy, at: datetime, out: Path,
    memory_limit: str | None = None,
) -> Count:  # fmt: skip
    """Write the segment's members (``Member`` columns, in a stable order) to ``out``; their count.

    The groups are decided first (one decision each), then joined back to the matching rows in SQL and the
    members written in ``citizen_id`` order with their ``position``: a page is a range of positions, which
    Parquet's row-group statistics let DuckDB jump to without reading the pages before it."""
    started = time.perf_counter()
    con = connect(memory_limit)
    try:
        source = _source(path)
        groups = _decided_groups(con, source, segment_filter, purpose, policy, at)
        con.execute(
            "CREATE TEMP TABLE decided (g0 VARCHAR, g1 VARCHAR, g2 VARCHAR, g3 BOOLEAN, g4 BOOLEAN, g5 VARCHAR[], "
            "g6 VARCHAR[], channel VARCHAR, reason VARCHAR)"
        )
        if groups:
            con.execute(
                "INSERT INTO decided SELECT unnest(?, recursive := true)",
                [[{**{f"g{i}": v for i, v in enumerate(g.columns)}, "channel": g.channel, "reason": g.reason}
                  for g in groups]],
            )  # fmt: skip
        where, params = segments.to_sql(segment_filter, _today(at))
        members = f"SELECT citizen_id, district, language, barrio, {_named(purpose)} FROM {source} WHERE {where}"  # noqa: S608 - fixed text, values bound, paths escaped
        ordered = (
            f"SELECT citizen_id, channel, reason, district, language, barrio FROM ({members}) AS m "  # noqa: S608 - fixed text, values bound, paths escaped
            f"JOIN decided USING ({GROUP_KEYS}) ORDER BY citizen_id"
        )
        con.execute("SET preserve_insertion_order = true")  # one sort; positions numbered in its order
        query = f"SELECT row_number() OVER () - 1 AS position, * FROM ({ordered}) AS o"  # noqa: S608 - fixed text, values bound, paths escaped
        with _replacing(out) as tmp:
            con.execute(
                f"COPY ({query}) TO '{_safe(str(tmp))}' (FORMAT parquet, ROW_GROUP_SIZE 10000)",
                [purpose, *params],
            )
    finally:
        con.close()
    targeted, by_channel, not_sent = _tally(groups)
    return Count(targeted, by_channel, not_sent, [], round((time.perf_counter() - started) * 1000, 1), len(groups))


_READER: list[duckdb.DuckDBPyConnection] = []


def _reader() -> duckdb.DuckDBPyConnection:
    """A cursor on one in-memory DuckDB kept for the process: opening a database costs ~10–80 ms, a cursor
    (its own connection, safe to use on its own thread) well under one, and the Parquet footers it read stay
    cached (a snapshot file is never rewritten in place: ``_replacing`` renames a new one over it)."""
    if not _READER:
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        con.execute("SET parquet_metadata_cache = true")  # a snapshot's footer read once, not per page
        _READER.append(con)
    return _READER[0].cursor()


def _member_columns(con: duckdb.DuckDBPyConnection, snapshot: Path) -> str:
    """``Member``'s columns as the snapshot has them: one written before barrios were kept (a run under way
    across an upgrade) reads as barrio-less rather than failing its next page."""
    present = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {_source(snapshot)}").fetchall()}  # noqa: S608 - fixed text, path escaped
    names = [name for name in MEMBER_COLUMNS if name != "position"]  # Member's fields, in order
    return ", ".join(name if name in present else f"NULL AS {name}" for name in names)


def find(snapshot: Path, citizen_id: str) -> tuple[int, Member] | None:
    """A person's place in a snapshot and how it holds them (a conversion attributed to the campaign that reached
    them); ``None`` when the snapshot does not hold them. Sorted by citizen id, the file's row groups' statistics
    let DuckDB read one of them."""
    con = _reader()
    try:
        row = con.execute(
            f"SELECT position, {_member_columns(con, snapshot)} FROM {_source(snapshot)} "  # noqa: S608 - fixed text, values bound, paths escaped
            "WHERE citizen_id = ?",
            [citizen_id],
        ).fetchone()
    finally:
        con.close()
    return (int(row[0]), Member(*row[1:])) if row else None


def page(snapshot: Path, offset: int, limit: int) -> list[Member]:
    """The members at ``offset`` (0-based) in the snapshot's order, at most ``limit`` of them."""
    if offset < 0 or limit < 0:
        raise ValueError("offset and limit are not negative")
    if limit == 0:
        return []
    con = _reader()
    try:
        rows = con.execute(
            f"SELECT {_member_columns(con, snapshot)} FROM {_source(snapshot)} "  # noqa: S608 - fixed text, values bound, paths escaped
            "WHERE position >= ? AND position < ? ORDER BY position",
            [offset, offset + limit],
        ).fetchall()
    finally:
        con.close()
    return [Member(*row) for row in rows]
