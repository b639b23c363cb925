"""Consumers (issue 19) entry points: what platform engineers see of the internal systems calling the API.

- ``consumers_http`` (Knative Service ``pic-consumers``): ``GET /v1/consumers`` (every registered client: its
  system, owner, scopes, quota and today's totals) and ``GET /v1/consumers/{client_id}/usage?days=n`` (its
  admitted requests, 403 and 429 refusals by hour and by day). Platform administrators only
  (``consumers.read``); no person's data.
"""

from __future__ import annotations

import functions_framework
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from functions.consumers import handlers
from functions.consumers.bootstrap import ports
from functions.consumers.service import MAX_DAYS
from functions.core.http import HttpFunction, Reply, RequestContext, Route, parse_query

NAME = "pic-consumers"


class UsageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int = Field(1, ge=1, le=MAX_DAYS, description="the last n UTC days, today included")


def get_consumers(ctx: RequestContext) -> Reply:
    return Reply(200, handlers.list_consumers(ports()))


def get_usage(ctx: RequestContext, client_id: str) -> Reply:
    query = parse_query(ctx.request, UsageQuery)
    return Reply(200, handlers.consumer_usage(client_id, query.days, ports()))


ROUTES = [
    Route("/v1/consumers", "GET", get_consumers, "The API's consumers: system, owner, scopes, quota, today's use",
          action="consumers.read"),
    Route("/v1/consumers/<client_id>/usage", "GET", get_usage,
          "A consumer's requests and refusals (403, 429) by hour and day", action="consumers.read"),
]  # fmt: skip

_http = HttpFunction(NAME, ROUTES)


@functions_framework.http
def consumers_http(request: Request) -> Response:
    return _http(request)
