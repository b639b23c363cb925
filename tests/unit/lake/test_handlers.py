"""The lake's use cases on fakes: one write per event, exactly once in the tables (redelivery, a crash between
commit and cleanup), erasure (rows deleted, late facts held back, later facts exported), the snapshot, the lease."""

from __future__ import annotations

from datetime import timedelta

import pytest

from events.rgpd import RgpdRequestOpened
from functions.core.policy import EmbeddedPolicy
from functions.lake import handlers, service
from functions.lake.handlers import LakePorts
from functions.lake.service import PERSON_COLUMN, Pseudonymiser
from tests.unit.fakes import FixedClock, events_in
from tests.unit.lake import samples
from tests.unit.lake.fakes import CrashError, FakeLakeStore, FakeTables
from tests.unit.lake.samples import CASE, CID, NOW, PAYMENT


@pytest.fixture
def store() -> FakeLakeStore:
    return FakeLakeStore()


@pytest.fixture
def tables() -> FakeTables:
    return FakeTables()


@pytest.fixture
def ports(store: FakeLakeStore, tables: FakeTables, policy: EmbeddedPolicy) -> LakePorts:
    return LakePorts(store=store, tables=tables, pseudonymiser=Pseudonymiser(b"k" * 32), policy=policy,
                     clock=FixedClock(NOW))  # fmt: skip


def send(ports: LakePorts, event_id: str, data: dict[str, object], event_type: str = CASE) -> None:
    handlers.stage_event(event_type, "/pic/case", event_id, data, ports)


def erasure(ports: LakePorts) -> RgpdRequestOpened:
    return RgpdRequestOpened(request_id="rq-1", citizen_id=CID, right="erasure", opened_at=NOW,  # type: ignore[arg-type]
                             due_at=NOW + timedelta(days=30))  # fmt: skip


def test_an_event_is_one_store_write_and_a_flush_commits_it_once(ports: LakePorts, store: FakeLakeStore,
                                                                 tables: FakeTables) -> None:  # fmt: skip
    send(ports, "e-1", samples.case())
    send(ports, "e-1", samples.case())  # redelivered before the flush
    assert store.calls == ["put_row", "put_row"] and len(store.staged) == 1
    report = handlers.flush(ports, "f")
    assert report.inserted == {"cases": 1} and not store.staged and len(tables.rows["cases"]) == 1
    send(ports, "e-1", samples.case())  # redelivered after the flush: staged again, merged as a no-op
    assert handlers.flush(ports, "f").inserted == {"cases": 0} and len(tables.rows["cases"]) == 1
    assert tables.catalogues and store.lease is None


def test_a_crash_between_the_commit_and_the_cleanup_exports_nothing_twice(ports: LakePorts, store: FakeLakeStore,
                                                                          tables: FakeTables) -> None:  # fmt: skip
    send(ports, "e-1", samples.case())
    send(ports, "e-2", samples.payment(), PAYMENT)
    store.crash_on_delete = True
    with pytest.raises(CrashError):
        handlers.flush(ports, "f")
    assert len(store.staged) == 2 and len(tables.rows["cases"]) == 1  # committed, not cleaned up
    store.crash_on_delete = False
    store.lease = None  # the dead process's lease expired
    assert handlers.flush(ports, "f").inserted == {"cases": 0, "payments": 0}
    assert not store.staged and len(tables.rows["cases"]) == 1 and len(tables.rows["payments"]) == 1


def test_special_categories_and_types_not_exported_write_nothing(ports: LakePorts, store: FakeLakeStore) -> None:
    send(ports, "e-1", samples.case(area="servicios-sociales"))
    handlers.stage_event("es.madrid.pic.kb.article.updated.v1", "/pic/kb", "e-2", {}, ports)
    assert store.calls == [] and not store.staged


