"""Fines and taxes (PAY) entry points: thin. Parse, map to a use case, answer.

- ``payment_http``: ``GET /v1/citizens/{citizen_id}/debts`` (every fine and tax receipt, with what is due
  today, until when and what changes after, as ``policies/payment`` prices it); ``POST /v1/payments`` (pay
  one person's debts by card or Bizum: the payment, and the Redsys form that sends the citizen to pay);
  ``GET /v1/payments/{payment_id}``; ``POST /v1/payments/{payment_id}/refunds`` (give back all or part of it);
  ``POST /v1/payments/bank-collections`` (a bank's file of the payment letters it collected);
  ``GET /v1/payments/reconciliation/{day}`` (the day's settled money, CSV or a posting file);
  ``POST /v1/payments/redsys/notifications`` (Redsys's merchant
  notification, trusted by its signature alone); Knative Service ``pic-payment``.
- ``payment_events``: ``es.madrid.pic.fine.issued.v1`` (Multas, Movilidad), ``es.madrid.pic.tax.receipt.issued.v1``
  (Tributos), ``es.madrid.pic.citizen.updated.v1`` (C360's links: debts named by an area system's record),
  ``es.madrid.pic.payment.refund.submitted.v1`` (PAY's own: the refund sent to Redsys) and
  data-subject requests (``rgpd.request.opened``), and PAY's own ``fine.paid``/``tax.receipt.paid`` (a signed
  webhook to the area system that issued the debt); Knative Service ``pic-payment-events``.
The use cases are in ``handlers.py``; the adapters they run on are built by ``bootstrap.py``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from datetime import date
from typing import Any, Literal

import functions_framework
from cloudevents.http import CloudEvent
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from events.citizen import CitizenUpdated
from events.payment import (
    DEBT_ID_PATTERN,
    DirectDebitCancelled,
    DirectDebitSigned,
    FineIssued,
    FinePaid,
    Modality,
    RefundSubmitted,
    TaxReceiptIssued,
    TaxReceiptPaid,
)
from events.rgpd import RgpdRequestOpened
from functions.core import webhooks
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.errors import MalformedRequestError, UnsupportedMediaTypeError, ValidationError
from functions.core.http import HttpFunction, Reads, Reply, RequestContext, Route, parse_body
from functions.core.logging import get_logger
from functions.core.settings import get_settings
from functions.core.store import UnitOfWork
from functions.payment import handlers, letters, mandates, payments, redsys, service
from functions.payment.bootstrap import ports

NAME = "pic-payment"


def get_debts(ctx: RequestContext, citizen_id: str) -> Reply:
    """The person's fines and tax receipts, each with what is due today and its legal source."""
    debts = handlers.citizen_debts(citizen_id, ports())
    return Reply(200, {"citizen_id": citizen_id, "debts": debts})


def debts_summary(body: dict[str, Any]) -> dict[str, Any]:
    """How many debts are pending, what is due today in all and the next date: not which nor why."""
    return {"citizen_id": body["citizen_id"], **service.summary(body["debts"])}


def get_letter(ctx: RequestContext, citizen_id: str, debt_id: str) -> Reply:
    """The debt's carta de pago (PDF): what is due today, until when, as Cuaderno 60 fields and barcode."""

    def reply(done: tuple[letters.IssuedLetter, bytes]) -> Reply:
        issued, pdf = done
        headers = {
            "Content-Type": "application/pdf",
            "Content-Disposition": f'attachment; filename="carta-de-pago-{debt_id}.pdf"',
            "X-Cuaderno60-Reference": issued.letter.reference,
            "X-Cuaderno60-Identification": issued.letter.identification,
        }
        return Reply(200, pdf, headers)

    return ctx.run(lambda: handlers.payment_letter(citizen_id, debt_id, ports()), reply)


def get_tax_folder(ctx: RequestContext, citizen_id: str) -> Reply:
    """The person's tax folder: receipts by tax and year, paid or not; tax objects and their direct debits."""
    return Reply(200, handlers.tax_folder(citizen_id, ports()))


def tax_folder_summary(body: dict[str, Any]) -> dict[str, Any]:
    """How many receipts are pending and how many objects are debited: not which, nor any account."""
    receipts = [r for tax in body["taxes"] for year in tax["years"] for r in year["receipts"]]
    debited = [o for o in body["objects"] if o["direct_debit"] and o["direct_debit"]["state"] == "active"]
    pending = [r for r in receipts if r["status"] == "pending"]
    return {"citizen_id": body["citizen_id"], "receipts": len(receipts), "pending": len(pending),
            "direct_debits": len(debited), "view": "summary"}  # fmt: skip


