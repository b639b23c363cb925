"""The incident functions' real adapters, built once per process: DynamoDB through ``storage.DynamoIncidentStore``,
the policy engine ``PIC_POLICY_ENGINE`` names, the system clock, the city's boundaries (``locator``) and
``PIC_API_URL`` for the photos' public URLs. Tests build ``handlers.IncidentPorts`` with fakes instead."""

from __future__ import annotations

from functools import lru_cache

from functions.core.clock import SYSTEM_CLOCK
from functions.core.policy import get_policy
from functions.core.settings import get_settings
from functions.incident.handlers import IncidentPorts
from functions.incident.locator import locator
from functions.incident.storage import DynamoIncidentStore


@lru_cache(maxsize=1)
def ports() -> IncidentPorts:
    return IncidentPorts(
        store=DynamoIncidentStore(), policy=get_policy(), clock=SYSTEM_CLOCK, locator=locator(),
        api_url=get_settings().api_url,
    )  # fmt: skip
