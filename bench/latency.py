"""Latency at light load (issue 12 §5): the figure a citizen feels, not a capacity plan.

At a steady 5 operations a second (open loop: each operation starts on its schedule, whatever the previous
one took), two paths through the running platform:

- **consent change**: ``PUT /v1/citizens/{id}/consents/campaigns`` → state + outbox row (one transaction) →
  the domain's relay (woken by the commit, ADR 0017) → broker → the event-display subscriber receives
  ``consent.changed``. Target on the local platform: p99 ≤ 100 ms.
- **notification**: ``POST /v1/notifications`` (an e-mail recipient) → relay → broker → notification events →
  relay → broker → delivery → the local SMTP capture. Target: p99 ≤ 250 ms.

Alone: ``PYTHONPATH=. python -m bench latency``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from bench.notifications import SYSTEM, _sink_times, _template
from bench.pipeline import CHANGED, _received, _session
from bench.stats import Figure, ms, pct
from local.harness import Platform, start_platform

RATE = 5.0  # operations per second
WARMUP = 10  # operations first, not counted: a fresh platform's first requests load the functions and keys
CONSENT_P99 = 0.100
NOTIFY_P99 = 0.250


def _steady(operation: Callable[[int], None], count: int, rate: float) -> None:
    """Start ``operation(i)`` at ``start + i / rate`` for i < count, on threads so a slow one never delays the
    next (an open loop, as citizens arrive)."""
    start = time.monotonic() + 0.2
    with ThreadPoolExecutor(8) as pool:
        for i in range(-WARMUP, count):
            time.sleep(max(0.0, start + (i + WARMUP) / rate - time.monotonic()))
            pool.submit(operation, i)


def _wait(found: Callable[[], int], wanted: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while found() < wanted and time.monotonic() < deadline:
        time.sleep(0.1)


def _staged_and_ingress(data_dir: Path) -> dict[str, tuple[float, float]]:
    """Per ``consent.changed`` proof: when the function staged the event (its ``time``, just before the commit)
    and when the broker's ingress accepted it — the relay's share, whatever the HTTP answer took to return."""
    with sqlite3.connect(data_dir / "broker.sqlite", timeout=30) as db:
        rows = db.execute("SELECT received_at, event FROM events WHERE type = ?", (CHANGED,)).fetchall()
    found = {}
    for received_at, raw in rows:
        event = json.loads(raw)
        staged = datetime.fromisoformat(event["time"].replace("Z", "+00:00")).timestamp()
        found[event["data"]["proof_id"]] = (staged, received_at)
    return found


def consent(platform: Platform, count: int = 150, rate: float = RATE) -> list[Figure]:
    """PUT → subscriber, ``count`` changes at ``rate``/s, each by its own citizen (every PUT a real change)."""
    citizens = [f"light-{uuid.uuid4().hex[:10]}" for _ in range(count + WARMUP)]
    headers = {c: {**platform.as_(c), "content-type": "application/json"} for c in citizens}
    sent: dict[str, tuple[float, float]] = {}  # proof -> (request sent, answer received)
    lock = threading.Lock()
    body = {"granted": True, "channels": ["email"], "text_version": "2026-01"}

    def put(i: int) -> None:
        citizen = citizens[i + WARMUP]
        t0 = time.time()
        response = _session().put(
            platform.url(f"/v1/citizens/{citizen}/consents/campaigns"), json=body, headers=headers[citizen], timeout=30
        )
        response.raise_for_status()
        t1 = time.time()
        proof = next(e["proof_id"] for e in response.json()["consents"] if e["purpose"] == "campaigns")
        if i < 0:
            return
        with lock:
            sent[proof] = (t0, t1)

    _steady(put, count, rate)

    def delivered() -> dict[str, float]:
        return {
            e["data"]["proof_id"]: at
            for at, e in _received(platform.data_dir, CHANGED)
            if e["data"]["proof_id"] in sent
        }

    _wait(lambda: len(delivered()), len(sent))
    arrived = delivered()
    ingress = _staged_and_ingress(platform.data_dir)
    done = [p for p in sent if p in arrived and p in ingress]
    e2e = [arrived[p] - sent[p][0] for p in done]
    function = [sent[p][1] - sent[p][0] for p in done]
    relay = [ingress[p][1] - ingress[p][0] for p in done]
    broker = [arrived[p] - ingress[p][1] for p in done]
    p99 = pct(e2e, 99)
    return [
        Figure(
            f"light load: consent change PUT → subscriber, {rate:g}/s × {count}: p50 / p99",
            f"{ms(pct(e2e, 50))} / {ms(p99)} ({len(e2e)} of {count} arrived)",
            "p99 ≤ 100 ms",
            "met" if p99 <= CONSENT_P99 and len(e2e) == count else "NOT met",
        ),
        Figure("  of which the PUT (function + store) p50 / p99", f"{ms(pct(function, 50))} / {ms(pct(function, 99))}"),
        Figure(
            "  of which the relay (event staged → broker ingress) p50 / p99",
            f"{ms(pct(relay, 50))} / {ms(pct(relay, 99))}",
        ),
        Figure(
            "  of which the broker (ingress → subscriber) p50 / p99", f"{ms(pct(broker, 50))} / {ms(pct(broker, 99))}"
        ),
    ]


def notification(platform: Platform, count: int = 150, rate: float = RATE) -> list[Figure]:
    """POST → message in the SMTP capture, ``count`` e-mails at ``rate``/s."""
    headers = {**platform.as_(SYSTEM["sub"], role="system"), "content-type": "application/json"}
    template = _template(platform, headers)
    sent: dict[str, float] = {}
    lock = threading.Lock()

    def post(i: int) -> None:
        body = {
            "template": template,
            "recipient": {"email": f"light{i + WARMUP}.{uuid.uuid4().hex[:6]}@example.org"},
            "personalisation": {"name": "Ana", "ref": str(i)},
        }
        t0 = time.time()
        response = _session().post(platform.url("/v1/notifications"), json=body, headers=headers, timeout=30)
        response.raise_for_status()
        if i < 0:
            return
        with lock:
            sent[response.json()["id"]] = t0

    _steady(post, count, rate)

    def arrived() -> dict[str, float]:
        return {k: v for k, v in _sink_times(platform.data_dir).items() if k in sent}

    _wait(lambda: len(arrived()), len(sent))
    found = arrived()
    e2e = [found[k] - t0 for k, t0 in sent.items() if k in found]
    p99 = pct(e2e, 99)
    return [
        Figure(
            f"light load: notification POST → message in the sink, {rate:g}/s × {count}: p50 / p99",
            f"{ms(pct(e2e, 50))} / {ms(p99)} ({len(e2e)} of {count} arrived)",
            "p99 ≤ 250 ms",
            "met" if p99 <= NOTIFY_P99 and len(e2e) == count else "NOT met",
        )
    ]


def run(platform: Platform) -> list[Figure]:
    return consent(platform) + notification(platform)


def polling_only(count: int = 150) -> list[Figure]:
    """The same figures on a platform of its own whose relays and broker only poll (``PIC_RELAY_WAKE`` and
    ``PIC_BROKER_WAKE`` empty): ADR 0017's "before", measured next to the "after" on the same machine."""
    off = {"PIC_RELAY_WAKE": "", "PIC_BROKER_WAKE": ""}
    saved = {k: os.environ.get(k) for k in off}
    os.environ.update(off)
    try:
        with tempfile.TemporaryDirectory(prefix="pic-bench-polling-") as tmp:
            data_dir = Path(tmp) / "data"
            data_dir.mkdir()
            platform = start_platform(data_dir)
            try:
                found = consent(platform, count) + notification(platform, count)
            finally:
                platform.stop()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    for figure in found:
        figure.name = figure.name.replace("light load:", "light load, polling only (before ADR 0017):")
        figure.verdict = ""
    return found
