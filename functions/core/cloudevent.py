"""CloudEvent entry points: dedupe on ``source`` + ``id``, validate ``data`` against its catalog model,
and answer the broker in its own terms.

Knative retries 404/408/409/429/5xx and dead-letters the rest, so: an event whose data fails its schema
or breaks a domain rule is answered 400 with a problem body (dead-lettered at once with that reason);
a concurrent change is 409 (retried); a duplicate is 200 (acknowledged, nothing done twice).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import flask
import pydantic
from cloudevents.http import CloudEvent
from flask import Response
from werkzeug.exceptions import HTTPException

from events.base import EventData
from events.catalog import CATALOG
from functions.core import idempotency, jsontext
from functions.core.errors import (
    PROBLEM_CONTENT_TYPE,
    InvalidEventError,
    PicError,
    pydantic_errors,
)
from functions.core.http import install_problem_handlers
from functions.core.logging import bind_trace, get_logger
from functions.core.retry import retry_on_conflict
from functions.core.store import DuplicateError, UnitOfWork

EventHandler = Callable[["EventContext", EventData], UnitOfWork]

# A commit that lost a race to a concurrent change (its condition failed) is decided again here, on what
# the winner wrote, a few times before answering 409 for the broker to retry later: under contention (14
# records of one person arriving at once) the broker's 5 retries would otherwise dead-letter good events.
# Running the handler again is what a redelivery does, only sooner.
CONFLICT_ATTEMPTS = 4
CONFLICT_BACKOFF = 0.02  # seconds; full jitter, doubling


@dataclass(frozen=True)
class EventContext:
    source: str
    id: str
    type: str
    subject: str | None
    traceparent: str
    idempotency_key: str


class BrokerAnswer(HTTPException):
    """Carries a problem+json answer out of a ``@cloud_event`` function (Flask renders it as is)."""

    def __init__(self, error: PicError, instance: str) -> None:
        body = json.dumps(error.to_problem(instance))
        super().__init__(response=Response(body, status=error.status, content_type=PROBLEM_CONTENT_TYPE))


class EventFunction:
    """The callable behind ``@functions_framework.cloud_event``: routes by type to one handler each.

    A handler returns the unit of work it built; this class adds the dedupe record and commits, so the
    state, its events and the "processed" mark are one transaction.
    """

    def __init__(self, name: str, handlers: dict[str, EventHandler]) -> None:
        unknown = set(handlers) - set(CATALOG)
        if unknown:
            raise ValueError(f"handlers for types outside the catalog: {sorted(unknown)}")
        self.name = name
        self.handlers = handlers
        install_problem_handlers()
        install_event_guard()

    def __call__(self, event: CloudEvent) -> None:
        ctx = EventContext(
            source=event["source"],
            id=event["id"],
            type=event["type"],
            subject=event.get("subject"),
            traceparent=bind_trace(event.get("traceparent")),
            idempotency_key=idempotency.event_key(self.name, event["source"], event["id"]),
        )
        instance = f"{ctx.source}#{ctx.id}"
        try:
            self._handle(ctx, event)
        except PicError as error:
            get_logger().warning(
                "event refused", extra={"type": ctx.type, "problem": error.slug, "status": error.status}
            )
            raise BrokerAnswer(error, instance) from error

    def _handle(self, ctx: EventContext, event: CloudEvent) -> None:
        handler = self.handlers.get(ctx.type)
        if handler is None:
            raise InvalidEventError(f"{self.name} does not handle events of type {ctx.type}")
        if idempotency.already_done(ctx.idempotency_key):
            get_logger().info("duplicate event acknowledged", extra={"type": ctx.type, "event_id": ctx.id})
            return
        data = self._parse(ctx.type, event.get_data())
        digest = idempotency.body_hash(data.model_dump(mode="json"))

        def decide_and_commit() -> None:
            uow = handler(ctx, data)
            idempotency.remember(uow, ctx.idempotency_key, digest)
            try:
                uow.commit(token=None)
            except DuplicateError:
                get_logger().info("duplicate event acknowledged", extra={"type": ctx.type, "event_id": ctx.id})

        retry_on_conflict(decide_and_commit, attempts=CONFLICT_ATTEMPTS, backoff=CONFLICT_BACKOFF, what=ctx.type)

    @staticmethod
    def _parse(event_type: str, data: object) -> EventData:
        model = CATALOG[event_type].model
        if isinstance(data, bytes | str):
            try:
                data = jsontext.loads(data)
            except jsontext.JsonTextError as exc:
                raise InvalidEventError(f"data is not JSON: {exc}") from exc
        try:
            return model.model_validate(data)
        except pydantic.ValidationError as exc:
            raise InvalidEventError(
                f"data does not match the schema of {event_type}", errors=pydantic_errors(exc)
            ) from exc


def install_event_guard() -> None:
    """Read a JSON event body the one way (``functions.core.jsontext``) before the CloudEvents SDK does.

    functions-framework hands the body to the SDK, whose ``json.loads`` has no depth bound (10,000 levels
    are a ``RecursionError``, a 500 the broker retries for nothing) and accepts what PIC does not (lone
    surrogates, duplicate names). Refused here with 400 ``invalid-event``, the broker dead-letters the event
    at once with the reason. No-op outside an app context (unit tests call the function directly).
    """
    if flask.has_app_context():
        flask.current_app.before_request(_refuse_unreadable_json)


def _refuse_unreadable_json() -> Response | None:
    """Only CloudEvents are read here: a capability's module builds its HTTP and its event function in one
    go, so the guard is also on the HTTP function's app, where ``parse_body`` reads bodies the same way."""
    request = flask.request
    mimetype = request.mimetype or ""
    structured = mimetype in ("application/cloudevents+json", "application/cloudevents-batch+json")
    binary = "ce-specversion" in request.headers and (mimetype == "application/json" or mimetype.endswith("+json"))
    if not (structured or binary):
        return None  # not a CloudEvent, or binary-mode data of another type: the handler's model decides
    try:
        jsontext.loads(request.get_data(cache=True))
    except jsontext.JsonTextError as exc:
        error = InvalidEventError(f"the event's JSON is not acceptable: {exc}")
        source, event_id = request.headers.get("ce-source"), request.headers.get("ce-id")
        instance = f"{source}#{event_id}" if source and event_id else request.path
        return Response(json.dumps(error.to_problem(instance)), status=400, content_type=PROBLEM_CONTENT_TYPE)
    return None
