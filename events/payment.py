"""Fines and taxes (PAY) events: the debts area systems issue to a person.

Multas (and Movilidad's agents) send ``es.madrid.pic.fine.issued.v1`` for each fine notified; the Agencia
Tributaria sends ``es.madrid.pic.tax.receipt.issued.v1`` for each receipt it issues. ``pic-payment`` keeps
them as the person's debts and prices each one for the day it is asked (``policies/payment``: the traffic
fine's 50 % within 20 natural days, RDL 6/2015 art. 94; the reductions an administrative sanction's notice
states, Ley 39/2015 art. 85.3; the voluntary and executive periods of a tax, Ley 58/2003 arts. 28 and 62).

Amounts are integer cents of euro, as Redsys and the area systems' files carry them. Sending the same fine
or receipt again with the same content changes nothing; a correction (another amount, another period) is
taken while the debt is unpaid and refused once it is paid.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, Self

from pydantic import AwareDatetime, Field, model_validator

from events.base import EventData
from events.citizen import SourceRecord
from events.consent import ID_PATTERN

DEBT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"  # a path segment: no slash
MAX_AMOUNT_CENTS = 100_000_000_00  # one hundred million euros: far above any municipal fine or receipt
Severity = Literal["leve", "grave", "muy-grave"]
Regime = Literal["traffic", "administrative"]
# precio-publico: the price of a service the council provides on request, e.g. a sports centre's place (TRLRHL,
# RDL 2/2004, arts. 41-47; Madrid's Acuerdo de precios públicos); issued by the bookings domain (issue 18)
Tax = Literal["IBI", "IVTM", "ICIO", "IAE", "IIVTNU", "tasa", "precio-publico"]


class Infraction(EventData):
    """The rule broken, as the fine's notice cites it."""

    article: str = Field(min_length=1, max_length=64, examples=["RGC art. 94.2.e"])
    description: str = Field(min_length=1, max_length=300, examples=["Estacionar en zona reservada a carga y descarga"])


class Reduction(EventData):
    """A reduction an administrative sanction's notice states (Ley 39/2015 art. 85.3: at least 20 % each)."""

    ground: Literal["recognition", "voluntary-payment"] = Field(
        description="recognising responsibility (art. 85.1) or paying voluntarily before the resolution (art. 85.2)"
    )
    percent: int = Field(ge=20, le=100)


class Debtor(EventData):
    """Who owes a debt: PIC's golden record (``citizen_id``), or the issuing system's own record of the person
    (``record``: source and local id), which PAY attaches to its golden record through C360's links."""

    citizen_id: str | None = Field(None, pattern=ID_PATTERN, description="the person's golden record (C360)")
    record: SourceRecord | None = Field(
        None, description="the area system's record of the person, when it does not know the golden record"
    )

    @model_validator(mode="after")
    def _one_person(self) -> Self:
        if (self.citizen_id is None) == (self.record is None):
            raise ValueError("name exactly one of citizen_id or record (source, local_id)")
        return self


class FineIssued(Debtor):
    """A fine notified to a person: a traffic fine (RDL 6/2015) or an administrative sanction (Ley 39/2015)."""

    fine_id: str = Field(pattern=DEBT_ID_PATTERN, description="the expediente number", examples=["MUL-2026-0004211"])
    plate: str | None = Field(None, pattern=r"^[0-9A-Z]{4,10}$", examples=["1234KLM"])
    infraction: Infraction
    severity: Severity
    regime: Regime = Field(description="traffic (RDL 6/2015) or administrative (Ley 39/2015)")
    amount_cents: int = Field(gt=0, le=MAX_AMOUNT_CENTS, description="the sanction's amount, in cents of euro")
    notified_at: AwareDatetime = Field(description="when the notice reached the person (the windows count from it)")
    early_payment: list[Reduction] = Field(
        default_factory=list, max_length=2, description="administrative sanctions: the reductions the notice states"
    )
    early_payment_until: date | None = Field(None, description="the last day the reductions hold, if the notice says")

    @model_validator(mode="after")
    def _reductions_only_for_administrative_sanctions(self) -> Self:
        if self.regime == "traffic" and (self.early_payment or self.early_payment_until):
            raise ValueError("a traffic fine's reduction is the law's (RDL 6/2015 art. 94): send no early_payment")
        grounds = [r.ground for r in self.early_payment]
        if len(set(grounds)) != len(grounds):
            raise ValueError("early_payment: each ground at most once")
        return self


