"""The access log's use cases (``functions.audit.handlers``) on in-memory fakes of their ports: the person's log
a page at a time (newest first, the cursor, bounds), and the answer to data-subject requests as of the clock.
No DynamoDB, no HTTP: milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from functions.audit import handlers, service
from functions.audit.handlers import AuditPorts, ReadAccessLog
from functions.core.audit import AccessRecord, Reader
from functions.core.errors import ValidationError
from functions.core.policy import EmbeddedPolicy
from tests.unit.audit.fakes import FakeAccessLog
from tests.unit.fakes import FixedClock, events_in
from tests.unit.rgpd_support import rgpd_request

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CITIZEN = "c-lucia"


def read_at(at: datetime, access_id: str, citizen_id: str = CITIZEN) -> AccessRecord:
    return AccessRecord(
        access_id=access_id,
        citizen_id=citizen_id,
        reader=Reader(id="agente-1", role="agent", level=2, area="hacienda"),
        purpose="EXP-1",
        function="pic-position",
        resource="position",
        sections=["taxes:detail"],
        decision="allowed",
        reasons=["ok"],
        at=at,
    )


@pytest.fixture
def log() -> FakeAccessLog:
    """Five reads of Lucía's data, an hour apart, and one of another person's."""
    fake = FakeAccessLog()
    fake.append(*(read_at(T0 + timedelta(hours=n), f"a-{n}") for n in range(5)))
    fake.append(read_at(T0, "b-0", citizen_id="c-otro"))
    return fake


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0 + timedelta(days=1))


@pytest.fixture
def ports(log: FakeAccessLog, policy: EmbeddedPolicy, clock: FixedClock) -> AuditPorts:
    return AuditPorts(store=log, policy=policy, clock=clock)


def test_the_log_is_read_newest_first_a_page_at_a_time_to_its_end(ports: AuditPorts) -> None:
    # WHEN Lucía reads her log two entries at a time, following the cursor
    seen, cursor, pages = [], None, 0
    while True:
        page = handlers.read_access_log(ReadAccessLog(CITIZEN, limit=2, cursor=cursor), ports)
        seen += [entry["access_id"] for entry in page.entries]
        pages, cursor = pages + 1, page.next_cursor
        if cursor is None:
            break

    # THEN every read of her data, newest first, each once, and nobody else's
    assert seen == ["a-4", "a-3", "a-2", "a-1", "a-0"] and pages == 3


def test_an_entry_says_who_why_what_and_the_decision_not_whose(ports: AuditPorts) -> None:
    (entry,) = handlers.read_access_log(ReadAccessLog(CITIZEN, limit=1), ports).entries
    assert entry["reader"] == {"id": "agente-1", "role": "agent", "level": 2, "area": "hacienda"}
    assert (entry["purpose"], entry["sections"], entry["decision"]) == ("EXP-1", ["taxes:detail"], "allowed")
    assert "citizen_id" not in entry


@pytest.mark.parametrize(("asked", "shown"), [(0, 1), (-5, 1), (3, 3), (10_000, service.MAX_PAGE)])
def test_a_page_holds_between_one_and_the_maximum(
    ports: AuditPorts, log: FakeAccessLog, asked: int, shown: int
) -> None:
    log.append(*(read_at(T0 - timedelta(minutes=n), f"old-{n}") for n in range(1, 300)))
    assert len(handlers.read_access_log(ReadAccessLog(CITIZEN, limit=asked), ports).entries) == shown


def test_a_cursor_this_api_did_not_give_or_gave_for_another_log_is_refused(ports: AuditPorts) -> None:
    with pytest.raises(ValidationError, match="cursor is not one this API gave"):
        handlers.read_access_log(ReadAccessLog(CITIZEN, cursor="forged"), ports)
    others = handlers.read_access_log(ReadAccessLog("c-otro", limit=1), ports).next_cursor
    assert others is not None
    with pytest.raises(ValidationError):
        handlers.read_access_log(ReadAccessLog(CITIZEN, cursor=others), ports)


def test_an_erasure_keeps_the_log_within_its_retention_and_erases_what_is_past_it(
    ports: AuditPorts, log: FakeAccessLog, clock: FixedClock
) -> None:
    # GIVEN a read four years ago besides this week's
    log.append(read_at(T0 - timedelta(days=4 * 365), "ancient"))

    # WHEN the access log answers the person's erasure (as of the clock) and it commits
    unit = handlers.answer_rights(rgpd_request("erasure", CITIZEN, clock.now()), ports, traceparent=None)
    ((kind, answer),) = events_in(unit)
    log.commit(unit)

    # THEN only the entry past its three years is erased; the rest is kept, and the answer says why
    assert kind == "es.madrid.pic.rgpd.domain.answered.v1" and answer["answered_at"].startswith("2026-03-03T09:00")
    assert [r.access_id for r in log.fetch_all(CITIZEN)] == [f"a-{n}" for n in range(5)]
    results = [(a["result"], a["count"]) for a in answer["actions"] if a["category"] in (None, "access-log")]
    assert results == [("erased", 1), ("kept", 5)]


def test_an_access_request_exports_the_whole_log_oldest_first(ports: AuditPorts, clock: FixedClock) -> None:
    ((_, answer),) = events_in(handlers.answer_rights(rgpd_request("access", CITIZEN, clock.now()), ports, None))
    assert [e["access_id"] for e in answer["export"]["access_log"]] == [f"a-{n}" for n in range(5)]
