"""Run one area system's file: ``python -m functions.intake.job SYSTEM FILE`` (the inbox runs the same per file).

The file is checked whole first (encoding, layout: ``files.py``); refused, nothing is sent and the report says
why. Then its records go by chunks of ``CHUNK``: each record's events are built and validated (``adapters.py``;
a bad record is a dead letter: line, reason, raw text), the ledger's hashes of the chunk's keys are read in one
batch, the changed events are posted to the broker as the system, and only then their hashes written (batches
of 25). A crash leaves the rest of the file to the next run, which sends only what the ledger lacks; an event
posted twice that way has the same id, which its consumer deduplicates.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TypeVar

from functions.core.clock import Clock
from functions.intake import adapters
from functions.intake.files import RawRecord, records
from functions.intake.layouts import Layout, layout
from functions.intake.service import (
    BadLine,
    IntakeFileRefusedError,
    IntakeStore,
    IntakeSystemUnknownError,
    Outgoing,
    Publisher,
    Report,
    content_hash,
    file_id,
)

CHUNK = 100  # one BatchGetItem of the ledger (DynamoDB's limit: 100 keys)
T = TypeVar("T")


@dataclass(frozen=True)
class IntakePorts:
    store: IntakeStore
    publisher: Publisher
    clock: Clock


@dataclass
class Outcome:
    """A run's report and every bad line (the report keeps the first ``MAX_BAD_LINES_KEPT``)."""

    report: Report
    dead_letters: list[BadLine] = field(default_factory=list)


def system_layout(system: str) -> Layout:
    found = layout(system)
    if found is None:
        raise IntakeSystemUnknownError(f"no adapter for system {system!r}")
    return found


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def run(
    system: str, name: str, content: bytes, ports: IntakePorts, on_chunk: Callable[[Report], None] | None = None
) -> Outcome:
    """Load one file (see the module's docstring); the report is stored at the end (and refused files' too)."""
    lay = system_layout(system)
    fid = file_id(system, content)
    earlier = ports.store.fetch_report(fid)
    report = Report(
        fid,
        system,
        name,
        earlier.received_at if earlier else ports.clock.now(),
        runs=(earlier.runs if earlier else 0) + 1,
    )
    outcome = Outcome(report)
    fmt = lay.format_for(name)
    try:
        if fmt is None:
            raise IntakeFileRefusedError(
                f"{system} sends {', '.join(lay.extensions)} files, not {Path(name).suffix or 'this'}"
            )
        report.format, report.encoding = fmt.name, fmt.encoding
        found = records(lay, fmt, content)
    except IntakeFileRefusedError as exc:
        report.status, report.reason = "refused", exc.detail
        report.finished_at = ports.clock.now()
        ports.store.put_report(report)
        return outcome
    sent: dict[str, str] = {}  # this run's ledger keys and hashes (a taxpayer on several lines is sent once)
    for chunk in chunks(found, CHUNK):
        _load_chunk(lay, fmt, chunk, ports, outcome, sent)
        if on_chunk:
            on_chunk(report)
    report.status, report.finished_at = "done", ports.clock.now()
    ports.store.put_report(report)
    return outcome


def _load_chunk(
    lay: Layout, fmt: object, chunk: list[RawRecord], ports: IntakePorts, outcome: Outcome, sent: dict[str, str]
) -> None:
    report = outcome.report
    built: list[tuple[RawRecord, list[Outgoing]]] = []
    for record in chunk:
        report.records += 1
        try:
            built.append((record, adapters.events_of(lay.system, lay.source, fmt, record)))  # type: ignore[arg-type]
        except ValueError as exc:
            _dead(outcome, BadLine(record.line, str(exc), record.raw))
    keys = sorted({item.ledger_key for _, items in built for item in items} - set(sent))
    known = {**ports.store.fetch_hashes(lay.system, keys), **sent} if keys else dict(sent)
    written: dict[str, str] = {}
    for record, items in built:
        posted, refusal = 0, None
        for item in items:
            digest = content_hash(lay.source, item)
            if known.get(item.ledger_key) == digest:
                continue
            refusal = ports.publisher.publish(lay.sender, lay.source, digest, item)
            if refusal is not None:
                break
            known[item.ledger_key] = sent[item.ledger_key] = written[item.ledger_key] = digest
            posted += 1
        if refusal is not None:
            _dead(outcome, BadLine(record.line, f"the broker refused it: {refusal}", record.raw))
        elif posted:
            report.loaded += 1
            report.events_sent += posted
        else:
            report.unchanged += 1
    if written:
        ports.store.put_hashes(lay.system, written, report.file_id)


def _dead(outcome: Outcome, line: BadLine) -> None:
    outcome.report.bad(line)
    outcome.dead_letters.append(line)


def print_report(report: Report, out: object = sys.stdout) -> None:
    line = f"{report.system} {report.name}: {report.status}" + (
        f" ({report.reason})"
        if report.reason
        else f", {report.records} records: {report.loaded} loaded, {report.unchanged} unchanged, "
        f"{report.refused} refused"
    )
    print(line, file=out)  # type: ignore[call-overload]
    for bad in report.bad_lines[:20]:
        print(f"  line {bad.line}: {bad.reason}", file=out)  # type: ignore[call-overload]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m functions.intake.job", description=__doc__.split("\n\n")[0])
    parser.add_argument("system")
    parser.add_argument("file", type=Path)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    from functions.intake.bootstrap import ports

    outcome = run(args.system, args.file.name, args.file.read_bytes(), ports())
    if args.json:
        print(json.dumps(outcome.report.as_json(), ensure_ascii=False, indent=1))
    else:
        print_report(outcome.report)
    return 0 if outcome.report.status == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
