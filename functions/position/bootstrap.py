"""The position functions' real adapters, built once per process (cold start matters): DynamoDB through
``storage.DynamoPositionStore``, the policy engine ``PIC_POLICY_ENGINE`` names, the system clock. Tests build
``handlers.PositionPorts`` with fakes instead."""

from __future__ import annotations

from functools import lru_cache

from functions.core.clock import SYSTEM_CLOCK
from functions.core.policy import get_policy
from functions.position.handlers import PositionPorts
from functions.position.storage import DynamoPositionStore


@lru_cache(maxsize=1)
def ports() -> PositionPorts:
    return PositionPorts(store=DynamoPositionStore(), policy=get_policy(), clock=SYSTEM_CLOCK)
