"""The Redsys redirect protocol (Spain's card gateway, "TPV Virtual"): the form that sends a citizen to pay
and the merchant notification that says how it went, signed ``HMAC_SHA256_V1``.

Pure: no I/O. The payment use cases build a ``RedirectForm`` per attempt and trust a ``Notification`` only
after ``verify_notification``; the local sandbox (``local/redsys_sandbox.py``) signs with the same
functions, as Redsys would.

The signature, as Redsys's integration guide ("Guía de integración TPV-Virtual, redirección") defines it:

1. the per-order key is the order number (``Ds_Merchant_Order``, zero-padded to a multiple of 8 bytes)
   encrypted with 3DES-CBC under the merchant's secret key (base64, 24 bytes) and an all-zero IV;
2. the signature is HMAC-SHA256, under that key, of ``Ds_MerchantParameters`` exactly as sent (the base64
   of the JSON parameters), itself in base64. Redsys sends notifications with URL-safe base64 (``-``, ``_``).

Bizum is the same protocol with ``DS_MERCHANT_PAYMETHODS = "z"``. Amounts are integer cents, currency 978
(EUR, ISO 4217). Redsys refuses an order number it has seen before (SIS0051), even after a failed
attempt: every attempt gets a fresh one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from functions.core.errors import PicError

SIGNATURE_VERSION = "HMAC_SHA256_V1"
FORM_FIELDS = ("Ds_SignatureVersion", "Ds_MerchantParameters", "Ds_Signature")  # a redirect's and a notification's
EURO = "978"
AUTHORISATION = "0"  # Ds_Merchant_TransactionType: a plain authorisation (charge)
REFUND = "3"  # Ds_Merchant_TransactionType: "devolución automática", all or part of an approved order
REFUND_DONE = 900  # Ds_Response of a refund Redsys accepted
BIZUM = "z"  # Ds_Merchant_PayMethods
# Redsys: 4 to 12 characters, the first 4 digits, the rest alphanumeric
ORDER = re.compile(r"^[0-9]{4}[0-9A-Za-z]{0,8}$")
# Ds_Response: 0000-0099 approved; 0900 a refund or confirmation done; 9915 the holder cancelled
APPROVED = range(100)
CANCELLED_BY_HOLDER = 9915
# Redsys's public test merchant ("comercio de pruebas"), published in its integration guide
TEST_MERCHANT_CODE = "999008881"
TEST_TERMINAL = "1"
TEST_KEY = "sq7HjrUOBfKmC576ILgskD5srU870gJ7"
TEST_URL = "https://sis-t.redsys.es:25443/sis/realizarPago"
TEST_REST_URL = "https://sis-t.redsys.es:25443/sis/rest/trataPeticionREST"  # server-to-server operations

Method = Literal["card", "bizum"]


class NotificationRefusedError(PicError):
    """A merchant notification that cannot be trusted: nothing changes and the reason is logged."""

    status, slug, title = 400, "gateway-notification-refused", "The gateway notification was refused"


@dataclass(frozen=True)
class Merchant:
    """One merchant's terminal at Redsys: who is paid, where the citizen is sent, the signing key."""

    code: str
    terminal: str
    key: str  # base64, as Redsys's back office shows it
    url: str  # the redirect endpoint (realizarPago)
    rest_url: str = TEST_REST_URL  # the server-to-server endpoint (trataPeticionREST): refunds

    @classmethod
    def test(cls, url: str = TEST_URL, rest_url: str = TEST_REST_URL) -> Merchant:
        return cls(TEST_MERCHANT_CODE, TEST_TERMINAL, TEST_KEY, url, rest_url)


@dataclass(frozen=True)
class RedirectForm:
    """Where to send the citizen: an auto-submitted POST of the three fields to ``url``."""

    url: str
    merchant_parameters: str
    signature: str
    signature_version: str = SIGNATURE_VERSION

    def fields(self) -> dict[str, str]:
        return {
            "Ds_SignatureVersion": self.signature_version,
            "Ds_MerchantParameters": self.merchant_parameters,
            "Ds_Signature": self.signature,
        }


@dataclass(frozen=True)
class Notification:
    """What a verified notification says. ``response`` is Redsys's ``Ds_Response`` as a number."""

    order: str
    amount_cents: int
    currency: str
    response: int
    authorisation_code: str
    parameters: dict[str, Any]

    @property
    def approved(self) -> bool:
        return self.response in APPROVED

    @property
    def cancelled(self) -> bool:
        return self.response == CANCELLED_BY_HOLDER


def new_order(random: secrets.SystemRandom | None = None) -> str:
    """A fresh order number: 4 digits and 8 letters or digits (about 2.8e12 per 4-digit prefix)."""
    chooser = random or secrets.SystemRandom()
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "".join(chooser.choice("0123456789") for _ in range(4)) + "".join(chooser.choice(alphabet) for _ in range(8))


