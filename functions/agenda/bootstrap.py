"""The agenda's real adapters, built once per process: DynamoDB through ``storage.DynamoAgendaStore``, the policy
engine ``PIC_POLICY_ENGINE`` names and the system clock. Tests build ``handlers.AgendaPorts`` with fakes instead."""

from __future__ import annotations

from functools import lru_cache

from functions.agenda.handlers import AgendaPorts
from functions.agenda.storage import DynamoAgendaStore
from functions.core.clock import SYSTEM_CLOCK
from functions.core.policy import get_policy


@lru_cache(maxsize=1)
def ports() -> AgendaPorts:
    return AgendaPorts(store=DynamoAgendaStore(), policy=get_policy(), clock=SYSTEM_CLOCK)
