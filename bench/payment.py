"""Fines and taxes in process (PAY, issue 14): what pricing a debt costs, and a person's 50 debts.

``policies/payment`` prices every debt when ``GET /v1/citizens/{id}/debts`` is asked (what is due changes
with the day, so nothing is stored priced). Timed on the real engine over this checkout's policies: one
decision per debt for a mix of the four regimes (a traffic fine in and after its window, an administrative
sanction with its reductions, a receipt in its voluntary period and in the executive period), each input new
(the engine runs: a different fine id each time) and seen before (the memo); then the whole use case for a
person with 50 debts on the in-memory store (the handler, the policy with its decision log lines written to
/dev/null, and the view: the ceiling one core gives, without the store's calls, which ``docs/benchmarks.md``
counts apart: one Query and the access record). ``python -m bench.payment [N]`` prints and records the
figures; ``make bench`` runs it too.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.cpu import decision_log_discarded
from bench.stats import record_section, timed
from events.payment import FineIssued, TaxReceiptIssued
from functions.core.policy import EmbeddedPolicy, PolicyBundle
from functions.payment import handlers, service
from functions.payment.handlers import PaymentPorts
from tests.unit.payment.fakes import TEST_GATEWAY, FakePaymentStore, FakeRefunds

TITLE = "## Fines and taxes in process (PAY)"
N = 20_000
NOW = datetime(2026, 5, 10, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


class _Clock:
    def now(self) -> datetime:
        return NOW


def debts(i: int) -> list[service.Debt]:
    """Four debts of the four regimes, their ids made new by ``i``."""
    fine: dict[str, Any] = {
        "citizen_id": "c-bench",
        "infraction": {"article": "RGC art. 94.2.e", "description": "Estacionar en carga y descarga"},
        "severity": "grave",
        "amount_cents": 20000,
    }
    issued: list[FineIssued | TaxReceiptIssued] = [
        FineIssued.model_validate({**fine, "fine_id": f"T-{i}", "regime": "traffic", "notified_at": NOW - DAY * 5}),
        FineIssued.model_validate({**fine, "fine_id": f"L-{i}", "regime": "traffic", "notified_at": NOW - DAY * 40}),
        FineIssued.model_validate({**fine, "fine_id": f"A-{i}", "regime": "administrative", "notified_at": NOW,
                                   "early_payment": [{"ground": "recognition", "percent": 20}]}),
        TaxReceiptIssued.model_validate({"receipt_id": f"R-{i}", "citizen_id": "c-bench", "tax": "IVTM",
                                         "object": {"kind": "plate", "reference": "1234KLM"}, "period": "2026",
                                         "amount_cents": 9875, "voluntary_period": {"start": date(2026, 3, 1),
                                                                                    "end": date(2026, 4, 30)}}),
    ]  # fmt: skip
    return [d for d in (service.prepare(x, "/legacy/bench", None, NOW) for x in issued) if d is not None]


def run(n: int = N) -> list[tuple[str, float, float]]:
    policy = EmbeddedPolicy(PolicyBundle.load(Path("policies")))
    mixes = [debts(i) for i in range(n)]
    inputs = [service.pricing_input(d, NOW) for mix in mixes for d in mix]
    fifty = [d for i in range(13) for d in debts(10_000_000 + i)][:50]
    ports = PaymentPorts(
        store=FakePaymentStore(debts={d.id: d for d in fifty}),
        policy=policy,
        clock=_Clock(),
        gateway=TEST_GATEWAY,
        refunds=FakeRefunds(),
    )
    return [
        ("a debt priced, the engine evaluating (a new input each time)",
         *timed(lambda i: policy.evaluate_uncached(service.POLICY, inputs[i]), n)),
        ("a debt priced again (the memo: the same debt, the same instant)",
         *timed(lambda i: policy.decide(service.POLICY, inputs[i % 4]), n)),
        ("a person's 50 debts priced and shown (the use case, in-memory store)",
         *timed(lambda i: handlers.citizen_debts("c-bench", ports), max(n // 50, 200))),
    ]  # fmt: skip


def section(rows: list[tuple[str, float, float]], n: int) -> str:
    lines = "\n".join(f"| {name} | {p50:.1f} | {p99:.1f} | {1e6 / p50:,.0f} |" for name, p50, p99 in rows)
    return f"""{TITLE}

Recorded {datetime.now(UTC):%Y-%m-%d}, {n:,} decisions per row (`bench/payment.py`). `policies/payment` prices
each debt when a person's debts are read (what is due changes with the day, so no price is stored): the
traffic fine's 50 % window, an administrative sanction's stated reductions and a receipt's voluntary or
executive period, on the real engine in process. The last row is the whole read for a person with 50 debts,
store calls apart (one Query and the access record, "Store calls per operation").

| operation | p50 µs | p99 µs | per second on one core (1 / p50) |
|---|---|---|---|
{lines}
"""


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else N
    with decision_log_discarded():  # the decision log as production writes it, into /dev/null
        rows = run(n)
    for name, p50, p99 in rows:
        print(f"{name:72s} p50 {p50:9.1f} µs  p99 {p99:9.1f} µs")
    record_section(TITLE, section(rows, n))


if __name__ == "__main__":
    main(sys.argv[1:])