def order_key(key: str, order: str) -> bytes:
    """The per-order signing key: the order, zero-padded to 8-byte blocks, 3DES-CBC under the merchant key."""
    data = order.encode("ascii")
    data += b"\0" * (-len(data) % 8)
    encryptor = Cipher(TripleDES(base64.b64decode(key)), modes.CBC(b"\0" * 8)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def sign(key: str, order: str, merchant_parameters: str) -> str:
    """``Ds_Signature`` of ``merchant_parameters`` (as sent) for ``order``, in standard base64."""
    digest = hmac.new(order_key(key, order), merchant_parameters.encode("ascii"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def encode_parameters(parameters: dict[str, str]) -> str:
    return base64.b64encode(json.dumps(parameters, separators=(",", ":")).encode("utf-8")).decode("ascii")


def decode_parameters(merchant_parameters: str) -> dict[str, Any]:
    """The JSON inside ``Ds_MerchantParameters`` (standard or URL-safe base64, as Redsys sends either)."""
    try:
        raw = base64.b64decode(_standard(merchant_parameters), validate=True)
        decoded = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise NotificationRefusedError("Ds_MerchantParameters is not base64 of a JSON object") from exc
    if not isinstance(decoded, dict):
        raise NotificationRefusedError("Ds_MerchantParameters is not base64 of a JSON object")
    return decoded


def redirect_form(
    merchant: Merchant,
    order: str,
    amount_cents: int,
    method: Method,
    *,
    notification_url: str,
    ok_url: str,
    ko_url: str,
    description: str = "",
) -> RedirectForm:
    """The signed form that sends the citizen to pay ``amount_cents`` for ``order`` (card or Bizum)."""
    if not ORDER.match(order):
        raise ValueError(f"{order!r} is not a Redsys order number (4 digits, then up to 8 letters or digits)")
    if amount_cents <= 0:
        raise ValueError("Redsys charges a positive amount")
    parameters = {
        "DS_MERCHANT_AMOUNT": str(amount_cents),
        "DS_MERCHANT_ORDER": order,
        "DS_MERCHANT_MERCHANTCODE": merchant.code,
        "DS_MERCHANT_CURRENCY": EURO,
        "DS_MERCHANT_TRANSACTIONTYPE": AUTHORISATION,
        "DS_MERCHANT_TERMINAL": merchant.terminal,
        "DS_MERCHANT_MERCHANTURL": notification_url,
        "DS_MERCHANT_URLOK": ok_url,
        "DS_MERCHANT_URLKO": ko_url,
    }
    if description:
        parameters["DS_MERCHANT_PRODUCTDESCRIPTION"] = description[:125]
    if method == "bizum":
        parameters["DS_MERCHANT_PAYMETHODS"] = BIZUM
    encoded = encode_parameters(parameters)
    return RedirectForm(merchant.url, encoded, sign(merchant.key, order, encoded))


def signed_fields(
    merchant: Merchant, order: str, parameters: dict[str, str], *, url_safe: bool = False
) -> dict[str, str]:
    """The three fields of a signed message (a REST request, Redsys's answers and notifications); notifications
    travel in URL-safe base64."""
    encoded = encode_parameters(parameters)
    if url_safe:
        encoded = encoded.replace("+", "-").replace("/", "_")
    signature = sign(merchant.key, order, encoded)  # of the parameters as sent
    if url_safe:
        signature = signature.replace("+", "-").replace("/", "_")
    return {"Ds_SignatureVersion": SIGNATURE_VERSION, "Ds_MerchantParameters": encoded, "Ds_Signature": signature}


def answer_parameters(
    merchant: Merchant, order: str, amount_cents: int, response: int, transaction_type: str, authorisation_code: str
) -> dict[str, str]:
    """What Redsys says of an operation (``Ds_Response`` of four digits)."""
    return {
        "Ds_Amount": str(amount_cents),
        "Ds_Currency": EURO,
        "Ds_Order": order,
        "Ds_MerchantCode": merchant.code,
        "Ds_Terminal": merchant.terminal,
        "Ds_Response": f"{response:04d}",
        "Ds_TransactionType": transaction_type,
        "Ds_AuthorisationCode": authorisation_code,
    }


def notification_form(
    merchant: Merchant, order: str, amount_cents: int, response: int, *, authorisation_code: str = ""
) -> dict[str, str]:
    """A merchant notification as Redsys sends it (URL-safe base64): what the local sandbox posts, and what
    tests replay."""
    parameters = answer_parameters(merchant, order, amount_cents, response, AUTHORISATION, authorisation_code)
    return signed_fields(merchant, order, {**parameters, "Ds_SecurePayment": "1"}, url_safe=True)


def verify_notification(merchant: Merchant, form: dict[str, str]) -> Notification:
    """A notification's content, once its version and signature are Redsys's; else ``NotificationRefusedError``.

    Whether the order is one PIC issued, for that amount and currency, is the use case's to check: only it
    knows the attempts.
    """
    version = form.get("Ds_SignatureVersion", "")
    parameters_b64 = form.get("Ds_MerchantParameters", "")
    received = form.get("Ds_Signature", "")
    if version != SIGNATURE_VERSION:
        raise NotificationRefusedError(f"Ds_SignatureVersion must be {SIGNATURE_VERSION}, not {version[:40]!r}")
    if not parameters_b64 or not received:
        raise NotificationRefusedError("Ds_MerchantParameters and Ds_Signature are both required")
    parameters = decode_parameters(parameters_b64)
    order = str(parameters.get("Ds_Order", ""))
    if not ORDER.match(order):
        raise NotificationRefusedError("Ds_Order is missing or not a Redsys order number")
    if str(parameters.get("Ds_MerchantCode", "")) != merchant.code:
        raise NotificationRefusedError("Ds_MerchantCode is not this merchant's")
    expected = sign(merchant.key, order, parameters_b64)
    if not hmac.compare_digest(_standard(received).encode("ascii", "replace"), expected.encode("ascii")):
        raise NotificationRefusedError("Ds_Signature does not match: not signed with this merchant's key")
    return Notification(
        order=order,
        amount_cents=_integer(parameters, "Ds_Amount"),
        currency=str(parameters.get("Ds_Currency", "")),
        response=_integer(parameters, "Ds_Response"),
        authorisation_code=str(parameters.get("Ds_AuthorisationCode", "")).strip(),
        parameters=parameters,
    )


def _standard(text: str) -> str:
    """URL-safe base64 as standard base64 (Redsys notifications use ``-`` and ``_``)."""
    return text.replace("-", "+").replace("_", "/")


def _integer(parameters: dict[str, Any], name: str) -> int:
    value = str(parameters.get(name, ""))
    if not value.isdigit():
        raise NotificationRefusedError(f"{name} is missing or not a number")
    return int(value)


# ---- server to server (REST): refunds -----------------------------------------------------------------------


@dataclass(frozen=True)
class RestAnswer:
    """What Redsys answered a server-to-server operation: done (Ds_Response 0900 for a refund), and its code
    (the Ds_Response, or the SIS error code when it refused the request outright)."""

    done: bool
    code: str


def refund_request(merchant: Merchant, order: str, amount_cents: int) -> dict[str, str]:
    """The signed JSON body of a refund of ``amount_cents`` of the approved ``order`` (Redsys's REST
    ``trataPeticionREST``, transaction type 3); Redsys refuses one over what is left of the order (SIS0057)."""
    if amount_cents <= 0:
        raise ValueError("a refund gives back a positive amount")
    parameters = {
        "DS_MERCHANT_AMOUNT": str(amount_cents),
        "DS_MERCHANT_ORDER": order,
        "DS_MERCHANT_MERCHANTCODE": merchant.code,
        "DS_MERCHANT_CURRENCY": EURO,
        "DS_MERCHANT_TRANSACTIONTYPE": REFUND,
        "DS_MERCHANT_TERMINAL": merchant.terminal,
    }
    return signed_fields(merchant, order, parameters)


def rest_answer_body(
    merchant: Merchant, order: str, amount_cents: int, response: int, transaction_type: str
) -> dict[str, str]:
    """A REST answer as Redsys signs it (what the local sandbox returns)."""
    return signed_fields(
        merchant, order, answer_parameters(merchant, order, amount_cents, response, transaction_type, "")
    )


def read_refund_answer(merchant: Merchant, order: str, amount_cents: int, body: dict[str, Any]) -> RestAnswer:
    """Redsys's answer to a refund: ``{"errorCode": "SIS…"}`` when refused outright, else the three signed
    fields, trusted only when signed with the terminal's key for this order and amount
    (``NotificationRefusedError`` otherwise: the outcome is then unknown, never assumed)."""
    if "errorCode" in body:
        return RestAnswer(False, str(body["errorCode"])[:16])
    form = {name: str(body.get(name, "")) for name in FORM_FIELDS}
    answer = verify_notification(merchant, form)
    if answer.order != order or answer.amount_cents != amount_cents:
        raise NotificationRefusedError(f"the answer is for order {answer.order}, {answer.amount_cents} cents")
    return RestAnswer(answer.response == REFUND_DONE, f"{answer.response:04d}")
