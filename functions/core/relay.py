"""The outbox relay: publishes pending outbox rows to ``K_SINK`` (binary mode) and marks them sent.

Deployed as a small long-running service (a SinkBinding gives it ``K_SINK``); in AWS, DynamoDB Streams
can drive the same ``publish`` instead of polling. At-least-once: a row is marked sent only after the
broker accepted it, so a crash in between re-publishes it, and consumers dedupe on ``source`` + ``id``.

Run: ``python -m functions.core.relay`` (serves ``/healthz`` on ``$PORT``, default 8080).
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from pynamodb.expressions.update import Action
from requests.adapters import HTTPAdapter

from functions.core.logging import get_logger
from functions.core.outbox import OutboxRecord
from functions.core.settings import get_settings

BATCH = 100
PARK_AFTER = 3
RETRYABLE_4XX = frozenset({404, 408, 409, 429})  # the sink may take it later (Knative's retry set)


def _headers(record: OutboxRecord) -> dict[str, str]:
    """The binary-mode CloudEvent headers of a row (``traceparent`` also as the W3C header)."""
    headers = {f"ce-{k}": v for k, v in record.attributes().items() if k != "datacontenttype"}
    headers["content-type"] = "application/json"
    if record.traceparent:
        headers["traceparent"] = record.traceparent
    return headers


class Relay:
    """Polls the sparse ``pending`` index shard by shard and publishes what it finds, in parallel."""

    def __init__(self, sink: str, shards: int, workers: int = 8, idle_sleep: float = 0.05) -> None:
        self.sink = sink
        self.shards = shards
        self.idle_sleep = idle_sleep
        self.published = 0
        self.failures = 0
        self.last_poll = 0.0
        self._session = requests.Session()
        self._session.mount("http://", HTTPAdapter(pool_connections=workers, pool_maxsize=workers))
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="relay")
        # Marking rows sent runs behind publishing (one writer, in order); rows published but not yet
        # marked are skipped by later passes instead of being published twice.
        self._marker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relay-mark")
        self._unmarked: set[str] = set()
        self._lock = threading.Lock()
        self._next_recovery = 0.0

    def publish(self, record: OutboxRecord) -> bool:
        """POST one row to the sink in binary mode. True when the sink accepted it (2xx).

        A failure never stops the relay: it is counted on the row, and a row the sink can never take (it
        answered 4xx, or the row cannot even be sent as HTTP) is parked after ``PARK_AFTER`` attempts so
        that it does not hold up the rows behind it. Unreachable or failing sinks (5xx) are retried forever.
        """
        try:
            response = self._session.post(self.sink, data=record.data.encode(), headers=_headers(record), timeout=10)
        except ValueError as exc:  # e.g. requests' InvalidHeader: a control character in an attribute
            return self._failed(record, f"cannot be sent as HTTP: {exc}", permanent=True)
        except requests.RequestException as exc:
            return self._failed(record, f"sink unreachable: {exc}", permanent=False)
        if 200 <= response.status_code < 300:
            return True
        permanent = 400 <= response.status_code < 500 and response.status_code not in RETRYABLE_4XX
        return self._failed(record, f"sink answered {response.status_code}: {response.text[:200]}", permanent=permanent)

    def _failed(self, record: OutboxRecord, error: str, *, permanent: bool) -> bool:
        attempts = (record.attempts or 0) + 1
        actions: list[Action] = [OutboxRecord.attempts.set(attempts), OutboxRecord.last_error.set(error)]
        park = permanent and attempts >= PARK_AFTER
        if park:  # out of the sparse pending index; kept (with the reason) for an operator until its TTL
            actions += [OutboxRecord.pending_shard.remove(), OutboxRecord.parked_at.set(datetime.now(UTC))]
        try:
            record.update(actions=actions)
        except Exception:  # the row stays pending and is retried: at-least-once
            get_logger().exception("recording an outbox failure failed", extra={"event_id": record.id})
        log = get_logger().error if park else get_logger().warning
        log("outbox row parked" if park else "outbox publish failed", extra={"event_id": record.id, "error": error})
        return False

    def _mark_later(self, records: list[OutboxRecord]) -> None:
        with self._lock:
            self._unmarked.update(r.id for r in records)

        def mark() -> None:
            try:
                self.mark_sent(records)
            except Exception:  # the rows stay pending and are published again: at-least-once
                get_logger().exception("marking outbox rows sent failed")
            finally:
                with self._lock:
                    self._unmarked.difference_update(r.id for r in records)

        self._marker.submit(mark)

    def drain(self) -> None:
        """Wait for the pending marks (on shutdown)."""
        self._marker.shutdown(wait=True)

    @staticmethod
    def mark_sent(records: list[OutboxRecord]) -> None:
        """Mark published rows sent, 25 to a BatchWriteItem: the row leaves the sparse ``pending`` index.

        Rewriting whole rows is safe: only the relay changes an outbox row after it is written, and one
        relay runs at a time (the Deployment's ``Recreate`` strategy).
        """
        now = datetime.now(UTC)
        with OutboxRecord.batch_write() as batch:
            for record in records:
                record.pending_shard = None
                record.sent_at = now
                batch.save(record)

    def run_once(self) -> int:
        """One pass over every shard; returns how many rows were published."""
        self.last_poll = time.monotonic()
        published = 0
        for shard in range(self.shards):
            with self._lock:
                skip = set(self._unmarked)
            rows = [r for r in OutboxRecord.pending.query(str(shard), limit=BATCH) if r.id not in skip]
            if rows:
                results = list(self._pool.map(self.publish, rows))
                self._mark_later([row for row, ok in zip(rows, results, strict=True) if ok])
                published += sum(results)
                self.failures += len(results) - sum(results)
        self.published += published
        return published

    def recover_units_if_due(self) -> dict[str, int]:
        """Where units of work are emulated (ADR 0005), finish those whose lease ran out, once a lease:
        a unit that crashed after its commit point is rolled forward, one that crashed before is undone."""
        settings = get_settings()
        now = time.monotonic()
        if settings.store_transactions != "emulated" or now < self._next_recovery:
            return {}
        self._next_recovery = now + settings.tx_lease_seconds
        from functions.core.store import connection
        from functions.core.transactions import Coordinator

        outcomes = Coordinator(connection()).sweep()
        if outcomes:
            get_logger().warning("units of work recovered", extra={"outcomes": outcomes})
        return outcomes

    def run_forever(
        self, stop: threading.Event, on_pass: Callable[[], None] | None = None, max_idle: float = 0.2
    ) -> None:
        """Poll until ``stop``; back off while idle (polling costs the store) and after failures.

        ``on_pass`` runs after every pass (the local runtime records a heartbeat there).
        """
        idle = self.idle_sleep
        while not stop.is_set():
            try:
                self.recover_units_if_due()
                if self.run_once():
                    idle = self.idle_sleep
                else:
                    stop.wait(idle)
                    idle = min(idle * 2, max_idle)
                if on_pass:
                    on_pass()
            except Exception:
                get_logger().exception("outbox relay pass failed; backing off")
                stop.wait(idle)
                idle = min(idle * 2, 5.0)
        self.drain()


def _health_server(relay: Relay, port: int) -> ThreadingHTTPServer:
    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fresh = time.monotonic() - relay.last_poll < 30
            body = json.dumps({"ready": fresh, "published": relay.published, "failures": relay.failures})
            self.send_response(200 if fresh else 503)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("0.0.0.0", port), Health)  # noqa: S104 - a pod's probe port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    settings = get_settings()
    if not settings.k_sink:
        raise SystemExit("K_SINK is not set: the relay needs the broker's address (a SinkBinding sets it)")
    relay = Relay(settings.k_sink, settings.outbox_shards)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server = _health_server(relay, int(os.environ.get("PORT", "8080")))
    get_logger().info("outbox relay started", extra={"sink": settings.k_sink, "shards": settings.outbox_shards})
    relay.run_forever(stop)
    server.shutdown()


if __name__ == "__main__":
    main()
