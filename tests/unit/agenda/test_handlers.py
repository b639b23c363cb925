"""The agenda's use cases on fakes: ingest (once), near a point and near a person's zones, consent, iCalendar, RGPD."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import icalendar
import pytest

from events.citizen import CitizenUpdated, MatchDecision, Profile, SourceLinkChange
from events.consent import Actor, ConsentChanged, ConsentSnapshot
from events.rgpd import RgpdRequestOpened
from functions.agenda import handlers, job, service
from functions.agenda.handlers import AgendaPorts
from functions.agenda.service import Filters
from functions.core import madrid_geo
from functions.core.policy import EmbeddedPolicy
from tests.unit.agenda.fakes import FakeAgendaStore
from tests.unit.fakes import FixedClock, events_in

SAMPLE = Path(__file__).resolve().parents[3] / "functions" / "agenda" / "data" / "agenda-sample.json"
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
CID = "c-agenda-1"
SOL = (40.41693, -3.70358)
MATADERO = (40.3920, -3.6975)


@pytest.fixture
def store() -> FakeAgendaStore:
    return FakeAgendaStore()


@pytest.fixture(scope="module")
def sample_store(policy: EmbeddedPolicy) -> FakeAgendaStore:
    """The sample ingested once per module (the tests that read it get a copy: ``loaded``)."""
    done = FakeAgendaStore()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("functions.core.store.UnitOfWork.commit", lambda uow, token=None: done.commit(uow))
        job.run(SAMPLE.read_bytes(), "json-ld", "a", AgendaPorts(store=done, policy=policy, clock=FixedClock(NOW)))
    return done


@pytest.fixture
def loaded(store: FakeAgendaStore, sample_store: FakeAgendaStore) -> FakeAgendaStore:
    """``store`` holding the sample's events, as after an ingest."""
    store.events = dict(sample_store.events)
    store.cells = {cell: set(ids) for cell, ids in sample_store.cells.items()}
    store.ledger.versions = dict(sample_store.ledger.versions)
    return store


@pytest.fixture
def ports(store: FakeAgendaStore, policy: EmbeddedPolicy, monkeypatch: pytest.MonkeyPatch) -> AgendaPorts:
    # the job commits each unit itself: route the kernel's commit to the fake ledger
    monkeypatch.setattr("functions.core.store.UnitOfWork.commit", lambda uow, token=None: store.commit(uow))
    return AgendaPorts(store=store, policy=policy, clock=FixedClock(NOW))


def month() -> Filters:
    return service.filters(date(2026, 12, 7), None, None)


def test_ingesting_the_sample_loads_its_events_and_again_changes_nothing(
    ports: AgendaPorts, store: FakeAgendaStore
) -> None:
    # WHEN the sample is ingested
    report = job.run(SAMPLE.read_bytes(), "json-ld", "agenda-sample.json", ports)
    # THEN every record is loaded or refused, with the events stored under their cells
    assert (report.records, len(report.loaded), report.unchanged, len(report.rejected)) == (63, 57, 0, 6)
    assert len(store.events) == 57 and sum(len(ids) for ids in store.cells.values()) == 54  # 3 have no location
    # WHEN the same file comes again
    versions = dict(store.ledger.versions)
    again = job.run(SAMPLE.read_bytes(), "json-ld", "agenda-sample.json", ports)
    # THEN its report comes back and nothing is written
    assert again.replayed and again.ingest_id == report.ingest_id and store.ledger.versions == versions


def test_an_unchanged_event_in_a_new_file_writes_and_announces_nothing(
    ports: AgendaPorts, loaded: FakeAgendaStore
) -> None:
    event = handlers.find("50433801", ports)
    assert handlers.load_event(event, ports, None).result is False


def test_a_loaded_event_is_announced_with_its_next_dates(ports: AgendaPorts) -> None:
    event = handlers.read_file(SAMPLE.read_bytes(), "json-ld", "a")[1][0]
    staged = handlers.load_event(event, ports, None)
    [(kind, data)] = events_in(staged.unit)
    assert kind == "es.madrid.pic.agenda.event.published.v1"
    assert data["event_id"] == event.id and data["district"] == event.district and not data["withdrawn"]
    assert 1 <= len(data["next_dates"]) <= 10 and data["next_dates"][0] >= NOW.isoformat()[:10]


def test_near_a_point_reads_the_cells_and_filters_by_exact_distance(
    ports: AgendaPorts, loaded: FakeAgendaStore
) -> None:
    found = handlers.near_point(*MATADERO, 1000, month(), ports)
    # THEN only Matadero's events (the same venue: distance 0), soonest first
    assert found and {f.event.venue for f in found} == {"Matadero Madrid"} and found[0].distance_m == 0
    assert [f.next_start for f in found] == sorted(f.next_start for f in found)
    wider = handlers.near_point(*MATADERO, 5000, month(), ports)
    assert len(wider) > len(found) and all(f.distance_m <= 5000 for f in wider)


