"""The generated city's area records as Splink input rows in Parquet, prepared once and kept (``bench spark``).

``python -m bench.spark_city --people 3500000`` writes ``.pic-data/spark-bench/city-seed7/`` as parts of 100,000
people: ``people-0000001-0100000.parquet`` (people 1 to 100,000), ``people-0100001-0200000.parquet``... so the 1 M
run reads the first ten parts and the 3.5 M run all 35 of the same city, without normalising twice, and a
preparation stopped half-way keeps every part it finished.

Each row is ``matching.Features.as_row()`` (what both Splink backends link: normalised names, phonetic keys,
e-mail, phone, postal code, street, valid document digits) plus ``person_id``, the ground truth that only
the quality figures read. The generator is sequential (one seeded RNG: ``seed.city``); normalisation
(python-stdnum, phonenumbers, email-validator, name folding) is the cost and runs in 2 worker processes,
chunk by chunk, so memory stays flat whatever the size. City seed 7: the model was trained on seed 11.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import time
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

DATA = Path(".pic-data/spark-bench")
CITY_SEED = 7
PART = 100_000  # people per part
CITY_SIZE = 3_500_000  # the larger scale: every part is cut from this city
CHUNK = 10_000  # records per normalisation task


def city_dir(seed: int = CITY_SEED, data: Path = DATA) -> Path:
    return data / f"city-seed{seed}"


def part_name(first: int, last: int) -> str:
    return f"people-{first:07d}-{last:07d}.parquet"


def bounds_for(people: int) -> list[int]:
    """Part boundaries up to ``people``: every ``PART`` people below it, then ``people`` itself."""
    return [*range(PART, people, PART), people]


def parts_for(people: int, seed: int = CITY_SEED, data: Path = DATA) -> list[Path]:
    """The part files that hold exactly people 1..``people`` (they exist once ``prepare`` has run)."""
    paths, first = [], 1
    for last in bounds_for(people):
        paths.append(city_dir(seed, data) / part_name(first, last))
        first = last + 1
    return paths


def _normalise(chunk: Chunk) -> list[dict[str, Any]]:
    from functions.citizen.matching import features_from_dict

    return [{**features_from_dict(key, record).as_row(), "person_id": person} for key, person, record in chunk]


Chunk = list[tuple[str, str, dict[str, Any]]]


def _chunks(city_size: int, seed: int, skip_to: int, people: int) -> Iterator[tuple[int, Chunk]]:
    """(last person index in the chunk, records) up to person ``people``, after ``skip_to`` only (the RNG
    still runs through the ones before: a part is the same whether written alone or with the others)."""
    from seed.city import CityConfig, generate

    cuts = set(bounds_for(people))
    chunk: Chunk = []
    for index, (person, records) in enumerate(generate(CityConfig(people=city_size, seed=seed)), start=1):
        if index > skip_to:
            chunk += [(f"{r.source}#{r.record['local_id']}", person.person_id, dict(r.record)) for r in records]
        if len(chunk) >= CHUNK or (index in cuts and chunk):
            yield index, chunk
            chunk = []
        if index >= people:
            return


def prepare(people: int, seed: int = CITY_SEED, data: Path = DATA, workers: int = 2) -> list[Path]:
    """Write the missing parts for people 1..``people`` (an existing part is kept: idempotent)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    paths = parts_for(people, seed, data)
    missing = [p for p in paths if not p.exists()]
    if not missing:
        return paths
    paths[0].parent.mkdir(parents=True, exist_ok=True)
    skip_to = 0
    for path in paths:  # the leading parts already written are not normalised again
        if path in missing:
            break
        skip_to = int(path.stem.rsplit("-", 1)[1])
    # The generator's seeded sequence depends on the city's size: people 1..1M of a 3.5M city are not a
    # 1M city. Every part is cut from the city of the largest bound, so that parts add up.
    city_size = max(CITY_SIZE, people)
    started = time.perf_counter()
    writer: Any = None
    part = iter([p for p in paths if p in missing])
    target = next(part)
    last = int(target.stem.rsplit("-", 1)[1])
    rows_written = 0
    with mp.get_context("fork").Pool(workers) as pool:
        for index, rows in _bounded_map(pool, _chunks(city_size, seed, skip_to, people), 2 * workers):
            if writer is None:
                table = pa.Table.from_pylist(rows)
                writer = pq.ParquetWriter(target.with_suffix(".partial"), table.schema)
            else:
                table = pa.Table.from_pylist(rows, schema=writer.schema)
            writer.write_table(table)
            rows_written += len(rows)
            if index >= last:
                writer.close()
                target.with_suffix(".partial").rename(target)
                print(f"wrote {target} ({rows_written:,} records so far, {time.perf_counter() - started:.0f} s)")
                writer = None
                target = next(part, target)
                last = int(target.stem.rsplit("-", 1)[1])
                if index >= people:
                    break
    summary = city_dir(seed, data) / "timings.json"
    timings = json.loads(summary.read_text()) if summary.exists() else {}
    timings[str(people)] = {"seconds": round(time.perf_counter() - started, 1), "records": rows_written}
    summary.write_text(json.dumps(timings, indent=1) + "\n")
    return paths


def _bounded_map(pool: Any, chunks: Iterator[tuple[int, Chunk]], in_flight: int) -> Iterator[tuple[int, list[Any]]]:
    """``pool.imap`` in order, but with at most ``in_flight`` chunks generated ahead (imap would generate the
    whole city into its task queue at once)."""
    pending: deque[tuple[int, Any]] = deque()
    for index, chunk in chunks:
        pending.append((index, pool.apply_async(_normalise, (chunk,))))
        if len(pending) >= in_flight:
            done_index, result = pending.popleft()
            yield done_index, result.get()
    while pending:
        done_index, result = pending.popleft()
        yield done_index, result.get()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.spark_city", description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=CITY_SEED)
    args = parser.parse_args(argv)
    for path in prepare(args.people, args.seed):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
