"""A local Redsys ("TPV Virtual") for ``make run`` and the tests, under ``/dev/redsys/`` (never deployed).

It speaks the redirect protocol as Redsys does, with the same functions the platform verifies with
(``functions.payment.redsys``), and the terminal the platform is configured with (``PIC_REDSYS_*``; Redsys's
public test merchant by default):

- ``POST /dev/redsys/realizarPago``: the citizen's browser arrives with the three signed fields. A bad
  signature, another merchant or terminal, or an order number seen before (Redsys's SIS0051, even after a
  failed attempt) is an error page naming the SIS code; otherwise the payment page: what is paid, to whom,
  by card or Bizum, and the holder's choices.
- ``POST /dev/redsys/answer`` (``order``, ``outcome`` = ``approve`` | ``decline`` | ``cancel``): what the holder
  did. The sandbox signs the merchant notification (Ds_Response 0000, 0190 or 9915) and posts it to the
  merchant URL the payment gave, server to server, before sending the browser back to URLOK or URLKO, as
  Redsys's synchronous notification does. An order is answered once.
- ``POST /dev/redsys/resend`` (``order``): the same notification delivered again (Redsys retries).
- ``POST /dev/redsys/rest/trataPeticionREST``: Redsys's server-to-server endpoint, for refunds (transaction type
  3): the signed JSON checked as above, then all or part of an approved order given back (Ds_Response 0900,
  signed), or ``{"errorCode": "SIS0057"}`` past what is left of it and SIS0058 for an order never approved.
- ``GET /dev/redsys/orders``: every order the sandbox saw, newest first, with the merchant's answers and refunds.

Its state is ``<data dir>/redsys-sandbox.sqlite`` (WAL: the gateway's workers share it).
"""

from __future__ import annotations

import html
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import requests
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from functions.payment import redsys
from local.jsonreply import as_json

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY, at REAL NOT NULL, parameters TEXT NOT NULL, outcome TEXT, notification TEXT,
    deliveries TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS refunds (order_id TEXT NOT NULL, at REAL NOT NULL, amount INTEGER NOT NULL);
