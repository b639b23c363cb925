"""The access log, once: every read of a citizen's personal data is recorded the same way, by the kernel.

A read appends its access record to the access log (table ``audit``) with one conditional PutItem, committed
before the answer leaves: if the record cannot be written, the data is not shown (RGPD art. 5.2,
accountability). Refused reads are recorded too, with the policy's reasons. The log is the kernel's, like
the outbox and the idempotency records (ADR 0010): every function appends to it, and ``pic-audit`` serves it
to the person (``GET /v1/citizens/{id}/access-log``, RGPD art. 15.1.c: the recipients to whom their data
were disclosed) and answers data-subject requests about it.

Routes do not call this module: they declare what they show (``functions.core.http.Reads``) and the HTTP
kernel records it (``functions.core.http.disclose``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field
from pynamodb.attributes import UnicodeAttribute

from functions.core.auth import Subject
from functions.core.errors import ValidationError
from functions.core.store import StoreModel, UnitOfWork, defines_table, model_meta

if TYPE_CHECKING:
    from functions.core.http import RequestContext

PURPOSE_HEADER = "Access-Purpose"
MAX_PURPOSE = 128
# A case or appointment reference, or a few words: letters (any language), digits, spaces and the
# punctuation references use. No control characters, no markup: it is shown to the citizen in their log.
PURPOSE_PATTERN = r"^[^\W_][\w .,:;#/()'+-]{0,127}$"
MAX_RECORDS_IN_UNIT = 100  # one TransactWriteItems holds 100 items


class Reader(BaseModel):
    """Who read: the verified token's subject (no more than the policy saw)."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=256)
    role: str = Field(max_length=32)
    level: int = Field(0, ge=0, le=3)
    area: str | None = Field(None, max_length=256)


class AccessRecord(BaseModel):
    """One read (or refused read) of a citizen's personal data, with the policy's decision and reasons."""

    model_config = ConfigDict(frozen=True)

    access_id: str = Field(min_length=1, max_length=64)
    citizen_id: str = Field(
        min_length=1, max_length=300, description="the golden record, or source#local_id of an unlinked record"
    )
    reader: Reader
    purpose: str | None = Field(None, max_length=200, description="the Access-Purpose the reader stated")
    function: str = Field(max_length=64, examples=["pic-position"])
    resource: str = Field(max_length=64, examples=["position", "consents", "citizen"])
    sections: list[str] = Field(default_factory=list, description="what was shown, section:view (none if refused)")
    decision: Literal["allowed", "denied"]
    reasons: list[str] = Field(default_factory=list)
    at: datetime


@defines_table
class AccessItem(StoreModel):
    """The access log: ``citizen_id`` + ``<at>#<access_id>``, append-only (written once, condition: absent),
    read newest first. No TTL: it is evidence of accountability (RGPD art. 5.2); its retention is decided by
    ``policies/rgpd/retention``, not by expiry."""

    Meta = model_meta("audit")

    citizen_id = UnicodeAttribute(hash_key=True)
    entry = UnicodeAttribute(range_key=True)
    record = UnicodeAttribute()  # JSON of AccessRecord


def entry_key(record: AccessRecord) -> str:
    return f"{record.at.isoformat()}#{record.access_id}"


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
) -> AccessRecord:
    """The access record of one read: who (as the verified token says), why, what, and the decision."""
    return AccessRecord(
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


def stage_append(uow: UnitOfWork, record: AccessRecord) -> None:
    """Add the record to ``uow``: written once, never over another (an entry key is unique)."""
    item = AccessItem(record.citizen_id, entry_key(record), record=record.model_dump_json())
    uow.put(item, condition=AccessItem.citizen_id.does_not_exist(), tag="audit-entry")


def append(records: Sequence[AccessRecord]) -> None:
    """Append records now: one conditional PutItem for one record; a page of the clerical review queue (up to
    200 people) in transactions of at most ``MAX_RECORDS_IN_UNIT``."""
    for start in range(0, len(records), MAX_RECORDS_IN_UNIT):
        uow = UnitOfWork()
        for record in records[start : start + MAX_RECORDS_IN_UNIT]:
            stage_append(uow, record)
        uow.commit()
