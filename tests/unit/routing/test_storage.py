"""The routing table's (de)serialising: a contact, a ticket and a call read back as they were written, and a queue's
order (priority first, then the longest waiting)."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta

from functions.routing import service, storage
from functions.routing.service import Contact, Entry, IvrCall, Ticket

AT = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)


def contact(**changes: object) -> Contact:
    base = Contact("ctc-" + "a" * 24, "call", "hacienda-ibi", "hacienda", 2, 1, AT, AT, state="offered",
                   skill="ibi", citizen_id="c-1", agent_id="ana", offer_expires_at=AT + timedelta(seconds=20),
                   declined=("leo",), ivr={"flow": "f", "answers": ["1"]}, requested_by="system:pbx",
                   history=(Entry(AT, "queued", queue="hacienda-ibi"), Entry(AT, "offered", "ana")),
                   version=3)  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_contact_reads_back_as_written() -> None:
    written = contact()
    assert storage.contact_of(storage.contact_json(written), 3) == written


def test_a_ticket_and_a_call_read_back_as_written() -> None:
    record = {"source": "/legacy/padron", "local_id": "P1"}
    ticket = Ticket("tkt-oac-20261214-A1", "oac", "A1", "oac-padron", "Padrón", "atencion-ciudadania", AT,
                    state="served", called_at=AT, ended_at=AT, desk="3", record=record, version=2)  # fmt: skip
    assert storage.ticket_of(storage.ticket_json(ticket), 2) == ticket
    call = IvrCall("ivr-" + "b" * 24, "linea-010", 2, "es", AT, "system:pbx", answers=("1",), state="queued",
                   node="ibi", heard=2, contact_id="ctc-" + "a" * 24, version=4)  # fmt: skip
    raw = asdict(call)
    raw.pop("version")
    assert storage.call_of(storage._json(raw), 4) == call


def test_a_queue_serves_priority_first_then_the_longest_waiting() -> None:
    urgent_late = contact(priority=5, queued_at=AT + timedelta(minutes=5))
    normal_early = contact(priority=0, queued_at=AT)
    normal_late = contact(priority=0, queued_at=AT + timedelta(minutes=1))
    ranks = sorted([normal_late, urgent_late, normal_early], key=storage.queue_rank)
    assert [c.priority for c in ranks] == [5, 0, 0] and ranks[1].queued_at == AT
    assert service.default_queue("hacienda-l3") is not None and service.default_queue("oac-padron") is None
