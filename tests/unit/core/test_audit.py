"""The access-log kernel helper: one record shape for every function's reads."""

from __future__ import annotations

from datetime import UTC, datetime

from functions.core import audit
from functions.core.auth import Subject
from functions.core.store import UnitOfWork

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AGENT = Subject(id="agente-1", role="agent", level=2, area="hacienda")


def test_an_allowed_read_records_who_why_what_and_the_reasons() -> None:
    record = audit.access_record(
        AGENT, "c-1", "position", function="pic-position", purpose="EXP-1", sections=["taxes:detail"],
        allowed=True, reasons=["ok"], at=T0,
    )  # fmt: skip
    assert record.reader.model_dump() == {"id": "agente-1", "role": "agent", "level": 2, "area": "hacienda"}
    assert (record.decision, record.sections, record.purpose, record.at) == ("allowed", ["taxes:detail"], "EXP-1", T0)


def test_a_refused_read_shows_nothing() -> None:
    record = audit.access_record(
        AGENT, "c-1", "position", function="pic-position", purpose=None, sections=["taxes:detail"],
        allowed=False, reasons=["no purpose"],
    )  # fmt: skip
    assert record.decision == "denied" and record.sections == [] and record.reasons == ["no purpose"]


def test_the_record_is_staged_through_the_outbox_with_the_citizen_as_subject() -> None:
    record = audit.access_record(
        AGENT, "c-1", "consents", function="pic-consent", purpose="x", sections=["consents"], allowed=True, reasons=[]
    )
    uow = UnitOfWork()
    audit.stage_read(uow, record, traceparent=None)
    assert len(uow) == 1
    (op,) = uow._ops
    assert op.tag == "outbox"
    assert op.item.type == "es.madrid.pic.audit.access.recorded.v1" and op.item.subject == "c-1"
