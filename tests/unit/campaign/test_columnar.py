"""The columnar engine: a count per channel equals deciding every person one by one with the same real
policy (the embedded Rego engine), at a time inside and outside quiet hours; a snapshot holds exactly the
members with the same decisions, in a stable order, read back page by page; exports replace atomically."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from functions.campaign import columnar, segments
from functions.campaign.audience import AudienceRow
from functions.core.channel_choice import CHANNELS, Message, candidates_of, decide
from functions.core.logging import get_logger
from functions.core.policy import EmbeddedPolicy
from tests.unit.campaign.test_segments import TODAY, random_node, random_row

NOON = datetime(2026, 12, 6, 11, 0, tzinfo=UTC)  # 12:00 in Madrid: no one's quiet hours
NIGHT = datetime(2026, 12, 6, 22, 30, tzinfo=UTC)  # 23:30 in Madrid: inside 22:00–08:00
ROWS = 1_000


@pytest.fixture(autouse=True)
def quiet_decision_log() -> Iterator[None]:
    """Thousands of per-person decisions here: their decision-log lines (tested in tests/unit/core) would be
    most of the time of these tests."""
    logger = get_logger()
    level = logger.log_level
    logger.setLevel("WARNING")
    try:
        yield
    finally:
        logger.setLevel(level)


@pytest.fixture(scope="module")
def rows() -> list[AudienceRow]:
    rng = random.Random(1616)
    return [random_row(rng, i) for i in range(ROWS)]


@pytest.fixture(scope="module")
def export(rows: list[AudienceRow], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("campaign") / "audience.parquet"
    columnar.write_rows(rows, path)
    return path


Decided = dict[str, tuple[str | None, str | None]]


def one_by_one(rows: list[AudienceRow], found: Any, purpose: str, policy: EmbeddedPolicy, at: datetime) -> Decided:
    """What NOT does: each matching person decided alone, with their whole row (every purpose's consent,
    every objection), not the group's reduction of it."""
    decided = {}
    for row in rows:
        if segments.matches(found, row, TODAY):
            choice = decide(Message(purpose), row, candidates_of(row.channels), row.reachable, at, policy)
            decided[row.citizen_id] = (choice.channel, None) if choice.allowed else (None, choice.reason)
    return decided


def tally(decided: Decided) -> tuple[dict[str, int], dict[str, int]]:
    by_channel = Counter({c: 0 for c in CHANNELS})
    not_sent: Counter[str] = Counter()
    for channel, reason in decided.values():
        if channel:
            by_channel[channel] += 1
        else:
            not_sent[str(reason)] += 1
    return dict(by_channel), dict(not_sent)


FILTERS = [
    {"all": [{"district": ["02"]}, {"age": {"min": 65}},
             {"consent": {"purpose": "campaigns", "channels": ["sms", "email"]}}]},
    {"language": ["es", "en"]},  # the whole city
    {"not": {"restricted": True}},
]  # fmt: skip


@pytest.mark.parametrize("at", [NOON, NIGHT], ids=["noon", "night"])
@pytest.mark.parametrize("purpose", ["campaigns", "surveys"])
def test_the_count_is_what_deciding_each_person_gives(
    rows: list[AudienceRow], export: Path, policy: EmbeddedPolicy, at: datetime, purpose: str
) -> None:
    rng = random.Random(purpose + at.isoformat())
    for raw in [*FILTERS, *(random_node(rng) for _ in range(2))]:
        found = segments.parse({"version": 1, "filter": raw})
        counted = columnar.count(export, found, purpose, policy, at, sample=0)
        expected = one_by_one(rows, found, purpose, policy, at)
        by_channel, not_sent = tally(expected)
        assert (counted.targeted, counted.by_channel, counted.not_sent) == (len(expected), by_channel, not_sent), raw
        assert counted.groups <= max(counted.targeted, 1)


def test_the_whole_city_spreads_over_channels_and_reasons(export: Path, policy: EmbeddedPolicy) -> None:
    counted = columnar.count(export, segments.parse({"version": 1, "filter": FILTERS[1]}), "campaigns", policy, NIGHT)
    assert counted.targeted == ROWS
    assert sum(counted.by_channel.values()) + sum(counted.not_sent.values()) == ROWS
    assert all(counted.by_channel[c] > 0 for c in CHANNELS)
    assert {"no-consent", "restricted"} <= set(counted.not_sent)
    assert counted.groups < ROWS  # people alike share a decision


def test_the_sample_is_pseudonymised_and_bounded(rows: list[AudienceRow], export: Path, policy: EmbeddedPolicy) -> None:
    found = segments.parse({"version": 1, "filter": FILTERS[1]})
    first = columnar.count(export, found, "campaigns", policy, NOON, sample=10).sample
    second = columnar.count(export, found, "campaigns", policy, NOON, sample=10).sample
    assert len(first) == 10
    ids = {r.citizen_id for r in rows}
    for item in first:
        assert set(item) == {"pseudonym", "age_band", "district", "channel", "reason"}
        assert item["pseudonym"] not in ids
    assert not {i["pseudonym"] for i in first} & {i["pseudonym"] for i in second}  # two samples cannot be linked
    small = segments.parse({"version": 1, "filter": {"barrio": ["011"]}})
    matching = sum(segments.matches(small, r, TODAY) for r in rows)
    assert 0 < matching < 1_000
    assert len(columnar.count(export, small, "campaigns", policy, NOON, sample=1_000).sample) == matching


