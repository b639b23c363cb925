"""The knowledge base's real adapters, built once per process (cold start matters): DynamoDB through
``storage.DynamoKbStore``, the system clock, and the process's search cache. Tests build ``handlers.KbPorts``
with fakes instead."""

from __future__ import annotations

from functools import lru_cache

from functions.core.clock import SYSTEM_CLOCK
from functions.kb.handlers import KbPorts
from functions.kb.storage import DynamoKbStore


@lru_cache(maxsize=1)
def ports() -> KbPorts:
    return KbPorts(store=DynamoKbStore(), clock=SYSTEM_CLOCK)
