"""The columnar export: ``python -m functions.campaign.export``.

Scans the audience projection (a parallel Scan) to a Parquet file in the domain's object store
(``audience.parquet``: ``.pic-data/campaign/`` locally, S3 with ``PIC_CAMPAIGN_BUCKET``), which segments are
counted and built on (DuckDB here; the same SQL on the data platform's engine at scale, ADR 0024). The count
route writes it again by itself when it is older than a minute.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta

from functions.campaign import handlers
from functions.campaign.bootstrap import ports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m functions.campaign.export", description=__doc__)
    parser.parse_args(argv)
    started = time.perf_counter()
    path, watermark = handlers.ensure_export(ports(), timedelta(0))
    took = time.perf_counter() - started
    print(f"exported the audience to {path} (watermark {watermark.isoformat()}) in {took:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
