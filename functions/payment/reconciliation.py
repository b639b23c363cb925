"""The daily reconciliation export: every movement of money PIC settled on a day, for the council's accounting.

Each settled movement is a ledger entry written in the unit that settles it (a payment's success, a refund's
success), keyed by what caused it so that a retried unit writes it once: ``charge`` (card, Bizum or a bank's
collection of a payment letter) and ``refund``. The day is the local day in Europe/Madrid. Entries carry no
person: the debts' references and the gateway's codes are what accounting matches against the bank's
statement and the area systems.

Two formats of the same entries:

- CSV (RFC 4180, UTF-8, a header row): what a person opens or any tool imports;
- a fixed-width posting file (``posting_file``), the shape an SAP (or other treasury, TRM) batch import reads
  without a parser of its own: 120-character lines, a header, one line per entry, a trailer with the count
  and the signed sum; positions and meanings in ``POSTING_LAYOUT`` and the README. It is PIC's layout: the
  import program on the accounting side is configured to it (an LSMW/SAP Data Services mapping), as it would be
  for any bank file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from functions.core import csvfile
from functions.core.clock import MADRID
from functions.payment.payments import Payment, Refund

Kind = Literal["charge", "refund"]
CSV_COLUMNS = ("day", "kind", "entry_id", "payment_id", "method", "order", "amount_cents", "amount_eur", "debts",
               "stages", "gateway_code", "settled_at")  # fmt: skip
POSTING_WIDTH = 120
# (name, first position, last position, content): the posting file's detail line, positions 1-based
POSTING_LAYOUT = (
    ("record", 1, 1, "D (detail); H header, T trailer"),
    ("day", 2, 9, "settlement day, AAAAMMDD (Europe/Madrid)"),
    ("kind", 10, 10, "C a charge (money in), R a refund (money out)"),
    ("method", 11, 11, "T card, B Bizum, E a bank's collection of a payment letter (entidad colaboradora)"),
    ("sign", 12, 12, "+ or -"),
    ("amount", 13, 25, "cents, 13 digits, zero-padded"),
    ("currency", 26, 28, "EUR"),
    ("order", 29, 40, "the Redsys order, or the letter's referencia, left-aligned"),
    ("gateway_code", 41, 46, "the authorisation code (a charge) or Redsys's Ds_Response (a refund)"),
    ("payment_id", 47, 82, "PIC's payment id, left-aligned"),
    ("debt", 83, 120, "the first debt's id (a payment of several debts has one line per debt)"),
)
METHOD_CODES = {"card": "T", "bizum": "B", "bank": "E"}


@dataclass(frozen=True)
class Entry:
    """One settled movement of money for one debt."""

    id: str
    day: date
    kind: Kind
    payment_id: str
    method: str
    order: str
    amount_cents: int
    debt_id: str
    stage: str
    gateway_code: str
    settled_at: datetime


def local_day(at: datetime) -> date:
    return at.astimezone(MADRID).date()


def charge_entries(payment: Payment) -> list[Entry]:
    """A successful payment's money in, one entry per debt charged (a debt paid meanwhile by another payment is
    still money in: its refund is a later entry)."""
    assert payment.finished_at is not None
    return [
        Entry(
            f"entry-{payment.id}-c{n}",
            local_day(payment.finished_at),
            "charge",
            payment.id,
            payment.method,
            payment.order,
            charge.amount_cents,
            charge.debt_id,
            charge.stage,
            payment.authorisation_code,
            payment.finished_at,
        )
        for n, charge in enumerate(payment.charges)
    ]


def refund_entry(payment: Payment, refund: Refund) -> Entry:
    """A refund the gateway made: money out, against the payment's first debt (a refund is of the payment)."""
    assert refund.finished_at is not None
    return Entry(f"entry-{payment.id}-{refund.id}", local_day(refund.finished_at), "refund", payment.id,
                 payment.method, payment.order, refund.amount_cents, payment.charges[0].debt_id, "refund",
                 refund.gateway_code, refund.finished_at)  # fmt: skip


def to_csv(entries: list[Entry]) -> str:
    """The entries as CSV through the kernel's writer (no cell a spreadsheet would run), refunds negative."""
    rows = []
    for e in entries:
        signed = e.amount_cents if e.kind == "charge" else -e.amount_cents
        values = (e.day.isoformat(), e.kind, e.id, e.payment_id, e.method, e.order, signed, f"{signed / 100:.2f}",
                  e.debt_id, e.stage, e.gateway_code, e.settled_at.isoformat())  # fmt: skip
        rows.append(dict(zip(CSV_COLUMNS, values, strict=True)))
    return csvfile.to_csv(rows, CSV_COLUMNS)


def posting_file(day: date, entries: list[Entry]) -> str:
    """The fixed-width posting file of ``day``: H, one D per entry, T with the count and the signed sum."""
    lines = [f"H{day:%Y%m%d}PIC-PAY".ljust(POSTING_WIDTH)]
    total = 0
    for e in entries:
        sign = "+" if e.kind == "charge" else "-"
        total += e.amount_cents if e.kind == "charge" else -e.amount_cents
        line = (f"D{e.day:%Y%m%d}{'C' if e.kind == 'charge' else 'R'}{METHOD_CODES.get(e.method, 'T')}{sign}"
                f"{e.amount_cents:013d}EUR{e.order[:12]:<12}{e.gateway_code[:6]:<6}{e.payment_id[:36]:<36}"
                f"{e.debt_id[:38]:<38}")  # fmt: skip
        lines.append(line.ljust(POSTING_WIDTH))
    trailer = f"T{len(entries):09d}{'+' if total >= 0 else '-'}{abs(total):015d}"
    lines.append(trailer.ljust(POSTING_WIDTH))
    return "".join(line + "\r\n" for line in lines)