def direct_debit_summary(body: dict[str, Any]) -> dict[str, Any]:
    return {"state": body["state"], "taxes": body["taxes"], "view": "summary"}


class DirectDebitRequest(BaseModel):
    """The account to debit (any SEPA country's IBAN, spaces allowed), its holder's name and Madrid's modality."""

    model_config = ConfigDict(extra="forbid")

    iban: str = Field(min_length=15, max_length=42, examples=["ES91 2100 0418 4502 0005 1332"])
    holder: str = Field(min_length=1, max_length=70, pattern=r"^[^\x00-\x1f\x7f]+$", examples=["Dolores Ruiz Martín"])
    modality: Modality = Field(
        "pago-unico",
        description="IBI: pago-unico, pago-a-la-carta or fraccionado-bonificado (3.25 % off, at most 70 €); "
        "IVTM and IAE: pago-unico",
    )


def _by(ctx: RequestContext) -> tuple[str, str | None]:
    """Who records a change (role:id) and, for an agent, the purpose stated."""
    return f"{ctx.subject.role}:{ctx.subject.id}", ctx.purpose if ctx.subject.role == "agent" else None


def put_direct_debit(ctx: RequestContext, citizen_id: str, tax_object: str, body: DirectDebitRequest) -> Reply:
    """Sign (or change) the SEPA direct debit of one of the person's tax objects; Tributos is told."""
    by, purpose = _by(ctx)
    cmd = mandates.Sign(citizen_id, tax_object, body.iban, body.holder, body.modality, by, purpose)
    return ctx.run(lambda: handlers.sign_direct_debit(cmd, ports(), ctx.traceparent), lambda view: Reply(200, view))


def delete_direct_debit(ctx: RequestContext, citizen_id: str, tax_object: str) -> Reply:
    """Cancel the direct debit of a tax object; Tributos is told. Cancelling again answers it as cancelled."""
    by, purpose = _by(ctx)
    return ctx.run(
        lambda: handlers.cancel_direct_debit(citizen_id, tax_object, by, purpose, ports(), ctx.traceparent),
        lambda view: Reply(200, view),
    )


class PaymentRequest(BaseModel):
    """What to pay and how: one person's debts (as ``GET /v1/citizens/{id}/debts`` names them)."""

    model_config = ConfigDict(extra="forbid")

    debt_ids: list[str] = Field(
        min_length=1,
        max_length=payments.MAX_DEBTS,
        json_schema_extra={"items": {"pattern": r"^(fine|receipt)-" + DEBT_ID_PATTERN[1:]}},
        examples=[["fine-MUL-2026-0004211"]],
    )
    method: Literal["card", "bizum"]


def citizen_of_payment_request(ctx: RequestContext, params: dict[str, str]) -> str:
    """Whose debts the payment would pay: the kernel authorises on that person."""
    body = parse_body(ctx.request, PaymentRequest)
    assert isinstance(body, PaymentRequest)
    return handlers.debt_owner(tuple(body.debt_ids), ports())


def post_payment(ctx: RequestContext, body: PaymentRequest) -> Reply:
    """A payment and the form that sends the citizen to the gateway; the same Idempotency-Key and body again
    answers the same payment. An agent's payment (by phone) records the agent and the purpose."""
    agent = f"{ctx.subject.role}:{ctx.subject.id}" if ctx.subject.role == "agent" else None
    cmd = handlers.CreatePayment(tuple(body.debt_ids), body.method, agent, ctx.purpose if agent else None)

    def reply(done: handlers.Created) -> Reply:
        view = {**payments.view(done.payment), "redirect": {"url": done.form.url, "fields": done.form.fields()}}
        return Reply(201, view, {"Location": f"/v1/payments/{done.payment.id}"})

    return ctx.run(lambda: handlers.create_payment(cmd, ports()), reply)


def citizen_of_payment(ctx: RequestContext, params: dict[str, str]) -> str:
    payment = handlers.find_payment(params["payment_id"], ports())
    ctx.resource = payment
    return payment.citizen_id


def get_payment(ctx: RequestContext, payment_id: str) -> Reply:
    payment = ctx.resource if isinstance(ctx.resource, payments.Payment) else handlers.find_payment(payment_id, ports())
    return Reply(200, payments.view(payment))


