"""The daily reconciliation (``reconciliation``, ``handlers.reconciliation_export``) on in-memory fakes: every
settled movement is one ledger entry, written once in the unit that settled it, on its local day; the CSV and
the fixed-width posting file say the same, and the posting file's trailer adds up."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from itertools import pairwise

from functions.payment import handlers, reconciliation, redsys
from functions.payment.handlers import PaymentPorts
from tests.unit.fakes import FixedClock
from tests.unit.payment.fakes import FakePaymentStore, FakeRefunds
from tests.unit.payment.test_handlers import fine, issue, receipt
from tests.unit.payment.test_payment_handlers import APPROVED, notify, pay, word
from tests.unit.payment.test_refunds import ask


def test_a_day_s_charges_and_refunds_are_each_one_entry_and_both_formats_add_up(
    ports: PaymentPorts, store: FakePaymentStore, refunds: FakeRefunds, clock: FixedClock
) -> None:
    # GIVEN a fine and a receipt paid together by card at 23:30 UTC on 10 March: 00:30 on 11 March in Madrid
    clock.at = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
    issue(ports, store, fine())
    issue(ports, store, receipt())
    payment = pay(ports, store, "fine-MUL-2026-1", "receipt-IBI-2026-1")
    paid, _ = notify(ports, store, word(payment, APPROVED))
    notify(ports, store, word(payment, APPROVED))  # Redsys again: no second entry
    # AND 30 EUR of it refunded, and a refund the gateway refused
    store.commit(handlers.send_refund(ask(ports, store, paid, 3000, paid.amount_cents), ports, None))
    refunds.answer = redsys.RestAnswer(False, "SIS0057")
    store.commit(handlers.send_refund(ask(ports, store, paid, 1000, paid.amount_cents - 3000), ports, None))

    # WHEN 11 March's reconciliation is asked for
    day = date(2026, 3, 11)
    rows = list(csv.DictReader(io.StringIO(handlers.reconciliation_export(day, False, ports))))
    posting = handlers.reconciliation_export(day, True, ports).split("\r\n")[:-1]

    # THEN two charges (one per debt) and one refund, signed; nothing on 10 March
    assert sorted((r["kind"], int(r["amount_cents"])) for r in rows) == [("charge", 10000), ("charge", 45678),
                                                                      ("refund", -3000)]  # fmt: skip
    assert {r["order"] for r in rows} == {payment.order} and {r["payment_id"] for r in rows} == {payment.id}
    assert handlers.reconciliation_export(date(2026, 3, 10), False, ports).count("\r\n") == 1  # the header only
    # AND the posting file: every line 120 wide, H, three D, T with the count and the signed sum
    assert all(len(line) == reconciliation.POSTING_WIDTH for line in posting)
    assert [line[0] for line in posting] == ["H", "D", "D", "D", "T"]
    assert posting[-1].startswith(f"T{3:09d}+{10000 + 45678 - 3000:015d}")


def test_the_posting_layout_describes_every_column_once() -> None:
    # GIVEN the documented layout THEN its fields tile positions 1 to 120 without gap or overlap
    spans = [(start, end) for _, start, end, _ in reconciliation.POSTING_LAYOUT]
    assert spans[0][0] == 1 and spans[-1][1] == reconciliation.POSTING_WIDTH
    assert all(end + 1 == nxt for (_, end), (nxt, _) in pairwise(spans))
