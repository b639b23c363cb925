"""The payment functions' real adapters, built once per process (cold start matters): DynamoDB through
``storage.DynamoPaymentStore``, the policy engine ``PIC_POLICY_ENGINE`` names, the system clock. Tests build
``handlers.PaymentPorts`` with fakes instead."""

from __future__ import annotations

from functools import lru_cache

from functions.core.clock import SYSTEM_CLOCK
from functions.core.policy import get_policy
from functions.payment.handlers import PaymentPorts
from functions.payment.storage import DynamoPaymentStore


@lru_cache(maxsize=1)
def ports() -> PaymentPorts:
    return PaymentPorts(store=DynamoPaymentStore(), policy=get_policy(), clock=SYSTEM_CLOCK)
