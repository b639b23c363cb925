"""The city-scale path on Spark gives what one machine gives (ADR 0037), on a small city in Spark local mode:

- identity resolution: Splink's Spark backend with the versioned C360 model links the records into exactly
  the clusters Splink on DuckDB makes of them (no drift between the engines);
- the write-back: those clusters become C360 golden records on DynamoDB Local through the event path's own
  decision and unit of work (``spark_writeback``): every record linked, in its blocks, the block heads
  counting their members, documents claimed by their golden record, golden records within Spark's clusters
  (a C360 veto splits one into two with a review of the pair, never silently);
- campaign segmentation: the segments' Spark SQL counts what DuckDB counts over the same audience Parquet,
  channel by channel and refusal by refusal.

One Spark session for the module (the JVM's start is most of the time). PySpark is installed on first use
(``requirements-spark.txt``), by the module's fixture; without Java the module is skipped, saying so.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bench.spark_env import ensure_pyspark

pytestmark = pytest.mark.spark

PEOPLE = 600  # ~1,450 records: hundreds of merges; the time is Spark's stages, not the data
WRITTEN_BACK = 60  # clusters (~140 records)
AT = datetime(2026, 12, 6, 22, 30, tzinfo=UTC)  # inside Madrid's quiet hours: deferrals counted too


def clusters_of(labels: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for record, cluster in labels.items():
        groups.setdefault(cluster, set()).add(record)
    return {frozenset(g) for g in groups.values()}


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    # PySpark installed here, by the worker that runs this module, not at collection: every pytest-xdist worker
    # imports the module, and one install (a 415 MB sdist) held all of them at the start of the phase
    skipped = ensure_pyspark()
    if skipped is not None:
        pytest.skip(f"Spark not run: {skipped}")
    from functions.citizen.spark_linkage import session

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PIC_SPARK_SHUFFLE_PARTITIONS", "2")
        started = session(driver_memory="1g", app="pic-test-spark")
    yield started
    started.stop()


def test_spark_links_and_counts_as_duckdb_does(spark: Any, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from bench.spark import writeback_on_dynamodb
    from functions.campaign import columnar, segments, spark_segments
    from functions.citizen.matching import features_from_dict
    from functions.citizen.spark_linkage import link, link_duckdb
    from functions.core.policy import EmbeddedPolicy, PolicyBundle
    from seed.city import CityConfig, generate
    from tests.unit.campaign.test_segments import random_node, random_row

    raw = {
        f"{r.source}#{r.record['local_id']}": dict(r.record)
        for _, records in generate(CityConfig(people=PEOPLE, seed=19))
        for r in records
    }
    rows = [features_from_dict(key, record).as_row() for key, record in raw.items()]
    table = pa.Table.from_pylist(rows)
    pq.write_table(table, tmp_path / "records.parquet")
    clusters, pairs = link(spark, spark.read.parquet(str(tmp_path / "records.parquet")))
    on_spark = {row.unique_id: str(row.cluster_id) for row in clusters.collect()}
    on_duckdb = link_duckdb(table)
    assert len(on_spark) == len(rows)
    assert clusters_of(on_spark) == clusters_of(on_duckdb)
    assert len(clusters_of(on_spark)) < 0.6 * len(rows)  # people are in several systems: many records merged
    scored = [(p.unique_id_l, p.unique_id_r, p.match_probability) for p in pairs.collect()]
    assert scored

    # written back into C360 on DynamoDB Local through the event path's decisions and unit of work (the
    # first WRITTEN_BACK clusters: DynamoDB Local commits a few hundred units a second at best)
    kept = sorted(clusters_of(on_spark), key=min)[:WRITTEN_BACK]
    subset = {record: str(i) for i, cluster in enumerate(kept) for record in cluster}
    held = writeback_on_dynamodb(subset, [p for p in scored if p[0] in subset], {k: raw[k] for k in subset})
    assert held["problems"] == []
    assert held["fallback"] == [] and held["written"] == len(subset)
    goldens = clusters_of(held["golden_of"])
    assert all(golden <= cluster for golden in goldens for cluster in kept if golden & cluster)  # never joins
    assert len(goldens) - len(kept) == held["reviews"]  # a C360 veto splits a cluster with a review, not silently

    rng = random.Random(1919)
    audience = [random_row(rng, i) for i in range(600)]
    columnar.write_rows(audience, tmp_path / "audience.parquet")
    policy = EmbeddedPolicy(PolicyBundle.load(Path("policies")))
    for raw in [{"all": [{"age": {"min": 18}}, {"not": {"restricted": True}}]}, *(random_node(rng) for _ in range(3))]:
        found = segments.parse({"version": 1, "filter": raw})
        one = columnar.count(tmp_path / "audience.parquet", found, "campaigns", policy, AT, sample=0)
        city = spark_segments.count(spark, str(tmp_path / "audience.parquet"), found, "campaigns", policy, AT)
        assert (city.targeted, city.by_channel, city.not_sent) == (one.targeted, one.by_channel, one.not_sent), raw
