"""ZBE's use cases on fakes (the real ``policies/zbe``, an in-memory store over the Ledger, a fixed clock): plates in
every Spanish format and the refusals, Movilidad's vehicle facts (latest wins), the rules' three outcomes and what
each announces, the agent's review, the plate list, and the RGPD answers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from events.citizen import SourceRecord
from events.rgpd import RgpdRequestOpened
from events.zbe import VehicleRegistered
from functions.core.errors import LostRaceError
from functions.core.policy import EmbeddedPolicy
from functions.core.store import UnitOfWork
from functions.zbe import export, handlers, service
from functions.zbe.handlers import ZbePorts
from tests.unit.fakes import FixedClock, events_in
from tests.unit.zbe.fakes import FakeZbeStore

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
ANA = "c-ana"
DECIDED = "es.madrid.pic.zbe.authorisation.decided.v1"
GRANTED = "es.madrid.pic.card.granted.v1"
POSITION = "es.madrid.pic.position.item.upserted.v1"
NOTICE = "es.madrid.pic.notification.requested.v1"


@pytest.fixture
def store() -> FakeZbeStore:
    return FakeZbeStore()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def ports(store: FakeZbeStore, policy: EmbeddedPolicy, clock: FixedClock) -> ZbePorts:
    return ZbePorts(store=store, policy=policy, clock=clock, app_url="http://pic.test/app/zbe")


def register(ports: ZbePorts, store: FakeZbeStore, plate: str, label: str, holder: str | None = ANA,
             district: str | None = "01", as_of: datetime = T0) -> UnitOfWork:  # fmt: skip
    who = {"citizen_id": holder} if holder else {"record": SourceRecord(source="/legacy/movilidad", local_id="T-9")}
    data = VehicleRegistered(plate=plate, label=label, district=district, as_of=as_of, **who)  # type: ignore[arg-type]
    uow = handlers.project_vehicle(data, ports)
    store.commit(uow)
    return uow


def apply(ports: ZbePorts, store: FakeZbeStore, plate: str, zone: str = "distrito-centro",
          category: str = "residente", who: str = ANA) -> tuple[service.Application, UnitOfWork]:  # fmt: skip
    staged = handlers.apply(
        handlers.Apply(who, plate, zone, category, None), ports, "00-" + "1" * 32 + "-" + "2" * 16 + "-01"
    )
    store.commit(staged.unit)
    return staged.result, staged.unit


@pytest.mark.parametrize(
    ("written", "canonical", "shown"),
    [("1234 BCD", "1234BCD", "1234 BCD"), ("1234-bcd", "1234BCD", "1234 BCD"), ("M-1234-AB", "M1234AB", "M-1234-AB"),
     ("gc 0042 z", "GC0042Z", "GC-0042-Z"), ("M-123456", "M123456", "M-123456")],
)  # fmt: skip
def test_plates_in_each_spanish_format_are_read_in_canonical_form(written: str, canonical: str, shown: str) -> None:
    plate = service.parse_plate(written)
    assert (plate.canonical, plate.shown) == (canonical, shown)


@pytest.mark.parametrize("written", ["1234 ABC", "1234 BCQ", "123 BCD", "XX-1234-AB", "BCD 1234", "", "1234ÑBC"])
def test_a_plate_in_no_spanish_format_is_refused(written: str) -> None:
    with pytest.raises(service.InvalidPlateError):
        service.parse_plate(written)


def test_a_wrong_plate_is_a_problem_and_nothing_is_staged(ports: ZbePorts, store: FakeZbeStore) -> None:
    # GIVEN nothing  WHEN a plate with vowels is sent  THEN a 422 problem naming the formats
    with pytest.raises(service.InvalidPlateError) as raised:
        handlers.apply(handlers.Apply(ANA, "1234 AEI", "distrito-centro", "residente"), ports, None)
    assert raised.value.status == 422 and "0000 BBB" in str(raised.value)
    assert not store.items


def test_a_vehicle_movilidad_does_not_know_is_refused(ports: ZbePorts) -> None:
    with pytest.raises(service.VehicleUnknownError):
        handlers.apply(handlers.Apply(ANA, "9999 BBB", "distrito-centro", "residente"), ports, None)


def test_the_latest_vehicle_fact_wins_whatever_the_order(ports: ZbePorts, store: FakeZbeStore) -> None:
    register(ports, store, "1234BCD", "B", as_of=T0)
    assert len(register(ports, store, "1234BCD", "C", as_of=T0 - timedelta(days=1))) == 0  # older: nothing staged
    register(ports, store, "1234BCD", "ECO", as_of=T0 + timedelta(days=1))
    held = store.fetch_vehicle("1234BCD")
    assert held is not None and held.label == "ECO"


def test_a_resident_of_centro_with_their_own_vehicle_is_granted_and_everyone_told(
    ports: ZbePorts, store: FakeZbeStore
) -> None:
    # GIVEN Movilidad registers Ana's label-B car at an address in Centro (01)
    register(ports, store, "1234BCD", "B")
    # WHEN she applies as a resident
    app, uow = apply(ports, store, "1234 bcd")
    # THEN granted for a year, with the rule's reason, and the wallet, the position, NOT and listeners told
    assert app.state == "granted" and app.decided_by == "policy"
    assert app.valid_from == date(2026, 12, 7) and app.valid_until == date(2027, 12, 6)
    assert [r.code for r in app.reasons] == ["automatic"]
    sent = dict(events_in(uow))
    assert sent[GRANTED]["card_type"] == "zbe" and sent[GRANTED]["claims"] == {"plate": "1234BCD", "label": "B"}
    assert sent[POSITION]["section"] == "permits" and sent[POSITION]["local_id"] == ANA
    assert sent[POSITION]["status"] == "granted" and sent[POSITION]["valid_until"] == "2027-12-06"
    assert sent[NOTICE]["template"] == "pic-zbe-decided" and sent[NOTICE]["personalisation"]["granted"] is True
    assert sent[DECIDED]["decision"] == "granted" and sent[DECIDED]["decided_by"] == "policy"


def test_a_vehicle_that_needs_nothing_is_refused_with_the_reason(ports: ZbePorts, store: FakeZbeStore) -> None:
    register(ports, store, "1234BCD", "ECO")
    app, uow = apply(ports, store, "1234BCD", category="invitado")
    assert app.state == "refused" and [r.code for r in app.reasons] == ["not-needed"]
    assert "sin autorización" in app.reasons[0].es and "without an authorisation" in app.reasons[0].en
    sent = dict(events_in(uow))
    assert (
        GRANTED not in sent
        and sent[DECIDED]["decision"] == "refused"
        and sent[NOTICE]["personalisation"]["granted"] is False
    )


def test_review_then_agent_approves_and_the_plate_is_listed(ports: ZbePorts, store: FakeZbeStore) -> None:
    # GIVEN a guest's label-C car (someone else's)
    register(ports, store, "M1234AB", "C", holder=None, district="05")
    app, uow = apply(ports, store, "M-1234-AB", category="invitado", who="c-luis")
    # THEN it waits for review: only the position hears of it
    assert app.state == "pending-review" and [t for t, _ in events_in(uow)] == [POSITION]
    assert [a.id for a in handlers.review_queue(ports)] == [app.id]
    assert handlers.plate_list(ports) == []
    # WHEN an agent approves it
    staged = handlers.review(
        handlers.Review(app.id, True, "Invitación de residente comprobada", "a-1", "case-7"), ports, None
    )
    store.commit(staged.unit)
    # THEN granted for one day, decided by the agent, announced, listed for the cameras and out of the queue
    done = staged.result
    assert done.state == "granted" and done.valid_from == done.valid_until == date(2026, 12, 7)
    assert done.decided_by == "a-1" and done.purpose == "case-7"
    assert dict(events_in(staged.unit))[DECIDED]["decided_by"] == "agent"
    assert handlers.plate_list(ports) == [{"plate": "M1234AB", "zone": "distrito-centro", "category": "invitado",
                                           "valid_from": "2026-12-07", "valid_until": "2026-12-07"}]  # fmt: skip
    assert handlers.review_queue(ports) == []
    # AND the next day it is no longer in the list
    ports.clock.advance(days=1)  # type: ignore[attr-defined]
    assert handlers.plate_list(ports) == []


def test_an_agent_cannot_decide_twice(ports: ZbePorts, store: FakeZbeStore) -> None:
    register(ports, store, "1234BCD", "B", holder=None)
    app, _ = apply(ports, store, "1234BCD", category="pmr")
    store.commit(handlers.review(handlers.Review(app.id, False, "Sin tarjeta PMR", "a-1", "p"), ports, None).unit)
    with pytest.raises(service.NotPendingError):
        handlers.review(handlers.Review(app.id, True, "otra vez", "a-2", "p"), ports, None)


def test_two_agents_deciding_at_once_one_loses_the_race(ports: ZbePorts, store: FakeZbeStore) -> None:
    register(ports, store, "1234BCD", "B", holder=None)
    app, _ = apply(ports, store, "1234BCD", category="garaje")
    first = handlers.review(handlers.Review(app.id, True, "Plaza de garaje comprobada", "a-1", "p"), ports, None)
    second = handlers.review(handlers.Review(app.id, False, "No consta", "a-2", "p"), ports, None)
    store.commit(first.unit)
    with pytest.raises(LostRaceError):
        store.commit(second.unit)


def test_a_second_open_application_for_the_same_vehicle_and_zone_is_refused(
    ports: ZbePorts, store: FakeZbeStore
) -> None:
    register(ports, store, "1234BCD", "B", holder=None)
    apply(ports, store, "1234BCD", category="pmr")
    with pytest.raises(service.ApplicationExistsError):
        apply(ports, store, "1234BCD", category="garaje")


def test_plaza_eliptica_exceptions_ended_and_an_unconfirmed_rule_is_reviewed(
    ports: ZbePorts, store: FakeZbeStore
) -> None:
    register(ports, store, "1234BCD", "none", district="11")
    ended, _ = apply(ports, store, "1234BCD", zone="plaza-eliptica", category="pmr")
    assert ended.state == "refused" and [r.code for r in ended.reasons] == ["ended"]
    unconfirmed, _ = apply(ports, store, "1234BCD", zone="madrid", category="pmr")
    assert unconfirmed.state == "pending-review" and [r.code for r in unconfirmed.reasons] == ["unconfirmed"]


def rgpd(right: str) -> RgpdRequestOpened:
    return RgpdRequestOpened.model_validate(
        {
            "request_id": "rgpd-1",
            "citizen_id": ANA,
            "right": right,
            "opened_at": T0.isoformat(),
            "due_at": (T0 + timedelta(days=30)).isoformat(),
        }
    )


def test_the_person_exports_their_applications_and_erasure_keeps_decisions_four_years(
    ports: ZbePorts, store: FakeZbeStore
) -> None:
    register(ports, store, "1234BCD", "B")
    apply(ports, store, "1234BCD")
    exported = dict(events_in(handlers.answer_rights(rgpd("access"), ports, None)))
    answered = next(v for t, v in exported.items() if t.endswith("rgpd.domain.answered.v1"))
    assert answered["domain"] == "zbe" and "1234BCD" in str(answered)
    erased = handlers.answer_rights(rgpd("erasure"), ports, None)
    store.commit(erased)
    assert store.fetch_by_citizen(ANA)  # a decision of December 2026 is kept until 2030


def test_the_export_writes_the_plate_list_as_csv_and_records_the_read(
    ports: ZbePorts, store: FakeZbeStore, tmp_path: Path
) -> None:
    # GIVEN one authorisation in force
    register(ports, store, "1234BCD", "B")
    apply(ports, store, "1234BCD")
    recorded: list[object] = []
    # WHEN the file is exported
    out = tmp_path / "cams" / "plates.csv"
    assert export.export(out, "op-ana", "carga diaria de cámaras", ports, recorded.extend) == 1
    # THEN RFC 4180 CSV with a header, the least data, and one access record naming reader and purpose
    assert out.read_bytes() == (
        b"plate,zone,category,valid_from,valid_until\r\n1234BCD,distrito-centro,residente,2026-12-07,2027-12-06\r\n"
    )
    (record,) = recorded
    assert record.reader.id == "op-ana" and record.purpose == "carga diaria de cámaras"  # type: ignore[attr-defined]
    assert record.citizen_id == "(zbe plate list)" and oct(out.stat().st_mode & 0o777) == "0o600"  # type: ignore[attr-defined]
