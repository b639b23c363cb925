"""Segments: the filter's validation (every error named where it is), its words, and the proof that the SQL
(run by DuckDB over the real export of the rows) and the Python predicate agree on thousands of seeded rows
under random filters."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.campaign import columnar, segments
from functions.campaign.audience import AudienceRow
from functions.core.errors import ValidationError
from functions.core.madrid import zones

TODAY = date(2026, 12, 6)
EXAMPLE = {
    "version": 1,
    "filter": {"all": [{"district": ["02"]}, {"age": {"min": 65}},
                       {"consent": {"purpose": "campaigns", "channels": ["sms", "email"]}}]},
}  # fmt: skip
CHANNELS = ["email", "sms", "push", "inapp"]
DISTRICTS = sorted(code for code, z in zones().items() if z.kind == "district")
BARRIOS = sorted(code for code, z in zones().items() if z.kind == "barrio")
RELATIONS = ["taxes:hacienda", "fines:movilidad", "cases:urbanismo", "cases:servicios-sociales", "wallet:mayor",
             "appointments:empadronamiento", "permits:urbanismo"]  # fmt: skip
AREAS = sorted({r.split(":")[1] for r in RELATIONS})


def _subset(rng: random.Random, items: list[str], most: int) -> tuple[str, ...]:
    return tuple(rng.sample(items, rng.randint(0, min(most, len(items)))))


def random_row(rng: random.Random, i: int) -> AudienceRow:
    """A row with every field's edge cases: missing birth date, district or barrio, empty lists, consent
    granted without channels, withdrawn consent with channels left, interaction at a day's boundaries."""
    barrio = rng.choice([None, *rng.sample(BARRIOS, 3)])
    district = barrio[:2] if barrio and rng.random() < 0.9 else rng.choice([None, *DISTRICTS])
    birth = None if rng.random() < 0.05 else TODAY.replace(year=TODAY.year - rng.randint(0, 100)) + timedelta(
        days=rng.choice([-1, 0, 1, rng.randint(-200, 200)]))  # fmt: skip
    consents: dict[str, dict[str, Any]] = {}
    for purpose in ("campaigns", "surveys", "personalisation"):
        if rng.random() < 0.8:
            consents[purpose] = {
                "granted": rng.random() < 0.6,
                "channels": list(_subset(rng, CHANNELS, 4)),
                "text_version": rng.choice(["2026-01", "2026-01", "2025-01"]),
                "at": f"2026-0{rng.randint(1, 9)}-01T00:00:00Z",  # not part of the policy input: must not split groups
            }
    seen = None
    if rng.random() < 0.8:
        days = rng.choice([0, 1, 29, 30, 31, rng.randint(0, 800)])
        seen = datetime.combine(TODAY - timedelta(days=days), datetime.min.time(), tzinfo=UTC) + timedelta(
            seconds=rng.choice([0, 1, 86_399, rng.randint(0, 86_399)]))  # fmt: skip
    return AudienceRow(
        citizen_id=f"c{i:06d}",
        birth_date=birth,
        language=rng.choice(["es", "es", "en"]),
        district=district,
        barrio=barrio,
        zones=_subset(rng, [*rng.sample(DISTRICTS, 3), *rng.sample(BARRIOS, 3)], 3),
        relations=_subset(rng, RELATIONS, 3),
        channels=_subset(rng, CHANNELS, 3),
        quiet_hours=rng.choice([None, None, {"start": "22:00", "end": "08:00"}, {"start": "13:00", "end": "15:00"}]),
        consents=consents,
        restricted=rng.random() < 0.05,
        objections=_subset(rng, ["campaigns", "surveys", "alerts"], 2) if rng.random() < 0.1 else (),
        reachable=_subset(rng, CHANNELS, 4),
        last_interaction=seen,
    )


