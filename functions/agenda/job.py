"""Ingest an agenda file: ``python -m functions.agenda.job FILE [--format json-ld|csv] [--source NAME]``.

The job reads the whole file, commits its events one unit of work each (new or changed ones only: an event, its
cell key and its ``agenda.event.published`` together, decided again if a concurrent writer got there first), then
the file's report. A file already ingested (same SHA-256) is not read again: its report comes back with
``replayed: true`` and nothing changes. ``make run`` ingests ``functions/agenda/data/agenda-sample.json`` at
start; ``POST /v1/agenda/ingests`` runs the same job on an uploaded file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from functions.agenda import handlers
from functions.agenda.handlers import AgendaPorts
from functions.agenda.ingest import AgendaEvent, Format
from functions.agenda.service import IngestReport
from functions.core.retry import retry_on_conflict

SAMPLE = Path(__file__).parent / "data" / "agenda-sample.json"


def run(content: bytes, fmt: Format, source: str, ports: AgendaPorts, traceparent: str | None = None) -> IngestReport:
    """Ingest one file (see the module's docstring); AgendaFileError when the file cannot be read at all."""
    done = ports.store.fetch_ingest(handlers.ingest_id(content))
    if done is not None:
        done.replayed = True
        return done
    report, events = handlers.read_file(content, fmt, source)
    for event in events:

        def attempt(event: AgendaEvent = event) -> bool:
            staged = handlers.load_event(event, ports, traceparent)
            staged.unit.commit()
            return staged.result

        if retry_on_conflict(attempt, what=f"agenda event {event.id}"):
            report.loaded.append(event.id)
        else:
            report.unchanged += 1
    staged = handlers.finish_ingest(report, ports)
    staged.unit.commit()
    return staged.result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m functions.agenda.job", description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, nargs="?", default=SAMPLE)
    parser.add_argument("--format", choices=("json-ld", "csv"), default=None)
    parser.add_argument("--source", default=None)
    args = parser.parse_args(argv)
    from functions.agenda.bootstrap import ports

    fmt: Format = args.format or ("csv" if args.file.suffix.lower() == ".csv" else "json-ld")
    report = run(args.file.read_bytes(), fmt, args.source or args.file.name, ports())
    body = report.as_json()
    print(f"agenda {args.file.name}: {body['records']} records, {body['loaded']} loaded, {body['unchanged']} "
          f"unchanged, {len(body['rejected'])} refused, {len(body['warnings'])} remarks"
          f"{' (already ingested: nothing changed)' if report.replayed else ''}")  # fmt: skip
    for refused in body["rejected"]:
        print(f"  refused {refused['record']} {refused['id']}: {refused['reason']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
