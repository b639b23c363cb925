"""The adapters' inbox: ``python -m functions.intake.inbox [--once] [--system padron]``.

Area systems drop their files in ``<inbox>/<system>/`` (``make run``: ``.pic-data/inbox/padron/``; the cloud: the
S3 bucket ``PIC_INTAKE_BUCKET``, prefix ``<system>/``), or post them to ``POST /v1/intake/<system>/files``, which
puts them there. Each pass loads every file waiting (``job.run``) and moves it to ``done/`` or ``refused/`` with its
report beside it (``<name>.report.json``) and, when it had bad lines, its dead letters (``<name>.dead-letters.jsonl``:
file, line, reason, raw text). A pass the broker cannot take stops and leaves the file where it is: the next pass
resumes it (the ledger sends only what is missing). A file is written as ``.<name>.part`` and renamed, so a pass
never reads half a file; names starting with a dot are not read.

Runs locally as ``make run``'s part ``intake-inbox`` (a pass every 2 s); in the cluster as one Deployment per system
(Deployment ``legacy-<system>``, as that system's ServiceAccount), woken by the bucket's object-created notifications
(ADR 0032).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any, Protocol

from functions.core import periodic
from functions.core.logging import get_logger
from functions.intake.layouts import layouts
from functions.intake.service import BadLine, IntakeBrokerUnavailableError, Report

DONE, REFUSED = "done", "refused"


def _jsonl(lines: list[BadLine], name: str, system: str) -> bytes:
    rows = [json.dumps({"file": name, "system": system, **b.as_json()}, ensure_ascii=False) for b in lines]
    return ("\n".join(rows) + "\n").encode() if rows else b""


class Inbox(Protocol):
    def put(self, system: str, name: str, content: bytes) -> str:
        """Store a file for the adapters; answers the name it got (another if that one is waiting)."""
        ...

    def pending(self, system: str) -> list[str]: ...

    def read(self, system: str, name: str) -> bytes: ...

    def finish(self, system: str, name: str, report: Report, dead_letters: list[BadLine]) -> str:
        """Move the file to done/ or refused/ with its report and dead letters; answers where it went."""
        ...


def safe_name(name: str) -> str:
    base = Path(name).name.strip().lstrip(".")
    return "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_" for c in base)[:120] or "file"


class LocalInbox:
    """A directory per system (``make run``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _dir(self, system: str, *sub: str) -> Path:
        path = self.root.joinpath(system, *sub)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def put(self, system: str, name: str, content: bytes) -> str:
        folder, name = self._dir(system), safe_name(name)
        if (folder / name).exists():
            stem, suffix = os.path.splitext(name)
            name = f"{stem}.{os.urandom(4).hex()}{suffix}"
        staged = folder / f".{name}.part"
        staged.write_bytes(content)
        staged.replace(folder / name)
        return name

    def pending(self, system: str) -> list[str]:
        folder = self.root / system
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))

    def read(self, system: str, name: str) -> bytes:
        return (self.root / system / name).read_bytes()

    def finish(self, system: str, name: str, report: Report, dead_letters: list[BadLine]) -> str:
        target = self._dir(system, REFUSED if report.status == "refused" else DONE)
        moved = target / name
        if moved.exists():  # the same name loaded before: keep both
            moved = target / f"{report.file_id[-8:]}-{name}"
        (target / f"{moved.name}.report.json").write_text(
            json.dumps(report.as_json(), ensure_ascii=False, indent=1), encoding="utf-8"
        )
        if dead_letters:
            (target / f"{moved.name}.dead-letters.jsonl").write_bytes(_jsonl(dead_letters, name, system))
        (self.root / system / name).replace(moved)
        return str(moved)


