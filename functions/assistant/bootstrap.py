"""The assistant functions' real adapters, built once per process (cold start matters): DynamoDB through
``storage.DynamoAssistantStore``, the retriever over its projection (``knowledge.ProjectedKnowledge``: vectors read
from the store, never embedded on a request), the platform's own API for procedures (``functions.core.api``), the
attention hours as data (``data/hours.json``), the policy engine, the system clock. Tests build
``handlers.AssistantPorts`` with fakes instead."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import requests

from functions.assistant.handlers import AssistantPorts
from functions.assistant.knowledge import ProjectedKnowledge
from functions.assistant.retrieval import default_embedder
from functions.assistant.storage import DynamoAssistantStore
from functions.core.api import Api
from functions.core.calendar import BusinessCalendar
from functions.core.clock import SYSTEM_CLOCK
from functions.core.policy import get_policy
from functions.core.settings import get_settings

HOURS = Path(__file__).parent / "data" / "hours.json"


@lru_cache(maxsize=1)
def attention_hours() -> BusinessCalendar:
    raw = json.loads(HOURS.read_text(encoding="utf-8"))
    return BusinessCalendar.from_hours(raw["hours"], holidays_open=bool(raw["open_on_holidays"]))


class PlatformApi:
    """The payment and case routes, as the citizen (their bearer token; the policies decide as for any client)."""

    def __init__(self, api: Api) -> None:
        self._api = api

    def debts(self, citizen_id: str, token: str, traceparent: str) -> list[dict[str, Any]]:
        found = self._api.call("GET", f"/v1/citizens/{citizen_id}/debts", token, traceparent)
        return list(found.get("debts", [])) if isinstance(found, dict) else []

    def cases(self, citizen_id: str, token: str, traceparent: str) -> list[dict[str, Any]]:
        found = self._api.call("GET", f"/v1/citizens/{citizen_id}/cases", token, traceparent)
        return list(found.get("cases", [])) if isinstance(found, dict) else []


@lru_cache(maxsize=1)
def ports() -> AssistantPorts:
    settings = get_settings()
    store = DynamoAssistantStore()
    embedder = default_embedder if settings.assistant_embeddings else None
    return AssistantPorts(
        store=store,
        knowledge=ProjectedKnowledge(store, embedder),
        platform=PlatformApi(Api(settings.api_url, requests.Session())),
        calendar=attention_hours(),
        clock=SYSTEM_CLOCK,
        policy=get_policy(),
        embedder=embedder,
    )
