"""The routing functions' real adapters, built once per process (cold start matters): DynamoDB through
``storage.DynamoRoutingStore``, the policy engine ``PIC_POLICY_ENGINE`` names, the system clock. Tests build
``handlers.RoutingPorts`` with fakes instead."""

from __future__ import annotations

from functools import lru_cache

from functions.core.clock import SYSTEM_CLOCK
from functions.core.policy import get_policy
from functions.routing.handlers import RoutingPorts
from functions.routing.storage import DynamoRoutingStore


@lru_cache(maxsize=1)
def ports() -> RoutingPorts:
    return RoutingPorts(store=DynamoRoutingStore(), policy=get_policy(), clock=SYSTEM_CLOCK)
