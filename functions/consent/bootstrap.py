"""The consent functions' real adapters, built once per process (cold start matters): DynamoDB through
``storage.DynamoConsentStore``, the policy engine ``PIC_POLICY_ENGINE`` names, the published terms, the
system clock. Tests build ``handlers.ConsentPorts`` with fakes instead."""

from __future__ import annotations

from functools import lru_cache

from functions.consent.handlers import ConsentPorts
from functions.consent.storage import DynamoConsentStore
from functions.core.clock import SYSTEM_CLOCK
from functions.core.policy import get_policy
from functions.core.terms import load_terms


@lru_cache(maxsize=1)
def ports() -> ConsentPorts:
    return ConsentPorts(store=DynamoConsentStore(), policy=get_policy(), terms=load_terms(), clock=SYSTEM_CLOCK)
