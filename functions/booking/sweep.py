"""The holds sweep: ``python -m functions.booking.sweep``.

A paid place is held for its payment for ``hold_minutes`` (``policies/booking``). A hold that expired is released
lazily, by the next write of its slot (a booking, a cancellation, a payment); this poller releases the rest:
it reads the holds due by now (index ``by-hold``), settles each of their slots (``handlers.sweep_slot``: the
place released, ``booking.cancelled`` by ``hold-expired``, the first waiting promoted and told). A slot changed
meanwhile loses its race and is decided again on what the writer left.

Runs as the ``pic-booking-sweep`` Deployment (one replica, a pass every 30 s) and, locally, as ``make run``'s part
``booking-sweep``; ``--once`` makes one pass.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable

from functions.booking import handlers
from functions.booking.bootstrap import ports
from functions.booking.handlers import BookingPorts
from functions.core import periodic
from functions.core.retry import retry_on_conflict


def sweep(p: BookingPorts) -> int:
    """One pass: every slot with a hold due now (a batch at a time); answers how many slots were settled."""
    settled = 0
    while True:
        due = handlers.due_slots(p)
        for slot_id in due:
            retry_on_conflict(_one(slot_id, p), what=f"sweep {slot_id}")
        settled += len(due)
        if len(due) < handlers.SWEEP_BATCH:
            return settled


def _one(slot_id: str, p: BookingPorts) -> Callable[[], None]:
    def attempt() -> None:
        handlers.sweep_slot(slot_id, p).commit()

    return attempt


def run_forever(stop: threading.Event, every: float | None = None) -> None:
    """Poll until ``stop``; after each good pass touch ``PIC_BOOKING_SWEEP_HEARTBEAT`` (if set) for the probes."""
    every = every if every is not None else float(os.environ.get("PIC_BOOKING_SWEEP_SECONDS", "30"))
    periodic.run_forever(stop, lambda: sweep(ports()), every=every, heartbeat_env="PIC_BOOKING_SWEEP_HEARTBEAT",
                         what="booking holds sweep")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m functions.booking.sweep", description=__doc__)
    parser.add_argument("--once", action="store_true", help="one pass, then exit")
    args = parser.parse_args(argv)
    if args.once:
        print(f"settled {sweep(ports())} slot(s)")
        return 0
    return periodic.until_interrupted(run_forever)


if __name__ == "__main__":
    sys.exit(main())