def get_receipt(ctx: RequestContext, payment_id: str) -> Reply:
    """The payment's receipt (justificante) as a PDF, once it succeeded."""
    payment = ctx.resource if isinstance(ctx.resource, payments.Payment) else handlers.find_payment(payment_id, ports())
    pdf = handlers.receipt(payment, ports())
    disposition = f'attachment; filename="justificante-{payment.id}.pdf"'
    return Reply(200, pdf, {"Content-Type": "application/pdf", "Content-Disposition": disposition})


class RefundRequest(BaseModel):
    """How much to give back, why, and what the caller read as still available (a stale view is refused)."""

    model_config = ConfigDict(extra="forbid")

    amount_cents: int = Field(gt=0, le=100_000_000, examples=[10000])
    refund_amount_available: int = Field(ge=0, le=100_000_000, examples=[10000])
    reason: str = Field(
        min_length=1, max_length=500, examples=["Recurso estimado: multa anulada (expediente 2026/1234)"]
    )


def post_refund(ctx: RequestContext, payment_id: str, body: RefundRequest) -> Reply:
    """A refund of a successful payment, submitted to the gateway by PAY's worker: 202 with the refund (its
    state moves on to success or error); the same Idempotency-Key and body again answers the same refund."""
    cmd = handlers.RequestRefund(
        payment_id,
        body.amount_cents,
        body.refund_amount_available,
        body.reason,
        by=f"{ctx.subject.role}:{ctx.subject.id}",
        purpose=ctx.purpose if ctx.subject.role == "agent" else None,
    )

    def reply(done: tuple[payments.Payment, payments.Refund]) -> Reply:
        payment, refund = done
        view = {
            **payments.refund_view(refund),
            "payment_id": payment.id,
            "refund_amount_available": payment.refund_amount_available,
        }
        return Reply(202, view, {"Location": f"/v1/payments/{payment.id}"})

    return ctx.run(lambda: handlers.request_refund(cmd, ports(), ctx.traceparent), reply)


def document_summary(body: Any) -> Any:
    """An agent whose view is a summary is told the document (a receipt, a letter) exists, not shown it."""
    return {"view": "summary"}


def verify_receipt(ctx: RequestContext, code: str) -> Reply:
    """Anyone holding a receipt checks it by its code: the amount, when, how and what it paid; not who."""
    return Reply(200, handlers.verify_receipt(code, ports()))


def post_bank_collections(ctx: RequestContext) -> Reply:
    """A bank's collection file (``text/plain``, Cuaderno 60 records): each letter it collected pays its debt
    once; the answer says what each record did. The same file again records nothing twice."""
    request = ctx.request
    if request.mimetype != "text/plain":
        raise UnsupportedMediaTypeError(f"send text/plain (the bank's file), not {request.mimetype or 'nothing'}")
    try:
        text = request.get_data().decode("ascii")
    except UnicodeDecodeError as exc:
        raise letters.CollectionFileInvalidError("a collection file is ASCII fixed-width records") from exc
    file = letters.read_collection_file(text)
    done = handlers.collect_file(file, ports(), ctx.traceparent)
    counts = Counter(c.outcome for c in done)
    body = {
        "entity": file.entity,
        "created_on": file.created_on.isoformat(),
        "records": len(file.records),
        "total_cents": file.total_cents,
        "outcomes": dict(sorted(counts.items())),
        "collections": [asdict(c) for c in done],
    }
    return Reply(200, body)


def get_reconciliation(ctx: RequestContext, day: str) -> Reply:
    """The money settled on ``day`` (AAAA-MM-DD, Europe/Madrid) for accounting: ``?format=csv`` (the default)
    or ``posting`` (the fixed-width posting file an SAP/TRM batch import reads)."""
    try:
        settled = date.fromisoformat(day)
    except ValueError as exc:
        raise ValidationError(f"{day!r} is not a date", errors=[{"field": "day", "message": "AAAA-MM-DD"}]) from exc
    fmt = ctx.request.args.get("format", "csv")
    if fmt not in ("csv", "posting"):
        raise ValidationError(f"format {fmt!r}", errors=[{"field": "format", "message": "csv or posting"}])
    text = handlers.reconciliation_export(settled, fmt == "posting", ports())
    kind = "text/csv; charset=utf-8" if fmt == "csv" else "text/plain; charset=us-ascii"
    name = f"pic-conciliacion-{settled.isoformat()}.{'csv' if fmt == 'csv' else 'txt'}"
    return Reply(200, text.encode(), {"Content-Type": kind, "Content-Disposition": f'attachment; filename="{name}"'})


