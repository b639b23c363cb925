"""The Redsys redirect protocol: signatures interoperate with Redsys's, and no altered notification passes.

The expected values are interoperability vectors computed with Redsys's published test key
(``sq7HjrUOBfKmC576ILgskD5srU870gJ7``) by an independent open-source Redsys client (its test suite), and
checked against this module: the 3DES per-order keys, a request's signature, and a notification as Redsys
sends it (URL-safe base64).
"""

from __future__ import annotations

import base64
import json
import random

import pytest

from functions.payment import redsys
from functions.payment.redsys import Merchant, NotificationRefusedError

REQUEST_PARAMETERS = (
    "eyJEU19NRVJDSEFOVF9BTU9VTlQiOiIxMDAwIiwiRFNfTUVSQ0hBTlRfT1JERVIiOiIxMjM0NTY3OCIsIkRTX01FUkNIQU5UX01FUkNIQU5U"
    "TkFNRSI6IlNQRUMgU0hPUCIsIkRTX01FUkNIQU5UX01FUkNIQU5UQ09ERSI6IjMyNzIzNDY4OCIsIkRTX01FUkNIQU5UX0NVUlJFTkNZIjoi"
    "OTc4IiwiRFNfTUVSQ0hBTlRfVFJBTlNBQ1RJT05UWVBFIjoiMCIsIkRTX01FUkNIQU5UX1RFUk1JTkFMIjoiMSIsIkRTX01FUkNIQU5UX01F"
    "UkNIQU5UVVJMIjoiaHR0cDovL3d3dy5zcGVjLXNob3AuY29tLyIsIkRTX01FUkNIQU5UX1VSTE9LIjoiaHR0cDovL3d3dy5zcGVjLXNob3Av"
    "c3VjY2VzcyIsIkRTX01FUkNIQU5UX1VSTEtPIjoiaHR0cDovL3d3dy5zcGVjLXNob3AvZXJyb3IifQ=="
)
NOTIFICATION_PARAMETERS = (
    "eyJEc19EYXRlIjoiMjglMkYwNSUyRjIwMTgiLCJEc19Ib3VyIjoiMTAlM0E0NCIsIkRzX1NlY3VyZVBheW1lbnQiOiIxIiwiRHNfQW1vdW50"
    "IjoiNjcwMCIsIkRzX0N1cnJlbmN5IjoiOTc4IiwiRHNfT3JkZXIiOiIwMDAwRkI5QTE3MiIsIkRzX01lcmNoYW50Q29kZSI6IjMzNjcwNDY1"
    "NSIsIkRzX1Rlcm1pbmFsIjoiMDAxIiwiRHNfUmVzcG9uc2UiOiIwMDAwIiwiRHNfVHJhbnNhY3Rpb25UeXBlIjoiMCIsIkRzX01lcmNoYW50"
    "RGF0YSI6IiIsIkRzX0F1dGhvcmlzYXRpb25Db2RlIjoiMjE4MDQ4IiwiRHNfQ29uc3VtZXJMYW5ndWFnZSI6IjEiLCJEc19DYXJkX0NvdW50"
    "cnkiOiI3MjQiLCJEc19DYXJkX0JyYW5kIjoiMSJ9"
)
NOTIFICATION = {
    "Ds_SignatureVersion": "HMAC_SHA256_V1",
    "Ds_MerchantParameters": NOTIFICATION_PARAMETERS,
    "Ds_Signature": "3Fg6oB4URw8ykL-hkvdYPW4RKvT3ikz6qAv6WMHFH2I=",
}
NOTIFYING_MERCHANT = Merchant("336704655", "1", redsys.TEST_KEY, redsys.TEST_URL)


def test_the_per_order_key_is_the_order_under_3des_as_redsys_computes_it() -> None:
    assert base64.b64encode(redsys.order_key(redsys.TEST_KEY, "0")) == b"Qyx5NZhbucY="
    assert base64.b64encode(redsys.order_key(redsys.TEST_KEY, "1234567890")) == b"ntVrJPxp2xlsetWVajPl0g=="


def test_a_request_is_signed_as_redsys_expects() -> None:
    signature = redsys.sign(redsys.TEST_KEY, "12345678", REQUEST_PARAMETERS)
    assert signature == "OJHmZ7cVCM2YdKoFUWkSvK9suPLRvl3DPS840EgBW00="


def test_a_notification_as_redsys_sends_it_is_verified_and_read() -> None:
    notification = redsys.verify_notification(NOTIFYING_MERCHANT, NOTIFICATION)
    assert (notification.order, notification.amount_cents, notification.currency) == ("0000FB9A172", 6700, "978")
    assert notification.response == 0 and notification.approved and not notification.cancelled
    assert notification.authorisation_code == "218048"