class S3Inbox:
    """An S3 bucket, prefix ``<system>/`` (the cloud): the same moves as copies then deletes."""

    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket = bucket
        if client is None:
            import boto3

            client = boto3.client("s3")
        self.s3 = client

    def put(self, system: str, name: str, content: bytes) -> str:
        name = safe_name(name)
        if name in self.pending(system):
            stem, suffix = os.path.splitext(name)
            name = f"{stem}.{os.urandom(4).hex()}{suffix}"
        self.s3.put_object(Bucket=self.bucket, Key=f"{system}/{name}", Body=content)
        return name

    def pending(self, system: str) -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{system}/", Delimiter="/"
        )
        names = [o["Key"].split("/", 1)[1] for page in pages for o in page.get("Contents", [])]
        return sorted(n for n in names if n and not n.startswith("."))

    def read(self, system: str, name: str) -> bytes:
        return bytes(self.s3.get_object(Bucket=self.bucket, Key=f"{system}/{name}")["Body"].read())

    def finish(self, system: str, name: str, report: Report, dead_letters: list[BadLine]) -> str:
        target = f"{system}/{REFUSED if report.status == 'refused' else DONE}/{report.file_id[-8:]}-{name}"
        body = json.dumps(report.as_json(), ensure_ascii=False, indent=1).encode()
        self.s3.put_object(Bucket=self.bucket, Key=f"{target}.report.json", Body=body)
        if dead_letters:
            self.s3.put_object(
                Bucket=self.bucket, Key=f"{target}.dead-letters.jsonl", Body=_jsonl(dead_letters, name, system)
            )
        self.s3.copy_object(
            Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": f"{system}/{name}"}
        )
        self.s3.delete_object(Bucket=self.bucket, Key=f"{system}/{name}")
        return f"s3://{self.bucket}/{target}"


def one_pass(inbox: Inbox, systems: list[str] | None = None) -> list[Report]:
    """Load every file waiting; the broker unavailable stops the pass (the file stays for the next)."""
    from functions.intake import job
    from functions.intake.bootstrap import ports

    done: list[Report] = []
    for system in systems or sorted(layouts()):
        for name in inbox.pending(system):
            try:
                outcome = job.run(system, name, inbox.read(system, name), ports())
            except IntakeBrokerUnavailableError as exc:
                get_logger().warning(
                    "intake pass stopped: the file stays in the inbox", extra={"file": name, "reason": exc.detail}
                )
                return done
            where = inbox.finish(system, name, outcome.report, outcome.dead_letters)
            r = outcome.report
            get_logger().info(
                f"intake {system} {name}: {r.status}",
                extra={
                    "file_id": r.file_id,
                    "loaded": r.loaded,
                    "unchanged": r.unchanged,
                    "refused": r.refused,
                    "reason": r.reason,
                    "moved_to": where,
                },
            )
            done.append(r)
    return done


def run_forever(stop: threading.Event, every: float | None = None, systems: list[str] | None = None) -> None:
    """A pass every ``every`` seconds (``PIC_INTAKE_SECONDS``); with ``PIC_INTAKE_QUEUE_URL`` (the cloud), a pass as
    soon as the bucket's object-created notification arrives on the system's queue, the period a safety net."""
    from functions.intake.bootstrap import inbox

    every = every if every is not None else float(os.environ.get("PIC_INTAKE_SECONDS", "2"))
    queue = os.environ.get("PIC_INTAKE_QUEUE_URL")
    if queue:
        wake = QueueWake(queue)
        loop_every = 0.0

        def one() -> None:
            wake.wait(stop, every)
            one_pass(inbox(), systems)
    else:
        loop_every = every

        def one() -> None:
            one_pass(inbox(), systems)

    periodic.run_forever(stop, one, every=loop_every, heartbeat_env="PIC_INTAKE_HEARTBEAT", what="intake inbox")


class QueueWake:
    """Waits for S3's object-created notifications on an SQS queue (long polling, 20 s at most per call); the
    messages are only wake-ups (the pass lists the prefix), so they are deleted once received."""

    def __init__(self, queue_url: str, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("sqs")
        self.sqs, self.url = client, queue_url

    def wait(self, stop: threading.Event, seconds: float) -> None:
        waited = 0.0
        while not stop.is_set() and waited < seconds:
            wait = int(min(20.0, max(1.0, seconds - waited)))
            got = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=wait)
            messages = got.get("Messages", [])
            for message in messages:
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
            if messages:
                return
            waited += wait


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m functions.intake.inbox", description=__doc__.split("\n\n")[0])
    parser.add_argument("--once", action="store_true", help="one pass, then exit")
    parser.add_argument("--system", action="append", help="only this system's files (repeatable)")
    args = parser.parse_args(argv)
    if args.once:
        from functions.intake.bootstrap import inbox
        from functions.intake.job import print_report

        for report in one_pass(inbox(), args.system):
            print_report(report)
        return 0
    return periodic.until_interrupted(lambda stop: run_forever(stop, systems=args.system))


if __name__ == "__main__":
    sys.exit(main())