def test_the_snapshot_holds_each_member_with_their_decision_in_pages(
    rows: list[AudienceRow], export: Path, policy: EmbeddedPolicy, tmp_path: Path
) -> None:
    found = segments.parse({"version": 1, "filter": FILTERS[2]})
    snapshot = tmp_path / "snapshot.parquet"
    built = columnar.build_snapshot(export, found, "campaigns", policy, NIGHT, snapshot)
    expected = one_by_one(rows, found, "campaigns", policy, NIGHT)
    assert built.targeted == len(expected)
    members = []
    offset = 0
    while chunk := columnar.page(snapshot, offset, 250):
        members += chunk
        offset += len(chunk)
    assert [m.citizen_id for m in members] == sorted(expected)
    by_id = {r.citizen_id: r for r in rows}
    for member in members:
        assert (member.channel, member.reason) == expected[member.citizen_id]
        assert (member.district, member.language, member.barrio) == (
            by_id[member.citizen_id].district,
            by_id[member.citizen_id].language,
            by_id[member.citizen_id].barrio,
        )
    assert columnar.page(snapshot, len(members) - 3, 250) == members[-3:]
    assert columnar.page(snapshot, len(members) + 10, 250) == []
    assert columnar.page(snapshot, 5, 0) == []
    with pytest.raises(ValueError):
        columnar.page(snapshot, -1, 10)


def test_a_snapshot_written_before_barrios_were_kept_still_pages(tmp_path: Path) -> None:
    # GIVEN a run's snapshot of the earlier layout (no barrio column), as a run under way across an upgrade has
    old = tmp_path / "old.parquet"
    duckdb.sql(
        "SELECT 0::BIGINT AS position, 'c-1' AS citizen_id, 'sms' AS channel, NULL::VARCHAR AS reason, "
        "'02' AS district, 'es' AS language"
    ).write_parquet(str(old))
    # THEN its pages and look-ups read it, without a barrio
    assert columnar.page(old, 0, 10) == [columnar.Member("c-1", "sms", None, "02", "es", None)]
    assert columnar.find(old, "c-1") == (0, columnar.Member("c-1", "sms", None, "02", "es", None))


def test_one_row_is_decided_as_its_group(rows: list[AudienceRow], policy: EmbeddedPolicy) -> None:
    for row in rows[:200]:
        alone = decide(Message("campaigns"), row, candidates_of(row.channels), row.reachable, NIGHT, policy)
        grouped = columnar.decide_row(row, "campaigns", policy, NIGHT)
        assert (grouped.allowed, grouped.channel, grouped.reason) == (alone.allowed, alone.channel, alone.reason)


def test_an_export_is_replaced_whole_and_may_be_empty(
    tmp_path: Path, rows: list[AudienceRow], policy: EmbeddedPolicy
) -> None:
    path = tmp_path / "audience.parquet"
    assert columnar.write_rows(rows[:10], path) == 10
    assert columnar.write_rows([], path) == 0
    assert duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone() == (0,)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left beside it
    found = segments.parse({"version": 1, "filter": FILTERS[1]})
    assert columnar.count(path, found, "campaigns", policy, NOON).targeted == 0

    def failing() -> Any:
        yield rows[0]
        raise RuntimeError("the projection's scan broke")

    columnar.write_rows(rows[:5], path)
    with pytest.raises(RuntimeError):
        columnar.write_rows(failing(), path)
    assert columnar.count(path, found, "campaigns", policy, NOON).targeted == 5  # the old export still whole
    assert list(tmp_path.iterdir()) == [path]


def test_a_purpose_outside_campaigns_and_surveys_is_refused(export: Path, policy: EmbeddedPolicy) -> None:
    with pytest.raises(ValueError):
        columnar.count(export, segments.parse({"version": 1, "filter": FILTERS[1]}), "marketing", policy, NOON)


def test_an_export_in_parts_counts_as_one(
    rows: list[AudienceRow], export: Path, policy: EmbeddedPolicy, tmp_path: Path
) -> None:
    """A folder of parts (a parallel scan writes one per segment) is one export; a part being written (its
    hidden temporary file) is not read."""
    parts = tmp_path / "parts"
    parts.mkdir()
    for k in range(3):
        columnar.write_rows(rows[k::3], parts / f"part-{k}.parquet")
    (parts / ".part-3.parquet").write_bytes(b"half a file")  # hidden: not a part
    found = segments.parse({"version": 1, "filter": FILTERS[0]})
    whole = columnar.count(export, found, "campaigns", policy, NOON, sample=0)
    split = columnar.count(parts, found, "campaigns", policy, NOON, sample=0)
    assert (split.targeted, split.by_channel, split.not_sent) == (whole.targeted, whole.by_channel, whole.not_sent)
