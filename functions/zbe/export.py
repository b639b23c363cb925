"""The cameras' plate list as a file: ``python -m functions.zbe.export --reader <who> --purpose <why> [--out F]``.

For an access-control system that takes a file rather than calling ``GET /v1/zbe/plates`` (the same rows, the
same order): RFC 4180 CSV in UTF-8 with a header row, CRLF line ends, columns ``plate,zone,category,valid_from,
valid_until`` (see ``functions/zbe/README.md``, "The plate list"). Only the authorisations in force today (Madrid's
day). A plate is personal data (it identifies the vehicle's holder through the DGT register): the file carries the
least that lets a camera tell an authorised vehicle (no person, no label, no reason; RGPD art. 5.1.c), and every
export is recorded in the access log as one read of the list (who, for what purpose, how many plates), as the API's
reads are. Written to a temporary file and renamed, so a camera never reads half a list; mode 0600.

It runs with the ``zbe`` table's read permission and the access log's append (an operator's or the export job's
role), against the store ``PIC_DYNAMODB_ENDPOINT`` and the settings name.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from functions.core import audit
from functions.core.auth import Subject
from functions.zbe import handlers
from functions.zbe.bootstrap import ports
from functions.zbe.main import PLATE_LIST, to_csv


def export(
    out: Path, reader: str, purpose: str, zbe_ports: handlers.ZbePorts | None = None,
    record_access: Callable[[Sequence[audit.AccessRecord]], None] = audit.append,
) -> int:  # fmt: skip
    """Write the plate list to ``out`` (atomically) and record the read; the number of plates written."""
    rows = handlers.plate_list(zbe_ports or ports())
    text = to_csv(rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    record = audit.access_record(
        Subject(reader, "system"), PLATE_LIST, "zbe-plates", function="pic-zbe-export", purpose=purpose,
        sections=["permits:full"], allowed=True, reasons=[f"plate list export: {len(rows)} plates to {out.name}"],
        at=datetime.now(UTC),
    )  # fmt: skip
    record_access([record])
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m functions.zbe.export", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("zbe-plates.csv"), help="the CSV file to write")
    parser.add_argument("--reader", required=True, help="who exports (recorded in the access log)")
    parser.add_argument("--purpose", required=True, help="why (recorded in the access log)")
    args = parser.parse_args(argv)
    count = export(args.out, args.reader, args.purpose)
    print(f"{count} plates written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
