"""Fines and taxes (PAY) entry points: thin. Parse, map to a use case, answer.

- ``payment_http``: ``GET /v1/citizens/{citizen_id}/debts`` (every fine and tax receipt, with what is due
  today, until when and what changes after, as ``policies/payment`` prices it); Knative Service
  ``pic-payment``.
- ``payment_events``: ``es.madrid.pic.fine.issued.v1`` (Multas, Movilidad), ``es.madrid.pic.tax.receipt.issued.v1``
  (Tributos) and data-subject requests (``rgpd.request.opened``); Knative Service ``pic-payment-events``.
The use cases are in ``handlers.py``; the adapters they run on are built by ``bootstrap.py``.
"""

from __future__ import annotations

from typing import Any

import functions_framework
from cloudevents.http import CloudEvent
from flask import Request, Response

from events.payment import FineIssued, TaxReceiptIssued
from events.rgpd import RgpdRequestOpened
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.http import HttpFunction, Reads, Reply, RequestContext, Route
from functions.core.store import UnitOfWork
from functions.payment import handlers, service
from functions.payment.bootstrap import ports

NAME = "pic-payment"


def get_debts(ctx: RequestContext, citizen_id: str) -> Reply:
    """The person's fines and tax receipts, each with what is due today and its legal source."""
    debts = handlers.citizen_debts(citizen_id, ports())
    return Reply(200, {"citizen_id": citizen_id, "debts": debts})


def debts_summary(body: dict[str, Any]) -> dict[str, Any]:
    """How many debts are pending, what is due today in all and the next date: not which nor why."""
    return {"citizen_id": body["citizen_id"], **service.summary(body["debts"])}


ROUTES = [
    Route(
        "/v1/citizens/<citizen_id>/debts",
        "GET",
        get_debts,
        "The citizen's fines and tax receipts, with what is due today, until when and what changes after",
        action="debt.read",
        reads=Reads("debts", ("taxes", "fines"), debts_summary),
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


def on_rgpd_request_opened(ctx: EventContext, data: Any) -> UnitOfWork:
    """Answer a data-subject request for the person's debts, erasures in the same unit."""
    assert isinstance(data, RgpdRequestOpened)
    return handlers.answer_rights(data, ports(), ctx.traceparent)


event_api = EventFunction(
    "pic-payment-events",
    {
        "es.madrid.pic.fine.issued.v1": on_issued,
        "es.madrid.pic.tax.receipt.issued.v1": on_issued,
        "es.madrid.pic.rgpd.request.opened.v1": on_rgpd_request_opened,
    },
)


@functions_framework.cloud_event
def payment_events(event: CloudEvent) -> None:
    event_api(event)
