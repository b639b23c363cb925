"""``python -m functions.cdc run|snapshot|status``: Licencias' change data capture (ADR 0033).

``run`` creates the slot if it is missing (and then publishes a snapshot of the tables: the initial load), and
publishes every committed change as it comes, confirming the slot's position after the broker accepted it. It
stops on SIGTERM/SIGINT after the event in flight; it exits 2 with the reason when a person must act (a table
changed under the mapping, a sender the broker does not admit, a source not set up), leaving the slot where it
was. ``snapshot`` publishes every row as it stands (safe to repeat: the same rows are the same events). ``status``
prints the slot's confirmed position and lag.

Configuration (the cluster's Deployment ``pic-cdc-licencias`` sets it; ``make run``'s part ``cdc`` too):
``PIC_CDC_DSN`` (a libpq connection string of the capture's role, from a Secret), ``PIC_CDC_SLOT``
(``pic_licencias``), ``PIC_CDC_PUBLICATION`` (``pic_cdc``), ``K_SINK`` (the broker), ``PIC_SENDER_TOKEN_FILE``
(legacy-licencias' token), ``PIC_CDC_STATUS_FILE`` (optional: the state, counters and lag as JSON, for probes and
``/dev/cdc``), ``PIC_CDC_BATCH`` (changes read per pass, 1000), ``PIC_CDC_IDLE_SECONDS`` (the pause after a pass
that found nothing, 0.5: the lag at rest).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

import psycopg

from functions.cdc import licencias
from functions.cdc.capture import Capture
from functions.cdc.changes import CaptureError
from functions.cdc.postgres import PostgresSource
from functions.cdc.publish import BrokerPublisher
from functions.core.relay import TokenFile

PROG = "python -m functions.cdc"
log = logging.getLogger("pic.cdc")


def source_from_env() -> PostgresSource:
    return PostgresSource(
        os.environ["PIC_CDC_DSN"],
        os.environ.get("PIC_CDC_SLOT", "pic_licencias"),
        os.environ.get("PIC_CDC_PUBLICATION", "pic_cdc"),
    )


def capture_from_env(source: PostgresSource, stop: threading.Event) -> Capture:
    publisher = BrokerPublisher(os.environ["K_SINK"], TokenFile(Path(os.environ["PIC_SENDER_TOKEN_FILE"])))
    return Capture(
        source,
        publisher,
        licencias.TABLES,
        licencias.events_for,
        licencias.problem,
        batch=int(os.environ.get("PIC_CDC_BATCH", "1000")),
        sleep=stop.wait,
    )


class Status:
    """The capture's state as a JSON file (written at most once a second while running): probes, ``/dev/cdc``."""

    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None
        self.written = 0.0

    def write(self, state: str, capture: Capture | None = None, source: PostgresSource | None = None,
              reason: str = "", force: bool = False) -> None:  # fmt: skip
        if self.path is None or (not force and time.monotonic() - self.written < 1.0):
            return
        status: dict[str, object] = {"state": state, "reason": reason, "at": time.time()}
        if capture is not None:
            status["counters"] = asdict(capture.counters)
        if source is not None:
            with contextlib.suppress(psycopg.Error):
                status |= source.position()
        tmp = self.path.with_suffix(".tmp")
        tmp.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(status, default=str), encoding="utf-8")
        tmp.replace(self.path)
        self.written = time.monotonic()


def run(stop: threading.Event, status: Status, once: bool = False) -> None:
    """Capture until ``stop`` (or one pass); raises ``CaptureError`` when a person must act."""
    source = source_from_env()
    capture = capture_from_env(source, stop)
    pause = 0.5
    while not stop.is_set():
        try:
            source.check()
            if source.ensure_slot():
                loaded = capture.publish_snapshot(source.snapshot(licencias.TABLES))
                log.info("slot %s created; initial snapshot: %d rows published", source.slot, loaded)
            status.write("running", capture, source, force=True)
            while not stop.is_set():
                changes = capture.step()
                status.write("running", capture, source)
                if once:
                    return
                if not changes and stop.wait(float(os.environ.get("PIC_CDC_IDLE_SECONDS", "0.5"))):
                    break
                pause = 0.5
        except psycopg.OperationalError as exc:  # the database restarting or unreachable: connect again
            log.warning("source unavailable (%s); again in %.1fs", str(exc).strip(), pause)
            status.write("waiting", capture, None, reason=str(exc).strip(), force=True)
            source.close()
            if stop.wait(pause):
                break
            pause = min(pause * 2, 10.0)
    status.write("stopped", capture, source, force=True)
    source.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    runner = commands.add_parser("run", help="capture and publish until stopped")
    runner.add_argument("--once", action="store_true", help="one batch, then exit")
    commands.add_parser("snapshot", help="publish every row as it stands (the initial load, again)")
    commands.add_parser("status", help="the slot's confirmed position and lag")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    status = Status(os.environ.get("PIC_CDC_STATUS_FILE"))
    try:
        if args.command == "status":
            print(json.dumps(source_from_env().position()))
        elif args.command == "snapshot":
            source = source_from_env()
            print(
                f"published {capture_from_env(source, stop).publish_snapshot(source.snapshot(licencias.TABLES))} rows"
            )
        else:
            run(stop, status, once=args.once)
    except CaptureError as exc:
        status.write("halted", reason=str(exc), force=True)
        print(f"{PROG}: stopped: {exc}", file=sys.stderr)
        termination = Path("/dev/termination-log")  # Kubernetes shows it as the container's last state
        if termination.is_file():
            termination.write_text(str(exc)[:4000], encoding="utf-8")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
