"""The flags functions' real adapters, built once per process (cold start matters): DynamoDB through
``storage.DynamoFlagStore``, the policy engine ``PIC_POLICY_ENGINE`` names, the system clock, the catalogue
of micro-apps (``catalogue.json``). Tests build ``handlers.FlagPorts`` with fakes instead."""

from __future__ import annotations

from functools import lru_cache

from functions.core.clock import SYSTEM_CLOCK
from functions.core.flags import load_catalogue
from functions.core.policy import get_policy
from functions.core.settings import get_settings
from functions.flags.handlers import FlagPorts
from functions.flags.storage import DynamoFlagStore


@lru_cache(maxsize=1)
def ports() -> FlagPorts:
    catalogue = load_catalogue(get_settings().flags_catalogue)
    return FlagPorts(store=DynamoFlagStore(), policy=get_policy(), clock=SYSTEM_CLOCK, catalogue=catalogue)
