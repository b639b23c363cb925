"""The notification functions' real adapters, built once per process (cold start matters): DynamoDB through
``storage.DynamoNotificationStore``, the policy engine ``PIC_POLICY_ENGINE`` names, the published terms, the
system clock and the channel providers the settings choose. Tests build ``handlers.NotificationPorts`` with
fakes instead."""

from __future__ import annotations

from functools import lru_cache

from functions.core.clock import SYSTEM_CLOCK
from functions.core.policy import get_policy
from functions.core.terms import load_terms
from functions.notification.channels import providers
from functions.notification.handlers import NotificationPorts
from functions.notification.storage import DynamoNotificationStore


@lru_cache(maxsize=1)
def ports() -> NotificationPorts:
    store = DynamoNotificationStore()
    return NotificationPorts(
        store=store, policy=get_policy(), terms=load_terms(), clock=SYSTEM_CLOCK, providers=providers(store)
    )
