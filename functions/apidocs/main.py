"""The published contracts as documentation (issue 19): the channel API (OpenAPI) and the events (AsyncAPI) as pages
rendered on the server in Spanish or English, and the specifications themselves as files.

| path | what |
|---|---|
| ``/docs`` | what is published, and the raw files |
| ``/docs/api`` | the API's domains and operations, and the problems every operation may answer |
| ``/docs/api/<domain>`` | one domain: each operation's parameters, request body, responses; its models' fields |
| ``/docs/events`` | every event type by domain: producer, consumers |
| ``/docs/events/<event_type>`` | one type: producer, consumers, senders, data fields, an example |
| ``/docs/schemas/<schema_file>`` | ``openapi.json``, ``asyncapi.yaml``, ``<type>.json`` as make schemas wrote them |
| ``/docs/released/<schema_file>`` | the same files of the last release (``contracts/released/``), ``RELEASE.json`` |
| ``/docs/compat.py`` | the compatibility check (``events/compat.py``), to run in a producer's own CI |

Anyone may read them (action ``docs.read``, scope ``published``): no one's data, no store call.
"""

from __future__ import annotations

import functions_framework
from flask import Request, Response

from functions.apidocs import pages, service
from functions.core.errors import NotFoundError
from functions.core.http import HttpFunction, Reply, RequestContext, Route

NAME = "pic-apidocs"
ACTION = "docs.read"


def _lang(ctx: RequestContext) -> str:
    return pages.language(ctx.request.args.get("lang"), ctx.request.headers.get("Accept-Language"))


def _page(ctx: RequestContext, template: str, **values: object) -> Reply:
    return Reply(200, pages.render(template, _lang(ctx), ctx.request.path, **values), pages.headers())


def get_index(ctx: RequestContext) -> Reply:
    """What is published: the API, the events and the machine-readable files."""
    return _page(ctx, "index.html", events=pages.events_view())


def get_api(ctx: RequestContext) -> Reply:
    """The channel API by domain, and the RFC 9457 problems every operation may answer."""
    return _page(ctx, "api.html")


def get_domain(ctx: RequestContext, domain: str) -> Reply:
    """One domain's operations: parameters, request body, responses, and its models' fields."""
    return _page(ctx, "domain.html", domain=service.domain(pages.api_view(), domain))


def get_events(ctx: RequestContext) -> Reply:
    """Every event type by domain, with its producer and consumers."""
    return _page(ctx, "events.html", events=pages.events_view())


def get_event(ctx: RequestContext, event_type: str) -> Reply:
    """One event type: who produces, receives and may send it; its data's fields; a valid example."""
    if not service.valid_event_type(event_type):
        raise NotFoundError(f"no event type {event_type[:160]!r}: /docs/events lists them")
    return _page(ctx, "event.html", event=pages.events_view().find(event_type))


def get_schema_file(ctx: RequestContext, schema_file: str) -> Reply:
    """A published specification as ``make schemas`` wrote it (what a client generates code from)."""
    body, kind = pages.raw(schema_file)
    return Reply(200, body, {"Content-Type": kind, "Cache-Control": "public, max-age=300",
                             "X-Content-Type-Options": "nosniff", "Access-Control-Allow-Origin": "*"})  # fmt: skip


def get_released_file(ctx: RequestContext, schema_file: str) -> Reply:
    """A file of the last release (the baseline every change is checked against), or its manifest."""
    body, kind = pages.released(schema_file)
    return Reply(200, body, {"Content-Type": kind, "Cache-Control": "public, max-age=300",
                             "X-Content-Type-Options": "nosniff", "Access-Control-Allow-Origin": "*"})  # fmt: skip


def get_checker(ctx: RequestContext) -> Reply:
    """The compatibility check, standard-library Python: a producer checks its schemas against the release."""
    return Reply(200, pages.checker(), {"Content-Type": "text/x-python; charset=utf-8",
                                        "Content-Disposition": 'attachment; filename="compat.py"',
                                        "X-Content-Type-Options": "nosniff"})  # fmt: skip


ROUTES = [
    Route("/docs", "GET", get_index, "The published contracts: API, events, files", action=ACTION, anonymous=True),
    Route("/docs/api", "GET", get_api, "The channel API's documentation by domain (HTML)", action=ACTION,
          anonymous=True),
    Route("/docs/api/<domain>", "GET", get_domain, "One domain's operations and models (HTML)", action=ACTION,
          anonymous=True),
    Route("/docs/events", "GET", get_events, "The event types by domain (HTML)", action=ACTION, anonymous=True),
    Route("/docs/events/<event_type>", "GET", get_event, "One event type: producer, consumers, senders, data (HTML)",
          action=ACTION, anonymous=True),
    Route("/docs/schemas/<schema_file>", "GET", get_schema_file,
          "A published specification: openapi.json, asyncapi.yaml, <event type>.json", action=ACTION, anonymous=True),
    Route("/docs/released/<schema_file>", "GET", get_released_file,
          "A file of the last release (the baseline of the compatibility check), or RELEASE.json", action=ACTION,
          anonymous=True),
    Route("/docs/compat.py", "GET", get_checker, "The compatibility check (standard-library Python)", action=ACTION,
          anonymous=True),
]  # fmt: skip

http_api = HttpFunction(NAME, ROUTES)


@functions_framework.http
def apidocs_http(request: Request) -> Response:
    return http_api(request)
