"""What a read of personal data costs at light load, broken down (issue 11: reads that cost writes).

Every read of a citizen's data records an access record before the data leaves (one PutItem of an outbox
row). This benchmark reads a citizen's consents and global position at a steady light load (5 reads/s, one
client: the figure a citizen feels, not a capacity plan) against the real local platform, and breaks each
read down with the kernel's ``Server-Timing`` header: authentication, authorisation, the handler (its
store reads), the access record, and the DynamoDB calls per read by operation — the figure that transfers to
production (DynamoDB bills per call; DynamoDB Local's latency does not transfer).

``python -m bench.reads [--reads 200] [--rate 5]`` starts its own platform; ``make bench`` runs it too.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import requests

from bench.position import build_person, drain_outbox
from bench.stats import Figure, ms, pct
from local.harness import Platform, free_port, start_platform

GOAL_P99 = 0.050
PHASE = re.compile(r'(?P<name>[a-z]+)(?:;desc="(?P<desc>[^"]*)")?;dur=(?P<dur>[0-9.]+)')


def parse_server_timing(value: str) -> tuple[dict[str, float], str]:
    """Phases in milliseconds, and the store's description (``2 calls: PutItem=1 Query=1``)."""
    phases, store = {}, ""
    for match in PHASE.finditer(value):
        phases[match["name"]] = float(match["dur"])
        if match["name"] == "store":
            store = match["desc"] or ""
    return phases, store


def steady_reads(
    platform: Platform, path: str, headers: dict[str, str], reads: int, rate: float
) -> tuple[list[float], list[dict[str, float]], Counter[str]]:
    """``reads`` GETs of ``path``, one every ``1/rate`` s: client latencies, server phases, store call mixes."""
    session = requests.Session()
    url = platform.url(path)
    for _ in range(10):  # warm the connection, the JWKS cache and each worker's policy engine
        session.get(url, headers=headers, timeout=15).raise_for_status()
    latencies: list[float] = []
    phases: list[dict[str, float]] = []
    mixes: Counter[str] = Counter()
    interval = 1.0 / rate
    next_at = time.perf_counter()
    for _ in range(reads):
        next_at += interval
        started = time.perf_counter()
        answer = session.get(url, headers=headers, timeout=15)
        latencies.append(time.perf_counter() - started)
        answer.raise_for_status()
        timing, store = parse_server_timing(answer.headers.get("Server-Timing", ""))
        phases.append(timing)
        mixes[store] += 1
        time.sleep(max(0.0, next_at - time.perf_counter()))
    return latencies, phases, mixes


def figures_for(name: str, latencies: list[float], phases: list[dict[str, float]], mixes: Counter[str]) -> list[Figure]:
    p99 = pct(latencies, 99)
    verdict = "met" if p99 <= GOAL_P99 else "NOT met"
    breakdown = ", ".join(
        f"{phase} {statistics.median(p.get(phase, 0.0) for p in phases):.1f}"
        for phase in ("authn", "authz", "handler", "access", "store")
    )
    store, _ = mixes.most_common(1)[0]
    return [
        Figure(
            f"{name}, steady light load: p50 / p99 of {len(latencies)}",
            f"{ms(pct(latencies, 50))} / {ms(p99)}",
            "p99 ≤ 50 ms",
            verdict,
        ),
        Figure(f"  of which, server side (median ms): {breakdown}", "", "", ""),
        Figure(f"  store calls per read ({name})", store, "", ""),
    ]


def run(platform: Platform, reads: int = 200, rate: float = 5.0) -> list[Figure]:
    citizen_id, _ = build_person(platform)
    drain_outbox()
    me = platform.as_(citizen_id)
    agent = {
        **platform.as_("bench-reader", role="agent", level=2, area="hacienda"),
        "Access-Purpose": "EXP-BENCH-1",
    }
    out: list[Figure] = []
    for name, path, headers in (
        ("GET consents (citizen)", f"/v1/citizens/{citizen_id}/consents", me),
        ("GET position (citizen, 21 items)", f"/v1/citizens/{citizen_id}/position", me),
        ("GET position (agent L2, purpose)", f"/v1/citizens/{citizen_id}/position", agent),
    ):
        out += figures_for(name, *steady_reads(platform, path, headers, reads, rate))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reads", description=__doc__)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--rate", type=float, default=5.0, help="reads per second (light load)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pic-bench-reads-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        dynamodb_port = free_port()
        platform = start_platform(data_dir, dynamodb_port=dynamodb_port)
        os.environ.update(  # drain_outbox reads the outbox from this process
            {
                "PIC_DYNAMODB_ENDPOINT": f"http://127.0.0.1:{dynamodb_port}",
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "PIC_LOG_LEVEL": "WARNING",
            }
        )
        try:
            for figure in run(platform, args.reads, args.rate):
                print(f"{figure.name}: {figure.value} {figure.verdict}".rstrip())
        finally:
            platform.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
