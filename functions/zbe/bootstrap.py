"""The ZBE functions' real adapters, built once per process (cold start matters): DynamoDB through
``storage.DynamoZbeStore``, the policy engine ``PIC_POLICY_ENGINE`` names, the system clock, and the address of the
citizen's ZBE page the decision notice links (``PIC_BASE_URL`` + ``/app/zbe``). Tests build ``handlers.ZbePorts``
with fakes instead."""

from __future__ import annotations

import os
from functools import lru_cache

from functions.core.clock import SYSTEM_CLOCK
from functions.core.policy import get_policy
from functions.core.settings import get_settings
from functions.zbe.handlers import ZbePorts
from functions.zbe.storage import DynamoZbeStore


@lru_cache(maxsize=1)
def ports() -> ZbePorts:
    base = os.environ.get("PIC_BASE_URL") or get_settings().api_url
    return ZbePorts(
        store=DynamoZbeStore(), policy=get_policy(), clock=SYSTEM_CLOCK, app_url=base.rstrip("/") + "/app/zbe"
    )
