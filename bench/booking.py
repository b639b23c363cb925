"""The last place under concurrency (issue 18): ``python -m bench booking``.

A fresh local platform (``make run``'s: the gateway, the booking function, DynamoDB Local); for each of several
one-place slots (the sample data's table-tennis table at CDM Moratalaz: one place, free, no age band), fifty
different people book it at the same instant (a barrier releases fifty threads, each with its own HTTP session and
token). Counted: how many got the place (it must be exactly one), how many were told ``slot-full`` (409), anything
else (none expected: no 500, no lost race reaching a client); the latency of every request (p50, p95, max) and of
the winner's; then the slot's state is read back (no free place, one holder). Recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from bench.stats import machine, record_section
from local.harness import Platform, start_platform

TITLE = "## Bookings: the last place under 50 concurrent requests"
RESOURCE = "tenis-de-mesa-moratalaz"
CONCURRENT = 50
ROUNDS = 5


def _race(platform: Platform, slot_id: str) -> tuple[Counter[int], list[float], float]:
    """Fifty people book ``slot_id`` at once: the statuses, every request's latency (s), the winner's."""
    people = [f"c-bench-{uuid.uuid4().hex[:10]}" for _ in range(CONCURRENT)]
    prepared = [(platform.url(f"/v1/citizens/{cid}/bookings"), platform.as_(cid)) for cid in people]
    sessions = [requests.Session() for _ in people]
    barrier = threading.Barrier(CONCURRENT)
    results: list[tuple[int, float]] = [(0, 0.0)] * CONCURRENT

    def one(i: int) -> None:
        url, headers = prepared[i]
        headers = {**headers, "Idempotency-Key": str(uuid.uuid4())}
        barrier.wait()
        started = time.perf_counter()
        answer = sessions[i].post(url, json={"slot_id": slot_id}, headers=headers, timeout=60)
        results[i] = (answer.status_code, time.perf_counter() - started)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(CONCURRENT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = Counter(status for status, _ in results)
    winner = next((seconds for status, seconds in results if status == 201), float("nan"))
    return statuses, [seconds for _, seconds in results], winner


def _slots(platform: Platform) -> list[str]:
    listed = requests.get(platform.url(f"/v1/bookings/resources/{RESOURCE}/slots"), timeout=30).json()
    return [s["slot_id"] for s in listed["slots"] if s["free"]][:ROUNDS]


def _after(platform: Platform, slot_id: str) -> dict[str, Any]:
    listed = requests.get(platform.url(f"/v1/bookings/resources/{RESOURCE}/slots"), timeout=30).json()
    return next(s for s in listed["slots"] if s["slot_id"] == slot_id)  # type: ignore[no-any-return]


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(platform: Platform) -> dict[str, Any]:
    """The races on a running platform; asserts exactly one winner each (the benchmark is also the proof)."""
    rounds, latencies, winners = [], [], []
    _race(platform, _slots(platform)[0])  # warm: the function's first requests, the policy compiled
    for slot_id in _slots(platform)[1:]:
        statuses, seconds, winner = _race(platform, slot_id)
        after = _after(platform, slot_id)
        assert statuses[201] == 1 and statuses[409] == CONCURRENT - 1, (slot_id, dict(statuses))
        assert after["free"] == 0, after
        rounds.append(dict(statuses))
        latencies.extend(seconds)
        winners.append(winner)
    return {"rounds": rounds, "latencies": latencies, "winners": winners}


def main(argv: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="pic-bench-booking-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        platform = start_platform(data_dir)
        try:
            found = run(platform)
        finally:
            platform.stop()
    lat, rounds = found["latencies"], found["rounds"]
    ms = {name: 1000 * _quantile(lat, q) for name, q in (("p50", 0.5), ("p95", 0.95), ("max", 1.0))}
    won = [1000 * w for w in found["winners"]]
    print(f"{len(rounds)} races of {CONCURRENT}: winners per race {[r.get(201, 0) for r in rounds]}; "
          f"latency p50 {ms['p50']:.0f} ms, p95 {ms['p95']:.0f} ms, max {ms['max']:.0f} ms")  # fmt: skip
    rows = [
        (f"races for one place, {CONCURRENT} people at once each (a barrier releases them together)",
         f"{len(rounds)}"),
        ("people who got the place, per race (must be 1)", " · ".join(str(r.get(201, 0)) for r in rounds)),
        ("told slot-full (409), per race", " · ".join(str(r.get(409, 0)) for r in rounds)),
        ("any other answer (a 500, a lost race reaching the client)",
         str(sum(n for r in rounds for s, n in r.items() if s not in (201, 409)))),
        ("latency of every request, p50 / p95 / max",
         f"{ms['p50']:.0f} / {ms['p95']:.0f} / {ms['max']:.0f} ms"),
        ("latency of the winner's request, per race", " · ".join(f"{w:.0f} ms" for w in won)),
        ("the slot read back after each race", "0 free places, 1 holder"),
    ]  # fmt: skip
    table = "\n".join(f"| {name} | {figure} |" for name, figure in rows)
    when = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}"
    note = (
        "On a fresh local platform (`make run`'s gateway, the booking function under gunicorn, DynamoDB Local), over "
        "HTTP, each request with its own token and Idempotency-Key. The slot's item is written under its version: "
        "of the requests decided on the same state one commits, the others lose the race and are decided again by "
        "the kernel's `retry_on_conflict` (up to 6 attempts for a booking) on the winner's state, where the slot is "
        "full: the losers' latency is that queue. The machine's 2 cores run the clients, the platform and other "
        f"sessions' tests (load average {os.getloadavg()[0]:.1f} when recorded): compare rows of one run."
    )
    body = (f"Recorded {when} (`bench/booking.py`, `python -m bench booking`).\n\n{note}\n\n"
            f"| measure | figure |\n|---|---|\n{table}\n")  # fmt: skip
    record_section(TITLE, body)


if __name__ == "__main__":
    main(sys.argv[1:])
