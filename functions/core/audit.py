"""The access log, once: every read of a citizen's personal data is recorded the same way.

A read changes no state, so the access record is staged through the outbox
(``es.madrid.pic.audit.access.recorded.v1``) in a unit of work of its own and committed before the answer
leaves: if the record cannot be written, the data is not shown (RGPD art. 5.2, accountability). Refused
reads are recorded too, with the policy's reasons. ``pic-audit-events`` appends the records to the access
log the person reads at ``GET /v1/citizens/{id}/access-log`` (RGPD art. 15.1.c: the recipients to whom
their data were disclosed).

Routes do not call this module: they declare what they show (``functions.core.http.Reads``) and the HTTP
kernel records it (``functions.core.http.disclose``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from events.audit import AccessRecorded, Reader
from functions.core.auth import Subject
from functions.core.errors import ValidationError
from functions.core.outbox import stage_event
from functions.core.store import UnitOfWork

if TYPE_CHECKING:
    from functions.core.http import RequestContext

PURPOSE_HEADER = "Access-Purpose"
MAX_PURPOSE = 128
# A case or appointment reference, or a few words: letters (any language), digits, spaces and the
# punctuation references use. No control characters, no markup: it is shown to the citizen in their log.
PURPOSE_PATTERN = r"^[^\W_][\w .,:;#/()'+-]{0,127}$"
MAX_RECORDS_IN_UNIT = 90  # one TransactWriteItems holds 100 items


def access_purpose(ctx: RequestContext) -> str | None:
    """The purpose the caller stated in ``Access-Purpose`` (trimmed; ``None`` when absent or blank); one
    that is too long or carries characters no reference has is refused (422), not stored."""
    value = (ctx.header(PURPOSE_HEADER) or "").strip()
    if not value:
        return None
    if len(value) > MAX_PURPOSE or not re.match(PURPOSE_PATTERN, value):
        raise ValidationError(
            f"{PURPOSE_HEADER} must be a reference or a few words: up to {MAX_PURPOSE} letters, digits, spaces "
            "and . , : ; # / ( ) ' + -, starting with a letter or digit",
            errors=[{"field": PURPOSE_HEADER, "message": f"up to {MAX_PURPOSE} characters of a reference"}],
        )
    return value


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


def commit_records(records: Sequence[AccessRecorded], traceparent: str | None) -> None:
    """Commit access records now, in units of at most ``MAX_RECORDS_IN_UNIT`` (a page of the clerical review
    queue names up to 200 people)."""
    for start in range(0, len(records), MAX_RECORDS_IN_UNIT):
        uow = UnitOfWork()
        for record in records[start : start + MAX_RECORDS_IN_UNIT]:
            stage_read(uow, record, traceparent)
        uow.commit()
