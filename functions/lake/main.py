"""The data platform's exports (ADR 0036) entry points: thin.

- ``lake_http`` (Knative Service ``pic-lake``): the data catalogue (``GET /v1/lake/catalogue``), a partition's
  summary (``GET /v1/lake/tables/<table>/partitions/<day>``: files, rows, a few pseudonymised rows) and a flush
  now (``POST /v1/lake/flush``), for platform engineers and compliance.
- ``lake_events`` (``pic-lake-events``): every exported fact (one Trigger per type in ``data/exports.json``),
  staged with ONE store write and no dedupe record (the row's key is the event's: a redelivery rewrites it);
  ``rgpd.request.opened`` through the kernel's ``EventFunction`` (its answer and marker in one transaction).
"""

from __future__ import annotations

import uuid
from typing import Any

import functions_framework
import pydantic
from cloudevents.http import CloudEvent
from flask import Request, Response

from events.catalog import CATALOG
from events.rgpd import RgpdRequestOpened
from functions.core import jsontext
from functions.core.cloudevent import BrokerAnswer, EventContext, EventFunction, install_event_guard
from functions.core.errors import InvalidEventError, PicError, pydantic_errors
from functions.core.http import HttpFunction, Reply, RequestContext, Route, install_problem_handlers
from functions.core.logging import bind_trace, get_logger
from functions.core.store import UnitOfWork
from functions.lake import handlers, service
from functions.lake.bootstrap import ports

NAME = "pic-lake"
RGPD_OPENED = "es.madrid.pic.rgpd.request.opened.v1"


def get_catalogue(ctx: RequestContext) -> Reply:
    """Each exported table: schema, owner, legal basis, retention, pseudonymisation; and what is not exported."""
    return Reply(200, handlers.catalogue(ports()), {"Cache-Control": "private, max-age=60"})


def get_partition(ctx: RequestContext, table: str, day: str) -> Reply:
    """A day's partition of a table (or a snapshot's date): its Parquet files, rows and a few rows as stored;
    ``?where=column:value`` counts and samples only the rows where it holds (e.g. ``office:oac-centro``)."""
    return Reply(200, handlers.partition(ports(), table, day, ctx.request.args.get("where")))


def post_flush(ctx: RequestContext) -> Reply:
    """Commit the staged rows now (the flusher does it every few seconds anyway) and apply pending erasures."""
    return Reply(200, handlers.flush(ports(), holder=f"http-{uuid.uuid4().hex}").as_json())


ROUTES = [
    Route("/v1/lake/catalogue", "GET", get_catalogue,
          "The data platform's catalogue: each exported table's schema, owner, legal basis and retention",
          action="lake.catalogue.read"),
    Route("/v1/lake/tables/<table>/partitions/<day>", "GET", get_partition,
          "A day's partition of an exported table: files, rows and a few pseudonymised rows",
          action="lake.partition.read"),
    Route("/v1/lake/flush", "POST", post_flush,
          "Commit the staged rows to the tables now and apply the pending erasures", action="lake.flush"),
]  # fmt: skip

http_api = HttpFunction(NAME, ROUTES)


@functions_framework.http
def lake_http(request: Request) -> Response:
    return http_api(request)


# ---- events ----------------------------------------------------------------------------------------------------


def on_rgpd_request_opened(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, RgpdRequestOpened)
    return handlers.answer_rights(data, ports(), ctx.traceparent)


rights_api = EventFunction("pic-lake-events", {RGPD_OPENED: on_rgpd_request_opened})


class ExportFunction:
    """The exported facts' path: validate the data against its catalogued model, stage its row. No dedupe record
    and no read: the staged item is keyed by the event, so a redelivery writes it again (``handlers``)."""

    def __init__(self) -> None:
        install_problem_handlers()
        install_event_guard()

    def __call__(self, event: CloudEvent) -> None:
        event_type, source, event_id = event["type"], event["source"], event["id"]
        bind_trace(event.get("traceparent"))
        try:
            if service.rules().rule(event_type) is None:
                raise InvalidEventError(f"pic-lake-events does not export events of type {event_type}")
            data = self._parse(event_type, event.get_data())
            handlers.stage_event(event_type, source, event_id, data, ports())
        except PicError as error:
            get_logger().warning("event refused", extra={"type": event_type, "problem": error.slug})
            raise BrokerAnswer(error, f"{source}#{event_id}") from error

    @staticmethod
    def _parse(event_type: str, data: object) -> dict[str, Any]:
        if isinstance(data, bytes | str):
            try:
                data = jsontext.loads(data)
            except jsontext.JsonTextError as exc:
                raise InvalidEventError(f"data is not JSON: {exc}") from exc
        try:
            model = CATALOG[event_type].model.model_validate(data)
        except pydantic.ValidationError as exc:
            raise InvalidEventError(
                f"data does not match the schema of {event_type}", errors=pydantic_errors(exc)
            ) from exc
        dumped: dict[str, Any] = model.model_dump(mode="json")
        return dumped


export_api = ExportFunction()


@functions_framework.cloud_event
def lake_events(event: CloudEvent) -> None:
    if event["type"] == RGPD_OPENED:
        rights_api(event)
    else:
        export_api(event)
