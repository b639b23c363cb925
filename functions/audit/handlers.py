"""Access log use cases: the person's log a page at a time, and the domain's answer to data-subject requests,
over the domain's ports.

Nothing here knows HTTP, CloudEvents or DynamoDB; the unit tests run these handlers against in-memory fakes of
the ports (``tests/unit/audit/test_handlers.py``). The log is appended by the HTTP kernel on every read of
personal data (ADR 0010), this one included: no handler here appends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from events.rgpd import RgpdRequestOpened
from functions.audit import rights, service
from functions.audit.service import AccessLogStore
from functions.core.clock import Clock
from functions.core.errors import ValidationError
from functions.core.policy import Policy
from functions.core.store import UnitOfWork


@dataclass(frozen=True)
class AuditPorts:
    """Everything the use cases need from outside: built once per process by ``bootstrap``."""

    store: AccessLogStore
    policy: Policy
    clock: Clock


# ---- questions ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadAccessLog:
    """A page of one person's log: ``limit`` entries (bounded by ``service.page_size``) after ``cursor``."""

    citizen_id: str
    limit: int = service.DEFAULT_PAGE
    cursor: str | None = None


@dataclass(frozen=True)
class AccessLogPage:
    citizen_id: str
    entries: list[dict[str, Any]]
    next_cursor: str | None


def read_access_log(query: ReadAccessLog, ports: AuditPorts) -> AccessLogPage:
    """Who read the person's data, newest first; a cursor this API did not give for this log is a 422."""
    try:
        records, cursor = ports.store.fetch_page(query.citizen_id, service.page_size(query.limit), query.cursor)
    except ValueError as exc:
        raise ValidationError("cursor is not one this API gave") from exc
    return AccessLogPage(query.citizen_id, [service.entry_view(r) for r in records], cursor)


# ---- data-subject rights (RGPD) ---------------------------------------------------------------------


def answer_rights(data: RgpdRequestOpened, ports: AuditPorts, traceparent: str | None) -> UnitOfWork:
    """This domain's answer to a data-subject request (``rights.answer``): the log exported, or kept by law
    (only entries past their retention erased, in the answer's unit)."""
    result = rights.answer(data, ports.store, ports.policy, ports.clock.now())
    return result.unit(traceparent, lambda uow, plan: plan.stage(uow, ports.store.stage_erase))