class TaxObject(EventData):
    """What the tax is on: a property (cadastral reference), a vehicle (plate), works (licence), or another."""

    kind: Literal["cadastral-reference", "plate", "works-licence", "activity", "other"]
    reference: str = Field(min_length=1, max_length=40, examples=["9872023VH5797S0001WX"])


class VoluntaryPeriod(EventData):
    start: date
    end: date

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        if self.end < self.start:
            raise ValueError("the voluntary period ends before it starts")
        return self


class DirectDebit(EventData):
    """Whether the receipt is paid by direct debit, and how (IBI: the Sistema Especial de Pago)."""

    status: Literal["none", "active"] = "none"
    modality: Literal["pago-unico", "pago-a-la-carta", "fraccionado-bonificado"] | None = None


class Enforcement(EventData):
    """The enforcement order (providencia de apremio) notified for an unpaid receipt (Ley 58/2003 art. 62.5)."""

    notified_at: AwareDatetime
    pay_by: date = Field(description="the last day of the art. 62.5 period, when the reduced surcharge (10 %) holds")


class TaxReceiptIssued(Debtor):
    """A tax receipt issued to a person: IBI, IVTM, ICIO, IAE, IIVTNU or a tasa."""

    receipt_id: str = Field(pattern=DEBT_ID_PATTERN, examples=["IBI-2026-000912345"])
    tax: Tax
    concept: str | None = Field(
        None, max_length=120, description="a tasa's name", examples=["Tasa por paso de vehículos"]
    )
    object: TaxObject
    period: str = Field(pattern=r"^[0-9]{4}(-[A-Za-z0-9]{1,8})?$", examples=["2026", "2026-1P"])
    amount_cents: int = Field(gt=0, le=MAX_AMOUNT_CENTS)
    voluntary_period: VoluntaryPeriod
    direct_debit: DirectDebit = Field(default_factory=DirectDebit)
    enforcement: Enforcement | None = None

    @model_validator(mode="after")
    def _a_tasa_names_itself(self) -> Self:
        if self.tax == "tasa" and not self.concept:
            raise ValueError("a tasa names its concept")
        if self.direct_debit.status == "none" and self.direct_debit.modality is not None:
            raise ValueError("direct_debit: a modality only with status active")
        return self


# ---- payments: what PIC announces once a gateway has answered ----------------------------------------------

PAYMENT_ID_PATTERN = r"^pay-[0-9a-f]{32}$"
Method = Literal["card", "bizum", "bank"]  # bank: a payment letter collected at a bank counter


