"""A bank's collection file (``letters.read_collection_file``, ``handlers.collect_file``) on in-memory fakes and
the real policy engine: a collected letter pays its debt once, as a card payment does; the same file again, or
the same letter collected twice, never pays twice; letters PIC never printed or collected too late change
nothing and are reported; a file that cannot be trusted is refused whole."""

from __future__ import annotations

from datetime import date

import pytest

from functions.payment import cuaderno60, handlers, letters, service
from functions.payment.handlers import PaymentPorts
from tests.unit.fakes import events_in
from tests.unit.payment.fakes import FakePaymentStore
from tests.unit.payment.test_handlers import CITIZEN, fine, issue
from tests.unit.payment.test_payment_handlers import APPROVED, notify, pay, word

BANK = "2100"


def printed(ports: PaymentPorts, store: FakePaymentStore, debt_id: str = "fine-MUL-2026-1") -> letters.IssuedLetter:
    staged = handlers.payment_letter(CITIZEN, debt_id, ports)
    store.commit(staged.unit)
    return staged.result[0]


def file_of(*issued: letters.IssuedLetter, on: date = date(2026, 3, 12), bank: str = BANK) -> str:
    records = [
        cuaderno60.Collected(i.letter.emisora, i.letter.reference, i.letter.identification, i.letter.amount_cents,
                             on, bank)
        for i in issued
    ]  # fmt: skip
    return cuaderno60.render_return_file(records, entity=bank, created_on=on)


def collect(ports: PaymentPorts, text: str) -> list[handlers.Collection]:
    return handlers.collect_file(letters.read_collection_file(text), ports, None)


def test_a_collected_letter_pays_its_debt_once_however_often_the_file_arrives(
    ports: PaymentPorts, store: FakePaymentStore
) -> None:
    # GIVEN a fine whose letter the citizen printed (100 EUR until 22 March) and paid at a bank on 12 March
    issue(ports, store, fine())
    letter = printed(ports, store)
    text = file_of(letter)

    # WHEN the bank's file arrives
    (done,) = collect(ports, text)

    # THEN the fine is paid by a bank payment at the letter's amount and rule, announced like a card payment
    assert (done.outcome, done.debt_id, done.amount_cents) == ("paid", "fine-MUL-2026-1", 10000)
    debt = store.debts["fine-MUL-2026-1"]
    assert (debt.status, debt.paid_by) == ("paid", done.payment_id)
    payment = store.payments[str(done.payment_id)]
    assert (payment.method, payment.order, payment.state) == ("bank", letter.letter.reference, "success")
    assert "6/2015" in payment.charges[0].legal_source and payment.verification_code
    announced = sorted(type_ for unit in store.ahead for type_, _ in events_in(unit))
    assert announced == sorted(["es.madrid.pic.fine.paid.v1", "es.madrid.pic.payment.succeeded.v1",
                                "es.madrid.pic.notification.requested.v1"])  # fmt: skip

    # AND the same file again records nothing
    units = len(store.ahead)
    (again,) = collect(ports, text)
    assert (again.outcome, again.payment_id) == ("already-recorded", done.payment_id)
    assert all(store.ledger.staged(unit) == [] for unit in store.ahead[units:])


def test_a_letter_collected_twice_is_a_refund_due_not_a_second_payment(
    ports: PaymentPorts, store: FakePaymentStore
) -> None:
    issue(ports, store, fine())
    letter = printed(ports, store)
    (first,) = collect(ports, file_of(letter, bank="2100"))
    (second,) = collect(ports, file_of(letter, bank="0049"))  # the same letter at another bank's counter
    assert (first.outcome, second.outcome) == ("paid", "refund-due")
    assert store.debts["fine-MUL-2026-1"].paid_by == first.payment_id
    assert store.payments[str(second.payment_id)].refund_due == ("fine-MUL-2026-1",)


def test_a_card_payment_under_way_when_the_bank_collects_is_the_one_refunded(
    ports: PaymentPorts, store: FakePaymentStore
) -> None:
    # GIVEN a fine being paid by card WHEN the bank collects its letter, then Redsys approves the card
    issue(ports, store, fine())
    letter = printed(ports, store)
    card = pay(ports, store, "fine-MUL-2026-1")
    (bank,) = collect(ports, file_of(letter))
    approved, _ = notify(ports, store, word(card, APPROVED))
    # THEN the bank paid the fine and the card's charge is due back
    assert bank.outcome == "paid" and store.debts["fine-MUL-2026-1"].paid_by == bank.payment_id
    assert approved.refund_due == ("fine-MUL-2026-1",)
    # AND no letter is printed for it now
    with pytest.raises(service.DebtAlreadyPaidError):
        handlers.payment_letter(CITIZEN, "fine-MUL-2026-1", ports)


def test_letters_pic_never_printed_or_collected_after_their_last_day_change_nothing(
    ports: PaymentPorts, store: FakePaymentStore
) -> None:
    issue(ports, store, fine())
    letter = printed(ports, store)
    stranger = cuaderno60.letter(ports.emisora, "42", "601", date(2026, 3, 22), 10000)
    forged = letters.IssuedLetter(stranger, "fine-MUL-2026-1", "x", "y")
    outcomes = [c.outcome for c in collect(ports, file_of(letter, forged, on=date(2026, 3, 23)))]
    assert outcomes == ["late", "unknown-letter"]
    assert store.debts["fine-MUL-2026-1"].status == "pending" and store.payments == {}


def test_a_file_that_cannot_be_trusted_is_refused_whole(ports: PaymentPorts, store: FakePaymentStore) -> None:
    issue(ports, store, fine())
    text = file_of(printed(ports, store))
    lines = text.splitlines(keepends=True)
    detail = lines[1]
    tampered = detail[:35] + "00020000" + detail[43:]  # the amount changed: its control digits no longer fit
    with pytest.raises(letters.CollectionFileInvalidError) as refused:
        letters.read_collection_file(lines[0] + tampered + lines[2])
    assert refused.value.errors and refused.value.errors[0]["line"] == 2
    assert store.payments == {}
