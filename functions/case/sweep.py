"""The SLA sweep: ``python -m functions.case.sweep``.

Every write of a case computes when its SLA clocks next need a look (the soonest warning share or due time of a
running clock, on the area's business calendar) and files the case under it (index ``by-sla``). This poller
reads what is due by now, shard by shard, and runs ``handlers.sweep_case`` on each: the clocks recomputed from the
case's history, each warning or breach raised once (``es.madrid.pic.case.sla.warning.v1`` /
``...breached.v1``, through the outbox), an escalation when the category asks for it, and the next look. A
case changed meanwhile loses its race and is decided again on what the writer left.

Runs as the ``pic-case-sweep`` Deployment (one replica) and, locally, in ``make run``'s process.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable
from datetime import datetime

from functions.case import handlers
from functions.case.bootstrap import ports
from functions.case.handlers import CasePorts
from functions.core import periodic
from functions.core.retry import retry_on_conflict

BATCH = 200


def sweep(p: CasePorts, now: datetime) -> int:
    """One pass: every case due by ``now`` (``BATCH`` at a time); answers how many were looked at."""
    looked = 0
    while True:
        due = p.store.fetch_due(now, BATCH)
        for case in due:
            retry_on_conflict(_one(case.id, p), what=f"sweep {case.id}")
        looked += len(due)
        if len(due) < BATCH:
            return looked


def _one(case_id: str, p: CasePorts) -> Callable[[], None]:
    def attempt() -> None:
        handlers.sweep_case(case_id, p, None).commit()

    return attempt


def run_forever(stop: threading.Event, every: float | None = None) -> None:
    """Poll until ``stop``; after each good pass touch ``PIC_SWEEP_HEARTBEAT`` (if set) for the probes."""
    every = every if every is not None else float(os.environ.get("PIC_CASE_SWEEP_SECONDS", "5"))
    periodic.run_forever(
        stop, lambda: sweep(ports(), ports().clock.now()), every=every, heartbeat_env="PIC_SWEEP_HEARTBEAT",
        what="case sweep",
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m functions.case.sweep", description=__doc__)
    parser.add_argument("--once", action="store_true", help="one pass, then exit")
    args = parser.parse_args(argv)
    if args.once:
        print(f"looked at {sweep(ports(), ports().clock.now())} case(s)")
        return 0
    return periodic.until_interrupted(run_forever)


if __name__ == "__main__":
    sys.exit(main())
