"""The release of delayed survey invitations: ``python -m functions.survey.release``.

A trigger with ``delay_minutes`` (a CSAT survey a day after the case closed) files the invitation under its due
instant (index ``by-due``); this poller reads what is due by now and runs ``handlers.release_due``: each pending
invitation leaves the due list and its ``notification.batch.requested`` leaves through the outbox in one unit of
work, so two passes at once send it once (the second loses its race on the pending item). Runs as the
``pic-survey-release`` Deployment (one replica); ``--once`` for one pass.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading

from functions.core import periodic
from functions.core.errors import LostRaceError
from functions.survey import handlers
from functions.survey.bootstrap import ports
from functions.survey.handlers import SurveyPorts


def release(p: SurveyPorts) -> int:
    """One pass: every invitation due by now, a page at a time; answers how many were sent (or dropped)."""
    released = 0
    while True:
        units = handlers.release_due(p)
        for unit in units:
            try:
                unit.commit()
                released += 1
            except LostRaceError:  # another pass released it first
                continue
        if len(units) < handlers.RELEASE_PAGE:
            return released


def run_forever(stop: threading.Event, every: float | None = None) -> None:
    every = every if every is not None else float(os.environ.get("PIC_SURVEY_RELEASE_SECONDS", "30"))
    periodic.run_forever(stop, lambda: release(ports()), every=every, heartbeat_env="PIC_RELEASE_HEARTBEAT",
                         what="survey release")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m functions.survey.release", description=__doc__)
    parser.add_argument("--once", action="store_true", help="one pass, then exit")
    if parser.parse_args(argv).once:
        print(f"released {release(ports())} survey invitation(s)")
        return 0
    return periodic.until_interrupted(run_forever)


if __name__ == "__main__":
    sys.exit(main())
