"""The whole city's identity resolution on Apache Spark: the versioned C360 model, run by Splink's Spark backend.

``python -m functions.citizen.spark_linkage --input s3a://bucket/c360/features/ --output s3a://bucket/c360/run-1/``
(or ``spark-submit`` of this module, which is what ``infra/k8s/spark/`` and the EMR Serverless job in
``infra/terraform/modules/c360_spark`` run). It reads the area records as Splink input rows (Parquet: the
columns of ``matching.Features.as_row()``; ``--records`` reads the raw records of ``seed.city``'s JSON lines
and normalises them on the executors with ``matching.features_from_dict``), links them with the SAME
comparison levels, blocking rules and trained m/u as the incremental scorer and Splink on DuckDB
(``model/c360-model-v1.splink.json``, ADR 0008) and writes two Parquet datasets: ``clusters/``
(``unique_id``, ``cluster_id``) and ``pairs/`` (each pair at or above the review threshold with its match
weight, probability and each comparison's match weight: the evidence the write-back stores on each link).

Why a module of the citizen domain and not a ``jobs/`` folder: the job is the domain's batch linkage (its
model, its comparisons, its normalisation), and the model JSON and ``matching.COMPARISONS`` travel with it
in the same image; a ``jobs/`` folder would import them across the domain boundary. Nothing here imports
Flask, the kernel or a store: the write-back (``spark_writeback``) is the only part that touches C360's table.

No drift: the only thing written for Spark is the spelling of three DuckDB functions in the levels' SQL
(``SPARK_SPELLING``); Splink's Scala UDF jar provides ``jaro_winkler`` and ``damerau_levenshtein``. A test
links a small city on both engines and requires the same clusters (``tests/unit/citizen/test_spark_linkage.py``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from functions.citizen.matching import COMPARISONS, MODEL_PATH, load_model

SPLINK_MODEL = MODEL_PATH.with_suffix(".splink.json")
# DuckDB's name → Spark's: Splink's jar registers jaro_winkler (the same Jaro-Winkler: prefix scale 0.1 over
# 4 characters, boost above 0.7) and damerau_levenshtein; Spark has arrays_overlap and split (a regex: ' ').
SPARK_SPELLING = (
    ("jaro_winkler_similarity(", "jaro_winkler("),
    ("list_has_any(", "arrays_overlap("),
    ("str_split(", "split("),
)
DUCKDB_ONLY = ("jaro_winkler_similarity", "list_has_any", "str_split")
PAIR_COLUMNS = ("unique_id_l", "unique_id_r", "match_weight", "match_probability")


def spark_sql(duckdb_sql: str) -> str:
    """A comparison level's or blocking rule's SQL as Spark SQL (the same condition, Spark's spelling)."""
    sql = duckdb_sql
    for duckdb_name, spark_name in SPARK_SPELLING:
        sql = sql.replace(duckdb_name, spark_name)
    return sql


def spark_settings(path: Path = SPLINK_MODEL) -> dict[str, Any]:
    """The trained Splink model (m, u, λ, blocking rules) with each SQL in Spark's dialect.

    The levels are checked against ``matching.COMPARISONS`` by label, so a retrained JSON whose levels
    drifted from the scorer's is refused instead of linked with."""
    settings: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    settings["sql_dialect"] = "spark"
    for rule in settings["blocking_rules_to_generate_predictions"]:
        rule["blocking_rule"] = spark_sql(rule["blocking_rule"])
        rule["sql_dialect"] = "spark"
    by_name = {c.name: c for c in COMPARISONS}
    for comparison in settings["comparisons"]:
        ours = by_name[comparison["output_column_name"]]
        labels = [level["label_for_charts"] for level in comparison["comparison_levels"]]
        if labels != [level.label for level in ours.levels]:
            raise ValueError(f"the Splink model's levels of {ours.name} are not matching.COMPARISONS': {labels}")
        for level in comparison["comparison_levels"]:
            level["sql_condition"] = spark_sql(level["sql_condition"])
    settings["retain_matching_columns"] = False
    settings["retain_intermediate_calculation_columns"] = True  # mw_<comparison>: the evidence of each pair
    text = json.dumps(settings)
    left = [name for name in DUCKDB_ONLY if name in text]
    if left:
        raise ValueError(f"DuckDB-only functions left in the Spark settings: {left}")
    return settings


def session(master: str | None = "local[2]", driver_memory: str = "6g", app: str = "pic-c360-linkage") -> Any:
    """A Spark session with Splink's similarity UDF jar; ``master=None`` keeps what ``spark-submit`` set
    (Kubernetes, EMR). Local mode: a small shuffle (2 cores), no UI, driver memory capped."""
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    builder = SparkSession.builder.appName(app).config("spark.jars", similarity_jar_location())
    if master:
        builder = (
            builder.master(master)
            .config("spark.driver.memory", driver_memory)
            .config("spark.sql.shuffle.partitions", os.environ.get("PIC_SPARK_SHUFFLE_PARTITIONS", "8"))
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.adaptive.enabled", "true")
            .config("spark.driver.extraJavaOptions", "-XX:+UseParallelGC")
        )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    checkpoints = os.environ.get("PIC_SPARK_CHECKPOINTS") or tempfile.mkdtemp(prefix="pic-spark-checkpoints-")
    spark.sparkContext.setCheckpointDir(checkpoints)
    return spark


def linker(spark: Any, records: Any, settings: dict[str, Any] | None = None) -> Any:
    """A Splink linker on Spark over a DataFrame of input rows (extra columns such as ``person_id`` dropped)."""
    from splink import Linker
    from splink.backends.spark import SparkAPI

    logging.getLogger("splink").setLevel(logging.WARNING)
    wanted = ["unique_id", *(c for c in records.columns if c != "unique_id" and c != "person_id")]
    api = SparkAPI(spark_session=spark, break_lineage_method="parquet")  # type: ignore[no-untyped-call]
    return Linker(api.register(records.select(*wanted)), settings or spark_settings())


def link(spark: Any, records: Any) -> tuple[Any, Any]:
    """Predict every blocked pair at or above the review threshold, then cluster at the auto-merge one
    (connected components, as Splink on DuckDB does in ``bench.c360``). Returns (clusters, pairs) DataFrames."""
    thresholds = load_model().thresholds
    run = linker(spark, records)
    predictions = run.inference.predict(threshold_match_probability=thresholds.review)
    clusters = run.clustering.cluster_pairwise_predictions_at_threshold(predictions, thresholds.auto_merge)
    weights = [f"mw_{c.name}" for c in COMPARISONS]  # each comparison's match weight: the pair's evidence
    pairs = predictions.as_spark_dataframe().select(*PAIR_COLUMNS, *weights)
    return clusters.as_spark_dataframe().select("unique_id", "cluster_id"), pairs


def link_duckdb(table: Any) -> dict[str, str]:
    """The same linkage on one machine (Splink on DuckDB, the model's own dialect): {unique_id: cluster_id}.
    The Spark job's reference: ``bench.spark`` times both, the Spark test requires the same clusters."""
    from splink import DuckDBAPI, Linker

    logging.getLogger("splink").setLevel(logging.WARNING)
    thresholds = load_model().thresholds
    if "person_id" in table.column_names:
        table = table.drop(["person_id"])
    run = Linker(DuckDBAPI().register(table), str(SPLINK_MODEL))
    predictions = run.inference.predict(threshold_match_probability=thresholds.review)
    clusters = run.clustering.cluster_pairwise_predictions_at_threshold(predictions, thresholds.auto_merge)
    found = clusters.as_pyarrow_table().select(["unique_id", "cluster_id"]).to_pydict()  # type: ignore[no-untyped-call]
    return dict(zip(found["unique_id"], map(str, found["cluster_id"]), strict=True))


# ---- raw records → input rows, on the executors ---------------------------------------------------


def _normalise_batches(batches: Iterator[Any]) -> Iterator[Any]:
    import pyarrow as pa

    from functions.citizen.matching import features_from_dict

    for batch in batches:
        rows = [
            features_from_dict(f"{source}#{json.loads(record)['local_id']}", json.loads(record)).as_row()
            for source, record in zip(
                batch.column("source").to_pylist(), batch.column("record").to_pylist(), strict=True
            )
        ]
        yield pa.RecordBatch.from_pylist(rows, schema=_input_schema())


def _input_schema() -> Any:
    import pyarrow as pa

    names = ["unique_id", *(f for f in _feature_columns()), "birth_year"]
    return pa.schema([(name, pa.string()) for name in names])


def _feature_columns() -> tuple[str, ...]:
    from functions.citizen.matching import FEATURE_COLUMNS

    return FEATURE_COLUMNS


def normalised(spark: Any, records_uri: str) -> Any:
    """``seed.city``'s ``<system>.jsonl`` files (one record per line, as the area systems' extracts): the
    system is the file's name (``padron.jsonl`` → ``/legacy/padron``, the sender ``citizen_events`` sees),
    normalised by ``features_from_dict`` on the executors."""
    from pyspark.sql import functions as fn
    from pyspark.sql.types import StringType, StructField, StructType

    lines = spark.read.text(records_uri).withColumn("file", fn.input_file_name())
    system = fn.regexp_extract("file", r"([a-z-]+)\.jsonl$", 1)
    raw = lines.select(fn.concat(fn.lit("/legacy/"), system).alias("source"), fn.col("value").alias("record"))
    schema = StructType([StructField(name, StringType()) for name in _input_schema().names])
    return raw.mapInArrow(_normalise_batches, schema)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m functions.citizen.spark_linkage", description=__doc__.splitlines()[0]
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", help="Parquet of input rows (matching.Features.as_row columns)")
    source.add_argument("--records", help="seed.city JSON lines (<system>.jsonl), normalised on the executors")
    parser.add_argument("--output", required=True, help="where clusters/ and pairs/ are written (Parquet)")
    parser.add_argument(
        "--master", default=os.environ.get("PIC_SPARK_MASTER"), help="e.g. local[2]; default: spark-submit's"
    )
    parser.add_argument("--driver-memory", default="6g")
    args = parser.parse_args(argv)
    spark = session(args.master, args.driver_memory)
    records = spark.read.parquet(args.input) if args.input else normalised(spark, args.records)
    clusters, pairs = link(spark, records)
    clusters.write.mode("overwrite").parquet(f"{args.output.rstrip('/')}/clusters")
    pairs.write.mode("overwrite").parquet(f"{args.output.rstrip('/')}/pairs")
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
