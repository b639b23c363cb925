"""The Redsys REST adapter (``trataPeticionREST``): server-to-server operations, today refunds.

A refund leaves PIC only once it is claimed (``sending``), so whether Redsys did it must never be guessed:
a connection that was never made sent nothing (``GatewayUnreachableError``, the claim is released and the event
retried); a request that may have reached Redsys without a trustworthy answer (a read timeout, a 5xx, an
unsigned body) is ``RefundOutcomeUnknownError``: the refund stays ``sending`` and its event goes to the dead
letters with the reason, for someone to check the gateway's back office rather than give the money back twice.
"""

from __future__ import annotations

from typing import Any

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from functions.core.errors import ConflictError, PicError
from functions.payment import redsys

TIMEOUT = (3.0, 20.0)  # connect, read: Redsys answers a refund within seconds


class GatewayUnreachableError(ConflictError):
    """No connection to the gateway: nothing was sent, so the refund is asked again later."""

    slug, title = "gateway-unreachable", "The payment gateway could not be reached"


class RefundOutcomeUnknownError(PicError):
    """The refund may have reached the gateway, but no trustworthy answer came back."""

    status, slug, title = 422, "refund-outcome-unknown", "Whether the gateway made the refund is unknown"


class RedsysRest:
    """Refunds through Redsys's REST endpoint (``Merchant.rest_url``), signed with the terminal's key."""

    def __init__(self, merchant: redsys.Merchant, session: requests.Session | None = None) -> None:
        self.merchant = merchant
        self.session = session or requests.Session()

    def refund(self, order: str, amount_cents: int) -> redsys.RestAnswer:
        body = redsys.refund_request(self.merchant, order, amount_cents)
        try:
            response = self.session.post(self.merchant.rest_url, json=body, timeout=TIMEOUT, allow_redirects=False)
        except requests.RequestException as exc:
            if _never_connected(exc):
                raise GatewayUnreachableError(f"{self.merchant.rest_url}: {type(exc).__name__}") from exc
            raise RefundOutcomeUnknownError(f"no answer from the gateway ({type(exc).__name__})") from exc
        if response.status_code != 200:
            raise RefundOutcomeUnknownError(f"the gateway answered HTTP {response.status_code}")
        try:
            answered: Any = response.json()
        except ValueError as exc:
            raise RefundOutcomeUnknownError("the gateway's answer is not JSON") from exc
        if not isinstance(answered, dict):
            raise RefundOutcomeUnknownError("the gateway's answer is not a JSON object")
        try:
            return redsys.read_refund_answer(self.merchant, order, amount_cents, answered)
        except redsys.NotificationRefusedError as exc:
            raise RefundOutcomeUnknownError(f"the gateway's answer cannot be trusted: {exc.detail}") from exc


def _never_connected(exc: requests.RequestException) -> bool:
    """Whether the request never left: the connection was refused or timed out before it was made."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError | ConnectTimeoutError)
