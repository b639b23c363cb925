"""The data-subject-rights functions' real adapters, built once per process (cold start matters): DynamoDB
through ``storage.DynamoRgpdStore``, the policy engine ``PIC_POLICY_ENGINE`` names, the purposes of the
published terms (``functions.core.terms``, read by the kernel), the system clock. Tests build
``handlers.RgpdPorts`` with fakes instead."""

from __future__ import annotations

from functools import lru_cache

from functions.core.clock import SYSTEM_CLOCK
from functions.core.policy import get_policy
from functions.core.terms import load_terms
from functions.rgpd.handlers import RgpdPorts
from functions.rgpd.service import PurposeTerms
from functions.rgpd.storage import DynamoRgpdStore


@lru_cache(maxsize=1)
def ports() -> RgpdPorts:
    return RgpdPorts(
        store=DynamoRgpdStore(),
        policy=get_policy(),
        terms=PurposeTerms.published(load_terms()),
        clock=SYSTEM_CLOCK,
    )
