"""The daily snapshot: ``python -m functions.lake.snapshot [--day YYYY-MM-DD]``.

For each table with a snapshot in ``data/exports.json`` (cases → ``cases_current``), the current state of each
key as of the day (its latest row by the table's order, e.g. a case's highest version), written as partition
``snapshot_date=<day>`` (a rerun replaces it), then the catalogue. Default day: yesterday (UTC), the last whole
day. Runs as the ``pic-lake-snapshot`` CronJob at 02:30 Europe/Madrid; erasures reach the snapshots too.
"""

from __future__ import annotations

import argparse
import json
import sys

from functions.lake import handlers
from functions.lake.bootstrap import ports
from functions.lake.flusher import holder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m functions.lake.snapshot", description=__doc__)
    parser.add_argument("--day", help="the snapshot's date (YYYY-MM-DD); default yesterday")
    args = parser.parse_args(argv)
    print(json.dumps(handlers.snapshot(ports(), holder(), args.day)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
