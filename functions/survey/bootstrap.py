"""The survey functions' real adapters, built once per process: DynamoDB through ``storage.DynamoSurveyStore``, the
policy engine ``PIC_POLICY_ENGINE`` names, the system clock and ``PIC_API_URL`` for the invitation links. Tests
build ``handlers.SurveyPorts`` with fakes instead."""

from __future__ import annotations

from functools import lru_cache

from functions.core.clock import SYSTEM_CLOCK
from functions.core.policy import get_policy
from functions.core.settings import get_settings
from functions.survey.handlers import SurveyPorts
from functions.survey.storage import DynamoSurveyStore


@lru_cache(maxsize=1)
def ports() -> SurveyPorts:
    return SurveyPorts(
        store=DynamoSurveyStore(), policy=get_policy(), clock=SYSTEM_CLOCK, api_url=get_settings().api_url
    )
