"""The flusher: ``python -m functions.lake.flusher``.

Every ``PIC_LAKE_FLUSH_SECONDS`` (default 10 s, in ``make run`` too: an idle pass is 11 store calls) a pass
commits the staged rows to their Delta tables as Parquet files (a merge on the event key: exactly once), applies
the pending erasures (rows deleted, old files vacuumed) and writes the data catalogue beside the tables
(``handlers.flush``). A pass takes at most ``FLUSH_BATCH`` rows; a busy stream is drained by the next passes at once.

Runs as the ``pic-lake-flusher`` Deployment (one replica; the store's lease keeps a second one, or the flush
route, from writing at the same time) and, locally, as ``make run``'s part ``lake-flusher``; ``--once`` makes
one pass.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import threading

from functions.core import periodic
from functions.lake import handlers
from functions.lake.bootstrap import ports
from functions.lake.handlers import LakePorts
from functions.lake.service import FlushBusyError


def drain(p: LakePorts, holder: str) -> handlers.FlushReport:
    """Passes until the stage holds less than a batch; a pass another writer holds is skipped (next time)."""
    total = handlers.FlushReport()
    while True:
        try:
            report = handlers.flush(p, holder)
        except FlushBusyError:
            return total
        total = handlers.FlushReport(
            total.staged + report.staged,
            {t: total.inserted.get(t, 0) + report.inserted.get(t, 0) for t in {*total.inserted, *report.inserted}},
            total.held_back + report.held_back,
            {t: total.erased.get(t, 0) + report.erased.get(t, 0) for t in {*total.erased, *report.erased}},
            total.erasures + report.erasures,
        )
        if report.staged < handlers.FLUSH_BATCH:
            return total


def holder() -> str:
    return f"flusher-{socket.gethostname()}-{os.getpid()}"


def run_forever(stop: threading.Event, every: float | None = None) -> None:
    """Flush until ``stop``; after each good pass touch ``PIC_LAKE_FLUSHER_HEARTBEAT`` (if set) for the probes."""
    every = every if every is not None else float(os.environ.get("PIC_LAKE_FLUSH_SECONDS", "10"))
    periodic.run_forever(stop, lambda: drain(ports(), holder()), every=every,
                         heartbeat_env="PIC_LAKE_FLUSHER_HEARTBEAT", what="lake flusher")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m functions.lake.flusher", description=__doc__)
    parser.add_argument("--once", action="store_true", help="drain the stage once, then exit")
    args = parser.parse_args(argv)
    if args.once:
        print(json.dumps(drain(ports(), holder()).as_json()))
        return 0
    return periodic.until_interrupted(run_forever)


if __name__ == "__main__":
    sys.exit(main())
