"""The access-log functions' real adapters, built once per process (cold start matters): the kernel's table
through ``storage.DynamoAuditStore``, the policy engine ``PIC_POLICY_ENGINE`` names, the system clock. Tests
build ``handlers.AuditPorts`` with fakes instead."""

from __future__ import annotations

from functools import lru_cache

from functions.audit.handlers import AuditPorts
from functions.audit.storage import DynamoAuditStore
from functions.core.clock import SYSTEM_CLOCK
from functions.core.policy import get_policy


@lru_cache(maxsize=1)
def ports() -> AuditPorts:
    return AuditPorts(store=DynamoAuditStore(), policy=get_policy(), clock=SYSTEM_CLOCK)