"""
RESPONSES = {"approve": 0, "decline": 190, "cancel": redsys.CANCELLED_BY_HOLDER}  # Ds_Response
NOTIFY_TIMEOUT = (2.0, 20.0)  # connect, read: the merchant stores the outcome before it answers
TEXTS = {
    "es": {
        "title": "Pago con tarjeta o Bizum (entorno de pruebas)",
        "lead": "Entorno de pruebas local de Redsys: no se cobra nada.",
        "merchant": "Comercio",
        "order": "Pedido",
        "amount": "Importe",
        "concept": "Concepto",
        "method": "Forma de pago",
        "card": "Tarjeta",
        "bizum": "Bizum",
        "approve": "Pagar",
        "decline": "Simular pago denegado",
        "cancel": "Cancelar y volver",
        "error": "No se puede pagar",
    },
    "en": {
        "title": "Card or Bizum payment (test environment)",
        "lead": "Local Redsys test environment: nothing is charged.",
        "merchant": "Merchant",
        "order": "Order",
        "amount": "Amount",
        "concept": "Concept",
        "method": "Payment method",
        "card": "Card",
        "bizum": "Bizum",
        "approve": "Pay",
        "decline": "Simulate a declined payment",
        "cancel": "Cancel and go back",
        "error": "This payment cannot be made",
    },
}


class RedsysSandbox:
    """The sandbox's endpoints, for the gateway's table of its own routes."""

    def __init__(self, data_dir: Path, merchant: redsys.Merchant) -> None:
        self.path = data_dir / "redsys-sandbox.sqlite"
        self.merchant = merchant
        self._local = threading.local()
        self._http = requests.Session()
        with self._db() as db:
            db.executescript(SCHEMA)

    def handlers(self) -> dict[tuple[str, str], Any]:
        return {
            ("POST", "/dev/redsys/realizarPago"): self.payment_page,
            ("POST", "/dev/redsys/answer"): self.answer,
            ("POST", "/dev/redsys/resend"): self.resend,
            ("POST", "/dev/redsys/rest/trataPeticionREST"): self.rest,
            ("GET", "/dev/redsys/orders"): self.orders,
        }

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            self._local.db = db
        return db

    # ---- the citizen's browser --------------------------------------------------------------------------

    def payment_page(self, request: Request) -> Response:
        """Redsys's realizarPago: the signed request checked as Redsys checks it, then the payment page."""
        lang = _language(request)
        form = {name: request.form.get(name, "") for name in redsys.FORM_FIELDS}
        try:
            parameters = self._verified_request(form)
        except SandboxError as error:
            return _page(lang, TEXTS[lang]["error"], f"<p role='alert'>{html.escape(str(error))}</p>", 400)
        order = parameters["DS_MERCHANT_ORDER"]
        try:
            self._db().execute(
                "INSERT INTO orders (id, at, parameters) VALUES (?, ?, ?)", (order, time.time(), json.dumps(parameters))
            )
        except sqlite3.IntegrityError:
            refused = f"SIS0051: {order}"
            body = f"<p role='alert'>{html.escape(refused)} — pedido repetido / order number already used</p>"
            return _page(lang, TEXTS[lang]["error"], body, 400)
        return _page(lang, TEXTS[lang]["title"], _payment_form(lang, parameters))

    # ---- server to server -----------------------------------------------------------------------------------

    def rest(self, request: Request) -> Response:
        """A refund (transaction type 3) of an approved order, up to what is left of it; Redsys's error codes
        (``{"errorCode": ...}``, HTTP 200 as Redsys answers) for anything it would refuse."""
        body = request.get_json(silent=True)
        form = {name: str(body.get(name, "")) for name in redsys.FORM_FIELDS} if isinstance(body, dict) else {}
        try:
            parameters = self._verified_request(form) if form else {}
        except SandboxError as error:
            return as_json({"errorCode": str(error).split(":", 1)[0]})
        if parameters.get("DS_MERCHANT_TRANSACTIONTYPE") != redsys.REFUND:
            return as_json({"errorCode": "SIS0054"})  # only refunds are simulated here
        order, amount = parameters["DS_MERCHANT_ORDER"], int(parameters["DS_MERCHANT_AMOUNT"])
        db = self._db()
        db.execute("BEGIN IMMEDIATE")  # what is left of the order, and the refund, in one step
        try:
            row = db.execute("SELECT parameters, outcome FROM orders WHERE id = ?", (order,)).fetchone()
            if row is None or row[1] != "approve":
                db.execute("ROLLBACK")
                return as_json({"errorCode": "SIS0058"})  # no approved order to refund
            charged = int(json.loads(row[0])["DS_MERCHANT_AMOUNT"])
            (refunded,) = db.execute(
                "SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE order_id = ?", (order,)
            ).fetchone()
            if refunded + amount > charged:
                db.execute("ROLLBACK")
                return as_json({"errorCode": "SIS0057"})  # more than is left of the order
            db.execute("INSERT INTO refunds (order_id, at, amount) VALUES (?, ?, ?)", (order, time.time(), amount))
            db.execute("COMMIT")
        except sqlite3.Error:
            db.execute("ROLLBACK")
            raise
        return as_json(redsys.rest_answer_body(self.merchant, order, amount, redsys.REFUND_DONE, redsys.REFUND))

    def _verified_request(self, form: dict[str, str]) -> dict[str, str]:
        if form["Ds_SignatureVersion"] != redsys.SIGNATURE_VERSION:
            raise SandboxError("SIS0295: Ds_SignatureVersion must be HMAC_SHA256_V1")
        try:
            parameters = redsys.decode_parameters(form["Ds_MerchantParameters"])
        except redsys.NotificationRefusedError as exc:
            raise SandboxError("SIS0431: Ds_MerchantParameters is not valid") from exc
        order = str(parameters.get("DS_MERCHANT_ORDER", ""))
        if not redsys.ORDER.match(order):
            raise SandboxError("SIS0074: the order number is missing or not valid")
        if (parameters.get("DS_MERCHANT_MERCHANTCODE"), parameters.get("DS_MERCHANT_TERMINAL")) != (
            self.merchant.code,
            self.merchant.terminal,
        ):
            raise SandboxError("SIS0026: unknown merchant or terminal")
        expected = redsys.sign(self.merchant.key, order, form["Ds_MerchantParameters"])
        if form["Ds_Signature"].replace("-", "+").replace("_", "/") != expected:
            raise SandboxError("SIS0042: the signature is not valid")
        if not str(parameters.get("DS_MERCHANT_AMOUNT", "")).isdigit():
            raise SandboxError("SIS0018: the amount is not valid")
        return {str(k): str(v) for k, v in parameters.items()}

    def answer(self, request: Request) -> Response:
        """What the holder chose: the notification signed and delivered, then the browser sent back."""
        order, outcome = request.form.get("order", ""), request.form.get("outcome", "")
        row = self._db().execute("SELECT parameters, outcome FROM orders WHERE id = ?", (order,)).fetchone()
        if row is None or outcome not in RESPONSES:
            return as_json({"error": "send order (one the sandbox showed) and outcome (approve, decline, cancel)"}, 400)
        parameters = json.loads(row[0])
        if row[1] is not None:
            return as_json({"error": f"order {order} was already answered ({row[1]})"}, 409)
        response = RESPONSES[outcome]
        code = f"{int(time.time() * 1000) % 1_000_000:06d}" if response in redsys.APPROVED else ""
        amount = int(parameters["DS_MERCHANT_AMOUNT"])
        form = redsys.notification_form(self.merchant, order, amount, response, authorisation_code=code)
        claimed = self._db().execute(
            "UPDATE orders SET outcome = ?, notification = ? WHERE id = ? AND outcome IS NULL",
            (outcome, json.dumps(form), order),
        )
        if claimed.rowcount != 1:
            return as_json({"error": f"order {order} was already answered"}, 409)
        self._deliver(order, parameters, form)
        back = parameters["DS_MERCHANT_URLOK"] if response in redsys.APPROVED else parameters["DS_MERCHANT_URLKO"]
        return redirect(back, 303)

    def resend(self, request: Request) -> Response:
        """Deliver an order's notification again, as Redsys does when it retries."""
        order = request.form.get("order", "")
        row = self._db().execute("SELECT parameters, notification FROM orders WHERE id = ?", (order,)).fetchone()
        if row is None or row[1] is None:
            return as_json({"error": f"order {order!r} has no notification to send again"}, 404)
        status = self._deliver(order, json.loads(row[0]), json.loads(row[1]))
        return as_json({"order": order, "merchant_status": status})

    def _deliver(self, order: str, parameters: dict[str, str], form: dict[str, str]) -> int:
        """POST the notification to the merchant URL (form-urlencoded); record what it answered (0: no answer)."""
        try:
            status = self._http.post(
                parameters["DS_MERCHANT_MERCHANTURL"], data=form, timeout=NOTIFY_TIMEOUT
            ).status_code
        except requests.RequestException:
            status = 0
        delivery = json.dumps({"at": time.time(), "status": status})
        self._db().execute(
            "UPDATE orders SET deliveries = json_insert(deliveries, '$[#]', json(?)) WHERE id = ?", (delivery, order)
        )
        return status

    def orders(self, request: Request) -> Response:
        rows = self._db().execute(
            "SELECT id, at, parameters, outcome, deliveries FROM orders ORDER BY at DESC LIMIT 500"
        )
        refunds: dict[str, list[int]] = {}
        for order_id, amount in self._db().execute("SELECT order_id, amount FROM refunds ORDER BY at"):
            refunds.setdefault(order_id, []).append(amount)
        found = [
            {
                "order": order,
                "at": at,
                "amount_cents": int(json.loads(parameters)["DS_MERCHANT_AMOUNT"]),
                "bizum": json.loads(parameters).get("DS_MERCHANT_PAYMETHODS") == redsys.BIZUM,
                "outcome": outcome,
                "deliveries": json.loads(deliveries),
                "refunds_cents": refunds.get(order, []),
            }
            for order, at, parameters, outcome, deliveries in rows
        ]
        return as_json({"orders": found})


