"""The city-scale path on Spark (issue 19, ADR 0037): identity resolution and a city-wide segment, Spark local
mode against one machine's DuckDB, on the same inputs.

``python -m bench spark`` (or ``python -m bench.spark --people 1000000``):

- **linkage**: the generated city's area records (``bench.spark_city``: seed 7, normalised once and kept in
  Parquet parts of 100,000 people) linked by Splink 5 with the versioned C360 model, once on Spark
  (``functions.citizen.spark_linkage``: ``local[2]``, driver memory capped at 6 GiB) and once on DuckDB
  (``link_duckdb``), each in its own process: wall time (from reading the Parquet to the clusters in hand,
  and the session's start apart), records/s, peak memory of the process TREE (the Python process and,
  for Spark, its JVM: RSS sampled every 0.5 s) and pairwise precision/recall/F1 against the city's truth;
- **segmentation**: the campaigns' city-wide segment counted over the audience Parquet of 3,527,924
  residents (``bench.campaigns``'s generator) by DuckDB (``columnar.count``) and by Spark
  (``spark_segments.count``): the same counts required, and the times;
- **sizing**: what the figures say for a cluster (executors, memory) and a run's cost on EMR Serverless.

``--people`` takes the parts prepared so far when the preparation of that many is not finished (the log
says how many people were linked): figures for the rest are extrapolated and labelled so.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import spark_city
from bench.spark_env import ensure_pyspark
from bench.stats import Figure, load, machine, record_section, table

TITLE = "## City scale on Spark at {people:,} people (issue 19)"  # one section per scale: each run keeps the others
DRIVER_MEMORY = "6g"
SAMPLE_SECONDS = 0.5
# EMR Serverless on-demand prices, x86, us-east-1, as AWS publishes them (https://aws.amazon.com/emr/pricing/):
# per vCPU-hour and per GB-hour of worker memory, billed per second with a one-minute minimum; 20 GB of
# ephemeral storage per worker included. Check the region's (eu-south-2, Spain) before budgeting.
VCPU_HOUR_USD = 0.052624
GB_HOUR_USD = 0.0057785
PARALLEL_EFFICIENCY = 0.5  # a cluster's core does half a local core's work: shuffles over the network, skewed blocks


# ---- peak memory of a process tree ----------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def tree_rss_mib(root: int) -> float:
    """The resident memory of ``root`` and every descendant (the Spark driver's JVM is a child of Python)."""
    tree, total, todo = _children(), 0, [root]
    while todo:
        pid = todo.pop()
        todo += tree.get(pid, [])
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


class PeakSampler:
    """Samples a process tree's RSS in a thread until stopped: its peak, in MiB."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self.peak = max(self.peak, tree_rss_mib(self.pid))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


# ---- the steps, each in its own process -----------------------------------------------------------


def _link_spark(paths: list[str], out: str) -> dict[str, Any]:
    from functions.citizen import spark_linkage

    os.environ.setdefault("PIC_SPARK_SHUFFLE_PARTITIONS", "16")
    started = time.perf_counter()
    spark = spark_linkage.session(driver_memory=DRIVER_MEMORY, app="pic-bench-linkage")
    session_s = time.perf_counter() - started
    started = time.perf_counter()
    clusters, pairs = spark_linkage.link(spark, spark.read.parquet(*paths))
    clusters.write.mode("overwrite").parquet(out)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "session_seconds": session_s, "pairs": pairs.count()}


def _link_duckdb(paths: list[str], out: str) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from functions.citizen.spark_linkage import link_duckdb

    started = time.perf_counter()
    table = pa.concat_tables([pq.read_table(p) for p in paths])
    labels = link_duckdb(table)
    seconds = time.perf_counter() - started
    ids = list(labels)
    pq.write_table(pa.table({"unique_id": ids, "cluster_id": [labels[i] for i in ids]}), out)
    return {"seconds": seconds}


def _count_spark(audience: str, raw: dict[str, Any]) -> dict[str, Any]:
    from functions.campaign import segments, spark_segments
    from functions.citizen import spark_linkage

    spark = spark_linkage.session(driver_memory=DRIVER_MEMORY, app="pic-bench-segment")
    counted = spark_segments.count(spark, audience, segments.parse(raw), "campaigns", _policy(), _at())
    first = counted.took_ms
    counted = spark_segments.count(spark, audience, segments.parse(raw), "campaigns", _policy(), _at())
    return {"first_ms": first, "ms": counted.took_ms, **_counts(counted)}


def _count_duckdb(audience: str, raw: dict[str, Any]) -> dict[str, Any]:
    from functions.campaign import columnar, segments

    counted = columnar.count(Path(audience), segments.parse(raw), "campaigns", _policy(), _at(), sample=0)
    first = counted.took_ms
    counted = columnar.count(Path(audience), segments.parse(raw), "campaigns", _policy(), _at(), sample=0)
    return {"first_ms": first, "ms": counted.took_ms, **_counts(counted)}


def _counts(counted: Any) -> dict[str, Any]:
    return {"targeted": counted.targeted, "by_channel": counted.by_channel, "not_sent": counted.not_sent}


def _policy() -> Any:
    from bench.campaigns import _policy as policy

    return policy()


def _at() -> datetime:
    from bench.campaigns import AT

    return AT


def _child(step: str, args: tuple[Any, ...], out: Path) -> None:
    os.environ.setdefault("PIC_LOG_LEVEL", "WARNING")
    steps: dict[str, Callable[..., dict[str, Any]]] = {
        "spark": _link_spark,
        "duckdb": _link_duckdb,
        "count-spark": _count_spark,
        "count-duckdb": _count_duckdb,
    }
    out.write_text(json.dumps(steps[step](*args)), encoding="utf-8")


def measured(step: str, *args: Any) -> dict[str, Any]:
    """Run a step in a fresh process, sampling its tree's memory: its result, ``wall_seconds`` and ``peak_mib``."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    process = mp.get_context("spawn").Process(target=_child, args=(step, args, out))
    started = time.perf_counter()
    process.start()
    sampler = PeakSampler(process.pid or 0)
    process.join()
    peak = sampler.stop()
    if process.exitcode != 0:
        raise RuntimeError(f"{step} failed with exit code {process.exitcode}")
    result = dict(json.loads(out.read_text(encoding="utf-8")))
    out.unlink()
    return {**result, "wall_seconds": time.perf_counter() - started, "peak_mib": peak}


# ---- the write-back into C360 on DynamoDB Local ----------------------------------------------------


def writeback_on_dynamodb(
    clusters: dict[str, str], pairs: list[tuple[str, str, float]], records: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """In a fresh process (its own settings): DynamoDB Local in memory, the tables, ``spark_writeback`` of the
    clusters, then what C360 holds read back through its store: each record's golden record, whether its link,
    block items and document claim are there, each block head's claims against its members, the golden
    records' provenance pointing at their own links, and the outbox's citizen.updated events."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    process = mp.get_context("spawn").Process(target=_writeback_child, args=(clusters, pairs, records, out))
    process.start()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"the write-back failed with exit code {process.exitcode}")
    result = dict(json.loads(out.read_text(encoding="utf-8")))
    out.unlink()
    return result


def _writeback_child(
    clusters: dict[str, str], pairs: list[tuple[str, str, float]], records: dict[str, dict[str, Any]], out: Path
) -> None:
    from local import dynamodb
    from local.harness import free_port

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(
        {
            "PIC_DYNAMODB_ENDPOINT": endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "PIC_LOG_LEVEL": "WARNING",
        }
    )
    with tempfile.TemporaryDirectory(prefix="pic-writeback-ddb-") as tmp:
        process = dynamodb.start(Path(tmp), port, in_memory=True)
        try:
            dynamodb.wait_ready(endpoint, "eu-south-2")
            out.write_text(json.dumps(_writeback_and_read(clusters, pairs, records)), encoding="utf-8")
        finally:
            process.terminate()
            process.wait(timeout=30)


def _writeback_and_read(
    clusters: dict[str, str], pairs: list[tuple[str, str, float]], records: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    from functions.citizen import matching, spark_writeback, storage
    from functions.citizen.identity import normalise_document
    from functions.citizen.matching import load_model
    from functions.core.tables import create_tables

    create_tables()
    store = storage.DynamoCitizenStore()
    started = time.perf_counter()
    done = spark_writeback.write_back(store, load_model(), clusters, pairs, records)
    seconds = time.perf_counter() - started
    golden_of: dict[str, str] = {}
    problems: list[str] = []
    members: dict[str, int] = {}
    for key, record in records.items():
        source, _, local_id = key.rpartition("#")
        found = store.fetch_citizen_of(source, local_id)
        if found is None:
            problems.append(f"{key}: no source pointer")
            continue
        golden_of[key] = found[0]
        for block in matching.blocking_keys(matching.features_from_dict(key, record)):
            members[block] = members.get(block, 0) + 1
            try:
                storage.BlockItem.get(storage.block_key(block), key, consistent_read=True)
            except storage.BlockItem.DoesNotExist:
                problems.append(f"{key}: not in its block {block}")
    for block, count in members.items():
        head = storage.BlockItem.get(storage.block_key(block), storage.BLOCK_HEAD, consistent_read=True)
        if int(head.claims or 0) != count:
            problems.append(f"block {block}: head claims {head.claims}, {count} members")
    for citizen_id in sorted(set(golden_of.values())):
        golden = store.fetch_golden(citizen_id)
        links = {link.key for link in store.fetch_links(citizen_id)}
        if golden is None:
            problems.append(f"{citizen_id}: links without a golden record")
            continue
        if not set(golden.provenance.values()) <= links:
            problems.append(f"{citizen_id}: provenance outside its links")
        for doc_type, number in golden.documents:
            if store.fetch_document_owner(normalise_document(doc_type, number)) != citizen_id:
                problems.append(f"{citizen_id}: document {doc_type} not claimed by it")
    return {
        "seconds": seconds,
        "written": done.written,
        "goldens": done.goldens,
        "reviews": done.reviews,
        "methods": dict(done.methods),
        "fallback": done.fallback,
        "golden_of": golden_of,
        "problems": problems,
    }


# ---- quality against the truth --------------------------------------------------------------------


def quality(clusters: str, paths: list[str]) -> tuple[float, float, float]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from bench.c360 import quality as pairwise

    truth = pa.concat_tables([pq.read_table(p, columns=["unique_id", "person_id"]) for p in paths]).to_pydict()
    found = pq.read_table(clusters).to_pydict()
    label = dict(zip(found["unique_id"], map(str, found["cluster_id"]), strict=True))
    return pairwise([label[u] for u in truth["unique_id"]], truth["person_id"])


# ---- the run --------------------------------------------------------------------------------------


def available(people: int) -> tuple[int, list[Path]]:
    """The prepared parts for up to ``people`` (all when the preparation is done, else the leading ones)."""
    paths = spark_city.parts_for(people)
    done = [p for p in paths if p.exists()]
    leading = []
    for path in paths:
        if path not in done:
            break
        leading.append(path)
    linked = int(leading[-1].stem.rsplit("-", 1)[1]) if leading else 0
    return linked, leading


def records_in(paths: list[Path]) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(p).metadata.num_rows for p in paths)


def linkage(people: int) -> tuple[list[Figure], dict[str, Any]]:
    linked, paths = available(people)
    if not paths:
        raise SystemExit(f"no prepared part: run python -m bench.spark_city --people {people} first")
    records = records_in(paths)
    label = f"{linked:,} people, {records:,} records" + (
        f" (the first {len(paths)} parts of {people:,} people prepared)" if linked < people else ""
    )
    figures: list[Figure] = []
    facts: dict[str, Any] = {"people": linked, "records": records}
    with tempfile.TemporaryDirectory(prefix="pic-bench-spark-") as tmp:
        for engine in ("duckdb", "spark"):
            out = str(Path(tmp) / f"{engine}.parquet")
            print(f"… linking {label} on {engine}", file=sys.stderr, flush=True)
            result = measured(engine, [str(p) for p in paths], out)
            precision, recall, f1 = quality(out, [str(p) for p in paths])
            facts[engine] = {**result, "f1": f1}
            session = f" (+ {result['session_seconds']:.0f} s session start)" if "session_seconds" in result else ""
            figures += [
                Figure(
                    f"C360 linkage on {engine_name(engine)}: {label} — wall time / records/s / peak RSS (tree)",
                    f"{result['seconds']:.0f} s{session} / {records / result['seconds']:,.0f} /"
                    f" {result['peak_mib']:,.0f} MiB",
                ),
                Figure(
                    f"C360 linkage on {engine_name(engine)}: pairwise precision / recall / F1",
                    f"{precision:.4f} / {recall:.4f} / {f1:.4f}",
                    "F1 ≥ 0.98",
                    "met" if f1 >= 0.98 else "NOT met",
                ),
            ]
    return figures, facts


def engine_name(engine: str) -> str:
    return {"spark": "Spark local[2] (Splink 5, driver ≤ 6 GiB)", "duckdb": "DuckDB (Splink 5)"}[engine]


def segmentation() -> tuple[list[Figure], dict[str, Any]]:
    from bench.campaigns import CITY_WIDE, RESIDENTS, _connect, generation_sql

    with tempfile.TemporaryDirectory(prefix="pic-bench-segment-") as tmp:
        audience = Path(tmp) / "audience.parquet"
        print(f"… writing the audience of {RESIDENTS:,} residents", file=sys.stderr, flush=True)
        con = _connect(2, None)
        con.execute(generation_sql(RESIDENTS, audience))
        con.close()
        duck = measured("count-duckdb", str(audience), CITY_WIDE)
        spark = measured("count-spark", str(audience), CITY_WIDE)
    same = all(duck[k] == spark[k] for k in ("targeted", "by_channel", "not_sent"))
    figures = [
        Figure(
            f"Campaign city-wide segment over {RESIDENTS:,} residents on DuckDB: count (first / again) / peak RSS",
            f"{duck['first_ms'] / 1000:.1f} s / {duck['ms'] / 1000:.1f} s / {duck['peak_mib']:,.0f} MiB"
            f" ({duck['targeted']:,} targeted)",
        ),
        Figure(
            f"Campaign city-wide segment over {RESIDENTS:,} residents on Spark local[2]: count (first / again) /"
            " peak RSS (tree)",
            f"{spark['first_ms'] / 1000:.1f} s / {spark['ms'] / 1000:.1f} s / {spark['peak_mib']:,.0f} MiB"
            f" ({spark['targeted']:,} targeted)",
            "same counts as DuckDB",
            "met" if same else "NOT met",
        ),
    ]
    return figures, {"duckdb": duck, "spark": spark, "same": same}


def sizing(facts: dict[str, Any], city_records: int) -> list[Figure]:
    """From the local run's records/s per core, the executors for the whole city in a target time, and the
    run's cost at EMR Serverless prices (workers of 4 vCPU / 16 GB, the driver 2 vCPU / 8 GB). A cluster's
    cores are counted at ``PARALLEL_EFFICIENCY`` of a local core: local mode shuffles in memory, a cluster
    over the network, and the largest blocks (a common surname's phonetic key) do not split."""
    spark = facts["spark"]
    per_core = facts["records"] / spark["seconds"] / 2  # local[2]: two cores
    target_s = 15 * 60
    vcpus = max(4, -(-city_records // int(per_core * PARALLEL_EFFICIENCY * target_s)))
    workers = -(-vcpus // 4)
    hours = target_s / 3600
    cost = hours * ((workers * 4 + 2) * VCPU_HOUR_USD + (workers * 16 + 8) * GB_HOUR_USD)
    return [
        Figure(
            f"Sizing: the whole city ({city_records:,} records) in ≤ 15 min at the measured {per_core:,.0f} records/s"
            f" per core, a cluster's core counted as {PARALLEL_EFFICIENCY:.0%} of it",
            f"{workers} worker{'s' if workers > 1 else ''} × 4 vCPU / 16 GB (+ driver 2 vCPU / 8 GB) — about"
            f" ${cost:.2f} a run on EMR Serverless (us-east-1 on-demand prices)",
        )
    ]


def run(people: int, segment: bool = True) -> str:
    started = datetime.now(UTC)
    figures, facts = linkage(people)
    city_records = int(3_527_924 * facts["records"] / max(facts["people"], 1))
    for engine in ("duckdb", "spark"):
        if facts["people"] < 3_527_924:
            seconds = facts[engine]["seconds"] * 3_527_924 / facts["people"]
            figures.append(
                Figure(
                    f"EXTRAPOLATED, not measured: {engine_name(engine)} for the whole city (3,527,924 people,"
                    f" ~{city_records:,} records), linear in records",
                    f"~{seconds / 60:.0f} min",
                )
            )
    figures += sizing(facts, city_records)
    if segment:
        more, _ = segmentation()
        figures += more
    body = (
        f"{NOTE}\n\nRecorded {started:%Y-%m-%d %H:%M} UTC with `python -m bench.spark --people {people}` on "
        f"{machine()}; load average {load()} at the end.\n\n{table(figures)}"
    )
    title = TITLE.format(people=facts["people"])
    record_section(title, f"{title}\n\n{body}")
    return body


NOTE = """\
The whole city's identity resolution and a city-wide segment on Apache Spark (PySpark 4.0.1 in local mode,
`local[2]`, driver JVM capped at 6 GiB) against Splink/DuckDB on one machine, on the same inputs: the
generated city's area records (seed 7; normalised once, in Parquet parts of 100,000 people,
`bench/spark_city.py`) and the campaigns' audience of 3,527,924 residents. Each engine runs in its own
process; peak memory is the RSS of the process tree (Python and the JVM) sampled every 0.5 s; wall time
runs from reading the Parquet to the clusters written (the Spark session's start apart). Both engines link
with the versioned C360 model (ADR 0008) and must give the same clusters (tests/functional/spark). The
machine's 2 cores may be shared with other work (the load average is on the line below): times are upper
bounds, compare the rows of one run. Source: `bench/spark.py`; ADR 0037."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.spark", description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--prepare", action="store_true", help="prepare the missing parts first (long)")
    parser.add_argument("--no-segment", action="store_true")
    args = parser.parse_args(argv)
    skipped = ensure_pyspark()
    if skipped:
        print(f"bench spark skipped: {skipped}")
        return 0
    if args.prepare:
        spark_city.prepare(args.people)
    print(run(args.people, segment=not args.no_segment))
    return 0


if __name__ == "__main__":
    sys.exit(main())
