"""Data-subject rights use cases: one function per command, event or question, over the domain's ports.

A command handler reads what it needs through the ``RgpdStore`` port, decides with the pure rules of
``service``, and stages the request, the flags and their events in one unit of work, which it returns
(``Staged``): the entry point commits it with the request's idempotency record and runs the handler again if
the commit lost a race (``functions.core.retry``): a request and the flags are versioned, so two restrictions
at once, or an extension beside a domain's answer, are decided again on what the winner wrote. The event
handler returns its unit for the kernel's ``EventFunction`` to commit the same way. Nothing here knows HTTP,
CloudEvents or DynamoDB; the unit tests run these handlers against in-memory fakes of the ports
(``tests/unit/rgpd/test_handlers.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from events.rgpd import RgpdDomainAnswered
from functions.core.clock import Clock
from functions.core.errors import InvalidEventError
from functions.core.outbox import stage_event
from functions.core.policy import Policy
from functions.core.settings import get_settings
from functions.core.store import Staged, UnitOfWork
from functions.rgpd import deadlines, export, service
from functions.rgpd.service import Flags, PurposeTerms, RgpdRequest, RgpdStore


@dataclass(frozen=True)
class RgpdPorts:
    """Everything the use cases need from outside: built once per process by ``bootstrap``."""

    store: RgpdStore
    policy: Policy
    terms: PurposeTerms
    clock: Clock


# ---- commands ---------------------------------------------------------------------------------------


def open_request(cmd: service.OpenRequest, ports: RgpdPorts, traceparent: str | None) -> Staged[RgpdRequest]:
    """Open a request: its right's fields checked, its art. 12.3 deadline from the clock, the fan-out event
    and, for a restriction or objection, the changed flags and their event — one unit. The flags are read at
    their version: a request that changed them meanwhile makes this one decide again on the new flags."""
    at = ports.clock.now()
    details = service.validate_details(cmd.right, cmd.details, ports.terms, deadlines.local_date(at))
    request, opened = service.open_request(cmd.citizen_id, cmd.right, details, cmd.requester, at)
    uow = UnitOfWork()
    ports.store.stage_request(uow, request)
    stage_event(uow, opened, subject=cmd.citizen_id, traceparent=traceparent, now=at)
    flags = service.flags_after(ports.store.fetch_flags(cmd.citizen_id), cmd.right, details, at)
    if flags is not None:
        ports.store.stage_flags(uow, flags)
        stage_event(uow, service.flags_event(flags), subject=cmd.citizen_id, traceparent=traceparent, now=at)
    return Staged(uow, request)


def extend_deadline(cmd: service.ExtendDeadline, ports: RgpdPorts, traceparent: str | None) -> Staged[dict[str, Any]]:
    """Extend the deadline by two further months (art. 12.3) and announce it; answers the request's view.

    The request is read here, not taken from the route's resolver: a retry after a lost race (a domain's
    answer folded in meanwhile) must decide on what the winner wrote; a second extension is then refused."""
    request = request_of(cmd.request_id, ports)
    at = ports.clock.now()
    extended = service.extend(request, cmd.reason, cmd.by, at)
    uow = UnitOfWork()
    ports.store.stage_request(uow, extended)
    stage_event(uow, service.extended_event(extended), subject=request.citizen_id, traceparent=traceparent, now=at)
    return Staged(uow, service.request_view(extended, ports.store.fetch_answers(cmd.request_id), at))


# ---- events -----------------------------------------------------------------------------------------


def record_answer(
    data: RgpdDomainAnswered, source: str, event_id: str, ports: RgpdPorts, traceparent: str | None
) -> UnitOfWork:
    """Record a domain's answer with its proof (the event's ``source`` and ``id``, when received) and fold the
    request's status into the request; the answer that completes it emits ``rgpd.request.completed``.

    An answer to no known request, from a domain that need not answer, or from a source that is not the
    domain's is refused (``InvalidEventError``: dead-lettered with the reason); a second answer after a final
    one stages nothing. Two answers folding at once race for the request's version: the loser decides again,
    so exactly one of them completes it."""
    request = ports.store.fetch_request(data.request_id)
    if request is None:
        raise InvalidEventError(f"no data-subject request {data.request_id}")
    answers = {a.domain: a for a in ports.store.fetch_answers(data.request_id)}
    uow = UnitOfWork()
    if not service.accept_answer(request, answers, data, source, get_settings().event_source_base):
        return uow
    export_text = export.canonical_json(data.export) if data.export is not None else None
    answer = service.DomainAnswer(
        domain=data.domain,
        outcome=data.outcome,
        actions=[a.model_dump(mode="json") for a in data.actions],
        answered_at=data.answered_at,
        received_at=ports.clock.now(),
        event_source=source,
        event_id=event_id,
        reason=data.reason,
        export_sha256=export.sha256(export_text) if export_text is not None else None,
    )
    every = list({**answers, answer.domain: answer}.values())
    state = service.fold(request, every, answer.received_at)
    ports.store.stage_answer(uow, request.request_id, answer, export_text)
    ports.store.stage_request(uow, replace(request, status=state.status, completed_at=state.completed_at))
    completed = service.completed_event(request, state, every)
    if completed is not None:
        stage_event(uow, completed, subject=request.citizen_id, traceparent=traceparent, now=answer.received_at)
    return uow


# ---- questions --------------------------------------------------------------------------------------


def request_of(request_id: str, ports: RgpdPorts) -> RgpdRequest:
    """The request, or ``RgpdRequestNotFoundError``: whose data a route about a request acts on."""
    request = ports.store.fetch_request(request_id)
    if request is None:
        raise service.RgpdRequestNotFoundError(f"no data-subject request {request_id}")
    return request


def view_request(request: RgpdRequest, ports: RgpdPorts) -> dict[str, Any]:
    """What the person (or an agent) sees of a request now: status, deadline, per domain what was done."""
    return service.request_view(request, ports.store.fetch_answers(request.request_id), ports.clock.now())


def requests_of(citizen_id: str, ports: RgpdPorts) -> list[dict[str, Any]]:
    """The citizen's requests, newest first, each with its deadline and whether it is overdue now."""
    at = ports.clock.now()
    return [service.summary_view(r, at) for r in ports.store.fetch_requests_of(citizen_id)]


def flags_of(citizen_id: str, ports: RgpdPorts) -> Flags:
    return ports.store.fetch_flags(citizen_id)


@dataclass(frozen=True)
class ExportFile:
    """The zip of an access or portability request, and the name it is downloaded under."""

    filename: str
    body: bytes


def assemble_export(request: RgpdRequest, ports: RgpdPorts) -> ExportFile:
    """The export of a completed access or portability request (``ExportNotReadyError`` before): every
    domain's data as received (its SHA-256 checked) and this domain's own, as JSON and one CSV per table."""
    at = ports.clock.now()
    answers = ports.store.fetch_answers(request.request_id)
    state = service.ready_for_export(request, answers, at)
    exports: dict[str, dict[str, Any]] = {}
    for answer in answers:
        if answer.export_chunks:
            pieces = ports.store.fetch_export(request.request_id, answer.domain)
            data = export.join_chunks(pieces, answer.export_sha256)
            exports[answer.domain] = data if isinstance(data, dict) else {"data": data}
    held = ports.store.fetch_requests_of(request.citizen_id)
    exports[service.OWN_DOMAIN] = service.own_data(held, ports.store.fetch_flags(request.citizen_id), at)
    body = export.build_zip(service.export_document(request, state, answers, exports, at), exports, at)
    return ExportFile(f"pic-rgpd-{request.right}-{request.request_id}.zip", body)
