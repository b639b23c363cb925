"""Bulk-load area systems' records into PIC as ``es.madrid.pic.citizen.record.upserted.v1`` CloudEvents.

``make load-records DIR=<dir>`` (``python -m local.load_records DIR [--url URL]``; the URL defaults to the
platform ``make run`` recorded in ``.pic-data/platform.json``) reads every system file that
``seed.city`` wrote (``<system>.jsonl`` or ``<system>.csv``; the source URI is
``/legacy/<file stem>``) and posts each record in binary mode to the broker ingress (``/events``), as that
area system (``legacy-<file stem>``, its sender token from the dev IdP's ``POST /dev/sender-token``). The
event id is a hash of source, local_id and content, so loading the same files again is idempotent (the
function acknowledges duplicates). Malformed records (not JSON, not an object, no ``local_id``, or not
the schema of ``citizen.record.upserted``: a bad date, an unknown document type...) are reported by file
and line with the reason, and dead-lettered to ``<DIR>/dead-letters.jsonl`` (one JSON line per record:
file, line, reason, the raw text) so nothing is lost; the rest is loaded. Records the platform refuses are
dead-lettered there too. Exit code 0 when every well-formed record was accepted.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from events.citizen import CitizenRecordUpserted
from functions.core.sender_post import post_event
from functions.intake.service import event_id as intake_event_id
from local.running import ToolError, base_url, run_tool
from local.senders import SenderTokens
from seed.city import unflatten

PROG = "python -m local.load_records"

EVENT_TYPE = "es.madrid.pic.citizen.record.upserted.v1"
NOT_SYSTEM_FILES = {"ground_truth", "summary", "dead-letters"}
DEAD_LETTERS = "dead-letters.jsonl"


@dataclass(frozen=True)
class Line:
    path: Path
    number: int
    source: str
    record: dict[str, Any] | None
    problem: str | None = None
    raw: str = ""


@dataclass
class Report:
    accepted: int = 0
    malformed: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    dead_letters: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.refused


def system_files(directory: Path) -> list[Path]:
    return sorted(
        p
        for p in directory.iterdir()
        if p.is_file() and p.suffix in (".jsonl", ".csv") and p.stem not in NOT_SYSTEM_FILES
    )


def read_lines(path: Path) -> Iterator[Line]:
    """Every record of one system file, or the reason its line is malformed."""
    source = f"/legacy/{path.stem}"
    with path.open(encoding="utf-8", newline="") as handle:
        if path.suffix == ".csv":
            for number, row in enumerate(csv.DictReader(handle), start=2):
                raw = json.dumps(row, ensure_ascii=False)
                try:
                    record: Any = unflatten(row)
                except (KeyError, TypeError) as exc:
                    yield Line(path, number, source, None, f"missing column {exc}", raw)
                    continue
                yield _checked(path, number, source, record, raw)
            return
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except ValueError as exc:
                yield Line(path, number, source, None, f"not JSON: {exc}", text.rstrip("\n"))
                continue
            yield _checked(path, number, source, record, text.rstrip("\n"))


def _checked(path: Path, number: int, source: str, record: Any, raw: str) -> Line:
    if not isinstance(record, dict):
        return Line(path, number, source, None, "not a JSON object", raw)
    if not isinstance(record.get("local_id"), str) or not record["local_id"].strip():
        return Line(path, number, source, None, "no local_id", raw)
    try:
        CitizenRecordUpserted.model_validate(record)
    except ValidationError as exc:
        fields = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return Line(path, number, source, None, f"not a citizen record: {fields}", raw)
    return Line(path, number, source, record, None, raw)


class DeadLetters:
    """Records that could not be loaded, one JSON line each, with the reason: fix and re-load them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0

    def add(self, line: Line, reason: str) -> None:
        entry = {"file": line.path.name, "line": line.number, "source": line.source, "reason": reason, "raw": line.raw}
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.count += 1


def event_id(source: str, record: dict[str, Any]) -> str:
    """Stable: the same record from the same system is the same event, so re-loading is idempotent (the legacy
    adapters' formula, ``functions.intake.service.event_id``: a record loaded here or from a file is one event)."""
    return intake_event_id(source, str(record["local_id"]), record)


def post(
    session: requests.Session, url: str, source: str, record: dict[str, Any], tokens: SenderTokens
) -> requests.Response:
    """Post one record as its system, through the adapters' one helper (``functions.intake.publish``)."""
    token = tokens.headers_for(source)["Authorization"].removeprefix("Bearer ")
    return post_event(session, f"{url.rstrip('/')}/events", source, event_id(source, record), EVENT_TYPE,
                      str(record["local_id"]), record, token)  # fmt: skip


def load(directory: Path, url: str, console: Console | None = None) -> Report:
    console = console or Console(stderr=True)
    files = system_files(directory)
    lines = [line for path in files for line in read_lines(path)]
    report = Report()
    dead = DeadLetters(directory / DEAD_LETTERS)
    dead.path.unlink(missing_ok=True)  # this load's dead letters only
    session = requests.Session()
    tokens = SenderTokens(url, session)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("records", total=len(lines))
        for line in lines:
            where = f"{line.path.name}:{line.number}"
            if line.record is None:
                report.malformed.append(f"{where}: {line.problem}")
                dead.add(line, line.problem or "malformed")
            else:
                try:
                    answer = post(session, url, line.source, line.record, tokens)
                except (requests.RequestException, ValueError) as exc:  # ValueError: no sender owns the source
                    report.refused.append(f"{where}: {exc}")
                    dead.add(line, str(exc))
                else:
                    if answer.status_code in (200, 202):
                        report.accepted += 1
                    else:
                        report.refused.append(f"{where}: {answer.status_code} {answer.text[:200]}")
                        dead.add(line, f"{answer.status_code} {answer.text[:500]}")
            progress.advance(task)
    if dead.count:
        report.dead_letters = dead.path
    for message in report.malformed:
        console.print(f"[yellow]malformed[/] {message}")
    for message in report.refused:
        console.print(f"[red]refused[/] {message}")
    console.print(
        f"{report.accepted} accepted, {len(report.malformed)} malformed, {len(report.refused)} refused "
        f"from {len(files)} file(s) in {directory}" + (f"; dead letters in {dead.path}" if dead.count else "")
    )
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, help="a directory written by seed.city")
    parser.add_argument("--url", help="the platform's base URL (default: the one `make run` recorded)")
    parser.add_argument("--data-dir", type=Path, help="the data directory of that platform (default .pic-data)")
    args = parser.parse_args(argv)
    if not args.directory.is_dir():
        parser.error(f"{args.directory} is not a directory")
    return run_tool(PROG, lambda: _run(args.directory, base_url(args.url, args.data_dir)))


def _run(directory: Path, url: str) -> int:
    if not system_files(directory):
        raise ToolError(f"{directory} holds no area system's file (<system>.jsonl or .csv, as seed.city writes)")
    requests.get(f"{url}/healthz", timeout=10)  # unreachable: one sentence, not one refusal per record
    return 0 if load(directory, url).ok else 1


if __name__ == "__main__":
    sys.exit(main())
