"""The campaign functions' real adapters, built once per process (cold start matters): DynamoDB through
``storage.DynamoCampaignStore``, the object store (``files``), NOT's templates through the platform's API
(``functions.core.api``, with the manager's own token), the policy engine, the system clock. Tests build
``handlers.CampaignPorts`` with fakes instead."""

from __future__ import annotations

import os
from datetime import timedelta
from functools import lru_cache

import requests

from functions.campaign.files import files_from_environment
from functions.campaign.handlers import CampaignPorts, TemplateInfo
from functions.campaign.storage import DynamoCampaignStore
from functions.core.api import Api, ApiProblem
from functions.core.clock import SYSTEM_CLOCK
from functions.core.policy import get_policy
from functions.core.settings import get_settings


class ApiTemplates:
    """NOT's templates through the one public API (``GET /v1/templates/{id}``), as the manager calling."""

    def __init__(self, api: Api) -> None:
        self._api = api

    def describe(self, template_id: str, token: str | None, traceparent: str | None) -> TemplateInfo | None:
        bearer = (token or "").removeprefix("Bearer ").strip()
        try:
            found = self._api.call("GET", f"/v1/templates/{template_id}", bearer, traceparent or "")
        except ApiProblem as problem:
            if problem.status == 404:
                return None
            raise
        if not isinstance(found, dict):
            return None
        return TemplateInfo(str(found.get("purpose", "")), tuple(str(f) for f in found.get("fields", [])))


@lru_cache(maxsize=1)
def ports() -> CampaignPorts:
    settings = get_settings()
    return CampaignPorts(
        store=DynamoCampaignStore(),
        files=files_from_environment(),
        policy=get_policy(),
        clock=SYSTEM_CLOCK,
        templates=ApiTemplates(Api(settings.api_url, requests.Session())),
        api_url=settings.api_url,
        export_max_age=timedelta(seconds=float(os.environ.get("PIC_CAMPAIGN_EXPORT_SECONDS", "60"))),
    )
