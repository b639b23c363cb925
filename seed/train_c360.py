"""Train the C360 match model with Splink (DuckDB) and export it as the versioned JSON the scorer reads.

``python -m seed.train_c360 --people 30000 --seed 11 [--out functions/citizen/model/c360-model-v1.json]``

Offline and unsupervised, as it would be on the council's real data: u from random sampling, m and the
prior λ by expectation maximisation (two EM sessions, each blocked on fields the other one estimates).
The ground truth of the synthetic city is NOT used to train; only the benchmark reads it. The comparison
levels are ``matching.COMPARISONS`` (the same SQL levels the incremental scorer evaluates in Python), so
the exported m/u mean the same thing on both paths. The thresholds are policy, not training output: they
are kept from the existing file (or the defaults below) and documented in the README.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from functions.citizen.matching import BLOCKING_RULES_SQL, COMPARISONS, MODEL_PATH, Features, features_from_dict

DEFAULT_THRESHOLDS = {"auto_merge": 0.99, "review": 0.80}
M_FLOOR = 1e-3
U_FLOOR = 1e-7
_SIDE = re.compile(r"\b([lr])\.([a-z_0-9]+)")


def comparison_sql(sql: str) -> str:
    """Splink names the two sides of a comparison ``col_l`` / ``col_r`` (blocking rules keep ``l.col``)."""
    return _SIDE.sub(lambda m: f"{m.group(2)}_{m.group(1)}", sql)


def splink_settings() -> dict[str, Any]:
    comparisons = []
    for comparison in COMPARISONS:
        levels = []
        for level in comparison.levels:
            entry: dict[str, Any] = {"label_for_charts": level.label}
            if level.label == "null":
                entry["sql_condition"] = comparison_sql(level.sql)
                entry["is_null_level"] = True
            elif level.sql == "else":
                entry["sql_condition"] = "ELSE"
            else:
                entry["sql_condition"] = comparison_sql(level.sql)
            levels.append(entry)
        comparisons.append({"output_column_name": comparison.name, "comparison_levels": levels})
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "comparisons": comparisons,
        "blocking_rules_to_generate_predictions": [{"blocking_rule": rule} for rule in BLOCKING_RULES_SQL],
        "retain_intermediate_calculation_columns": False,
        "retain_matching_columns": False,
    }


def city_features(people: int, seed: int) -> Iterator[Features]:
    from seed.city import CityConfig, generate

    for _, records in generate(CityConfig(people=people, seed=seed)):
        for r in records:
            yield features_from_dict(f"{r.source}#{r.record['local_id']}", r.record)


def linker_for(rows: list[dict[str, Any]], settings: dict[str, Any]) -> Any:
    """A Splink linker over DuckDB for the feature rows (a pyarrow table: no pandas needed)."""
    import pyarrow as pa
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI()
    table = pa.Table.from_pylist(rows)
    return Linker(db_api.register(table, dataset_display_name="records"), settings)


def train(rows: list[dict[str, Any]], seed: int) -> Any:
    from splink import block_on

    linker = linker_for(rows, splink_settings())
    training = linker.training
    training.estimate_probability_two_random_records_match(
        ["l.email = r.email and l.birth_date = r.birth_date", "l.phone = r.phone and l.given = r.given"], recall=0.6
    )
    training.estimate_u_using_random_sampling(max_pairs=2e7, seed=seed)
    training.estimate_parameters_using_expectation_maximisation(
        block_on("surname1_ph", "birth_date"), record_sample_proportion=1.0
    )
    training.estimate_parameters_using_expectation_maximisation(block_on("email"), record_sample_proportion=1.0)
    return linker


def export(linker: Any, out: Path, people: int, seed: int) -> dict[str, Any]:
    """Only what the scorer needs, per level m and u, plus how it was trained; thresholds carried over."""
    trained = linker.misc.save_model_to_json()
    out.parent.mkdir(parents=True, exist_ok=True)
    thresholds = DEFAULT_THRESHOLDS
    if out.exists():
        thresholds = json.loads(out.read_text(encoding="utf-8")).get("thresholds", thresholds)
    comparisons = []
    for comparison in trained["comparisons"]:
        levels = []
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            trained_m = level.get("m_probability")
            # A level EM never saw among matches (a birth date that differs, in a city without birth-date
            # typos) gets a floor, not zero: real data will show it, and a zero m is an infinite weight.
            level["m_probability"] = max(float(trained_m or 0.0), M_FLOOR)
            level["u_probability"] = max(float(level.get("u_probability") or 0.0), U_FLOOR)
            levels.append(
                {
                    "label": level["label_for_charts"],
                    "m": level["m_probability"],
                    "u": level["u_probability"],
                    **({} if trained_m else {"m_floored": True}),
                }
            )
        comparisons.append({"name": comparison["output_column_name"], "levels": levels})
    splink_out = out.with_suffix(".splink.json")  # the same parameters for Splink's batch linkage
    splink_out.write_text(json.dumps(trained, indent=1) + "\n", encoding="utf-8")
    document = {
        "version": "c360-model-v1",
        "trained_with": "splink 5.0.0 (DuckDB): u by random sampling, m and prior by EM (unsupervised)",
        "trained_on": f"seed.city --people {people} --seed {seed}",
        "trained_at": datetime.now(UTC).date().isoformat(),
        "probability_two_random_records_match": trained["probability_two_random_records_match"],
        "thresholds": thresholds,
        "max_block_size": 500,
        "comparisons": comparisons,
    }
    out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return document


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seed.train_c360", description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args(argv)
    logging.getLogger("splink").setLevel(logging.WARNING)
    rows = [f.as_row() for f in city_features(args.people, args.seed)]
    linker = train(rows, args.seed)
    document = export(linker, args.out, args.people, args.seed)
    for comparison in document["comparisons"]:
        for level in comparison["levels"]:
            print(f"{comparison['name']:>10} {level['label']:<24} m={level['m']:.4f} u={level['u']:.6f}")
    print(f"wrote {args.out} from {len(rows):,} records")
    return 0


if __name__ == "__main__":
    sys.exit(main())
