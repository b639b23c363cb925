"""Recommendations' real adapters, built once per process: DynamoDB through ``storage.DynamoRecommendStore``, the
policy engine ``PIC_POLICY_ENGINE`` names and the system clock. Tests build ``handlers.RecommendPorts`` with fakes."""

from __future__ import annotations

from functools import lru_cache

from functions.core.clock import SYSTEM_CLOCK
from functions.core.policy import get_policy
from functions.recommend.handlers import RecommendPorts
from functions.recommend.storage import DynamoRecommendStore


@lru_cache(maxsize=1)
def ports() -> RecommendPorts:
    return RecommendPorts(store=DynamoRecommendStore(), policy=get_policy(), clock=SYSTEM_CLOCK)