def post_redsys_notification(ctx: RequestContext) -> Reply:
    """Redsys's word on an attempt (``application/x-www-form-urlencoded``): 200 only once the outcome is
    stored, so that Redsys sends it again otherwise; a notification that cannot be trusted is a 400 problem,
    logged with the reason, and changes nothing."""
    request = ctx.request
    if request.mimetype != "application/x-www-form-urlencoded":
        raise UnsupportedMediaTypeError(f"send application/x-www-form-urlencoded, not {request.mimetype or 'nothing'}")
    if (request.content_length or 0) > NOTIFICATION_BYTES:
        raise MalformedRequestError(f"a notification is smaller than {NOTIFICATION_BYTES} bytes")
    form = {
        name: request.form.get(name, "") for name in ("Ds_SignatureVersion", "Ds_MerchantParameters", "Ds_Signature")
    }
    try:
        return ctx.run(
            lambda: handlers.handle_notification(form, ports(), ctx.traceparent),
            lambda payment: Reply(200, {"payment_id": payment.id, "state": payment.state}),
        )
    except redsys.NotificationRefusedError as refused:
        get_logger().warning("gateway notification refused", extra={"reason": refused.detail})
        raise


NOTIFICATION_BYTES = 8 * 1024  # Redsys's notification is a few hundred bytes of parameters
COLLECTION_BYTES = (letters.MAX_COLLECTED + 2) * 82  # 80-character records and their line ends

ROUTES = [
    Route(
        "/v1/citizens/<citizen_id>/debts",
        "GET",
        get_debts,
        "The citizen's fines and tax receipts, with what is due today, until when and what changes after",
        action="debt.read",
        reads=Reads("debts", ("taxes", "fines"), debts_summary),
        app="pay",
    ),
    Route(
        "/v1/citizens/<citizen_id>/debts/<debt_id>/letter",
        "GET",
        get_letter,
        "A debt's payment letter (carta de pago, AEB Cuaderno 60 modality 2) as a PDF, to pay at a bank",
        action="debt.read",
        reads=Reads("payment-letter", ("taxes", "fines"), document_summary),
        app="pay",
    ),
    Route(
        "/v1/citizens/<citizen_id>/tax-folder",
        "GET",
        get_tax_folder,
        "The citizen's tax folder: receipts by tax and year, paid or not; tax objects, direct debits and IBI's bonus",
        action="debt.read",
        reads=Reads("tax-folder", ("taxes",), tax_folder_summary),
        app="pay",
    ),
    Route(
        "/v1/citizens/<citizen_id>/direct-debits/<tax_object>",
        "PUT",
        put_direct_debit,
        "Pay a tax object's periodic taxes by SEPA direct debit (IBAN, holder, Madrid's modality)",
        request_model=DirectDebitRequest,
        idempotent_writes=True,
        action="direct-debit.write",
        reads=Reads("direct-debit", ("taxes",), direct_debit_summary),
        app="pay",
    ),
    Route(
        "/v1/citizens/<citizen_id>/direct-debits/<tax_object>",
        "DELETE",
        delete_direct_debit,
        "Cancel a tax object's direct debit",
        action="direct-debit.write",
        reads=Reads("direct-debit", ("taxes",), direct_debit_summary),
        app="pay",
    ),
    Route(
        "/v1/payments",
        "POST",
        post_payment,
        "Pay one person's debts by card or Bizum: the payment and the Redsys form that sends the citizen to pay",
        request_model=PaymentRequest,
        status=201,
        idempotent_writes=True,
        links={"payment_id": "/id"},
        action="payment.create",
        citizen=citizen_of_payment_request,
        app="pay",
    ),
    Route(
        "/v1/payments/<payment_id>",
        "GET",
        get_payment,
        "A payment: its state, what it pays and the gateway's outcome",
        action="payment.read",
        citizen=citizen_of_payment,
        reads=Reads("payments", ("taxes", "fines"), payments.summary),
        app="pay",
    ),
    Route(
        "/v1/payments/<payment_id>/receipt",
        "GET",
        get_receipt,
        "The payment's receipt (justificante) as a PDF, with its verification code",
        action="payment.read",
        citizen=citizen_of_payment,
        reads=Reads("payment-receipt", ("taxes", "fines"), document_summary),
        app="pay",
    ),
    Route(
        "/v1/payments/<payment_id>/refunds",
        "POST",
        post_refund,
        "Give back all or part of a successful payment (an agent of Hacienda with a purpose, or an area system)",
        request_model=RefundRequest,
        status=202,
        idempotent_writes=True,
        action="payment.refund",
        citizen=citizen_of_payment,
    ),
    Route(
        "/v1/payments/bank-collections",
        "POST",
        post_bank_collections,
        "A bank's collection file of payment letters (AEB Cuaderno 60): each collected letter pays its debt once",
        action="payment.collect",
        max_body_bytes=COLLECTION_BYTES,
    ),
    Route(
        "/v1/payments/reconciliation/<day>",
        "GET",
        get_reconciliation,
        "The money settled on a day, for accounting: CSV, or the fixed-width posting file (?format=posting)",
        action="payment.reconcile",
    ),
    Route(
        "/v1/payments/verify/<code>",
        "GET",
        verify_receipt,
        "Check a receipt by its verification code: the amount, when, how and what it paid (not who)",
        public=True,
    ),
    Route(
        "/v1/payments/redsys/notifications",
        "POST",
        post_redsys_notification,
        "Redsys's merchant notification of an attempt's outcome (signed HMAC_SHA256_V1; form-urlencoded)",
        public=True,
        max_body_bytes=NOTIFICATION_BYTES,
    ),
]

