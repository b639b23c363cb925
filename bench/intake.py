"""``python -m bench intake``: the legacy adapters' throughput (issue 19, ADR 0032).

1. In process: a Padrón extract of 100,000 people (fixed-width, ISO-8859-15, ``seed.intake_samples.padron_extract``)
   through ``job.run`` on the unit tests' fakes (a ledger in a dict, a broker that takes every event): the file's
   checks, parsing, mapping and validation against the event's pydantic model, the ledger's bookkeeping. Then the
   same file again (every record unchanged: nothing sent). Store calls per record as the DynamoDB adapter makes
   them (a BatchGetItem per 100 keys, a BatchWriteItem per 25, the report read and written).
2. End to end on a local platform of its own: an extract of ``E2E_PEOPLE`` people loaded by ``job.run`` with the
   real adapters (DynamoDB Local, the broker's ingress over HTTP as ``legacy-padron``), its store calls counted by
   the kernel's botocore hook; then the time until the broker has delivered every event (C360 resolved them all).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time as clock
from datetime import UTC, datetime
from pathlib import Path

from bench.stats import Figure, record_section, recorded, table
from functions.intake import job
from seed.intake_samples import padron_extract
from tests.unit.intake.fakes import FakeBroker, FakeIntakeStore, make_ports

TITLE = "## Legacy adapters: a Padrón extract in, records per second (INTG)"
PEOPLE = 100_000
E2E_PEOPLE = 2_000


def in_process(people: int) -> list[Figure]:
    content = padron_extract(people)
    store, broker = FakeIntakeStore(), FakeBroker()
    ports = make_ports(store, broker)
    begin, cpu = clock.perf_counter(), clock.process_time()
    report = job.run("padron", "padron.txt", content, ports).report
    took, took_cpu = clock.perf_counter() - begin, clock.process_time() - cpu
    assert report.loaded == people, report.summary()
    calls = store.calls / people
    again_store = FakeIntakeStore(ledger=dict(store.ledger))
    begin = clock.perf_counter()
    again = job.run("padron", "padron.txt", content, make_ports(again_store, FakeBroker())).report
    took_again = clock.perf_counter() - begin
    assert again.unchanged == people
    mb = len(content) / 1e6
    return [
        Figure(f"Padrón extract of {people:,} people ({mb:.0f} MB): checked, parsed, mapped, validated (in process)",
               f"{people / took:,.0f} records/s ({took:.1f} s wall, {took_cpu:.1f} s CPU)",
               "a city extract (3.5 M) within an hour on one core", "met" if 3_500_000 / (people / took) < 3600 else
               "not met"),
        Figure("the same file again (every record unchanged: nothing sent)",
               f"{people / took_again:,.0f} records/s ({took_again:.1f} s)"),
        Figure("store calls per record (BatchGetItem of 100, BatchWriteItem of 25, the report)",
               f"{calls:.3f} ({store.calls:,} calls for {people:,} records); "
               f"a re-run {again_store.calls / people:.3f}"),
    ]  # fmt: skip


def end_to_end(people: int) -> list[Figure]:
    from local.harness import free_port, start_platform

    with tempfile.TemporaryDirectory(prefix="pic-bench-intake-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        dynamodb_port = free_port()
        platform = start_platform(data_dir, dynamodb_port=dynamodb_port)
        try:
            return _measure(platform, f"http://127.0.0.1:{dynamodb_port}", people)
        finally:
            platform.stop()


def _measure(platform: object, endpoint: str, people: int) -> list[Figure]:
    from functions.core import timing
    from functions.intake.job import IntakePorts
    from functions.intake.publish import BrokerPublisher
    from functions.intake.storage import DynamoIntakeStore, IntakeItem
    from local.harness import Platform
    from tests.unit.fakes import FixedClock

    assert isinstance(platform, Platform)
    os.environ.update({"PIC_DYNAMODB_ENDPOINT": endpoint, "AWS_REGION": "eu-south-2", "AWS_ACCESS_KEY_ID": "local",
                       "AWS_SECRET_ACCESS_KEY": "local"})  # fmt: skip
    from functions.core.settings import get_settings

    get_settings.cache_clear()
    # the model's Meta was built when the module was first imported (``python -m bench`` imports every route):
    # point it at this platform's DynamoDB Local
    IntakeItem.Meta.host, IntakeItem.Meta.region = endpoint, "eu-south-2"
    IntakeItem._connection = None
    tokens = platform.senders
    publisher = BrokerPublisher(platform.url("/events"), tokens.token)
    ports = IntakePorts(DynamoIntakeStore(), publisher, FixedClock(datetime.now(UTC)))
    content = padron_extract(people)
    measured = timing.start()
    begin = clock.perf_counter()
    try:
        report = job.run("padron", "padron-e2e.txt", content, ports).report
    finally:
        timing.stop()
    posted = clock.perf_counter() - begin
    assert report.loaded == people, report.summary()
    platform.settle(timeout=1800)
    settled = clock.perf_counter() - begin
    calls = sum(measured.store_ops.values())
    ops = " ".join(f"{k}={v}" for k, v in sorted(measured.store_ops.items()))
    return [
        Figure(f"{people:,} people end to end on the local platform: posted to the broker as legacy-padron",
               f"{people / posted:,.0f} records/s ({posted:.1f} s)"),
        Figure("... and every event delivered (C360 resolved each record)",
               f"{people / settled:,.0f} records/s ({settled:.1f} s)"),
        Figure("store calls per record on DynamoDB Local (counted by the kernel's hook)",
               f"{calls / people:.3f} ({ops})"),
    ]  # fmt: skip


NOTE = """\
In process: one core, the whole job but the network and the store (fakes), so the figure is the adapter's own cost;
the extract's generation is not counted. End to end: the same job with the real adapters on `make run`'s platform
(DynamoDB Local, the broker's ingress over HTTP, one event per request, sequential), then the broker's delivery to
C360, which is the bound: each record is a match against its candidates. A whole city's extract goes through the
bucket and the per-system worker, not the HTTP route (8 MB at most). On a shared machine (see the load average)
the wall clock is mostly waiting for a core: the CPU seconds are the adapter's own cost (about 7,600 records per
CPU-second in process, as recorded on 2026-12-07). Source: `bench/intake.py`."""


def main(argv: list[str]) -> None:
    people = int(argv[0]) if argv else PEOPLE
    e2e = int(argv[1]) if len(argv) > 1 else E2E_PEOPLE
    started = datetime.now(UTC)
    figures = in_process(people) + end_to_end(e2e)
    for figure in figures:
        print(f"{figure.name}: {figure.value}", file=sys.stderr)
    body = f"{recorded(started, 'python -m bench intake')}\n\n{table(figures)}\n{NOTE}\n"
    record_section(TITLE, f"{TITLE}\n\n{body}")


if __name__ == "__main__":
    main(sys.argv[1:])
