"""Direct debits and the tax folder (``functions.payment.mandates`` and its use cases in ``handlers``) on in-memory
fakes and the real policy engine: a SEPA Core mandate signed once, changed, amended and cancelled, each change
announced to Tributos in the same unit; Madrid's modalities per tax; IBANs checked by python-stdnum; the tax folder
by tax and year with IBI's Sistema Especial de Pago bonus; the mandates in the RGPD export and erasure."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from functions.core.errors import LostRaceError
from functions.payment import handlers, mandates
from functions.payment.handlers import PaymentPorts
from functions.payment.mandates import Sign
from tests.unit.fakes import FixedClock, events_in
from tests.unit.payment.conftest import T0
from tests.unit.payment.fakes import FakePaymentStore
from tests.unit.payment.test_handlers import CITIZEN, issue, receipt
from tests.unit.rgpd_support import rgpd_request

HOME = "9872023VH5797S0001WX"
IBAN = "ES91 2100 0418 4502 0005 1332"  # a well-formed Spanish IBAN (the EPC's and banks' usual example)
OTHER_IBAN = "ES79 2100 0813 6101 2345 6789"


def sign(ports: PaymentPorts, store: FakePaymentStore, **overrides: str) -> dict[str, object]:
    fields = {"iban": IBAN, "holder": "Lucía  Gómez Ruiz", "modality": "pago-unico", "object_reference": HOME}
    fields.update(overrides)
    cmd = Sign(CITIZEN, by=f"citizen:{CITIZEN}", **fields)  # type: ignore[arg-type]
    staged = handlers.sign_direct_debit(cmd, ports, None)
    store.commit(staged.unit)
    return {"view": staged.result, "events": events_in(staged.unit)}


@pytest.fixture
def with_receipts(ports: PaymentPorts, store: FakePaymentStore) -> None:
    issue(ports, store, receipt())  # IBI 2026 of the home, 456.78 €
    issue(ports, store, receipt(receipt_id="IBI-2025-1", period="2025", amount_cents=44100,
                                voluntary_period={"start": "2025-03-01", "end": "2025-06-30"}))  # fmt: skip
    car = {"kind": "plate", "reference": "1234KLM"}
    issue(ports, store, receipt(receipt_id="IVTM-2026-1", tax="IVTM", object=car, amount_cents=14000))


@pytest.mark.usefixtures("with_receipts")
def test_a_mandate_is_signed_once_told_to_tributos_and_shown_masked(
    ports: PaymentPorts, store: FakePaymentStore
) -> None:
    done = sign(ports, store)
    view = done["view"]
    assert isinstance(view, dict)
    mandate = view["mandate"]
    assert view["state"] == "active" and view["taxes"] == ["IBI"] and view["modality"] == "pago-unico"
    assert mandate["iban"] == "ES91 **** **** **** **** 1332" and mandate["holder"] == "Lucía Gómez Ruiz"
    assert len(mandate["reference"]) <= 35 and mandate["signed_on"] == "2026-03-10"
    assert view["creditor_id"] == "ES92000P2807900B"  # the council's NIF, AT-02 check digits (ISO 7064)
    ((kind, event),) = done["events"]  # type: ignore[misc]
    assert kind == "es.madrid.pic.tax.direct-debit.signed.v1"
    assert (
        event["mandate"]["iban"] == "ES9121000418450200051332" and event["replaces"] is None
    )  # Tributos gets it whole
    again = sign(ports, store)
    assert again["events"] == [] and again["view"] == view  # the same mandate again: nothing changes


@pytest.mark.usefixtures("with_receipts")
def test_another_account_supersedes_the_mandate_and_another_modality_amends_it(
    ports: PaymentPorts, store: FakePaymentStore
) -> None:
    first = sign(ports, store)["view"]
    amended = sign(ports, store, modality="fraccionado-bonificado")
    assert amended["view"]["mandate"]["reference"] == first["mandate"]["reference"]  # type: ignore[index]
    assert amended["events"][0][1]["modality"] == "fraccionado-bonificado"  # type: ignore[index]
    moved = sign(ports, store, iban=OTHER_IBAN, modality="fraccionado-bonificado")
    view = moved["view"]
    assert view["mandate"]["reference"] != first["mandate"]["reference"]  # type: ignore[index]
    assert [m["state"] for m in view["history"]] == ["replaced"]  # type: ignore[index]
    assert moved["events"][0][1]["replaces"] == first["mandate"]["reference"]  # type: ignore[index]


@pytest.mark.usefixtures("with_receipts")
def test_madrids_modalities_an_unknown_object_and_a_bad_iban_are_refused_and_write_nothing(
    ports: PaymentPorts, store: FakePaymentStore
) -> None:
    with pytest.raises(mandates.DirectDebitNotAvailableError, match="pago-unico"):
        sign(ports, store, object_reference="1234KLM", modality="fraccionado-bonificado")  # IVTM: pago único only
    with pytest.raises(mandates.TaxObjectNotFoundError):
        sign(ports, store, object_reference="0000000XX0000X0001XX")
    with pytest.raises(mandates.IbanInvalidError, match="checksum"):
        sign(ports, store, iban="ES91 2100 0418 4502 0005 1333")
    with pytest.raises(mandates.IbanInvalidError, match="SEPA"):
        sign(ports, store, iban="BR18 0036 0305 0000 1000 9795 493C 1")
    assert store.debits == {}


def test_a_tasa_is_not_debited(ports: PaymentPorts, store: FakePaymentStore) -> None:
    issue(ports, store, receipt(receipt_id="TAS-1", tax="tasa", concept="Tasa por paso de vehículos"))
    with pytest.raises(mandates.DirectDebitNotAvailableError, match="periodic taxes"):
        sign(ports, store)


@pytest.mark.usefixtures("with_receipts")
def test_two_signatures_at_once_one_wins_the_other_decides_again(ports: PaymentPorts, store: FakePaymentStore) -> None:
    a = handlers.sign_direct_debit(Sign(CITIZEN, HOME, IBAN, "Lucía Gómez", "pago-unico", "citizen:x"), ports, None)
    b = handlers.sign_direct_debit(
        Sign(CITIZEN, HOME, OTHER_IBAN, "Lucía Gómez", "pago-unico", "citizen:x"), ports, None
    )
    store.commit(a.unit)
    with pytest.raises(LostRaceError):
        store.commit(b.unit)
    retried = handlers.sign_direct_debit(
        Sign(CITIZEN, HOME, OTHER_IBAN, "Lucía Gómez", "pago-unico", "citizen:x"), ports, None
    )
    store.commit(retried.unit)
    (debit,) = store.debits.values()
    assert [m.state for m in debit.mandates] == ["replaced", "active"] and debit.current is not None
    assert debit.current.iban == "ES7921000813610123456789"


@pytest.mark.usefixtures("with_receipts")
def test_a_cancel_ends_the_mandate_once_and_a_never_debited_object_is_not_found(
    ports: PaymentPorts, store: FakePaymentStore
) -> None:
    with pytest.raises(mandates.DirectDebitNotFoundError):
        handlers.cancel_direct_debit(CITIZEN, HOME, "citizen:x", None, ports, None)
    sign(ports, store)
    staged = handlers.cancel_direct_debit(CITIZEN, HOME, "agent:ag-7", "phone-request", ports, None)
    ((kind, event),) = events_in(staged.unit)
    store.commit(staged.unit)
    assert kind == "es.madrid.pic.tax.direct-debit.cancelled.v1" and event["by"] == "agent:ag-7"
    assert staged.result["state"] == "cancelled" and staged.result["mandate"]["ended_on"] == "2026-03-10"
    again = handlers.cancel_direct_debit(CITIZEN, HOME, "citizen:x", None, ports, None)
    assert events_in(again.unit) == [] and again.result["state"] == "cancelled"


@pytest.mark.usefixtures("with_receipts")
def test_the_tax_folder_groups_receipts_by_tax_and_year_with_ibis_bonus(
    ports: PaymentPorts, store: FakePaymentStore
) -> None:
    paid = store.debts["receipt-IBI-2025-1"]
    store.debts[paid.id] = replace(paid, status="paid")
    folder = handlers.tax_folder(CITIZEN, ports)
    ibi, ivtm = folder["taxes"]
    assert ibi["tax"] == "IBI" and [y["year"] for y in ibi["years"]] == ["2026", "2025"]
    assert ibi["years"][1]["pending"] == 0 and ibi["years"][1]["paid_cents"] == 44100
    assert ivtm["years"][0]["issued_cents"] == 14000
    home, car = sorted(folder["objects"], key=lambda o: o["object"]["kind"])
    assert home["modalities"] == ["pago-unico", "pago-a-la-carta", "fraccionado-bonificado"]
    assert car["modalities"] == ["pago-unico"] and car["sep_bonus"] is None
    assert home["sep_bonus"]["bonus_cents"] == 1485 and not home["sep_bonus"]["applies"]  # 3.25 % of 456.78 €
    sign(ports, store, modality="fraccionado-bonificado")
    home = next(o for o in handlers.tax_folder(CITIZEN, ports)["objects"] if o["object"]["reference"] == HOME)
    assert home["sep_bonus"]["applies"] and home["direct_debit"]["mandate"]["iban"].endswith("1332")


@pytest.mark.usefixtures("with_receipts")
def test_the_export_holds_the_whole_mandate_and_erasure_keeps_one_in_force(
    ports: PaymentPorts, store: FakePaymentStore, clock: FixedClock
) -> None:
    sign(ports, store)
    ((_, answered),) = events_in(handlers.answer_rights(rgpd_request("access", CITIZEN, T0), ports, None))
    (debit,) = answered["export"]["direct_debits"]
    assert debit["mandate"]["iban"] == "ES9121000418450200051332"
    clock.advance(days=800)
    erasure = handlers.answer_rights(rgpd_request("erasure", CITIZEN, clock.now()), ports, None)
    store.commit(erasure)
    assert HOME in next(iter(store.debits.values())).object.reference  # in force: kept
    store.commit(handlers.cancel_direct_debit(CITIZEN, HOME, "citizen:x", None, ports, None).unit)
    clock.advance(days=13 * 31)
    erasure = handlers.answer_rights(rgpd_request("erasure", CITIZEN, clock.now()), ports, None)
    ((_, answer),) = events_in(erasure)
    store.commit(erasure)
    assert store.debits == {}  # 13 months after it ended (RDL 19/2018 art. 43)
    assert any(a["result"] == "erased" for a in answer["actions"])


def test_a_mandate_reference_is_sepa_sized_and_unique() -> None:
    day = T0.date()
    references = {mandates.new_reference(day + timedelta(days=n % 3)) for n in range(1000)}
    assert len(references) == 1000
    assert all(len(r) <= 35 for r in references)
