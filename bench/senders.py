"""Event senders (docs/decisions/0011): what the ingress checks cost per event, and what the per-domain outbox
relays cost the store while idle.

``python -m bench.senders`` runs both on their own (an in-memory DynamoDB Local for the relays); ``make bench``
runs them with the rest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from statistics import median
from typing import Any

from bench.stats import Figure
from events.catalog import BROKER_AUDIENCE, DOMAINS

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "events" / "es.madrid.pic.citizen.record.upserted.v1.json"


def _median_us(runs: int, call: Any) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return median(samples) * 1e6


def ingress_checks(runs: int = 2000) -> list[Figure]:
    """Per event, in process: the sender token's verification, parsing within the limits, the EventPolicy
    decision (the local broker's, over the generated policies)."""
    from local.broker import parse_event
    from local.idp import DevIdp
    from local.manifests import load
    from local.senders import SenderPolicies, TokenVerifier

    with tempfile.TemporaryDirectory(prefix="pic-bench-idp-") as tmp:
        idp = DevIdp(Path(tmp), issuer="http://bench", audience="pic")
        verifier = TokenVerifier(idp.public_key(), "http://bench")
        subject = "system:serviceaccount:pic:legacy-padron"
        token = f"Bearer {idp.mint_for(subject, BROKER_AUDIENCE)}"
        policies = SenderPolicies.of("pic", load(ROOT / "infra/k8s/overlays/local").event_policies)
        body = FIXTURE.read_bytes()
        headers = {"content-type": "application/cloudevents+json"}
        event = parse_event(headers, body)
        verify = _median_us(runs, lambda: verifier.subject(token, BROKER_AUDIENCE))
        parse = _median_us(runs, lambda: parse_event(headers, body))
        decide = _median_us(runs, lambda: policies.authorize(subject, event))
    return [
        Figure("broker ingress: sender token verification (RS256) p50", f"{verify:.0f} µs"),
        Figure(f"broker ingress: parse a {len(body)}-byte structured event within the limits p50", f"{parse:.0f} µs"),
        Figure(f"broker ingress: EventPolicy decision ({len(policies.policies)} policies) p50", f"{decide:.0f} µs"),
    ]


def idle_relays() -> list[Figure]:
    """Store queries per second of every domain's relay together while nothing is pending, in a process of
    its own (the pynamodb models bind to one store per process) against an in-memory DynamoDB Local of its
    own: the single relay they replaced measured 15.4/s the same way."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIC_")}
    done = subprocess.run(
        [sys.executable, "-m", "bench.senders", "--idle-relays"],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return [Figure(**json.loads(line)) for line in done.stdout.splitlines() if line.startswith("{")]


def _idle_relays_here(seconds: float = 20.0, warm_up: float = 8.0) -> list[Figure]:
    from local import dynamodb
    from local.harness import free_port

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update({"PIC_DYNAMODB_ENDPOINT": endpoint, "AWS_ACCESS_KEY_ID": "local"})
    os.environ.update({"AWS_SECRET_ACCESS_KEY": "local"})
    with tempfile.TemporaryDirectory(prefix="pic-bench-relays-") as tmp:
        process = dynamodb.start(Path(tmp), port, in_memory=True)
        try:
            dynamodb.wait_ready(endpoint, os.environ.get("AWS_REGION", "eu-south-2"))
            from functions.core.outbox import OutboxRecord
            from functions.core.relay import IDLE_QUERIES_PER_SECOND, Relay
            from functions.core.tables import create_tables

            create_tables()
            polls: list[float] = []
            query = OutboxRecord.pending.query

            def counted(key: str, *args: Any, **kwargs: Any) -> Any:
                if "#" in key:  # a domain's shard (not the one-off adoption of the old shards)
                    polls.append(time.monotonic())
                return query(key, *args, **kwargs)

            OutboxRecord.pending.query = counted  # type: ignore[method-assign,assignment]
            stop = threading.Event()
            relays = [Relay("http://127.0.0.1:9/", domain, token=None, idle_sleep=0.02) for domain in DOMAINS]
            threads = [threading.Thread(target=r.run_forever, args=(stop,), daemon=True) for r in relays]
            for thread in threads:
                thread.start()
            time.sleep(warm_up)
            before, started = len(polls), time.monotonic()
            time.sleep(seconds)
            rate = (len(polls) - before) / (time.monotonic() - started)
            stop.set()
            for thread in threads:
                thread.join(timeout=10)
            OutboxRecord.pending.query = query  # type: ignore[method-assign]
        finally:
            process.terminate()
            process.wait(timeout=30)
    return [
        Figure(
            f"outbox relays while idle: store queries/s, {len(relays)} domains' relays together",
            f"{rate:.1f}/s (single relay before: 15.4/s)",
            f"≤ {IDLE_QUERIES_PER_SECOND:.0f}/s",
            "met" if rate <= IDLE_QUERIES_PER_SECOND else "NOT met",
        )
    ]


if __name__ == "__main__":
    found = _idle_relays_here() if "--idle-relays" in sys.argv else [*ingress_checks(), *idle_relays()]
    for figure in found:
        print(json.dumps(figure.__dict__, ensure_ascii=False))
