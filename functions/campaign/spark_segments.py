"""A segment counted on Apache Spark over the audience Parquet: the city-wide path beside DuckDB (ADR 0024, 0037).

The SAME condition as on one machine (``segments.to_sql(dialect="spark")``: only ``element_at`` differs) and
the same grouping by the policy input (``columnar.group_columns``, with Spark's spelling of an empty list),
then the same decision per group (``columnar.choice_of``: the code NOT runs at send time) and the same tally.
Only the scan and the ``GROUP BY`` run on Spark; a city has a few hundred groups, decided in the driver.

``python -m functions.campaign.spark_segments --audience s3a://bucket/campaign/audience.parquet --segment
segment.json [--purpose campaigns]`` prints the count as JSON (a cluster job: ``infra/k8s/spark/``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from functions.campaign import columnar, segments
from functions.core.policy import Policy

EMPTY_LIST = ("CAST([] AS VARCHAR[])", "CAST(array() AS ARRAY<STRING>)")  # DuckDB's spelling → Spark's


def spark_group_columns(purpose: str) -> list[str]:
    """``columnar.group_columns`` in Spark SQL (the empty list literal is the only difference)."""
    return [column.replace(*EMPTY_LIST) for column in columnar.group_columns(purpose)]


def grouped_sql(view: str, segment_filter: Any, purpose: str, at: datetime) -> tuple[str, list[Any]]:
    """The matching rows grouped by the policy input, with positional parameters (purpose first)."""
    where, params = segments.to_sql(segment_filter, segments.evaluation_day(at), dialect="spark")
    named = ", ".join(f"{column} AS g{i}" for i, column in enumerate(spark_group_columns(purpose)))
    keys = columnar.GROUP_KEYS
    sql = f"SELECT {keys}, count(*) AS size FROM (SELECT {named} FROM {view} WHERE {where}) AS m GROUP BY {keys}"  # noqa: S608 - fixed text, values bound
    return sql, [purpose, *params]


def count(spark: Any, audience: str, segment_filter: Any, purpose: str, policy: Policy, at: datetime) -> columnar.Count:
    """The segment's count on Spark: targeted, by channel, not sent by reason (as ``columnar.count``; no sample)."""
    import time

    started = time.perf_counter()
    view = "pic_audience"
    spark.read.parquet(audience).createOrReplaceTempView(view)
    sql, params = grouped_sql(view, segment_filter, purpose, at)
    groups = []
    for row in spark.sql(sql, args=params).collect():
        group = tuple(row[f"g{i}"] for i in range(7))
        channel, reason = columnar._outcome(columnar.choice_of(group, purpose, policy, at))
        groups.append(columnar._Group(group, int(row["size"]), channel, reason))
    targeted, by_channel, not_sent = columnar._tally(groups)
    took = round((time.perf_counter() - started) * 1000, 1)
    return columnar.Count(targeted, by_channel, not_sent, [], took, len(groups))


def main(argv: Sequence[str] | None = None) -> int:
    from pyspark.sql import SparkSession

    from functions.core.policy import EmbeddedPolicy, PolicyBundle

    parser = argparse.ArgumentParser(
        prog="python -m functions.campaign.spark_segments", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--audience", required=True, help="the audience export (Parquet file or folder, s3a:// on a cluster)"
    )
    parser.add_argument("--segment", required=True, type=Path, help="the segment's JSON ({version, filter})")
    parser.add_argument("--purpose", default="campaigns")
    parser.add_argument("--policies", type=Path, default=Path("policies"))
    parser.add_argument("--master", default=None)
    args = parser.parse_args(argv)
    builder = SparkSession.builder.appName("pic-campaign-segment")
    spark = (builder.master(args.master) if args.master else builder).getOrCreate()
    policy = EmbeddedPolicy(PolicyBundle.load(args.policies))
    found = segments.parse(json.loads(args.segment.read_text(encoding="utf-8")))
    counted = count(spark, args.audience, found, args.purpose, policy, datetime.now(UTC))
    print(json.dumps({"targeted": counted.targeted, "by_channel": counted.by_channel, "not_sent": counted.not_sent}))
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
