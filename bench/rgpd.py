"""Data-subject requests through the running platform: from the 202 to "completed" (fan-out by outbox, broker
and Trigger to the consent domain, its answer back to the rgpd event function), the export zip, and the
retention policy. Standalone: ``PYTHONPATH=. python -m bench.rgpd``."""

from __future__ import annotations

import io
import sys
import tempfile
import time
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from bench.stats import Figure, ms, pct, us
from events.catalog import CATALOG
from local.harness import Platform, start_platform

GIVE = {"granted": True, "text_version": "2026-01", "channels": ["email"]}


def _citizen(platform: Platform) -> tuple[str, dict[str, str]]:
    """A citizen with a consent, preferences and a subscription (not timed)."""
    citizen_id = f"bench-rgpd-{uuid.uuid4().hex[:10]}"
    headers = {**platform.as_(citizen_id), "content-type": "application/json"}
    base = platform.url(f"/v1/citizens/{citizen_id}")
    session = requests.Session()
    assert session.put(f"{base}/consents/campaigns", json=GIVE, headers=headers, timeout=30).ok
    assert session.put(f"{base}/preferences", json={"language": "en"}, headers=headers, timeout=30).ok
    assert session.post(f"{base}/subscriptions", json={"topic": "traffic", "zone": "01"}, headers=headers).ok
    return citizen_id, headers


def _round_trip(platform: Platform, right: str) -> tuple[float, float]:
    """(POST latency, server-side opened_at -> completed_at) for one request of ``right``."""
    citizen_id, headers = _citizen(platform)
    session = requests.Session()
    started = time.perf_counter()
    response = session.post(
        platform.url(f"/v1/citizens/{citizen_id}/rgpd-requests"), json={"right": right}, headers=headers, timeout=30
    )
    posted = time.perf_counter() - started
    response.raise_for_status()
    url = platform.url(response.headers["Location"])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        view: dict[str, Any] = session.get(url, headers=headers, timeout=30).json()
        if view["status"] == "completed":
            opened = datetime.fromisoformat(view["opened_at"])
            completed = datetime.fromisoformat(view["completed_at"])
            return posted, (completed - opened).total_seconds()
        time.sleep(0.02)
    raise RuntimeError(f"request {url} did not complete in 120 s")


OPENED = "es.madrid.pic.rgpd.request.opened.v1"


def requests_end_to_end(platform: Platform, count: int = 40, concurrency: int = 4) -> list[Figure]:
    figures = []
    for right in ("access", "erasure"):
        with ThreadPoolExecutor(concurrency) as pool:
            samples = list(pool.map(lambda _, r=right: _round_trip(platform, r), range(count)))
        posts = [p for p, _ in samples]
        fanouts = [f for _, f in samples]
        figures += [
            Figure(
                f"rgpd {right}: POST → 202, p50 / p99 ({count} requests, {concurrency} at once)",
                f"{ms(pct(posts, 50))} / {ms(pct(posts, 99))}",
            ),
            Figure(
                f"rgpd {right}: opened → completed ({len(CATALOG[OPENED].consumers)} domains answered), p50 / p99",
                f"{ms(pct(fanouts, 50))} / {ms(pct(fanouts, 99))}",
                "≪ one month (RGPD art. 12.3)",
                "met" if pct(fanouts, 99) < 60 else "NOT met",
            ),
        ]
    return figures


def export_zip(proofs: int = 5_000) -> list[Figure]:
    """The zip of a large consent export (pure: JSON document + CSV per table), and its stored pieces."""
    from functions.rgpd import export

    data = {
        "mode": "b",
        "proofs": [
            {
                "proof_id": str(uuid.uuid4()),
                "purpose": "campaigns",
                "channels": ["email", "sms"],
                "granted": i % 2 == 0,
                "actor": {"kind": "citizen", "id": "c-1"},
                "recorded_at": "2026-03-02T09:14:06+00:00",
                "text_sha256": "03545f66ea67b0878cd36cd51bc1a59231e7f2846c715f25d938259b91ca6720",
            }
            for i in range(proofs)
        ],
        "preferences": {"language": "es", "channels": ["email"]},
        "subscriptions": [{"id": f"traffic.{i:03d}", "topic": "traffic", "zone": f"{i:03d}"} for i in range(100)],
    }
    text = export.canonical_json(data)
    started = time.perf_counter()
    body = export.build_zip({"domains": {"consent": data}}, {"consent": data}, datetime.now(UTC))
    took = time.perf_counter() - started
    assert len(zipfile.ZipFile(io.BytesIO(body)).namelist()) == 5
    pieces = export.chunks(text)
    return [
        Figure(
            f"rgpd export zip of {proofs} consent proofs ({len(text) / 1e6:.1f} MB of JSON)",
            f"{ms(took)}, {len(body) / 1e3:.0f} kB zipped",
        ),
        Figure(
            "rgpd export stored in pieces under the 400 KB item limit",
            f"{len(pieces)} pieces, largest {max(len(p.encode()) for p in pieces) / 1e3:.0f} kB",
        ),
    ]


def retention_decisions(samples: int = 2_000) -> list[Figure]:
    """``policies/rgpd/retention`` per record, uncached (every proof of an erasure has its own date)."""
    from functions.core.policy import EmbeddedPolicy, PolicyBundle
    from functions.core.settings import get_settings

    policy = EmbeddedPolicy(PolicyBundle.load(get_settings().policies_dir))
    now = datetime.now(UTC)
    inputs = [
        {
            "domain": "consent",
            "category": "consent-proofs",
            "record": {"recorded_at": (now - timedelta(days=i)).isoformat()},
            "now": now.isoformat(),
        }
        for i in range(samples)
    ]
    times = []
    for question in inputs:
        started = time.perf_counter()
        policy.evaluate_uncached("rgpd.retention", question)
        times.append(time.perf_counter() - started)
    return [
        Figure(
            "rgpd retention decision (a consent proof), uncached, p50 / p99",
            f"{us(pct(times, 50))} / {us(pct(times, 99))}",
        )
    ]


def run(platform: Platform) -> list[Figure]:
    return [*requests_end_to_end(platform), *export_zip(), *retention_decisions()]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="pic-bench-rgpd-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        platform = start_platform(data_dir)
        try:
            for figure in run(platform):
                print(f"{figure.name:<90} {figure.value}  {figure.verdict}", flush=True)
        finally:
            platform.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
