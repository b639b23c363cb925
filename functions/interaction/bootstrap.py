"""The interaction functions' real adapters, built once per process (cold start matters): DynamoDB through
``storage.DynamoInteractionStore``, the policy engine ``PIC_POLICY_ENGINE`` names, the system clock. Tests
build ``handlers.InteractionPorts`` with fakes instead."""

from __future__ import annotations

from functools import lru_cache

from functions.core.clock import SYSTEM_CLOCK
from functions.core.policy import get_policy
from functions.interaction.handlers import InteractionPorts
from functions.interaction.storage import DynamoInteractionStore


@lru_cache(maxsize=1)
def ports() -> InteractionPorts:
    return InteractionPorts(store=DynamoInteractionStore(), policy=get_policy(), clock=SYSTEM_CLOCK)