http_api = HttpFunction(NAME, ROUTES)


@functions_framework.http
def payment_http(request: Request) -> Response:
    return http_api(request)


# ---- events ----------------------------------------------------------------------------------------


def on_issued(ctx: EventContext, data: Any) -> UnitOfWork:
    """A fine or a tax receipt an area system issued (the event ``source`` is the issuer): stored once."""
    assert isinstance(data, FineIssued | TaxReceiptIssued)
    return handlers.record_debt(data, ctx.source, ports())


def on_citizen_updated(ctx: EventContext, data: Any) -> UnitOfWork:
    """C360 linked (or moved) an area system's record: the debts named by it become that person's."""
    assert isinstance(data, CitizenUpdated)
    return handlers.project_link(data, ports())


def on_refund_submitted(ctx: EventContext, data: Any) -> UnitOfWork:
    """A refund asked for: sent to the gateway once, its outcome recorded and announced."""
    assert isinstance(data, RefundSubmitted)
    return handlers.send_refund(data, ports(), ctx.traceparent)


def tell_area_system(ctx: EventContext, data: Any) -> UnitOfWork:
    """The area system that issued the debt (or the tax object whose direct debit changed) is told, signed
    (``functions.core.webhooks``), at least once: a failed POST is a 409 and the broker retries it."""
    assert isinstance(data, FinePaid | TaxReceiptPaid | DirectDebitSigned | DirectDebitCancelled)
    found = handlers.webhook_for(data, ctx.type, ports())
    if found is not None:
        now = int(ports().clock.now().timestamp())
        webhooks.deliver(found[0], found[1], secret=get_settings().callback_secret, event_id=ctx.id, now=now)
    return UnitOfWork()


def on_rgpd_request_opened(ctx: EventContext, data: Any) -> UnitOfWork:
    """Answer a data-subject request for the person's debts, erasures in the same unit."""
    assert isinstance(data, RgpdRequestOpened)
    return handlers.answer_rights(data, ports(), ctx.traceparent)


event_api = EventFunction(
    "pic-payment-events",
    {
        "es.madrid.pic.fine.issued.v1": on_issued,
        "es.madrid.pic.tax.receipt.issued.v1": on_issued,
        "es.madrid.pic.citizen.updated.v1": on_citizen_updated,
        "es.madrid.pic.payment.refund.submitted.v1": on_refund_submitted,
        "es.madrid.pic.fine.paid.v1": tell_area_system,
        "es.madrid.pic.tax.receipt.paid.v1": tell_area_system,
        "es.madrid.pic.tax.direct-debit.signed.v1": tell_area_system,
        "es.madrid.pic.tax.direct-debit.cancelled.v1": tell_area_system,
        "es.madrid.pic.rgpd.request.opened.v1": on_rgpd_request_opened,
    },
)


@functions_framework.cloud_event
def payment_events(event: CloudEvent) -> None:
    event_api(event)