def test_the_filters_narrow_by_category_audience_free_and_dates(ports: AgendaPorts, loaded: FakeAgendaStore) -> None:
    everything = handlers.near_point(*SOL, 5000, month(), ports)
    paid = handlers.near_point(*SOL, 5000, service.filters(date(2026, 12, 7), None, None, free=False), ports)
    music = handlers.near_point(*SOL, 5000, service.filters(date(2026, 12, 7), None, None, category="musica"), ports)
    children = handlers.near_point(
        *SOL, 5000, service.filters(date(2026, 12, 7), None, None, audience="infantil"), ports
    )
    assert paid and all(not f.event.free for f in paid) and len(paid) < len(everything)
    assert music and all(f.event.category == "musica" for f in music)
    assert children and all("infantil" in f.event.audience for f in children)
    # the Christmas concerts run on Fridays and Saturdays but not on the 25th and 26th of December
    xmas = service.filters(date(2026, 12, 7), date(2026, 12, 25), date(2026, 12, 26))
    assert "50439001" not in {f.event.id for f in handlers.near_point(*SOL, 5000, xmas, ports)}


@pytest.mark.parametrize(
    ("first", "last"), [(date(2027, 1, 10), date(2027, 1, 1)), (date(2027, 1, 1), date(2027, 6, 1))]
)
def test_a_window_backwards_or_over_100_days_is_refused(first: date, last: date) -> None:
    with pytest.raises(service.AgendaQueryError):
        service.filters(date(2026, 12, 7), first, last)


def test_a_point_outside_madrid_is_refused(ports: AgendaPorts) -> None:
    with pytest.raises(service.ZoneOutsideMadridError):
        handlers.near_point(40.3057, -3.7329, 1000, month(), ports)


def updated(barrio: str | None) -> CitizenUpdated:
    return CitizenUpdated(citizen_id=CID, link=SourceLinkChange(source="/legacy/padron", local_id="P1", change="added"),
                          match=MatchDecision(method="new", score=1.0, evidence=[]), updated_at=NOW,
                          profile=Profile(district=barrio[:2] if barrio else None, barrio=barrio))  # fmt: skip


def consent(granted: bool) -> ConsentChanged:
    return ConsentChanged(citizen_id=CID, purpose="location", before=ConsentSnapshot(granted=not granted),
                          after=ConsentSnapshot(granted=granted, text_version="2026-01"), mode="a", proof_id="p",
                          actor=Actor(kind="citizen", id=CID), capture_channel="web", language="es", text_sha256=None,
                          changed_at=NOW)  # fmt: skip


def work() -> service.Zone:  # a point: Matadero Madrid (Legazpi, Arganzuela)
    return service.chosen_zone("work", "Matadero", None, *MATADERO, 1000)


def test_home_comes_from_the_padron_and_is_shared_only_with_the_location_consent(
    ports: AgendaPorts, store: FakeAgendaStore
) -> None:
    # GIVEN the Padrón says the person lives in Sol (016)
    uow = handlers.project_citizen(updated("016"), ports, None)
    store.commit(uow)
    # THEN home is Sol's centroid, and nothing is shared without the consent
    zones = store.fetch_zones(CID)
    assert zones.home is not None and zones.home.barrio == "016" and events_in(uow) == []
    # WHEN the person consents to location
    uow = handlers.project_consent(consent(True), ports, None)
    store.commit(uow)
    # THEN the zones are shared: zones.changed with home
    [(kind, data)] = events_in(uow)
    assert kind == "es.madrid.pic.zones.changed.v1" and [z["kind"] for z in data["zones"]] == ["home"]


def test_choosing_places_needs_the_consent_and_withdrawing_it_erases_them(
    ports: AgendaPorts, store: FakeAgendaStore
) -> None:
    store.commit(handlers.project_citizen(updated("016"), ports, None))
    # WHEN the person chooses a work place without the location consent: refused
    with pytest.raises(service.LocationConsentRequiredError):
        handlers.set_zones(CID, [work()], None, 1, ports, None)
    # GIVEN the consent
    store.commit(handlers.project_consent(consent(True), ports, None))
    staged = handlers.set_zones(CID, [work()], None, 2, ports, None)
    store.commit(staged.unit)
    [(_, shared)] = events_in(staged.unit)
    assert [z["kind"] for z in shared["zones"]] == ["home", "work"] and shared["zones"][1]["district"] == "02"
    # a stale revision is refused
    with pytest.raises(service.ZonesChangedError):
        handlers.set_zones(CID, [], None, 2, ports, None)
    # WHEN the consent is withdrawn
    uow = handlers.project_consent(consent(False), ports, None)
    store.commit(uow)
    # THEN the chosen place is erased and an empty list is announced
    assert store.fetch_zones(CID).chosen == () and events_in(uow)[0][1]["zones"] == []


