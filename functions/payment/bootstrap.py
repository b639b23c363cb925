"""The payment functions' real adapters, built once per process (cold start matters): DynamoDB through
``storage.DynamoPaymentStore``, the policy engine ``PIC_POLICY_ENGINE`` names, the system clock. Tests build
``handlers.PaymentPorts`` with fakes instead."""

from __future__ import annotations

from functools import lru_cache

from functions.core.clock import SYSTEM_CLOCK
from functions.core.policy import get_policy
from functions.core.settings import get_settings
from functions.payment.gateway import RedsysRest
from functions.payment.handlers import Gateway, PaymentPorts
from functions.payment.redsys import Merchant
from functions.payment.storage import DynamoPaymentStore


def gateway() -> Gateway:
    """The Redsys terminal (``PIC_REDSYS_*``) and the addresses given to it for each attempt."""
    settings = get_settings()
    merchant = Merchant(
        settings.redsys_merchant_code,
        settings.redsys_terminal,
        settings.redsys_key,
        settings.redsys_url,
        settings.redsys_rest_url,
    )
    api = settings.api_url.rstrip("/")
    notifications = f"{api}/v1/payments/redsys/notifications"
    back = settings.payment_return_url.rstrip("/"), settings.payment_desk_return_url.rstrip("/")
    return Gateway(merchant, notifications, back[0], f"{api}/v1/payments/verify", back[1])


@lru_cache(maxsize=1)
def ports() -> PaymentPorts:
    terminal = gateway()
    return PaymentPorts(
        store=DynamoPaymentStore(),
        policy=get_policy(),
        clock=SYSTEM_CLOCK,
        gateway=terminal,
        refunds=RedsysRest(terminal.merchant),
        emisora=get_settings().cuaderno60_emisora,
        webhooks=get_settings().payment_webhooks,
    )