def test_erasure_deletes_the_rows_holds_back_late_facts_and_exports_later_ones(
    ports: LakePorts, store: FakeLakeStore, tables: FakeTables
) -> None:
    send(ports, "e-1", samples.case(1))
    send(ports, "e-other", samples.case(1, citizen_id="cit-other", case_id="case-" + "0" * 23 + "9"))
    handlers.flush(ports, "f")
    assert handlers.snapshot(ports, "s", "2026-12-07") == {"cases_current": 2}
    uow = handlers.answer_rights(erasure(ports), ports, None)
    store.commit(uow)
    [(_, answer)] = events_in(uow)
    assert answer["outcome"] == "done"
    assert {a["category"] for a in answer["actions"]} >= {"analytics-rows", "erasure-marker"}
    person = ports.pseudonymiser.of(CID)
    assert person in store.markers and CID not in repr(store.markers)  # the marker holds the pseudonym, no id
    send(ports, "e-late", samples.case(2, at=NOW - timedelta(minutes=5)))  # dated before the erasure, delivered after
    report = handlers.flush(ports, "f")
    assert report.erasures == 1 and report.held_back == 1 and report.erased["cases"] == 1
    assert all(v[PERSON_COLUMN] != person for v in tables.rows["cases"].values())
    assert all(v[PERSON_COLUMN] != person for v in tables.snapshots[("cases_current", "2026-12-07")])
    assert not store.pending and not store.staged
    send(ports, "e-new", samples.case(3, at=NOW + timedelta(days=1)))  # a new fact after the erasure
    assert handlers.flush(ports, "f").inserted == {"cases": 1}


def test_other_rights_are_not_applicable(ports: LakePorts) -> None:
    data = erasure(ports).model_copy(update={"right": "access"})
    [(_, answer)] = events_in(handlers.answer_rights(data, ports, None))
    assert answer["outcome"] == "not-applicable"


def test_one_writer_at_a_time(ports: LakePorts, store: FakeLakeStore) -> None:
    assert store.acquire("other", NOW, 60)
    with pytest.raises(service.FlushBusyError):
        handlers.flush(ports, "f")
    store.lease = ("other", NOW - timedelta(seconds=1))  # expired: taken over
    assert handlers.flush(ports, "f").staged == 0


def test_the_snapshot_keeps_the_latest_version_of_each_case(ports: LakePorts, tables: FakeTables) -> None:
    send(ports, "e-1", samples.case(1))
    send(ports, "e-2", samples.case(2, at=NOW + timedelta(hours=1)))
    send(ports, "e-3", samples.case(3, at=NOW + timedelta(days=1)))
    handlers.flush(ports, "f")
    assert handlers.snapshot(ports, "s", "2026-12-07") == {"cases_current": 1}
    [current] = tables.snapshots[("cases_current", "2026-12-07")]
    assert current["version"] == 2
    assert handlers.snapshot(ports, "s")  # default: yesterday
    assert handlers.snapshot(ports, "s", "2031-12-09") == {"cases_current": 0}  # past the 5 years' retention
    assert tables.rows["cases"] == {} and "cases" in tables.compacted
    with pytest.raises(service.InvalidPartitionError):
        handlers.snapshot(ports, "s", "yesterday")


def test_a_partition_summary_checks_its_table_and_day(ports: LakePorts) -> None:
    send(ports, "e-1", samples.case(1))
    handlers.flush(ports, "f")
    assert handlers.partition(ports, "cases", "2026-12-07")["rows"] == 1
    assert handlers.partition(ports, "cases", "2026-12-07", "area:hacienda")["rows"] == 1
    assert handlers.partition(ports, "cases", "2026-12-07", "area:salud")["rows"] == 0
    with pytest.raises(service.UnknownTableError):
        handlers.partition(ports, "nope", "2026-12-07")
    for bad in ("area", "subject:x", "nope:1"):
        with pytest.raises(service.InvalidFilterError):
            handlers.partition(ports, "cases", "2026-12-07", bad)
