"""Flag evaluation in process (FLAG, issue 13): what deciding a micro-app's flag costs a request.

Three layers, each timed on the catalogue's snapshot (``functions/flags/catalogue.json``) with one flag
rolled out to a share of citizens: ``decide`` alone (the rules), the provider's resolution (a dictionary
read and, for a share, one SHA-256), and ``functions.core.flags.enabled`` — the OpenFeature SDK's client, the
way the kernel's route gate and the web channel call it (hooks, context merge, the provider). A citizen per
evaluation, so the share's hash is computed every time. ``python -m bench.flags [N]`` prints the figures and
records them in ``docs/benchmarks.md``; ``make bench`` runs it too.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from openfeature import api

from bench.stats import record_section, timed
from functions.core import flags
from functions.core.flags import CitizenContext, Rule, Snapshot, SnapshotProvider, Snapshots, decide
from functions.core.settings import get_settings

TITLE = "## Flag evaluation in process (FLAG)"
N = 20_000
ROLLOUT = Rule(True, frozenset({"01", "05"}), 30)


def run(n: int = N) -> list[tuple[str, float, float]]:
    catalogue = flags.load_catalogue(get_settings().flags_catalogue)
    snapshot = Snapshot.from_body(
        flags.snapshot_body(catalogue, {"pay": ({"enabled": True, "districts": ["01", "05"], "percentage": 30}, 1)})
    )
    provider = SnapshotProvider(Snapshots(snapshot))
    api.set_provider(provider, domain="bench-flags")
    client = api.get_client(domain="bench-flags")
    contexts = [CitizenContext(f"c-{i:06d}", "01") for i in range(n)]
    evaluations = [c.evaluation_context() for c in contexts]
    rows = [
        (
            "rules alone (`decide`), a 30 % rollout in two districts",
            *timed(lambda i: decide("pay", ROLLOUT, contexts[i].citizen_id, "01"), n),
        ),
        (
            "provider resolution, a flag on for everyone",
            *timed(lambda i: provider.resolve_boolean_details("inbox", False, evaluations[i]), n),
        ),
        (
            "provider resolution, the rollout",
            *timed(lambda i: provider.resolve_boolean_details("pay", False, evaluations[i]), n),
        ),
        (
            "OpenFeature client (`enabled`), a flag on for everyone",
            *timed(lambda i: client.get_boolean_value("inbox", False, evaluations[i]), n),
        ),
        (
            "OpenFeature client (`enabled`), the rollout",
            *timed(lambda i: client.get_boolean_value("pay", False, evaluations[i]), n),
        ),
    ]
    return rows  # the bench's own OpenFeature domain: the process's "pic" provider is left as it was


def section(rows: list[tuple[str, float, float]], n: int) -> str:
    lines = "\n".join(f"| {name} | {p50:.1f} | {p99:.1f} |" for name, p50, p99 in rows)
    return f"""{TITLE}

Recorded {datetime.now(UTC):%Y-%m-%d}, {n:,} evaluations per row, one citizen each (`bench/flags.py`). What deciding
a micro-app's flag costs a request, in process: the kernel's route gate (`Route(app=...)`) and the web channel
call `functions.core.flags.enabled`, the OpenFeature SDK's client over the kernel's provider; the snapshot is
polled in the background (`If-None-Match`), never on a request's path.

| evaluation | p50 µs | p99 µs |
|---|---|---|
{lines}
"""


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else N
    rows = run(n)
    for name, p50, p99 in rows:
        print(f"{name:70s} p50 {p50:7.1f} µs  p99 {p99:7.1f} µs")
    record_section(TITLE, section(rows, n))


if __name__ == "__main__":
    main(sys.argv[1:])