class Charge(EventData):
    """One debt in a payment, at the amount due when the payment was created, and the rule that priced it."""

    debt_id: str = Field(pattern=r"^(fine|receipt)-[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    amount_cents: int = Field(gt=0, le=MAX_AMOUNT_CENTS)
    stage: str = Field(max_length=64, description="the pricing rule's stage, e.g. early-payment, voluntary")
    legal_source: str = Field(max_length=300)


class PaymentSucceeded(EventData):
    """The gateway charged a payment (a verified merchant notification, Ds_Response 0000-0099)."""

    payment_id: str = Field(pattern=PAYMENT_ID_PATTERN)
    citizen_id: str = Field(pattern=ID_PATTERN)
    method: Method
    amount_cents: int = Field(gt=0)
    charges: list[Charge] = Field(min_length=1, max_length=20)
    order: str = Field(
        pattern=r"^[0-9]{4}[0-9A-Za-z]{0,8}$",
        description="the Redsys order number charged; for a bank collection, the payment letter's referencia",
    )
    authorisation_code: str = Field(max_length=12)
    agent: str | None = Field(None, max_length=128, description="the agent who took it by phone, if one did")
    refund_due: list[str] = Field(
        default_factory=list, description="debts another payment had already paid meanwhile: their charge is refunded"
    )
    finished_at: AwareDatetime


class PaymentFailed(EventData):
    """The gateway did not charge a payment: declined, cancelled by the holder or failed; its debts are free."""

    payment_id: str = Field(pattern=PAYMENT_ID_PATTERN)
    citizen_id: str = Field(pattern=ID_PATTERN)
    method: Method
    amount_cents: int = Field(gt=0)
    state: Literal["failed", "cancelled", "error"]
    outcome_code: int = Field(ge=0, le=9999, description="Redsys's Ds_Response")
    finished_at: AwareDatetime


class DebtPaid(EventData):
    """A debt paid through PIC, for its area system (and the citizen's global position)."""

    debt_id: str = Field(pattern=r"^(fine|receipt)-[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    citizen_id: str = Field(pattern=ID_PATTERN)
    amount_cents: int = Field(gt=0, description="what was charged: the amount due that day")
    stage: str = Field(max_length=64)
    legal_source: str = Field(max_length=300)
    payment_id: str = Field(pattern=PAYMENT_ID_PATTERN)
    method: Method
    paid_at: AwareDatetime


class FinePaid(DebtPaid):
    """A fine paid (Multas closes the expediente; with the traffic 50 % reduction, RDL 6/2015 art. 94)."""

    fine_id: str = Field(pattern=DEBT_ID_PATTERN)


class TaxReceiptPaid(DebtPaid):
    """A tax receipt paid (Tributos records its collection)."""

    receipt_id: str = Field(pattern=DEBT_ID_PATTERN)


class RefundSubmitted(EventData):
    """An agent or an area system asked to give back all or part of a successful payment; PAY's own worker sends
    it to the gateway (``payment.refund.finished`` says how it went)."""

    payment_id: str = Field(pattern=PAYMENT_ID_PATTERN)
    refund_id: str = Field(pattern=r"^ref-[0-9a-f]{32}$")
    citizen_id: str = Field(pattern=ID_PATTERN)
    amount_cents: int = Field(gt=0, le=MAX_AMOUNT_CENTS)
    reason: str = Field(min_length=1, max_length=500)
    by: str = Field(max_length=128, description="role:id of the agent or system that asked")
    submitted_at: AwareDatetime


class RefundFinished(EventData):
    """The gateway's word on a refund: ``success`` (Redsys's Ds_Response 0900) or ``error`` (refused: the amount
    is available again)."""

    payment_id: str = Field(pattern=PAYMENT_ID_PATTERN)
    refund_id: str = Field(pattern=r"^ref-[0-9a-f]{32}$")
    citizen_id: str = Field(pattern=ID_PATTERN)
    amount_cents: int = Field(gt=0, le=MAX_AMOUNT_CENTS)
    state: Literal["success", "error"]
    gateway_code: str = Field(max_length=16, description="Redsys's Ds_Response, or its SIS error code")
    by: str = Field(max_length=128)
    finished_at: AwareDatetime


# ---- direct debits: the SEPA Core mandates a person signs through PIC for their periodic taxes ---------------

Modality = Literal["pago-unico", "pago-a-la-carta", "fraccionado-bonificado"]
MANDATE_REFERENCE_PATTERN = r"^[A-Za-z0-9+?/:().,' -]{1,35}$"  # SEPA's UMR (AT-01): 35 characters at most


class Mandate(EventData):
    """A SEPA Core mandate as the creditor keeps it (EPC SDD Core Rulebook: AT-01 reference, AT-02 creditor,
    AT-07 debtor's account, AT-14 debtor's name, AT-25 date of signature)."""

    reference: str = Field(pattern=MANDATE_REFERENCE_PATTERN, description="the unique mandate reference (AT-01)")
    creditor_id: str = Field(pattern=r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{3}[A-Z0-9]{1,28}$", description="AT-02")
    iban: str = Field(pattern=r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$", description="the debtor's account (AT-07)")
    holder: str = Field(min_length=1, max_length=70, description="the debtor's name (AT-14)")
    signed_on: date = Field(description="the date of signature (AT-25), Europe/Madrid")


class DirectDebitSigned(EventData):
    """A person signed (or changed) the direct debit of a tax object's periodic taxes through PIC: Tributos charges
    them to this account from the next receipt it issues."""

    citizen_id: str = Field(pattern=ID_PATTERN)
    object: TaxObject
    taxes: list[Tax] = Field(min_length=1, max_length=6, description="the object's periodic taxes it covers")
    modality: Modality
    mandate: Mandate
    replaces: str | None = Field(None, pattern=MANDATE_REFERENCE_PATTERN, description="the mandate it supersedes")
    by: str = Field(max_length=128, description="role:id of who recorded it: the citizen, or an agent at an office")
    purpose: str | None = Field(None, max_length=64, description="an agent's stated purpose")


class DirectDebitCancelled(EventData):
    """A person cancelled the direct debit of a tax object: its next receipts are paid by other means."""

    citizen_id: str = Field(pattern=ID_PATTERN)
    object: TaxObject
    mandate_reference: str = Field(pattern=MANDATE_REFERENCE_PATTERN)
    cancelled_on: date
    by: str = Field(max_length=128)
    purpose: str | None = Field(None, max_length=64)
