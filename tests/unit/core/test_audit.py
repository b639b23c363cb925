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


def test_the_record_is_appended_to_the_access_log_once_under_its_citizen() -> None:
    record = audit.access_record(
        AGENT, "c-1", "consents", function="pic-consent", purpose="x", sections=["consents"], allowed=True, reasons=[]
    )
    uow = UnitOfWork()
    audit.stage_append(uow, record)
    assert len(uow) == 1
    (op,) = uow._ops
    assert op.tag == "audit-entry" and op.condition is not None  # written once: never over another entry
    assert (op.item.citizen_id, op.item.entry) == ("c-1", f"{record.at.isoformat()}#{record.access_id}")
    assert audit.AccessRecord.model_validate_json(op.item.record) == record
