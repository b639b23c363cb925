"""CloudEvent entry points: dedupe on ``source`` + ``id``, validate ``data`` against its catalog model,
and answer the broker in its own terms.

Knative retries 404/408/409/429/5xx and dead-letters the rest, so: an event whose data fails its schema
or breaks a domain rule is answered 400 with a problem body (dead-lettered at once with that reason);
a concurrent change is 409 (retried); a duplicate is 200 (acknowledged, nothing done twice).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import pydantic
from cloudevents.http import CloudEvent
from flask import Response
from werkzeug.exceptions import HTTPException

from events.base import EventData
from events.catalog import CATALOG
from functions.core import idempotency
from functions.core.errors import (
    PROBLEM_CONTENT_TYPE,
    ConflictError,
    InvalidEventError,
    PicError,
    pydantic_errors,
)
from functions.core.http import install_problem_handlers
from functions.core.logging import bind_trace, get_logger
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
        for attempt in range(CONFLICT_ATTEMPTS):
            uow = handler(ctx, data)
            idempotency.remember(uow, ctx.idempotency_key, idempotency.body_hash(data.model_dump(mode="json")))
            try:
                uow.commit(token=None)
                return
            except DuplicateError:
                get_logger().info("duplicate event acknowledged", extra={"type": ctx.type, "event_id": ctx.id})
                return
            except ConflictError as lost:
                if attempt == CONFLICT_ATTEMPTS - 1:
                    raise
                get_logger().info(
                    "lost a race: deciding again", extra={"type": ctx.type, "attempt": attempt + 1, "why": str(lost)}
                )
                time.sleep(random.uniform(0, CONFLICT_BACKOFF * 2**attempt))  # noqa: S311 - jitter

    @staticmethod
    def _parse(event_type: str, data: object) -> EventData:
        model = CATALOG[event_type].model
        if isinstance(data, bytes | str):
            try:
                data = json.loads(data)
            except ValueError as exc:
                raise InvalidEventError(f"data is not JSON: {exc}") from exc
        try:
            return model.model_validate(data)
        except pydantic.ValidationError as exc:
            raise InvalidEventError(
                f"data does not match the schema of {event_type}", errors=pydantic_errors(exc)
            ) from exc