class SandboxError(Exception):
    """A request Redsys would refuse, with its SIS code."""


def _language(request: Request) -> str:
    asked = request.args.get("lang") or request.accept_languages.best_match(["es", "en"]) or "es"
    return asked if asked in TEXTS else "es"


def _payment_form(lang: str, parameters: dict[str, str]) -> str:
    t = TEXTS[lang]
    amount = int(parameters["DS_MERCHANT_AMOUNT"])
    euros = f"{amount // 100},{amount % 100:02d} €" if lang == "es" else f"€{amount // 100}.{amount % 100:02d}"
    method = t["bizum"] if parameters.get("DS_MERCHANT_PAYMETHODS") == redsys.BIZUM else t["card"]
    order = html.escape(parameters["DS_MERCHANT_ORDER"])
    rows = [
        (t["merchant"], html.escape(parameters["DS_MERCHANT_MERCHANTCODE"])),
        (t["order"], order),
        (t["amount"], euros),
        (t["concept"], html.escape(parameters.get("DS_MERCHANT_PRODUCTDESCRIPTION", ""))),
        (t["method"], method),
    ]
    details = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
    buttons = "".join(
        f'<button type="submit" name="outcome" value="{value}">{t[value]}</button>'
        for value in ("approve", "decline", "cancel")
    )
    return (
        f"<p>{t['lead']}</p><dl>{details}</dl>"
        f'<form method="post" action="/dev/redsys/answer"><input type="hidden" name="order" value="{order}">'
        f"{buttons}</form>"
    )


def _page(lang: str, title: str, body: str, status: int = 200) -> Response:
    page = f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · Redsys</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 32rem; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; }}
dt {{ font-weight: 600; }} dd {{ margin: 0 0 .5rem 0; }}
button {{ display: block; width: 100%; margin: .5rem 0; padding: .75rem; font-size: 1rem; border: 2px solid #1a1a1a;
  background: #fff; color: #1a1a1a; border-radius: .25rem; cursor: pointer; }}
button[value=approve] {{ background: #0b5394; color: #fff; border-color: #0b5394; }}
button:focus-visible {{ outline: 3px solid #e69500; outline-offset: 2px; }}
</style></head>
<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"""
    return Response(page, status=status, content_type="text/html; charset=utf-8")
