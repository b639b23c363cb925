"""The routing sweep: ``python -m functions.routing.sweep``.

Every write of a contact files when it next needs a look (index ``by-next``): an offer's expiry, or the end of the
routing step in force. This poller reads what is due by now, shard by shard, and runs ``handlers.sweep_contact``
on each: an offer not accepted in time times out (``es.madrid.pic.contact.timed-out.v1``; its agent is set away)
and goes to the next agent; an expired step lowers the bar, or the queue's fallback applies (another queue, a
callback, a case). A contact changed meanwhile (accepted, abandoned) loses its race and is decided again on what
the writer left: nothing to do.

Runs as the ``pic-routing-sweep`` Deployment (one replica) and, locally, in ``make run``'s ``routing-sweep`` part.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable
from datetime import datetime

from functions.core import periodic
from functions.core.errors import PicError
from functions.core.retry import retry_on_conflict
from functions.routing import handlers
from functions.routing.bootstrap import ports
from functions.routing.handlers import RoutingPorts

BATCH = 200


def sweep(p: RoutingPorts, now: datetime) -> int:
    """One pass: every contact due by ``now`` (``BATCH`` at a time); answers how many were looked at."""
    looked = 0
    seen: set[str] = set()
    while True:
        due = [c for c in p.store.fetch_due(now, BATCH) if c.id not in seen]
        for contact in due:
            seen.add(contact.id)
            try:
                retry_on_conflict(_one(contact.id, p), what=f"sweep {contact.id}")
            except PicError as exc:  # one contact's refusal (its queue gone) must not stop the others' offers
                print(f"routing sweep: {contact.id}: {exc.slug}: {exc.detail}", file=sys.stderr)
        looked += len(due)
        if len(due) < BATCH:
            return looked


def _one(contact_id: str, p: RoutingPorts) -> Callable[[], None]:
    def attempt() -> None:
        handlers.sweep_contact(contact_id, p, None).commit()

    return attempt


def run_forever(stop: threading.Event, every: float | None = None) -> None:
    """Poll until ``stop``; after each good pass touch ``PIC_SWEEP_HEARTBEAT`` (if set) for the probes."""
    every = every if every is not None else float(os.environ.get("PIC_ROUTING_SWEEP_SECONDS", "1"))
    periodic.run_forever(
        stop, lambda: sweep(ports(), ports().clock.now()), every=every, heartbeat_env="PIC_SWEEP_HEARTBEAT",
        what="routing sweep",
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m functions.routing.sweep", description=__doc__)
    parser.add_argument("--once", action="store_true", help="one pass, then exit")
    args = parser.parse_args(argv)
    if args.once:
        print(f"looked at {sweep(ports(), ports().clock.now())} contact(s)")
        return 0
    return periodic.until_interrupted(run_forever)


if __name__ == "__main__":
    sys.exit(main())
