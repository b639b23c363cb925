"""The platform administrator's view of the API's consumers (issue 19, ADR 0035) at ``/desk/consumers``: each
internal system calling the API as an OAuth client, its owner, scopes and quota, and today's admitted requests and
refusals (403 by scope or policy, 429 over quota); ``/desk/consumers/<client_id>`` its usage by day (the last 7) and
by hour (today). Through the consumers API like any client (``GET /v1/consumers``, ``.../usage``): administrators only.
"""

from __future__ import annotations

import re

import flask

from functions.web.api import ApiProblem
from functions.web.web import Page, PageContext, render

CLIENT = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
DAYS = 7


def consumers_page(ctx: PageContext) -> flask.Response:
    """Every registered consumer with its quota and today's totals."""
    listed = ctx.api("GET", "/v1/consumers")
    return render(ctx, "desk/consumers.html", consumers=listed["consumers"])


def consumer_page(ctx: PageContext, client_id: str) -> flask.Response:
    """One consumer: the last week by day and today by hour."""
    if not CLIENT.match(client_id):
        raise ApiProblem(404, {"title": "No such API consumer"})
    usage = ctx.api("GET", f"/v1/consumers/{client_id}/usage", params={"days": str(DAYS)})
    today = usage["days"][-1]["day"] if usage["days"] else usage["until"][:10]
    hours = [h for h in usage["hours"] if h["hour"].startswith(today)]
    return render(ctx, "desk/consumer.html", consumer=usage, hours=hours, days=DAYS)


PAGES = [
    Page("/desk/consumers", "GET", consumers_page, "The API's consumers: quota and today's use", "admin"),
    Page("/desk/consumers/<client_id>", "GET", consumer_page, "A consumer's requests and refusals by day and hour",
         "admin"),
]  # fmt: skip
