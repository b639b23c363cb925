"""The case functions' real adapters, built once per process (cold start matters): DynamoDB through
``storage.DynamoCaseStore``, the policy engine ``PIC_POLICY_ENGINE`` names, the system clock. Tests build
``handlers.CasePorts`` with fakes instead."""

from __future__ import annotations

from functools import lru_cache

from functions.case.handlers import CasePorts
from functions.case.storage import DynamoCaseStore
from functions.core.clock import SYSTEM_CLOCK
from functions.core.policy import get_policy


@lru_cache(maxsize=1)
def ports() -> CasePorts:
    return CasePorts(store=DynamoCaseStore(), policy=get_policy(), clock=SYSTEM_CLOCK)
