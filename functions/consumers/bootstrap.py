"""The consumers function's real adapters, built once per process: the kernel's usage table, the system clock
and the registry of clients (``functions/core/data/consumers.json``). Tests build ``ConsumerPorts`` with fakes."""

from __future__ import annotations

from functools import lru_cache

from functions.consumers.handlers import ConsumerPorts
from functions.consumers.storage import DynamoUsageReader
from functions.core.clock import SYSTEM_CLOCK
from functions.core.consumers import registry


@lru_cache(maxsize=1)
def ports() -> ConsumerPorts:
    return ConsumerPorts(usage=DynamoUsageReader(), clock=SYSTEM_CLOCK, consumers=registry())