def test_the_same_notification_signed_in_standard_base64_is_the_same() -> None:
    standard = {**NOTIFICATION, "Ds_Signature": NOTIFICATION["Ds_Signature"].replace("-", "+").replace("_", "/")}
    assert redsys.verify_notification(NOTIFYING_MERCHANT, standard).order == "0000FB9A172"


def _reencoded(change: dict[str, str]) -> str:
    parameters = redsys.decode_parameters(NOTIFICATION_PARAMETERS) | change
    return base64.urlsafe_b64encode(json.dumps(parameters).encode()).decode()


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({**NOTIFICATION, "Ds_MerchantParameters": _reencoded({"Ds_Amount": "1"})}, "Ds_Signature does not match"),
        ({**NOTIFICATION, "Ds_MerchantParameters": _reencoded({"Ds_Response": "0000"}) + "x"}, "not base64"),
        ({**NOTIFICATION, "Ds_Signature": "O9aFvML5qK8VBQhV4GK8kFHvmAQaSnX1hfckr7abzIs="}, "does not match"),
        ({**NOTIFICATION, "Ds_Signature": "12345=="}, "does not match"),
        ({**NOTIFICATION, "Ds_Signature": ""}, "both required"),
        ({k: v for k, v in NOTIFICATION.items() if k != "Ds_Signature"}, "both required"),
        ({**NOTIFICATION, "Ds_SignatureVersion": "HMAC_SHA512_V2"}, "must be HMAC_SHA256_V1"),
        ({**NOTIFICATION, "Ds_MerchantParameters": base64.b64encode(b"[1, 2]").decode()}, "JSON object"),
        ({**NOTIFICATION, "Ds_MerchantParameters": _reencoded({"Ds_Order": "x'; --"})}, "not a Redsys order"),
    ],
    ids=["amount", "not-base64", "another-signature", "short", "empty", "missing", "version", "array", "order"],
)
def test_an_altered_or_incomplete_notification_is_refused_with_the_reason(form: dict[str, str], reason: str) -> None:
    with pytest.raises(NotificationRefusedError, match=reason):
        redsys.verify_notification(NOTIFYING_MERCHANT, form)


def test_a_notification_signed_with_another_merchants_key_or_code_is_refused() -> None:
    other_key = Merchant("336704655", "1", base64.b64encode(b"k" * 24).decode(), redsys.TEST_URL)
    with pytest.raises(NotificationRefusedError, match="does not match"):
        redsys.verify_notification(other_key, NOTIFICATION)
    with pytest.raises(NotificationRefusedError, match="not this merchant's"):
        redsys.verify_notification(Merchant.test(), NOTIFICATION)


def test_a_redirect_form_round_trips_through_verification_and_bizum_says_z() -> None:
    merchant = Merchant.test()
    form = redsys.redirect_form(
        merchant,
        "2026AB12CD34",
        4500,
        "bizum",
        notification_url="https://pic.madrid.es/v1/payments/redsys/notifications",
        ok_url="https://pic.madrid.es/pagar/ok",
        ko_url="https://pic.madrid.es/pagar/ko",
    )
    parameters = redsys.decode_parameters(form.merchant_parameters)
    assert parameters["DS_MERCHANT_PAYMETHODS"] == "z"
    assert (parameters["DS_MERCHANT_AMOUNT"], parameters["DS_MERCHANT_CURRENCY"]) == ("4500", "978")
    assert form.signature == redsys.sign(merchant.key, "2026AB12CD34", form.merchant_parameters)
    assert set(form.fields()) == {"Ds_SignatureVersion", "Ds_MerchantParameters", "Ds_Signature"}
    card = redsys.redirect_form(merchant, "2026AB12CD35", 4500, "card", notification_url="n", ok_url="o", ko_url="k")
    assert "DS_MERCHANT_PAYMETHODS" not in redsys.decode_parameters(card.merchant_parameters)


@pytest.mark.parametrize(("order", "amount"), [("12", 100), ("ABCD1234", 100), ("1234567890123", 100), ("1234", 0)])
def test_a_form_is_never_built_for_an_order_or_amount_redsys_would_refuse(order: str, amount: int) -> None:
    with pytest.raises(ValueError):
        redsys.redirect_form(Merchant.test(), order, amount, "card", notification_url="n", ok_url="o", ko_url="k")


def test_fresh_order_numbers_have_redsys_shape_and_do_not_repeat() -> None:
    orders = [redsys.new_order(random.SystemRandom()) for _ in range(2000)]
    assert all(redsys.ORDER.match(order) and len(order) == 12 for order in orders)
    assert len(set(orders)) == len(orders)
