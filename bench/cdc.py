"""``python -m bench cdc``: change data capture from Licencias' PostgreSQL (functions/cdc, ADR 0033).

A local platform (as ``make run`` starts it) and a local PostgreSQL (``local.postgres``, the sample schema); the
capture runs in this process with the real slot reader and the real poster (HTTP to the broker's ingress as
``legacy-licencias``). Measured: changes/s decoded and mapped alone (no broker), changes/s captured and published
(each event accepted by the broker before the slot is confirmed), and the lag at light load (a change every 0.25 s:
from the commit to the broker's 202).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench.stats import Figure, record_section, recorded, table
from functions.cdc import licencias
from functions.cdc.capture import Capture
from functions.cdc.licencias import Outgoing
from functions.cdc.postgres import PostgresSource
from functions.cdc.publish import BrokerPublisher
from local import postgres
from local.harness import free_port, start_platform

TITLE = "## Change data capture from an area database (issue 19)"


class Timed:
    """A publisher that remembers when each event was accepted (or only counts, with no broker)."""

    def __init__(self, inner: BrokerPublisher | None) -> None:
        self.inner, self.accepted = inner, []  # type: ignore[var-annotated]

    def publish(self, event: Outgoing) -> None:
        if self.inner is not None:
            self.inner.publish(event)
        self.accepted.append((time.time(), event))


def _insert_files(dsn: str, holder: str, transactions: int, per: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO licencias.titulares (id, nombre) VALUES (%s, 'Bench') ON CONFLICT DO NOTHING", (holder,)
        )
        for t in range(transactions):
            with conn.transaction():
                for i in range(per):
                    conn.execute(
                        "INSERT INTO licencias.expedientes (id, titular_id, tipo, descripcion, estado)"
                        " VALUES (%s, %s, 'obra-menor', 'Bench', 'en-tramite')",
                        (f"B/{holder}/{t:04d}/{i:03d}", holder),
                    )


def _drain(capture: Capture, changes: int) -> float:
    started = time.perf_counter()
    while capture.counters.changes < changes:
        capture.step()
    return time.perf_counter() - started


def run(changes: int = 2000) -> list[Figure]:
    work = Path(tempfile.mkdtemp(prefix="pic-bench-cdc-"))
    (work / "data").mkdir()
    (work / "pg").mkdir()
    platform = start_platform(work / "data")
    server = postgres.start(work / "pg", free_port())
    try:
        postgres.wait_ready(work / "pg")
        postgres.load_sample(work / "pg")
        app, cdc_dsn = postgres.dsn(work / "pg", postgres.APP_ROLE), postgres.dsn(work / "pg", postgres.CDC_ROLE)
        token = platform.senders.token(licencias.ACCOUNT)
        poster = BrokerPublisher(platform.url("/events"), lambda: token)

        def capture(slot: str, publisher: Timed) -> Capture:
            source = PostgresSource(cdc_dsn, slot, postgres.PUBLICATION)
            source.ensure_slot()
            return Capture(source, publisher, licencias.TABLES, licencias.events_for, licencias.problem, batch=1000)

        decode_only, published = capture("bench_decode", Timed(None)), capture("bench_publish", Timed(poster))
        _insert_files(app, "LT-BENCH-1", changes // 50, 50)
        decode_s = _drain(decode_only, changes + 1)
        publish_s = _drain(published, changes + 1)

        # light load: one change every 0.25 s, the capture running as it does in make run (0.5 s idle pause)
        lagging = Timed(poster)
        light = capture("bench_light", lagging)
        stop = threading.Event()
        runner = threading.Thread(target=light.run, args=(stop,), kwargs={"idle": 0.5}, daemon=True)
        runner.start()
        for n in range(40):
            _insert_files(app, f"LT-BENCH-L{n}", 1, 1)
            time.sleep(0.25)
        deadline = time.monotonic() + 30
        while light.counters.changes < 80 and time.monotonic() < deadline:
            time.sleep(0.1)
        stop.set()
        runner.join(timeout=10)
        lags = [
            at - datetime.fromisoformat(e.data["as_of"]).timestamp()
            for at, e in lagging.accepted
            if e.type == licencias.ITEM_TYPE
        ]
    finally:
        postgres.stop(server, work / "pg")
        platform.stop()
    return [
        Figure(f"{changes:,} changes ({changes // 50} transactions of 50 rows): decoded and mapped, no broker",
               f"{changes / decode_s:,.0f} changes/s"),
        Figure("… captured and published: each event accepted by the broker (HTTP, 202) before the slot is confirmed",
               f"{changes / publish_s:,.0f} changes/s ({publish_s:.1f} s)"),
        Figure(f"lag at light load (a change every 0.25 s, {len(lags)} changes): commit to the broker's 202",
               f"median {statistics.median(lags) * 1e3:,.0f} ms, max {max(lags) * 1e3:,.0f} ms"),
    ]  # fmt: skip


NOTE = """\
On this machine (2 cores shared with the platform's gateway, broker and DynamoDB Local), PostgreSQL 15 local with
`fsync=off`. Publishing is one HTTP POST per event, in commit order, each answered before the next (the capture's
ordering and at-least-once rule): its rate is the broker ingress's for one sender in series; the decoding itself
is not the limit. The lag at rest is bounded by the idle pause between passes (`PIC_CDC_IDLE_SECONDS`, 0.5 s) plus
one pass. Source: `bench/cdc.py`."""


def main(argv: list[str]) -> None:
    changes = int(argv[0]) if argv else 2000
    started = datetime.now(UTC)
    figures = run(changes)
    for figure in figures:
        print(f"{figure.name}: {figure.value}", file=sys.stderr)
    body = f"{recorded(started, 'python -m bench cdc')}\n\n{table(figures)}\n{NOTE}\n"
    record_section(TITLE, f"{TITLE}\n\n{body}")


if __name__ == "__main__":
    main(sys.argv[1:])
