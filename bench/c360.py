"""C360 identity resolution against the synthetic city's ground truth: two options on the SAME records.

- **own**: ``functions.citizen.matching`` in process (what the incremental path runs): blocking keys into
  an in-memory index, Fellegi-Sunter scoring with the versioned model JSON, connected components at the
  auto-merge threshold; the scoring is split over 2 processes.
- **splink**: Splink 5 over DuckDB (``functions/citizen/model/c360-model-v1.splink.json``, the same
  comparison levels, blocking rules and trained m/u): ``predict`` + ``cluster_pairwise_predictions_at_threshold``.

Both start from the same normalised feature rows (``matching.features_from_dict``: python-stdnum,
phonenumbers, email-validator, name folding), whose cost is reported once, apart. Each option runs in a
child process so its peak RSS (``ru_maxrss``) is its own. Pairwise precision, recall and F1: pairs of
records placed in the same golden record, against the pairs of records of the same person.

Then the incremental path: a base of the city's records held in the in-memory blocking index, and the
last 1,000 records (held out of the base) resolved one by one against it (normalisation, blocking,
candidate scoring, decision): p50/p99. This is the scorer's latency; the deployed path adds the DynamoDB
queries for the block items.

``python -m bench.c360 --records 1000000`` (the issue's scale; ~3 GiB, minutes) or ``--records 50000``.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import multiprocessing as mp
import os
import pickle
import resource
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bench.stats import Figure, ms, pct, us
from functions.citizen.matching import MODEL_PATH, Candidate, Features, best_match, blocking_keys, load_model
from seed.city import CityConfig, generate

SPLINK_MODEL = MODEL_PATH.with_suffix(".splink.json")
HELD_OUT = 1_000  # new records resolved against the base in the incremental measure
DYNAMODB_BASE = 2_000  # DynamoDB Local serialises writes: a base of a million is not loadable here
DYNAMODB_ARRIVALS = 200
SPLINK_ARRIVALS = 20  # Splink's predict_between runs a DuckDB query over the base per call
CITY_SEED = 7  # not the training seed (11): the model is measured on a city it was not trained on


def pairs(sizes: Iterable[int]) -> int:
    return sum(n * (n - 1) // 2 for n in sizes)


def quality(predicted: Sequence[str], truth: Sequence[str]) -> tuple[float, float, float]:
    """Pairwise precision, recall and F1 of a clustering (one label per record) against the truth."""
    tp = pairs(Counter(zip(predicted, truth, strict=True)).values())
    p_pairs, t_pairs = pairs(Counter(predicted).values()), pairs(Counter(truth).values())
    precision = tp / p_pairs if p_pairs else 1.0
    recall = tp / t_pairs if t_pairs else 1.0
    return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)


def city_records(records: int) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    """The first ``records`` records of a city big enough, with the person each belongs to."""
    raw: list[tuple[str, dict[str, Any]]] = []
    truth: list[str] = []
    people = int(records / 2.3) + 1000
    for person, system_records in generate(CityConfig(people=people, seed=CITY_SEED)):
        for r in system_records:
            raw.append((f"{r.source}#{r.record['local_id']}", dict(r.record)))
            truth.append(person.person_id)
        if len(raw) >= records:
            break
    return raw[:records], truth[:records]


def _features_chunk(chunk: list[tuple[str, dict[str, Any]]]) -> list[Features]:
    from functions.citizen.matching import features_from_dict

    return [features_from_dict(key, record) for key, record in chunk]


def normalise(raw: list[tuple[str, dict[str, Any]]], workers: int = 2) -> list[Features]:
    chunks = [raw[i : i + 20_000] for i in range(0, len(raw), 20_000)]
    with mp.get_context("fork").Pool(workers) as pool:
        return [f for part in pool.map(_features_chunk, chunks) for f in part]


# ---- own index + scorer ---------------------------------------------------------------------------

_FEATURES: list[Features] = []  # inherited by forked scoring workers


def peak_rss_mib() -> float:
    """This process's own high-water RSS (``VmHWM``: per address space, reset by exec and by fork, unlike
    ``ru_maxrss``, which a spawned child inherits from the big parent)."""
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover - not Linux


def _score_chunk(chunk: list[int]) -> tuple[list[int], float]:
    model = load_model()
    n = len(_FEATURES)
    kept = [code for code in chunk if model.auto_merges(_FEATURES[code // n], _FEATURES[code % n])]
    return kept, peak_rss_mib()


def own_batch(features: list[Features], workers: int = 2) -> tuple[list[str], dict[str, float]]:
    """Block, score every blocked pair once, and join matches (connected components, union-find).
    Returns the cluster of each record and each stage's seconds (and the scoring workers' peak RSS)."""
    global _FEATURES
    _FEATURES = features
    stages: dict[str, float] = {}
    t0 = time.perf_counter()
    n = len(features)
    cap = load_model().max_block_size
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, f in enumerate(features):
        for key in blocking_keys(f):
            blocks[key].append(i)
    candidate_pairs: set[int] = set()
    for members in blocks.values():
        if 1 < len(members) <= cap:
            candidate_pairs.update(a * n + b for a, b in itertools.combinations(members, 2))
    del blocks
    codes = sorted(candidate_pairs)
    del candidate_pairs
    stages["blocking"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    size = max(1, len(codes) // (workers * 8) + 1)
    with mp.get_context("fork").Pool(workers) as pool:
        parts = pool.map(_score_chunk, [codes[i : i + size] for i in range(0, len(codes), size)])
    matched = [c for part, _ in parts for c in part]
    stages["scoring"] = time.perf_counter() - t0
    stages["workers_peak_rss_mib"] = max((rss for _, rss in parts), default=0.0)
    t0 = time.perf_counter()
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for code in matched:
        a, b = divmod(code, n)
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    labels = [str(find(i)) for i in range(n)]
    stages["clustering"] = time.perf_counter() - t0
    stages["pairs"] = len(codes)
    return labels, stages


def incremental(features: list[Features], arrivals: list[tuple[str, dict[str, Any]]]) -> list[float]:
    """A base of records in an in-memory blocking index, then each arriving record resolved against it:
    normalisation, blocking keys, candidates, scores, decision."""
    from functions.citizen.matching import features_from_dict

    model = load_model()
    base = features
    index: dict[str, list[int]] = defaultdict(list)
    for i, f in enumerate(base):
        for key in blocking_keys(f):
            index[key].append(i)
    gc.freeze()  # the base is long-lived: keep the cyclic collector from walking a million records per pass
    latencies = []
    for key, record in arrivals:
        t0 = time.perf_counter()
        f = features_from_dict(key, record)
        seen: set[int] = set()
        candidates = []
        for key in blocking_keys(f):
            for i in index.get(key, ())[: model.max_block_size]:
                if i not in seen:
                    seen.add(i)
                    candidates.append(Candidate(f"cit-{i}", base[i]))
        best_match(model, f, candidates)
        latencies.append(time.perf_counter() - t0)
    return latencies


# ---- Splink ---------------------------------------------------------------------------------------


def splink_batch(rows_path: Path, arrivals: int = SPLINK_ARRIVALS) -> tuple[list[str], list[float], float]:
    """Splink 5 over DuckDB with the trained model: predict at the auto-merge threshold, then cluster.
    Then Splink's incremental path: ``predict_between`` one arriving record (the last rows, re-sent under a
    new id) and the whole base, timed per record. Returns clusters, those latencies and the batch seconds."""
    import logging

    import pyarrow.parquet as pq
    from splink import DuckDBAPI, Linker

    logging.getLogger("splink").setLevel(logging.WARNING)
    t0 = time.perf_counter()
    threshold = load_model().thresholds.auto_merge
    db_api = DuckDBAPI()
    table = pq.read_table(rows_path)
    base = db_api.register(table, dataset_display_name="records")
    linker = Linker(base, str(SPLINK_MODEL))
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold)
    found = clusters.as_pyarrow_table().select(["unique_id", "cluster_id"]).to_pydict()
    by_id = dict(zip(found["unique_id"], found["cluster_id"], strict=True))
    labels = [str(by_id[key]) for key in table.column("unique_id").to_pylist()]
    seconds = time.perf_counter() - t0
    latencies = []
    new_rows = table.slice(table.num_rows - arrivals).to_pylist()
    import pyarrow as pa

    for i, row in enumerate(new_rows):
        row["unique_id"] = f"{row['unique_id']}#arrival"
        t1 = time.perf_counter()
        one = db_api.register(pa.Table.from_pylist([row], schema=table.schema), table_name=f"arrival_{i}")
        linker.inference.predict_between(one, base, threshold_match_probability=load_model().thresholds.review)
        latencies.append(time.perf_counter() - t1)
    return labels, latencies, seconds


# ---- the deployed path: the event function against DynamoDB Local ---------------------------------


def dynamodb_incremental(
    base: list[tuple[str, dict[str, Any]]], arrivals: list[tuple[str, dict[str, Any]]]
) -> list[float]:
    """The real consumer (``citizen_events``: dedupe, candidate queries on block items, BatchGetItem, scoring,
    one TransactWriteItems) on DynamoDB Local in memory: the base loaded through it, then each arrival timed.
    DynamoDB Local serialises requests (~180 transactions/s here), so the base is small."""
    import os
    import uuid

    from local import dynamodb
    from local.harness import free_port

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(
        {"PIC_DYNAMODB_ENDPOINT": endpoint, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
    )
    with tempfile.TemporaryDirectory(prefix="pic-c360-ddb-") as tmp:
        process = dynamodb.start(Path(tmp), port, in_memory=True)
        try:
            dynamodb.wait_ready(endpoint, "eu-south-2")
            from cloudevents.http import CloudEvent

            from functions.citizen.main import event_api
            from functions.core.tables import create_tables

            create_tables()

            def send(key: str, record: dict[str, Any]) -> None:
                source = key.rpartition("#")[0]
                attributes = {
                    "type": "es.madrid.pic.citizen.record.upserted.v1",
                    "source": source,
                    "id": str(uuid.uuid4()),
                }
                event_api(CloudEvent(attributes, record))

            for key, record in base:
                send(key, record)
            latencies = []
            for key, record in arrivals:
                t0 = time.perf_counter()
                send(key, record)
                latencies.append(time.perf_counter() - t0)
            return latencies
        finally:
            process.terminate()
            process.wait(timeout=30)


# ---- running each option in its own process -------------------------------------------------------


def _child(option: str, data: Path, out: Path) -> None:
    if option == "own":
        with data.open("rb") as handle:
            features = pickle.load(handle)
        loaded = time.perf_counter()
        labels, stages = own_batch(features)
        result: dict[str, Any] = {"labels": labels, "seconds": time.perf_counter() - loaded, "stages": stages}
    elif option == "splink":
        labels, latencies, seconds = splink_batch(data)
        result = {"labels": labels, "seconds": seconds, "stages": {}, "latencies": latencies}
    elif option == "dynamodb":
        with data.open("rb") as handle:
            base, arrivals = pickle.load(handle)
        result = {"latencies": dynamodb_incremental(base, arrivals)}
    else:
        with data.open("rb") as handle:
            features = pickle.load(handle)
        with data.with_suffix(".arrivals").open("rb") as handle:
            arrivals = pickle.load(handle)
        result = {"latencies": incremental(features[: len(features) - len(arrivals)], arrivals)}
    result["peak_rss_mib"] = peak_rss_mib()
    out.write_text(json.dumps(result), encoding="utf-8")


def in_child(option: str, data: Path) -> dict[str, Any]:
    out = data.with_suffix(f".{option}.json")
    process = mp.get_context("spawn").Process(target=_child, args=(option, data, out))
    process.start()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"{option} failed with exit code {process.exitcode}")
    return dict(json.loads(out.read_text(encoding="utf-8")))


def memory_text(result: dict[str, Any]) -> str:
    workers = result["stages"].get("workers_peak_rss_mib")
    shared = f" (+ 2 forked scorers, ≤ {workers:.0f} MiB each, mostly shared pages)" if workers else ""
    return f"{result['peak_rss_mib']:.0f} MiB{shared}"


def stages_text(stages: dict[str, float]) -> str:
    shown = [f"{k} {v:.1f} s" for k, v in stages.items() if k in ("blocking", "scoring", "clustering")]
    if "pairs" in stages:
        shown.append(f"{stages['pairs']:,.0f} blocked pairs")
    return f" [{', '.join(shown)}]" if shown else ""


def run(records: int = 1_000_000, deployed: bool = True) -> list[Figure]:
    t0 = time.perf_counter()
    raw, truth = city_records(records)
    generated = time.perf_counter() - t0
    t0 = time.perf_counter()
    features = normalise(raw)
    normalised = time.perf_counter() - t0
    arrivals = raw[-HELD_OUT:]  # resolved one by one against the rest in the incremental measure
    # the deployed path: a small base, and arrivals held out of it (every 11th record: most of their people
    # are in the base through their other records)
    head = raw[: DYNAMODB_BASE + DYNAMODB_ARRIVALS]
    small_base = [r for i, r in enumerate(head) if i % 11 != 10][:DYNAMODB_BASE]
    small_arrivals = [r for i, r in enumerate(head) if i % 11 == 10][:DYNAMODB_ARRIVALS]
    del raw
    figures = [
        Figure(
            f"C360: {len(features):,} records generated / normalised (documents, names, e-mail, phone; 2 processes)",
            f"{generated:.1f} s / {normalised:.1f} s",
        )
    ]
    with tempfile.TemporaryDirectory(prefix="pic-c360-") as tmp:
        pickled = Path(tmp) / "features.pickle"
        with pickled.open("wb") as handle:
            pickle.dump(features, handle, protocol=pickle.HIGHEST_PROTOCOL)
        with pickled.with_suffix(".arrivals").open("wb") as handle:
            pickle.dump(arrivals, handle, protocol=pickle.HIGHEST_PROTOCOL)
        rows = Path(tmp) / "rows.parquet"
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist([f.as_row() for f in features]), rows)
        del features
        for option, data, title in (
            ("own", pickled, "own index + Fellegi-Sunter scorer (Python, 2 processes)"),
            ("splink", rows, "Splink 5 + DuckDB (predict + cluster)"),
        ):
            result = in_child(option, data)
            precision, recall, f1 = quality(result["labels"], truth)
            figures += [
                Figure(
                    f"C360 {title}: {len(truth):,} records resolved, time / peak RSS",
                    f"{result['seconds']:.1f} s / {memory_text(result)}{stages_text(result['stages'])}",
                    "≤ 60 s for 1M on 2 cores",
                    "met" if result["seconds"] <= 60 * len(truth) / 1e6 else "NOT met",
                ),
                Figure(
                    f"C360 {title}: pairwise precision / recall / F1",
                    f"{precision:.4f} / {recall:.4f} / {f1:.4f}",
                    "F1 ≥ 0.98",
                    "met" if f1 >= 0.98 else "NOT met",
                ),
            ]
            if result.get("latencies"):
                figures.append(
                    Figure(
                        f"C360 Splink incremental: predict_between one new record and the base of {len(truth):,} "
                        f"(DuckDB, {len(result['latencies'])} records) p50 / p99",
                        f"{ms(pct(result['latencies'], 50))} / {ms(pct(result['latencies'], 99))}",
                    )
                )
        dynamodb_data = Path(tmp) / "dynamodb.pickle"
        with dynamodb_data.open("wb") as handle:
            pickle.dump((small_base, small_arrivals), handle, protocol=pickle.HIGHEST_PROTOCOL)
        latencies = in_child("dynamodb", dynamodb_data)["latencies"] if deployed else []
        figures += (
            []
            if not latencies
            else [
                Figure(
                    f"C360 incremental, deployed path: one record through citizen_events against a base of "
                    f"{len(small_base):,} in DynamoDB Local (queries, BatchGetItem, scoring, 1 transaction) p50/p99",
                    f"{ms(pct(latencies, 50))} / {ms(pct(latencies, 99))}",
                )
            ]
        )
        latencies = in_child("incremental", pickled)["latencies"]
        figures.append(
            Figure(
                f"C360 incremental: one new record against a base of {len(truth) - HELD_OUT:,} "
                "(in-memory blocking index + scorer) p50 / p99",
                f"{us(pct(latencies, 50))} / {us(pct(latencies, 99))}",
            )
        )
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.c360", description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--no-deployed", action="store_true", help="skip the DynamoDB Local path (minutes)")
    args = parser.parse_args(argv)
    os.environ.setdefault("PIC_LOG_LEVEL", "WARNING")
    for figure in run(args.records, deployed=not args.no_deployed):
        print(f"{figure.name:<110} {figure.value}  {figure.verdict}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
