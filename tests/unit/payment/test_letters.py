"""Payment letters (``handlers.payment_letter``, ``letters``) on in-memory fakes and the real policy engine: a
letter prints what is due today until the day it holds, as Cuaderno 60 fields and barcode; printing it again
is the same letter and writes nothing; two debts never share a referencia; a paid debt, another person's or
one with nothing payable today gets no letter."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

import pytest
from pypdf import PdfReader

from functions.payment import cuaderno60, handlers, letters, payments, service
from functions.payment.handlers import PaymentPorts
from tests.unit.payment.fakes import FakePaymentStore
from tests.unit.payment.test_handlers import CITIZEN, fine, issue, receipt
from tests.unit.payment.test_payment_handlers import APPROVED, notify, pay, word


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_fine_s_letter_prints_the_reduced_amount_until_its_last_day_and_is_the_same_every_time(
    ports: PaymentPorts, store: FakePaymentStore
) -> None:
    # GIVEN a traffic fine of 200 EUR notified on 2 March (Madrid): 50 % off until 22 March
    issue(ports, store, fine())

    # WHEN its letter is printed
    staged = handlers.payment_letter(CITIZEN, "fine-MUL-2026-1", ports)
    store.commit(staged.unit)
    issued, pdf = staged.result

    # THEN it is payable at 100 EUR until 22 March, with valid Cuaderno 60 data and the rule that priced it
    letter = issued.letter
    assert (letter.amount_cents, letter.due, letter.emisora) == (10000, date(2026, 3, 22), ports.emisora)
    assert cuaderno60.check(letter.emisora, letter.reference, letter.identification, letter.amount_cents)
    assert letter.identification[1:4] == letters.CONCEPTS["traffic"]
    text = text_of(pdf)
    assert letter.reference in text and "22/03/2026" in text and "100,00 EUR" in text and "RDL 6/2015" in text
    assert "renuncia" in text.lower()  # the notice: paying with the reduction renounces allegations
    assert store.letters == {issued.key: issued.record()}

    # AND printed again it is the same letter, and nothing is written
    again = handlers.payment_letter(CITIZEN, "fine-MUL-2026-1", ports)
    assert again.result[0] == issued and store.ledger.staged(again.unit) == []


def test_a_tax_receipt_s_letter_names_its_tax_and_year_and_holds_until_the_voluntary_period_ends(
    ports: PaymentPorts, store: FakePaymentStore
) -> None:
    issue(ports, store, receipt(tax="IVTM", object={"kind": "plate", "reference": "1234KLM"}))
    issued, _ = handlers.payment_letter(CITIZEN, "receipt-IBI-2026-1", ports).result
    assert (issued.letter.amount_cents, issued.letter.due) == (45678, date(2026, 6, 30))
    assert issued.letter.identification[1:6] == letters.CONCEPTS["IVTM"] + "26"


def test_two_debts_never_share_a_letter_reference(ports: PaymentPorts, store: FakePaymentStore) -> None:
    # GIVEN the referencia the fine's letter would take is already another debt's
    issue(ports, store, fine())
    debt = store.debts["fine-MUL-2026-1"]
    first = letters.letter_for(debt, handlers.priced(debt, ports)["due"], ports.emisora)
    store.letters[first.key] = replace(first.record(), debt_id="fine-SOMEONE-ELSE")

    # WHEN the fine's letter is printed THEN it takes the next one, and records it
    staged = handlers.payment_letter(CITIZEN, debt.id, ports)
    store.commit(staged.unit)
    assert staged.result[0].key != first.key and store.letters[staged.result[0].key].debt_id == debt.id


def test_a_paid_debt_another_person_s_or_an_unknown_one_gets_no_letter(
    ports: PaymentPorts, store: FakePaymentStore
) -> None:
    issue(ports, store, fine())
    with pytest.raises(payments.DebtNotFoundError):
        handlers.payment_letter("c-someone-else", "fine-MUL-2026-1", ports)
    with pytest.raises(payments.DebtNotFoundError):
        handlers.payment_letter(CITIZEN, "fine-NOPE", ports)
    payment = pay(ports, store, "fine-MUL-2026-1")
    notify(ports, store, word(payment, APPROVED))
    with pytest.raises(service.DebtAlreadyPaidError):
        handlers.payment_letter(CITIZEN, "fine-MUL-2026-1", ports)
    assert store.letters == {}


def test_a_receipt_before_its_voluntary_period_has_no_letter(ports: PaymentPorts, store: FakePaymentStore) -> None:
    issue(ports, store, receipt(voluntary_period={"start": "2026-09-01", "end": "2026-11-30"}))
    with pytest.raises(payments.DebtNotPayableError):
        handlers.payment_letter(CITIZEN, "receipt-IBI-2026-1", ports)
