"""The carta de pago: a debt paid at a bank's counter with the AEB's Cuaderno 60, modality 2
(``functions.payment.cuaderno60``).

A letter prints what is due today and until when (``policies/payment``'s figure and date: a traffic fine's
50 % until its twentieth day, a receipt's amount until its voluntary period ends), as the Cuaderno 60 fields
and their GS1-128 barcode. The bank collects it without asking PIC and refuses it after that day, which is why
an amount can be printed at all; after it, a new letter carries the new amount.

The referencia's 10 digits name the letter, not the debt directly (a debt id is not numeric): they are drawn
from a hash of the debt, the amount and the day, so the same letter is printed again and again, and PIC keeps
which debt each (referencia, identificación) belongs to, to mark it paid when the bank's file says it was
collected. Two debts whose hashes meet take the next ``salt``.

The tributo codes (three digits of the identificación) are the council's own concept codes, agreed with its
collaborating banks; ``CONCEPTS`` holds PIC's defaults, by debt kind.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from events.payment import FineIssued
from functions.core.errors import ValidationError
from functions.payment import cuaderno60
from functions.payment.receipts import council_document, euros, write_facts
from functions.payment.service import Debt

# the council's concept codes for its letters (identificación, digits 2-4), by the debt's kind or tax
CONCEPTS = {"traffic": "601", "administrative": "602", "IBI": "101", "IVTM": "102", "ICIO": "103", "IAE": "104",
            "IIVTNU": "105", "tasa": "201"}  # fmt: skip
MAX_COLLECTED = 2_000  # records of one collection file per request: each is its own unit of work
MAX_SALT = 50  # a 10-digit space: meeting another debt even once is rare; fifty times would be a fault


class CollectionFileInvalidError(ValidationError):
    slug, title = "collection-file-invalid", "The collection file cannot be read"


def read_collection_file(text: str) -> cuaderno60.ReturnFile:
    """A bank's collection file, whole or not at all: a malformed line, a control digit that does not fit or
    totals that do not add up refuse the file (``CollectionFileInvalidError`` naming the line), nothing paid."""
    try:
        file = cuaderno60.parse_return_file(text)
    except cuaderno60.ReturnFileError as exc:
        raise CollectionFileInvalidError(str(exc), errors=[{"line": exc.line, "message": exc.reason}]) from exc
    if len(file.records) > MAX_COLLECTED:
        raise CollectionFileInvalidError(f"{len(file.records)} records: send at most {MAX_COLLECTED} per request")
    return file


@dataclass(frozen=True)
class IssuedLetter:
    """A letter PIC printed: its Cuaderno 60 data, the debt it pays, and the rule that priced it."""

    letter: cuaderno60.Letter
    debt_id: str
    stage: str
    legal_source: str

    @property
    def key(self) -> str:
        """How PIC finds it again from the bank's file: the referencia and the identificación."""
        return letter_key(self.letter.reference, self.letter.identification)

    def record(self) -> LetterRecord:
        letter = self.letter
        return LetterRecord(self.key, self.debt_id, letter.amount_cents, letter.due, self.stage, self.legal_source)


@dataclass(frozen=True)
class LetterRecord:
    """What PIC keeps of a printed letter: enough to pay its debt when a bank says it collected it."""

    key: str
    debt_id: str
    amount_cents: int
    due: date
    stage: str
    legal_source: str


def letter_key(reference: str, identification: str) -> str:
    return f"{reference}-{identification}"


def concept(debt: Debt) -> str:
    issued = debt.issued
    return CONCEPTS[issued.regime if isinstance(issued, FineIssued) else issued.tax]


def base_reference(debt: Debt, amount_cents: int, due: date, salt: int) -> str:
    """Ten digits drawn from the debt, the amount, the day and ``salt``: the same letter every time it is asked."""
    digest = hashlib.sha256(f"{debt.id}|{amount_cents}|{due.isoformat()}|{salt}".encode()).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**10:010d}"


def letter_for(debt: Debt, due: dict[str, Any], emisora: str, salt: int = 0) -> IssuedLetter:
    """The letter of ``debt`` at what is due today (``due``: ``service.due_view``), payable until ``due["until"]``."""
    amount, until = int(due["amount_due_cents"]), date.fromisoformat(str(due["until"]))
    year = int(debt.issued.period[:4]) if not isinstance(debt.issued, FineIssued) else until.year
    letter = cuaderno60.letter(
        emisora, base_reference(debt, amount, until, salt), concept(debt), until, amount, accrual_year=year
    )
    return IssuedLetter(letter, debt.id, str(due["stage"]), str(due["legal_source"]))


def letter_pdf(debt: Debt, issued: IssuedLetter, notice: str | None) -> bytes:
    """The printable carta de pago: what is paid, how much, until when and why, the Cuaderno 60 fields and
    their barcode (drawn as bars, vector, so any printer keeps it readable)."""
    letter = issued.letter
    pdf = council_document(f"Carta de pago {debt.id}", "Carta de pago (Cuaderno 60, modalidad 2)")
    facts = [
        ("Deuda", debt.id),
        ("Importe", euros(letter.amount_cents)),
        ("Pagadera hasta", letter.due.strftime("%d/%m/%Y")),
        ("Por qué este importe", f"{issued.stage}; {issued.legal_source}"),
        ("Emisora", letter.emisora),
        ("Referencia", letter.reference),
        ("Identificación", letter.identification),
    ]
    write_facts(pdf, facts, 45)
    if notice:
        pdf.ln(2)
        pdf.set_font("helvetica", "I", 9)
        pdf.multi_cell(0, 5, notice, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("helvetica", "", 9)
    pdf.multi_cell(0, 5, "Pague en cualquier entidad colaboradora hasta la fecha indicada; después, pida una carta "
                         "nueva con el importe que corresponda.", new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    _barcode(pdf, cuaderno60.barcode_modules(letter.barcode_data()), pdf.get_y() + 6)
    pdf.set_font("courier", "", 9)
    pdf.cell(0, 5, letter.human_readable(), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _barcode(pdf: Any, modules: str, top: float, module_mm: float = 0.33, height_mm: float = 15.0) -> None:
    """Each run of bars as one filled rectangle, a quiet zone of ten modules before it (GS1-128's minimum)."""
    x = pdf.l_margin + 10 * module_mm
    pdf.set_fill_color(0, 0, 0)
    start = None
    for i, module in enumerate(modules + "0"):
        if module == "1" and start is None:
            start = i
        elif module == "0" and start is not None:
            pdf.rect(x + start * module_mm, top, (i - start) * module_mm, height_mm, style="F")
            start = None
    pdf.set_y(top + height_mm + 2)
