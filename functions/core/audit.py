"""The access log, once: every function that reads a citizen's personal data records the read the same way.

A read changes no state, so the access record is staged through the outbox
(``es.madrid.pic.audit.access.recorded.v1``) in a unit of work of its own and committed before the answer
leaves: if the record cannot be written, the data is not shown (RGPD art. 5.2, accountability). Refused
reads are recorded too, with the policy's reasons. ``pic-audit-events`` appends the records to the access
log the person reads at ``GET /v1/citizens/{id}/access-log`` (RGPD art. 15.1.c: the recipients to whom
their data were disclosed).

Usage from an HTTP handler::

    decision = ...                                   # the policy's answer
    audit.record_read(
        ctx, citizen_id, "consents", function="pic-consent",
        sections=["consents"], allowed=decision.allow, reasons=decision.reasons,
    )
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from events.audit import AccessRecorded, Reader
from functions.core.auth import Subject
from functions.core.outbox import stage_event
from functions.core.store import UnitOfWork

if TYPE_CHECKING:
    from functions.core.http import RequestContext
    from functions.core.policy import Decision, Policy

PURPOSE_HEADER = "Access-Purpose"
MAX_PURPOSE = 200


def access_purpose(ctx: RequestContext) -> str | None:
    """The purpose the caller stated in ``Access-Purpose`` (trimmed; ``None`` when absent or blank)."""
    value = (ctx.header(PURPOSE_HEADER) or "").strip()
    return value[:MAX_PURPOSE] or None


def access_record(
    subject: Subject,
    citizen_id: str,
    resource: str,
    *,
    function: str,
    purpose: str | None,
    sections: Sequence[str],
    allowed: bool,
    reasons: Sequence[str],
    at: datetime | None = None,
) -> AccessRecorded:
    """The access record of one read: who (as the verified token says), why, what, and the decision."""
    return AccessRecorded(
        access_id=str(uuid.uuid4()),
        citizen_id=citizen_id,
        reader=Reader(id=subject.id, role=subject.role, level=subject.level, area=subject.area),
        purpose=purpose,
        function=function,
        resource=resource,
        sections=list(sections) if allowed else [],
        decision="allowed" if allowed else "denied",
        reasons=list(reasons),
        at=at or datetime.now(UTC),
    )


def stage_read(uow: UnitOfWork, record: AccessRecorded, traceparent: str | None) -> None:
    """Add the access record to ``uow`` (for a handler that also changes state in the same transaction)."""
    stage_event(uow, record, subject=record.citizen_id, traceparent=traceparent, now=record.at)


def record_read(
    ctx: RequestContext,
    citizen_id: str,
    resource: str,
    *,
    function: str,
    sections: Sequence[str],
    allowed: bool,
    reasons: Sequence[str],
    purpose: str | None = None,
) -> AccessRecorded:
    """Record one read by the caller of ``ctx`` now (its own transaction); returns the record."""
    record = access_record(
        ctx.subject,
        citizen_id,
        resource,
        function=function,
        purpose=purpose if purpose is not None else access_purpose(ctx),
        sections=sections,
        allowed=allowed,
        reasons=reasons,
    )
    uow = UnitOfWork()
    stage_read(uow, record, ctx.traceparent)
    uow.commit()
    return record


def authorize_read(
    ctx: RequestContext,
    policy: Policy,
    action: str,
    citizen_id: str,
    *,
    function: str,
    resource: str,
    sections: Sequence[str],
    require_purpose: bool = False,
) -> Decision:
    """``policies/authz`` for a read, with the read (or the refusal) recorded: the one-line way for a
    function whose reads are decided by ``authz`` (consents, preferences, the golden record...).

    ``require_purpose``: an agent must state ``Access-Purpose`` (RGPD art. 5.1.b), else 403 with the reason.
    """
    from functions.core.errors import ForbiddenError
    from functions.core.policy import authorize

    try:
        decision = authorize(policy, ctx.subject.as_policy_input(), action, citizen_id)
        if require_purpose and ctx.subject.role == "agent" and access_purpose(ctx) is None:
            raise ForbiddenError(
                "an agent must state the purpose of the access in the Access-Purpose header, e.g. a case id "
                "(RGPD art. 5.1.b, purpose limitation)"
            )
    except ForbiddenError as refused:
        record_read(ctx, citizen_id, resource, function=function, sections=[], allowed=False, reasons=[refused.detail])
        raise
    record_read(ctx, citizen_id, resource, function=function, sections=sections, allowed=True, reasons=decision.reasons)
    return decision
