"""The outbox relay: publishes one domain's pending outbox rows to ``K_SINK`` (binary mode), as that
domain's sender identity, and marks them sent.

One relay per producing domain (docs/decisions/0011): it polls only its domain's shards of the ``pending``
index and sends with its domain's OIDC token for the broker (``PIC_SENDER_TOKEN_FILE``, a projected
ServiceAccount token that kubelet rotates; re-read when the file changes), so the broker's EventPolicies
admit each domain's facts from that domain only. Deployed as a small long-running service per domain (a
SinkBinding gives it ``K_SINK``); in AWS, DynamoDB Streams can drive the same ``publish`` instead of
polling. A commit that staged rows wakes its domain's relay (a UDP datagram to ``PIC_RELAY_WAKE``,
``functions.core.wake``, ADR 0017), so at light load rows leave at once; the poll stays the safety net.
At-least-once: a row is marked sent only after the broker accepted it, so a crash in between
re-publishes it, and consumers dedupe on ``source`` + ``id``.

Idle cost: all relays together poll the store no more than ``PIC_RELAY_IDLE_QPS`` times a second (by default
``IDLE_QUERIES_PER_SECOND``) while there is nothing to publish (each backs off to its share of that budget).

Run: ``PIC_RELAY_DOMAIN=consent python -m functions.core.relay`` (serves ``/healthz`` on ``$PORT``, 8080).
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
from pathlib import Path

import requests
from pynamodb.expressions.update import Action
from requests.adapters import HTTPAdapter

from events.catalog import DOMAINS
from functions.core.logging import get_logger
from functions.core.outbox import OutboxRecord, pending_shards
from functions.core.settings import get_settings
from functions.core.wake import WakeListener

BATCH = 100
PARK_AFTER = 3
RETRYABLE_4XX = frozenset({404, 408, 409, 429})  # the sink may take it later (Knative's retry set)
UNAUTHENTICATED = 401  # the relay's token, not the row: retried (and logged) until the token is fixed
# The single relay this replaced polled 4 shards, waiting up to 0.2 s between passes while idle: 15.4 queries/s
# measured against DynamoDB Local (docs/benchmarks.md). All the domains' relays together stay under it.
IDLE_QUERIES_PER_SECOND = 15.0
# Pending rows staged before the per-domain shards sit under "0".."3" (PIC_OUTBOX_SHARDS' old default); each
# relay adopts its domain's, once, after its first pass.
LEGACY_SHARDS = 4
# Where units of work are emulated (ADR 0005), one relay finishes the units a crashed pod left half done: the
# relay of this low-traffic domain (one sweep per lease for the platform, not one per relay).
UNIT_RECOVERY_DOMAIN = "rgpd"
STOP_CHECK = 0.1  # seconds: how soon an idle relay notices it is asked to stop


class SenderTokenError(Exception):
    """The relay has no usable token for the broker (the projected token file is missing or empty)."""


class TokenFile:
    """A token kept in a file that is replaced when it rotates (kubelet's projected ServiceAccount token, or
    ``make run``'s dev IdP): read again whenever the file changed, never once and for all."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int] | None = None
        self._token = ""
        self._lock = threading.Lock()

    def __call__(self) -> str:
        try:
            stat = self.path.stat()
            with self._lock:
                if self._seen != (stat.st_mtime_ns, stat.st_size):
                    self._token = self.path.read_text(encoding="utf-8").strip()
                    self._seen = (stat.st_mtime_ns, stat.st_size)
                token = self._token
        except OSError as exc:
            raise SenderTokenError(f"no sender token at {self.path}: {exc.strerror}") from exc
        if not token:
            raise SenderTokenError(f"the sender token file {self.path} is empty")
        return token


def idle_ceiling(shards: int, relays: int = len(DOMAINS), budget: float | None = None) -> float:
    """The longest idle wait of one relay so that ``relays`` relays of ``shards`` shards each stay within
    ``budget`` queries a second together (``PIC_RELAY_IDLE_QPS``, by default ``IDLE_QUERIES_PER_SECOND``)."""
    return relays * shards / (budget or get_settings().relay_idle_qps)


def _headers(record: OutboxRecord) -> dict[str, str]:
    """The binary-mode CloudEvent headers of a row (``traceparent`` also as the W3C header)."""
    headers = {f"ce-{k}": v for k, v in record.attributes().items() if k != "datacontenttype"}
    headers["content-type"] = "application/json"
    if record.traceparent:
        headers["traceparent"] = record.traceparent
    return headers


class Relay:
    """Polls one domain's shards of the sparse ``pending`` index and publishes what it finds, in parallel,
    with the domain's token (``token``: a callable, e.g. ``TokenFile``; ``None`` sends none)."""

    def __init__(
        self,
        sink: str,
        domain: str,
        token: Callable[[], str] | None,
        workers: int = 8,
        idle_sleep: float = 0.05,
    ) -> None:
        if domain not in DOMAINS:
            raise ValueError(f"{domain!r} is not a domain that publishes events ({', '.join(sorted(DOMAINS))})")
        self.sink = sink
        self.domain = domain
        self.shards = pending_shards(domain)
        self.token = token
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
        self._woken = threading.Event()  # a commit staged rows for this domain (ADR 0017)
        self.wakes = 0

    def wake(self) -> None:
        """A unit of work with this domain's events committed: poll now instead of after the idle wait."""
        self.wakes += 1
        self._woken.set()

    def _idle(self, stop: threading.Event, seconds: float) -> bool:
        """Wait up to ``seconds`` for a wake (True) or ``stop``; the wait is the safety net for lost wakes."""
        deadline = time.monotonic() + seconds
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if self._woken.wait(min(left, STOP_CHECK)):
                self._woken.clear()
                return True
        return False

    def publish(self, record: OutboxRecord) -> bool:
        """POST one row to the sink in binary mode. True when the sink accepted it (2xx).

        A failure never stops the relay: it is counted on the row, and a row the sink can never take (it
        answered 4xx, or the row cannot even be sent as HTTP) is parked after ``PARK_AFTER`` attempts so
        that it does not hold up the rows behind it. Unreachable or failing sinks (5xx), a missing token and a
        refused token (401: the relay's credentials, not the row) are retried forever.
        """
        headers = _headers(record)
        try:
            if self.token is not None:
                headers["Authorization"] = f"Bearer {self.token()}"
        except SenderTokenError as exc:
            return self._failed(record, str(exc), permanent=False)
        try:
            response = self._session.post(self.sink, data=record.data.encode(), headers=headers, timeout=10)
        except ValueError as exc:  # e.g. requests' InvalidHeader: a control character in an attribute
            return self._failed(record, f"cannot be sent as HTTP: {exc}", permanent=True)
        except requests.RequestException as exc:
            return self._failed(record, f"sink unreachable: {exc}", permanent=False)
        if 200 <= response.status_code < 300:
            return True
        permanent = (
            400 <= response.status_code < 500
            and response.status_code not in RETRYABLE_4XX
            and response.status_code != UNAUTHENTICATED
        )
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
        relay per domain runs at a time (each Deployment's ``Recreate`` strategy), and a domain's rows are its own.
        """
        now = datetime.now(UTC)
        with OutboxRecord.batch_write() as batch:
            for record in records:
                record.pending_shard = None
                record.sent_at = now
                batch.save(record)

    def adopt_legacy_rows(self) -> int:
        """Move this domain's rows still pending under the old shard keys (``"0"``..``"3"``, before rows were
        partitioned by domain) to its own shards, so that an upgrade leaves no row unpublished."""
        source = f"{get_settings().event_source_base}/{self.domain}"
        moved = 0
        for legacy in range(LEGACY_SHARDS):
            for row in OutboxRecord.pending.query(str(legacy)):
                if row.source != source:
                    continue  # another domain's relay adopts it
                try:
                    row.update(
                        actions=[OutboxRecord.pending_shard.set(self.shards[0])],
                        condition=OutboxRecord.pending_shard == str(legacy),
                    )
                    moved += 1
                except Exception:  # sent or moved meanwhile: nothing to adopt
                    get_logger().info("legacy outbox row not adopted", extra={"event_id": row.id})
        return moved

    def _adopt_once(self) -> None:
        try:
            moved = self.adopt_legacy_rows()
        except Exception:  # e.g. the store is unreachable: the rows wait for the next start, nothing is lost
            get_logger().exception("adopting legacy outbox rows failed")
            return
        if moved:
            get_logger().warning("legacy outbox rows adopted", extra={"domain": self.domain, "rows": moved})

    def run_once(self) -> int:
        """One pass over the domain's shards; returns how many rows were published."""
        self.last_poll = time.monotonic()
        published = 0
        for shard in self.shards:
            with self._lock:
                skip = set(self._unmarked)
            rows = [r for r in OutboxRecord.pending.query(shard, limit=BATCH) if r.id not in skip]
            if rows:
                results = list(self._pool.map(self.publish, rows))
                self._mark_later([row for row, ok in zip(rows, results, strict=True) if ok])
                published += sum(results)
                self.failures += len(results) - sum(results)
        self.published += published
        return published

    def recover_units_if_due(self) -> dict[str, int]:
        """Where units of work are emulated (ADR 0005), finish those whose lease ran out, once a lease (the
        ``UNIT_RECOVERY_DOMAIN`` relay only): a unit that crashed after its commit point is rolled forward, one
        that crashed before is undone."""
        settings = get_settings()
        now = time.monotonic()
        if self.domain != UNIT_RECOVERY_DOMAIN or settings.store_transactions != "emulated":
            return {}
        if now < self._next_recovery:
            return {}
        self._next_recovery = now + settings.tx_lease_seconds
        from functions.core.store import connection
        from functions.core.transactions import Coordinator

        outcomes = Coordinator(connection()).sweep()
        if outcomes:
            get_logger().warning("units of work recovered", extra={"outcomes": outcomes})
        return outcomes

    def run_forever(
        self, stop: threading.Event, on_pass: Callable[[], None] | None = None, max_idle: float | None = None
    ) -> None:
        """Poll until ``stop``; back off while idle (polling costs the store) and after failures.

        The idle wait grows to ``max_idle``, by default this relay's share of ``IDLE_QUERIES_PER_SECOND``.
        ``on_pass`` runs after every pass (the local runtime records a heartbeat there).
        """
        max_idle = max_idle if max_idle is not None else idle_ceiling(len(self.shards))
        idle = self.idle_sleep
        adopted = False
        while not stop.is_set():
            try:
                self.recover_units_if_due()
                self._woken.clear()  # this pass sees whatever was committed before it starts
                busy = self.run_once() or self._idle(stop, idle)  # rows found, or a commit woke it: poll again soon
                idle = self.idle_sleep if busy else min(idle * 2, max_idle)
                if on_pass:
                    on_pass()
                if not adopted:
                    adopted = True
                    self._adopt_once()
            except Exception:
                get_logger().exception("outbox relay pass failed; backing off")
                stop.wait(idle)
                idle = min(idle * 2, 5.0)
        self.drain()


def serve_wakes(relays: dict[str, Relay], address: str, stop: threading.Event, all_interfaces: bool = False) -> None:
    """Listen for the commits' wakes (``functions.core.wake``) in a thread and wake the named domain's relay;
    a datagram naming no relay here is ignored."""
    listener = WakeListener.on(address, all_interfaces)

    def on_wake(domain: str) -> None:
        relay = relays.get(domain)
        if relay is not None:
            relay.wake()

    threading.Thread(target=listener.serve, args=(on_wake, stop.is_set), name="relay-wake", daemon=True).start()


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
    if not settings.relay_domain:
        raise SystemExit(f"PIC_RELAY_DOMAIN is not set: one of {', '.join(sorted(DOMAINS))}")
    if not settings.sender_token_file:
        raise SystemExit("PIC_SENDER_TOKEN_FILE is not set: the broker admits only senders with a token")
    relay = Relay(settings.k_sink, settings.relay_domain, TokenFile(settings.sender_token_file))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server = _health_server(relay, int(os.environ.get("PORT", "8080")))
    if settings.relay_wake:  # the relay's Service also takes the commits' wakes (ADR 0017)
        serve_wakes({relay.domain: relay}, settings.relay_wake, stop, all_interfaces=True)
    get_logger().info("outbox relay started", extra={"sink": settings.k_sink, "domain": relay.domain})
    relay.run_forever(stop)
    server.shutdown()


if __name__ == "__main__":
    main()