def test_near_my_zones_groups_the_events_by_zone(ports: AgendaPorts, loaded: FakeAgendaStore) -> None:
    store = loaded
    store.commit(handlers.project_citizen(updated("016"), ports, None))
    store.commit(handlers.project_consent(consent(True), ports, None))
    store.commit(handlers.set_zones(CID, [work()], None, 2, ports, None).unit)
    groups = handlers.near_zones(CID, month(), ports)
    assert [z.kind for z, _ in groups] == ["home", "work"]
    home, office = (found for _, found in groups)
    assert home and office and "Matadero Madrid" in {f.event.venue for f in office}
    assert all(f.distance_m <= 1500 for f in home) and all(f.distance_m <= 1000 for f in office)


def test_a_zone_outside_madrid_or_an_unknown_barrio_is_refused() -> None:
    with pytest.raises(service.ZoneOutsideMadridError):
        service.chosen_zone("leisure", None, None, 40.5475, -3.6420, 1000)  # Alcobendas
    with pytest.raises(service.ZoneOutsideMadridError):
        service.chosen_zone("leisure", None, "999", None, None, 1000)


def test_an_event_exports_as_rfc5545_with_its_later_starts_as_rdates(
    ports: AgendaPorts, loaded: FakeAgendaStore
) -> None:
    event = handlers.find("50439001", ports)  # Christmas concerts: Fridays and Saturdays, some days excluded
    cal = icalendar.Calendar.from_ical(service.calendar([event], NOW, event.title))
    [vevent] = cal.walk("VEVENT")
    assert str(vevent["uid"]) == "50439001@agenda.pic.madrid.es" and str(vevent["summary"]) == event.title
    start = vevent.decoded("dtstart")
    assert start == datetime(2026, 12, 11, 19, 0, tzinfo=start.tzinfo) and str(start.tzinfo).endswith("Madrid")
    rdates = [
        d.dt for r in (vevent["rdate"] if isinstance(vevent["rdate"], list) else [vevent["rdate"]]) for d in r.dts
    ]
    assert datetime(2026, 12, 25, 19, 0).date() not in {d.date() for d in rdates}
    assert cal.walk("VTIMEZONE") and vevent.decoded("geo") is not None


def test_an_event_read_back_with_fixed_offsets_still_exports_in_madrid_s_zone(
    ports: AgendaPorts, loaded: FakeAgendaStore
) -> None:
    # GIVEN the event as the store reads it back: its starts with a fixed +01:00 offset, not the zone
    event = handlers.find("50439001", ports)
    stored = replace(event, starts=tuple(s.astimezone(timezone(timedelta(hours=1))) for s in event.starts))
    # THEN the calendar still names Europe/Madrid (a client moves it across the summer-time change), not "UTC+01:00"
    text = service.calendar([stored], NOW, stored.title).decode()
    assert "DTSTART;TZID=Europe/Madrid:20261211T190000" in text and "UTC+01:00" not in text


def test_saving_events_makes_a_personal_agenda_and_a_withdrawn_one_is_left_out(
    ports: AgendaPorts, loaded: FakeAgendaStore
) -> None:
    store = loaded
    for event_id in ("50439001", "50433801"):
        store.commit(handlers.save(CID, event_id, True, ports).unit)
    with pytest.raises(service.AgendaEventNotFoundError):
        handlers.save(CID, "none-such", True, ports)
    staged = handlers.withdraw("50433801", ports, None)
    store.commit(staged.unit)
    assert events_in(staged.unit)[0][1]["withdrawn"] is True
    saved = handlers.saved_events(CID, ports)
    assert {s.event.id: s.withdrawn for s in saved} == {"50439001": False, "50433801": True}
    cal = icalendar.Calendar.from_ical(service.calendar([s.event for s in saved if not s.withdrawn], NOW, "x"))
    assert [str(v["uid"]) for v in cal.walk("VEVENT")] == ["50439001@agenda.pic.madrid.es"]
    # a withdrawn event is no longer near anyone
    assert "50433801" not in {f.event.id for f in handlers.near_point(*SOL, 5000, month(), ports)}


def test_rgpd_access_exports_the_zones_and_erasure_erases_them(ports: AgendaPorts, store: FakeAgendaStore) -> None:
    store.commit(handlers.project_citizen(updated("016"), ports, None))
    store.commit(handlers.project_consent(consent(True), ports, None))

    def opened(right: str) -> RgpdRequestOpened:
        return RgpdRequestOpened(request_id="rq-1", citizen_id=CID, right=right, opened_at=NOW,  # type: ignore[arg-type]
                                 due_at=NOW + timedelta(days=30))  # fmt: skip

    uow = handlers.answer_rights(opened("access"), ports, None)
    [(_, answer)] = events_in(uow)
    assert answer["outcome"] == "done" and answer["export"]["home_barrio"] == "016"
    uow = handlers.answer_rights(opened("erasure"), ports, None)
    store.commit(uow)
    assert CID not in store.zones and events_in(uow)[0][1]["outcome"] == "done"


def test_every_zone_of_a_barrio_is_in_that_barrio() -> None:
    for code in ("016", "022", "211", "085"):
        zone = service.chosen_zone("leisure", None, code, None, None, 1000)
        assert madrid_geo.locate(zone.lat, zone.lon) is not None and zone.barrio == code
