"""Through the running platform: consent change end to end, and broker delivery vs plain HTTP."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from bench.stats import Figure, median, ms, pct
from local.harness import Platform

CHANGED = "es.madrid.pic.consent.changed.v1"
PING = "dev.pic.bench.ping.v1"


def dev_tools(platform: Platform) -> dict[str, str]:
    """The benchmarks' sender identity at the broker (the local overlay's ``local-dev-tools``)."""
    return platform.sender("/dev/bench", "local-dev-tools")


_local = threading.local()


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def _received(data_dir: Path, type_: str) -> list[tuple[float, dict[str, Any]]]:
    path = data_dir / "received.sqlite"
    if not path.exists():
        return []
    with sqlite3.connect(path, timeout=30) as db:
        rows = db.execute("SELECT at, event FROM received WHERE type = ?", (type_,)).fetchall()
    return [(at, json.loads(event)) for at, event in rows]


def _ingress_times(data_dir: Path, type_: str) -> dict[str, float]:
    with sqlite3.connect(data_dir / "broker.sqlite", timeout=30) as db:
        rows = db.execute("SELECT received_at, event FROM events WHERE type = ?", (type_,)).fetchall()
    return {json.loads(e)["data"]["proof_id"]: at for at, e in rows if "proof_id" in json.loads(e).get("data", {})}


def _wait_count(data_dir: Path, type_: str, count: int, timeout: float = 300) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(_received(data_dir, type_)) >= count:
            return time.time()
        time.sleep(0.05)
    raise RuntimeError(f"only {len(_received(data_dir, type_))} of {count} {type_} events arrived")


def consent_end_to_end(platform: Platform, changes: int = 600, concurrency: int = 8) -> list[Figure]:
    """HTTP PUT -> state + outbox (one transaction) -> relay -> broker -> event-display subscriber."""
    citizens = [f"bench-{uuid.uuid4().hex[:10]}" for _ in range(concurrency * 4)]
    headers = {c: {**platform.as_(c), "content-type": "application/json"} for c in citizens}
    before = len(_received(platform.data_dir, CHANGED))
    results: list[tuple[float, float, str]] = []

    def client(worker: int) -> None:
        """Each client owns its citizens, so every PUT is a real change (give, withdraw, give...)."""
        own = citizens[worker::concurrency]
        for i in range(changes // concurrency):
            citizen = own[i % len(own)]
            granted = (i // len(own)) % 2 == 0
            body = {"granted": granted, "channels": ["email"] if granted else [], "text_version": "2026-01"}
            t0 = time.time()
            response = _session().put(
                platform.url(f"/v1/citizens/{citizen}/consents/campaigns"),
                json=body,
                headers=headers[citizen],
                timeout=30,
            )
            t1 = time.time()
            response.raise_for_status()
            entry = next(e for e in response.json()["consents"] if e["purpose"] == "campaigns")
            results.append((t0, t1, entry["proof_id"]))

    start = time.time()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(client, range(concurrency)))
    http_done = time.time()
    changes = len(results)
    assert len({p for _, _, p in results}) == changes, "every PUT must be a real change with its own proof"
    end = _wait_count(platform.data_dir, CHANGED, before + changes)
    delivered = {e["data"]["proof_id"]: at for at, e in _received(platform.data_dir, CHANGED)}
    ingress = _ingress_times(platform.data_dir, CHANGED)
    e2e = [delivered[p] - t0 for t0, _, p in results]
    function = [t1 - t0 for t0, t1, _ in results]
    relay = [ingress[p] - t1 for _, t1, p in results]
    broker = [delivered[p] - ingress[p] for _, _, p in results]
    return [
        Figure(
            f"consent change end to end: throughput ({changes} changes, {concurrency} clients)",
            f"{changes / (end - start):.0f} changes/s (HTTP alone: {changes / (http_done - start):.0f}/s)",
        ),
        Figure("consent change end to end: latency p50 / p99", f"{ms(pct(e2e, 50))} / {ms(pct(e2e, 99))}"),
        Figure(
            "  of which function + store (HTTP round trip) p50 / p99",
            f"{ms(pct(function, 50))} / {ms(pct(function, 99))}",
        ),
        Figure(
            "  of which outbox relay (commit -> broker ingress) p50 / p99",
            f"{ms(pct(relay, 50))} / {ms(pct(relay, 99))}",
        ),
        Figure("  of which broker (ingress -> subscriber) p50 / p99", f"{ms(pct(broker, 50))} / {ms(pct(broker, 99))}"),
    ]


def store_commit(samples: int = 300) -> list[Figure]:
    """One consent change's unit of work (state + proof + outbox + idempotency) against DynamoDB Local:
    one TransactWriteItems, then the same unit emulated as on ScyllaDB Alternator (ADR 0005)."""
    import os

    from functions.core.settings import get_settings

    native = _store_commit_timings(samples)
    os.environ["PIC_STORE_TRANSACTIONS"] = "emulated"
    get_settings.cache_clear()
    try:
        emulated = _store_commit_timings(samples)
    finally:
        os.environ.pop("PIC_STORE_TRANSACTIONS")
        get_settings.cache_clear()
    return [
        Figure(
            "  store alone: TransactWriteItems of one change (4 items) p50 / p99",
            f"{ms(pct(native, 50))} / {ms(pct(native, 99))}",
        ),
        Figure(
            "  store alone: the same unit emulated (locks + record, no transactions) p50 / p99",
            f"{ms(pct(emulated, 50))} / {ms(pct(emulated, 99))} (×{pct(emulated, 50) / pct(native, 50):.1f} at p50)",
        ),
    ]


def _store_commit_timings(samples: int) -> list[float]:
    from events.consent import Actor
    from functions.consent import service
    from functions.consent.storage import DynamoConsentStore
    from functions.core import idempotency
    from functions.core.outbox import stage_event
    from functions.core.store import UnitOfWork
    from functions.core.terms import load_terms

    store, terms = DynamoConsentStore(), load_terms(Path("policies/consent/data.json"))
    timings = []
    for i in range(samples):
        citizen = f"bench-store-{uuid.uuid4().hex[:8]}"
        cmd = service.ChangeConsent(
            citizen, "campaigns", True, ("email",), "2026-01", "es", Actor(kind="citizen", id=citizen), "app"
        )
        outcome = service.change_consent(cmd, service.ConsentState(citizen), terms, datetime.now(UTC))
        assert outcome.proof and outcome.event
        uow = UnitOfWork()
        store.stage_consent_change(uow, outcome.state, outcome.proof, datetime.now(UTC))
        stage_event(uow, outcome.event, subject=citizen, traceparent=None)
        idempotency.remember(uow, f"bench#{i}#{citizen}", "x")
        t0 = time.perf_counter()
        uow.commit()
        timings.append(time.perf_counter() - t0)
    return timings


def dynamodb_ceiling(endpoint: str, transactions: int = 400, concurrency: int = 8) -> list[Figure]:
    """What DynamoDB Local itself sustains, for scale: the same clients, raw 3-item transactions."""
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="eu-south-2",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(max_pool_connections=concurrency * 2),
    )
    table = f"bench-ceiling-{uuid.uuid4().hex[:6]}"
    client.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    )

    def transact(_: int) -> None:
        key = uuid.uuid4().hex
        client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table,
                        "Item": {"pk": {"S": f"{key}{j}"}, "v": {"S": "x" * 300}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
                for j in range(3)
            ]
        )

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(transact, range(transactions)))
    rate = transactions / (time.perf_counter() - start)
    client.delete_table(TableName=table)
    return [Figure(f"  for scale: DynamoDB Local alone, 3-item transactions ({concurrency} clients)", f"{rate:.0f}/s")]


def _ping(i: int, run: str, extra: dict[str, str] | None = None) -> tuple[dict[str, str], bytes]:
    headers = {
        "ce-specversion": "1.0",
        "ce-id": f"{run}-{i}",
        "ce-source": "/dev/bench",
        "ce-type": PING,
        "content-type": "application/json",
        **(extra or {}),
    }
    return headers, json.dumps({"n": i}).encode()


def broker_vs_http(platform: Platform, events: int = 2000, concurrency: int = 8) -> list[Figure]:
    raw_url = platform.url("/_ksvc/pic-event-display/")
    run = uuid.uuid4().hex[:6]
    # each path with its own credentials: the dispatcher's delivery token for the function itself, a developer
    # tool's sender token (local overlay: dev.pic.* from /dev/) at the broker ingress
    auth = {raw_url: platform.delivery_headers("pic-event-display"), platform.url("/events"): dev_tools(platform)}

    def post(url: str, i: int, tag: str) -> None:
        headers, body = _ping(i, f"{run}{tag}", auth[url])
        response = _session().post(url, data=body, headers=headers, timeout=30)
        assert response.status_code in (200, 202), response.status_code

    before = len(_received(platform.data_dir, PING))
    start = time.time()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda i: post(raw_url, i, "raw"), range(events)))
    raw_rate = events / (time.time() - start)

    start = time.time()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda i: post(platform.url("/events"), i, "brk"), range(events)))
    ingress_rate = events / (time.time() - start)
    end = _wait_count(platform.data_dir, PING, before + 2 * events)
    broker_rate = events / (end - start)
    ratio = broker_rate / raw_rate
    return [
        Figure(
            f"no-op function, plain HTTP POSTs ({events} events, {concurrency} clients)", f"{raw_rate:.0f} events/s"
        ),
        Figure(
            "no-op function, through the broker (ingress -> Trigger -> function)",
            f"{broker_rate:.0f} events/s delivered (ingress accepts {ingress_rate:.0f}/s)",
            "≥ 50% of plain HTTP",
            f"{ratio:.0%}: " + ("met" if ratio >= 0.5 else "NOT met"),
        ),
    ]


def retry_cost(platform: Platform, events: int = 30) -> list[Figure]:
    """Delivery latency of an event the subscriber fails once (503) vs one it takes at once."""
    run = uuid.uuid4().hex[:6]

    def latency(i: int, fail: bool) -> float:
        extra = {"ce-picfailonce": "true"} if fail else {}
        headers, body = _ping(i, f"{run}{'f' if fail else 'o'}", {**extra, **dev_tools(platform)})
        t0 = time.time()
        _session().post(platform.url("/events"), data=body, headers=headers, timeout=30).raise_for_status()
        event_id = headers["ce-id"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for at, event in _received(platform.data_dir, PING):
                if event["id"] == event_id:
                    return at - t0
            time.sleep(0.005)
        raise RuntimeError(f"{event_id} never arrived")

    ok = [latency(i, False) for i in range(events)]
    failed = [latency(i, True) for i in range(events)]
    return [
        Figure("broker delivery latency, first try (median)", ms(median(ok))),
        Figure(
            "broker delivery latency with one retry (median; Trigger backoffDelay PT0.1S)",
            ms(median(failed)),
            "",
            f"a retry costs {ms(median(failed) - median(ok))}",
        ),
    ]
