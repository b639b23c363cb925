"""C360 resolution against the synthetic city's ground truth: the deterministic rule set in process.

Measures the pure decision (``functions.citizen.service.decide`` with an in-memory index standing in for
the store's link and document items), so the figures say how good and how fast the matching logic is,
apart from DynamoDB. Pairwise precision, recall and F1 (pairs of records placed in the same golden record).
"""

from __future__ import annotations

import itertools
import time
import tracemalloc
from collections import Counter
from typing import Any

from bench.stats import Figure, pct, us
from events.citizen import CitizenRecordUpserted
from functions.citizen.service import decide, document_of
from local.synthetic_city import CityConfig, generate


def pairs(sizes: Any) -> int:
    return sum(n * (n - 1) // 2 for n in sizes)


def run(people: int = 100_000) -> list[Figure]:
    ids = (f"cit-{i}" for i in itertools.count())
    links: dict[tuple[str, str], str] = {}
    documents: dict[tuple[str, str], str] = {}
    truth: dict[tuple[str, str], str] = {}
    latencies: list[float] = []
    tracemalloc.start()
    started = time.perf_counter()
    for person, records in generate(CityConfig(people=people, seed=7)):
        for system_record in records:
            record = CitizenRecordUpserted.model_validate(system_record.record)
            key = (system_record.source, record.local_id)
            t0 = time.perf_counter()
            document = document_of(record)
            doc_key = (document.type, document.number) if document and document.valid else None
            citizen, *_ = decide(
                system_record.source,
                record,
                document,
                None,
                documents.get(doc_key) if doc_key else None,
                lambda: next(ids),
            )
            if doc_key and doc_key not in documents:
                documents[doc_key] = citizen
            links[key] = citizen
            latencies.append(time.perf_counter() - t0)
            truth[key] = person.person_id
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    predicted = pairs(Counter(links.values()).values())
    actual = pairs(Counter(truth.values()).values())
    true_positive = pairs(Counter((links[k], truth[k]) for k in links).values())
    precision = true_positive / predicted if predicted else 1.0
    recall = true_positive / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return [
        Figure(
            f"C360 deterministic rules: {len(links):,} records of {people:,} people (generate + resolve)",
            f"{elapsed:.1f} s, peak {peak / 2**20:.0f} MiB (traced)",
        ),
        Figure(
            "C360 deterministic rules: one decision against the whole index p50 / p99",
            f"{us(pct(latencies, 50))} / {us(pct(latencies, 99))}",
        ),
        Figure(
            "C360 deterministic rules: pairwise precision / recall / F1",
            f"{precision:.4f} / {recall:.4f} / {f1:.4f}",
            "F1 ≥ 0.98 (with probabilistic matching)",
            "met" if f1 >= 0.98 else "NOT met: documents alone miss records without a valid document",
        ),
    ]


if __name__ == "__main__":
    for figure in run(20_000):
        print(figure.name, figure.value, figure.verdict)
