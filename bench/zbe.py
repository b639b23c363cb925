"""``python -m bench zbe``: ZBE authorisations (issue 18), in process — decisions per second through the handler with
the real policies, and the cameras' plate list for 100,000 authorisations.

- **Decisions**: what ``POST /v1/citizens/<id>/zbe/applications`` does past HTTP: the kernel's ``policies/authz``
  decision for ``zbe.apply`` (the REAL embedded engine, as ``bootstrap`` builds it), ``handlers.apply`` (the plate
  parsed, Movilidad's vehicle read, the person's applications read, ``policies/zbe`` decided, the application and its
  events staged: position, and for a final decision the decision, the notice and the wallet's grant) and the fake
  store's commit (``tests/unit/zbe``'s ``Ledger``). A mix of the three outcomes: residents granted at once, guests
  left for review, ECO cars refused as not needing one. Each operation is a new person.
- **Plate list**: ``handlers.plate_list`` (the granted applications, those in force today, sorted) and the CSV
  (``main.to_csv``, what ``GET /v1/zbe/plates`` with ``Accept: text/csv`` and ``python -m functions.zbe.export``
  write) over 100,000 granted authorisations in the fake store, of which 10% expired.
Figures per CPU second of the process (the machine is shared).
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta

from bench.cpu import decision_log_discarded
from bench.stats import Figure, record_section, recorded, table
from functions.core.auth import Subject
from functions.core.policy import Policy, get_policy
from functions.zbe import handlers, service
from functions.zbe.handlers import ZbePorts
from functions.zbe.main import to_csv
from functions.zbe.service import Vehicle
from tests.unit.fakes import FixedClock
from tests.unit.zbe.fakes import FakeZbeStore

TITLE = "## ZBE: authorisations decided and the cameras' plate list (issue 18)"
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
LETTERS = "BCDFGHJKLMNPRSTVWXYZ"
# (zone, category, label, the holder is the applicant, district): granted, reviewed, refused as not needed
MIX = (("distrito-centro", "residente", "B", True, "01"), ("distrito-centro", "invitado", "C", False, "05"),
       ("distrito-centro", "invitado", "ECO", False, "05"))  # fmt: skip


def plate(i: int) -> str:
    """The i-th plate of the national system (0000BBB), distinct for i below 80 million."""
    a, b, c = LETTERS[i // 4_000_000 % 20], LETTERS[i // 200_000 % 20], LETTERS[i // 10_000 % 20]
    return f"{i % 10_000:04d}{a}{b}{c}"


def _question(citizen: str) -> dict[str, object]:
    return {"subject": Subject(id=citizen, role="citizen").as_policy_input(), "action": "zbe.apply", "purpose": None,
            "resource": {"citizen_id": citizen}}  # fmt: skip


def decisions(policy: Policy, n: int) -> tuple[float, float, dict[str, int]]:
    """(applications decided per CPU second, mean ms, outcomes) of ``n`` applications, each a new person's."""
    store = FakeZbeStore()
    ports = ZbePorts(store, policy, FixedClock(NOW))
    cases = []
    for i in range(n + 30):
        zone, category, label, own, district = MIX[i % len(MIX)]
        citizen = f"c-bench-{i}"
        store.items[f"veh#{plate(i)}"] = Vehicle(plate(i), label, citizen if own else "c-other", district, NOW)
        store.ledger.versions[f"veh#{plate(i)}"] = 1
        cases.append(handlers.Apply(citizen, f"{plate(i)[:4]} {plate(i)[4:]}", zone, category))
    for cmd in cases[:30]:  # warm: policies compiled for this thread, code paths loaded
        store.commit(handlers.apply(cmd, ports, None).unit)
    outcomes: dict[str, int] = {}
    start = time.process_time()
    for cmd in cases[30:]:
        assert policy.decide("authz", _question(cmd.citizen_id)).allow
        staged = handlers.apply(cmd, ports, None)
        store.commit(staged.unit)
        outcomes[staged.result.state] = outcomes.get(staged.result.state, 0) + 1
    elapsed = time.process_time() - start
    return n / elapsed, elapsed / n * 1e3, outcomes


def _granted(n: int) -> FakeZbeStore:
    """``n`` granted authorisations: a year each, 10% of them expired yesterday."""
    store = FakeZbeStore()
    today = NOW.date()
    for i in range(n):
        expired = i % 10 == 0
        start = today - timedelta(days=400 if expired else 10)
        until = today - timedelta(days=1) if expired else start + timedelta(days=364)
        app = service.Application(
            f"zbe-{i:020x}", f"c-{i}", plate(i), "distrito-centro", "residente", "B", None, "granted", (), "", 365,
            NOW, NOW, "policy", None, start, until,
        )  # fmt: skip
        store.items[f"app#{app.id}"] = app
        store.ledger.versions[f"app#{app.id}"] = 1
    return store


def plate_list(n: int) -> tuple[float, float, int, int]:
    """(seconds for the list, seconds for its CSV, rows, CSV bytes) over ``n`` granted authorisations."""
    store = _granted(n)
    ports = ZbePorts(store, get_policy(), FixedClock(NOW))
    fetched = store.fetch_granted()
    store.fetch_granted = lambda: fetched  # type: ignore[method-assign]  # the store's read is DynamoDB's, not ours
    start = time.process_time()
    rows = handlers.plate_list(ports)
    listed = time.process_time() - start
    start = time.process_time()
    text = to_csv(rows)
    written = time.process_time() - start
    return listed, written, len(rows), len(text.encode())


def run(n: int = 2000, authorisations: int = 100_000) -> list[Figure]:
    policy = get_policy()
    with decision_log_discarded():  # decision log lines formatted and written as at INFO, into /dev/null
        rate, ms, outcomes = decisions(policy, n)
    listed, written, rows, size = plate_list(authorisations)
    mix = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
    return [
        Figure(f"applications decided (authz + plate + policies/zbe + handler + commit; {mix})",
               f"{rate:,.0f}/s ({ms:.2f} ms each)"),
        Figure(f"plate list of {authorisations:,} granted authorisations: in force today, sorted",
               f"{listed * 1e3:,.0f} ms ({rows:,} rows)"),
        Figure("… its CSV (RFC 4180), as the API and the export write it",
               f"{written * 1e3:,.0f} ms ({size / 1e6:.1f} MB)"),
    ]  # fmt: skip


NOTE = """\
In process on one core, per CPU second: the `policies/authz` decision and `policies/zbe` (embedded regorus), the
handler and the fake store's commit; not HTTP, JSON parsing, DynamoDB (per application one GetItem of the vehicle,
one Query of the person's applications and one TransactWriteItems: "Store calls per operation") nor the relay.
The plate list's figures exclude reading the granted applications from DynamoDB: one Query of the sparse index
`by-state`, paged at 1 MB, so about 60 pages for 100,000 items of ~600 bytes (expired grants included until a
sweep removes them, see `functions/zbe/README.md`). Source: `bench/zbe.py`."""


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 2000
    started = datetime.now(UTC)
    figures = run(n)
    for figure in figures:
        print(f"{figure.name}: {figure.value}", file=sys.stderr)
    body = f"{recorded(started, 'python -m bench zbe')}\n\n{table(figures)}\n{NOTE}\n"
    record_section(TITLE, f"{TITLE}\n\n{body}")


if __name__ == "__main__":
    main(sys.argv[1:])