def random_leaf(rng: random.Random) -> dict[str, Any]:
    kind = rng.choice(segments.LEAVES)
    match kind:
        case "age":
            low = rng.randint(0, 90)
            band = rng.choice([{"min": low}, {"max": low}, {"min": low, "max": low + rng.randint(0, 30)}])
            return {"age": band}
        case "language":
            return {"language": rng.sample(["es", "en"], rng.randint(1, 2))}
        case "district":
            return {"district": rng.sample(DISTRICTS, rng.randint(1, 4))}
        case "barrio":
            return {"barrio": rng.sample(BARRIOS, rng.randint(1, 10))}
        case "zone":
            return {"zone": rng.sample(DISTRICTS + BARRIOS, rng.randint(1, 8))}
        case "relation":
            section, area = rng.choice(RELATIONS).split(":")
            return {"relation": {"section": section, "area": rng.choice([area, None, rng.choice(AREAS)])}}
        case "consent":
            body: dict[str, Any] = {"purpose": rng.choice(["campaigns", "surveys"])}
            if rng.random() < 0.7:
                body["channels"] = rng.sample(CHANNELS, rng.randint(1, 3))
            return {"consent": body}
        case "channel_preference":
            return {"channel_preference": {"channels": rng.sample(CHANNELS, rng.randint(1, 2)),
                                           "first_only": rng.random() < 0.5}}  # fmt: skip
        case "reachable":
            return {"reachable": rng.sample(CHANNELS, rng.randint(1, 3))}
        case "interacted":
            key = rng.choice(["within_days", "not_within_days"])
            return {"interacted": {key: rng.choice([1, 30, 31, 365, rng.randint(1, 900)])}}
        case "restricted":
            return {"restricted": rng.random() < 0.5}
        case _:
            return {"objection": rng.sample(["campaigns", "surveys", "alerts"], rng.randint(1, 2))}


