"""Debts named by an area system's record (``record``: source and local id) instead of a golden record, attached
through C360's links (``citizen.updated``) as PAY projects them (``functions.core.links``): a debt before its link
waits, seen by nobody, and is the person's once the link arrives; after it, the debt is the person's at once; a
merge moves it; a stale or repeated link changes nothing; a link and a debt at once cannot miss each other; the
record's link goes with the person's last debt named by it. In-memory fakes, the real policy engine."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from events.citizen import CitizenUpdated
from functions.core.errors import LostRaceError
from functions.payment import handlers, payments
from functions.payment.handlers import PaymentPorts
from tests.unit.fakes import FixedClock, events_in
from tests.unit.payment.conftest import T0
from tests.unit.payment.fakes import FakePaymentStore
from tests.unit.payment.test_handlers import MULTAS, fine
from tests.unit.rgpd_support import rgpd_request

LUCIA, OTHER = "c-lucia", "c-lucia-2"
RECORD = {"source": MULTAS, "local_id": "MUL-PERSONA-0042"}


def by_record(**overrides: object) -> object:
    return fine(citizen_id=None, record=RECORD, **overrides)


def link(citizen_id: str = LUCIA, at: datetime = T0) -> CitizenUpdated:
    return CitizenUpdated.model_validate(
        {
            "citizen_id": citizen_id,
            "link": {"source": MULTAS, "local_id": RECORD["local_id"], "change": "added"},
            "match": {"method": "document", "score": 1.0, "evidence": ["document"]},
            "updated_at": at.isoformat(),
        }
    )


def issue(ports: PaymentPorts, store: FakePaymentStore, issued: object) -> None:
    store.commit(handlers.record_debt(issued, MULTAS, ports))  # type: ignore[arg-type]


def test_a_fine_named_by_a_record_waits_for_its_link_then_is_the_persons(
    ports: PaymentPorts, store: FakePaymentStore
) -> None:
    issue(ports, store, by_record())
    (debt,) = store.debts.values()
    assert debt.citizen_id is None and handlers.citizen_debts(LUCIA, ports) == []
    with pytest.raises(payments.DebtNotFoundError):  # nobody can pay (nor be authorised on) an unlinked debt
        handlers.debt_owner((debt.id,), ports)
    store.commit(handlers.project_link(link(), ports))
    (shown,) = handlers.citizen_debts(LUCIA, ports)
    assert shown["id"] == "fine-MUL-2026-1" and shown["due"]["amount_due_cents"] == 10000
    assert store.commit(handlers.project_link(link(), ports)) is None and store.debts[debt.id].version == 2  # again


def test_after_the_link_a_new_fine_is_the_persons_at_once_and_a_merge_moves_it(
    ports: PaymentPorts, store: FakePaymentStore
) -> None:
    issue(ports, store, by_record())
    store.commit(handlers.project_link(link(), ports))
    issue(ports, store, by_record(fine_id="MUL-2026-2"))
    assert store.debts["fine-MUL-2026-2"].citizen_id == LUCIA
    store.commit(handlers.project_link(link(OTHER, T0 + timedelta(minutes=1)), ports))  # a merge moved the record
    assert {d.citizen_id for d in store.debts.values()} == {OTHER}
    stale = handlers.project_link(link(LUCIA, T0), ports)  # the older link, delivered late, changes nothing
    assert store.ledger.staged(stale) == []


def test_a_link_of_a_record_no_debt_names_is_not_kept(ports: PaymentPorts, store: FakePaymentStore) -> None:
    assert store.ledger.staged(handlers.project_link(link(), ports)) == []


def test_a_link_and_a_debt_at_once_cannot_miss_each_other(ports: PaymentPorts, store: FakePaymentStore) -> None:
    issue(ports, store, by_record())
    debt = handlers.record_debt(by_record(fine_id="MUL-2026-2"), MULTAS, ports)  # reads the record: not linked
    linking = handlers.project_link(link(), ports)  # reads the record: one member
    store.commit(linking)
    with pytest.raises(LostRaceError):
        store.commit(debt)
    store.commit(handlers.record_debt(by_record(fine_id="MUL-2026-2"), MULTAS, ports))  # decided again: linked
    assert {d.citizen_id for d in store.debts.values()} == {LUCIA}


def test_the_export_names_the_records_and_erasure_takes_the_link_with_the_last_debt(
    ports: PaymentPorts, store: FakePaymentStore, clock: FixedClock
) -> None:
    issue(ports, store, by_record())
    store.commit(handlers.project_link(link(), ports))
    ((_, answered),) = events_in(handlers.answer_rights(rgpd_request("access", LUCIA, T0), ports, None))
    assert answered["export"]["records"] == [{**RECORD, "debts": ["fine-MUL-2026-1"]}]
    clock.advance(days=5 * 366)  # the fine is past its 4 years (RDL 6/2015 art. 112)
    store.commit(handlers.answer_rights(rgpd_request("erasure", LUCIA, clock.now()), ports, None))
    assert store.debts == {} and store.records == {}


def test_an_event_naming_both_or_neither_is_refused() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        fine(record=RECORD)
    with pytest.raises(ValueError, match="exactly one"):
        fine(citizen_id=None)
