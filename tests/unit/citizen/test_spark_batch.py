"""The Spark batch path's pure parts (ADR 0037), without Spark: the model's SQL respelt for Spark and nothing
else changed, a drifted model refused, and the order a cluster is written back in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from functions.citizen.spark_linkage import DUCKDB_ONLY, SPLINK_MODEL, spark_settings, spark_sql
from functions.citizen.spark_writeback import bfs_order


def test_only_the_duckdb_function_names_change() -> None:
    duckdb = json.loads(SPLINK_MODEL.read_text(encoding="utf-8"))
    spark = spark_settings()
    assert spark["sql_dialect"] == "spark"
    for before, after in zip(duckdb["comparisons"], spark["comparisons"], strict=True):
        for old, new in zip(before["comparison_levels"], after["comparison_levels"], strict=True):
            assert new["sql_condition"] == spark_sql(old["sql_condition"])
            assert (new.get("m_probability"), new.get("u_probability")) == (
                old.get("m_probability"),
                old.get("u_probability"),
            )
            assert not any(name in new["sql_condition"] for name in DUCKDB_ONLY)
    assert spark["probability_two_random_records_match"] == duckdb["probability_two_random_records_match"]
    assert spark_sql("jaro_winkler_similarity(given_l, given_r) >= 0.92") == "jaro_winkler(given_l, given_r) >= 0.92"
    assert (
        spark_sql("list_has_any(str_split(given_l, ' '), str_split(given_r, ' '))")
        == "arrays_overlap(split(given_l, ' '), split(given_r, ' '))"
    )


def test_a_model_whose_levels_drifted_from_the_scorer_is_refused(tmp_path: Path) -> None:
    drifted = json.loads(SPLINK_MODEL.read_text(encoding="utf-8"))
    drifted["comparisons"][0]["comparison_levels"].pop(2)
    path = tmp_path / "drifted.splink.json"
    path.write_text(json.dumps(drifted), encoding="utf-8")
    with pytest.raises(ValueError, match=r"not matching\.COMPARISONS"):
        spark_settings(path)


def test_each_record_after_the_first_follows_one_it_matched() -> None:
    order = bfs_order(["d", "b", "a", "c", "z"], [("a", "c"), ("c", "d"), ("b", "d")])
    assert order == [("a", None), ("c", "a"), ("d", "c"), ("b", "d"), ("z", None)]
    seen: set[str] = set()
    for record, parent in order:
        assert parent is None or parent in seen
        seen.add(record)