def random_node(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    roll = rng.random()
    if depth >= 3 or roll < 0.45:
        return random_leaf(rng)
    if roll < 0.6:
        return {"not": random_node(rng, depth + 1)}
    op = "all" if roll < 0.85 else "any"
    return {op: [random_node(rng, depth + 1) for _ in range(rng.randint(1, 4))]}


def errors_of(raw: Any) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        segments.parse(raw)
    assert caught.value.status == 422
    return {e["field"]: e["message"] for e in caught.value.errors or []}


# ---------------------------------------------------------------------------------------------------------------


def test_the_issue_example_reads_as_a_sentence_in_both_languages() -> None:
    found = segments.parse(EXAMPLE)
    assert segments.explain(found, "es") == (
        "Personas empadronadas en Arganzuela de 65 años o más con consentimiento para campañas por SMS o correo "
        "electrónico"
    )
    assert segments.explain(found, "en") == (
        "Residents of Arganzuela aged 65 or over with consent for campaigns by SMS or e-mail"
    )


def test_nested_filters_are_explained_with_official_names() -> None:
    found = segments.parse({"version": 1, "filter": {"any": [
        {"barrio": ["011"]}, {"not": {"restricted": True}}, {"interacted": {"not_within_days": 90}}]}})  # fmt: skip
    assert segments.explain(found, "en") == (
        "People (of Palacio, except those with processing restricted (RGPD art. 18) or who have not contacted the "
        "council in the last 90 days)"
    )
    assert "Palacio" in segments.explain(found, "es")


def test_a_filter_survives_its_own_document() -> None:
    rng = random.Random(7)
    for _ in range(200):
        found = segments.parse({"version": 1, "filter": random_node(rng)})
        assert segments.parse(found.to_json()) == found


def test_every_error_is_named_where_it_is() -> None:
    found = errors_of({
        "version": 2, "extra": 1,
        "filter": {"all": [
            {"district": ["02", "99"]}, {"barrio": ["02"]}, {"age": {"min": 70, "max": 65}}, {"colour": "red"},
            {"consent": {"purpose": "marketing"}}, {"interacted": {"within_days": 3, "not_within_days": 4}},
            {"not": {"language": ["fr"]}}, {"age": {"min": "65"}}, {"restricted": "yes"}, {"zone": []},
        ]},
    })  # fmt: skip
    assert set(found) == {
        "extra", "version", "filter.all.0.district.1", "filter.all.1.barrio.0", "filter.all.2.age",
        "filter.all.3.colour", "filter.all.4.consent.purpose", "filter.all.5.interacted",
        "filter.all.6.not.language.0", "filter.all.7.age.min", "filter.all.8.restricted", "filter.all.9.zone",
    }  # fmt: skip
    assert "not a Madrid district code" in found["filter.all.0.district.1"]
    assert "min is greater than max" in found["filter.all.2.age"]
    assert "exactly one of" in found["filter.all.5.interacted"]


@pytest.mark.parametrize(
    "raw",
    [None, [], "all", {"version": 1}, {"version": True, "filter": {"language": ["es"]}},
     {"version": 1, "filter": {}}, {"version": 1, "filter": {"language": ["es"], "district": ["01"]}},
     {"version": 1, "filter": {"all": []}}, {"version": 1, "filter": {"all": {"language": ["es"]}}},
     {"version": 1, "filter": {"age": None}}, {"version": 1, "filter": {"age": {}}},
     {"version": 1, "filter": {"relation": {"section": "taxes", "area": "Hacienda; DROP"}}}],
)  # fmt: skip
def test_malformed_documents_are_refused_with_a_422(raw: Any) -> None:
    assert errors_of(raw)


def test_hostile_depth_and_size_are_bounded() -> None:
    deep: dict[str, Any] = {"language": ["es"]}
    for _ in range(10_000):
        deep = {"not": deep}
    assert any("deeper than" in m for m in errors_of({"version": 1, "filter": deep}).values())
    wide = {"any": [{"all": [{"language": ["es"]}] * 50}] * 50}
    assert any("more than" in m for m in errors_of({"version": 1, "filter": wide}).values())
    many = {"any": [{"language": ["es"]}] * 51}
    assert "filter.any" in errors_of({"version": 1, "filter": many})


def test_ages_are_whole_years_on_the_day_leap_birthdays_included() -> None:
    band = segments.parse({"version": 1, "filter": {"age": {"min": 65, "max": 65}}})

    def row(born: date) -> AudienceRow:
        return AudienceRow("c1", birth_date=born)

    assert segments.matches(band, row(date(1961, 12, 6)), TODAY)  # 65 today
    assert not segments.matches(band, row(date(1961, 12, 7)), TODAY)  # 65 tomorrow
    assert not segments.matches(band, row(date(1960, 12, 6)), TODAY)  # 66 today
    leap = segments.parse({"version": 1, "filter": {"age": {"min": 18}}})
    assert segments.birth_cutoff(date(2028, 2, 29), 18) == date(2010, 2, 28)
    assert segments.matches(leap, row(date(2010, 2, 28)), date(2028, 2, 29))
    assert not segments.matches(leap, row(date(2010, 3, 1)), date(2028, 2, 29))
    assert not segments.matches(leap, AudienceRow("c2"), TODAY)  # no birth date: in no age band
    assert segments.matches({"version": 1, "filter": {"not": {"age": {"min": 18}}}}, AudienceRow("c2"), TODAY)


def test_the_spark_text_differs_only_where_the_dialects_do() -> None:
    rng = random.Random(3)
    for _ in range(300):
        found = segments.parse({"version": 1, "filter": random_node(rng)})
        duck, duck_params = segments.to_sql(found, TODAY, "duckdb")
        spark, spark_params = segments.to_sql(found, TODAY, "spark")
        assert duck_params == spark_params
        assert spark.count("?") == len(spark_params)
        assert duck.replace("channels[1]", "element_at(channels, 1)") == spark
        assert not re.search(r"list_|len\(|\[\d\]|::", spark)  # no DuckDB-only functions or casts


def test_sql_and_the_predicate_agree_on_thousands_of_rows(tmp_path: Path) -> None:
    """2,000 seeded rows × 60 seeded filters: the rows go through the real export (``columnar.write_rows``)
    and DuckDB evaluates ``to_sql``; each filter's member set must equal the predicate's, row for row."""
    rng = random.Random(16)
    rows = [random_row(rng, i) for i in range(2_000)]
    export = tmp_path / "audience.parquet"
    assert columnar.write_rows(rows, export) == len(rows)
    con = duckdb.connect()
    con.execute(f"CREATE TABLE audience AS SELECT * FROM read_parquet('{export}')")
    sizes = []
    for _ in range(60):
        found = segments.parse({"version": 1, "filter": random_node(rng)})
        where, params = segments.to_sql(found, TODAY)
        by_sql = {r[0] for r in con.execute(f"SELECT citizen_id FROM audience WHERE {where}", params).fetchall()}
        by_python = {r.citizen_id for r in rows if segments.matches(found, r, TODAY)}
        assert by_sql == by_python, found.to_json()
        sizes.append(len(by_sql))
    assert sum(0 < s < len(rows) for s in sizes) >= 30  # the filters discriminate: not all-or-nothing


def test_each_leaf_kind_is_exercised_by_the_agreement_test() -> None:
    rng = random.Random(16)
    [random_row(rng, i) for i in range(2_000)]
    kinds = set()
    for _ in range(60):
        node = random_node(rng)
        kinds |= set(re.findall(r"'(" + "|".join(segments.LEAVES) + r")'", repr(node)))
    assert kinds == set(segments.LEAVES)


def test_parsing_a_parsed_filter_changes_nothing() -> None:
    found = segments.parse(EXAMPLE)
    assert segments.parse(found) is found
    assert segments.parse(found.to_json()) == found


def test_the_day_of_evaluation_is_madrids() -> None:
    """00:30 in Madrid on 7 December is still 6 December in UTC: a person born on 7 December 1961 is 65 in
    Madrid's day, and the count, the snapshot and an event's membership must all say so."""
    at = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)
    assert segments.evaluation_day(at) == date(2026, 12, 7)
    found = segments.parse({"version": 1, "filter": {"age": {"min": 65}}})
    assert segments.matches(found, AudienceRow("c1", birth_date=date(1961, 12, 7)), segments.evaluation_day(at))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=8)
    | st.sampled_from([*segments.LEAVES, *segments.COMBINATORS, "02", "011", "campaigns", "sms", "min", "max"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from([*segments.LEAVES, *segments.COMBINATORS, "version", "filter", "min", "max", "purpose",
                         "channels", "section", "area", "within_days", "x"]), inner, max_size=3),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_any_json_is_a_filter_or_a_422_never_an_error(body: Any) -> None:
    for raw in (body, {"version": 1, "filter": body}):
        try:
            found = segments.parse(raw)
        except ValidationError as exc:
            assert exc.status == 422 and exc.errors
            assert all(e["field"] and e["message"] for e in exc.errors)
            continue
        segments.explain(found, "es")
        segments.to_sql(found, TODAY, "spark")
        segments.matches(found, AudienceRow("c1"), TODAY)


def test_a_saved_segment_is_validated_once_per_process() -> None:
    first = segments.parse_cached(EXAMPLE)
    assert segments.parse_cached(json.loads(json.dumps(EXAMPLE))) is first  # an equal document, not the same object
    assert segments.parse_cached(first) is first
    for _ in range(2):  # a bad document is refused every time, never cached as good
        with pytest.raises(ValidationError):
            segments.parse_cached({"version": 1, "filter": {"district": ["99"]}})
    with pytest.raises(ValidationError):
        segments.parse_cached({"version": 1, "filter": {1: object()}})
