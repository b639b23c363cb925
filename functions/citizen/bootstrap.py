"""The citizen functions' real adapters, built once per process (cold start matters): DynamoDB through
``storage.DynamoCitizenStore``, the policy engine ``PIC_POLICY_ENGINE`` names, the versioned match model, the
system clock. Tests build ``handlers.CitizenPorts`` with fakes instead."""

from __future__ import annotations

from functools import lru_cache

from functions.citizen import matching
from functions.citizen.handlers import CitizenPorts
from functions.citizen.storage import DynamoCitizenStore
from functions.core.clock import SYSTEM_CLOCK
from functions.core.policy import get_policy


@lru_cache(maxsize=1)
def ports() -> CitizenPorts:
    return CitizenPorts(
        store=DynamoCitizenStore(), policy=get_policy(), model=matching.load_model(), clock=SYSTEM_CLOCK
    )
