"""Incidents' use cases (``functions.incident.handlers``) on an in-memory store: a citizen's report and what it
sets off (case, position, notice), a third-party client's report (registered api_key, batch token), the refusals
(outside the city, unknown service, attributes), duplicates by cells and exact distance, "me too" under a race,
stages and the reopening window, Open311's search rules and the RGPD answer."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from events.rgpd import RgpdRequestOpened
from functions.core.errors import LostRaceError
from functions.core.policy import EmbeddedPolicy
from functions.core.retry import retry_on_conflict
from functions.core.store import Staged
from functions.incident import handlers, service
from functions.incident.handlers import IncidentPorts, ReportCmd, RequestsQuery, StageCmd
from functions.incident.service import Incident, Report
from tests.unit.fakes import FixedClock, events_in
from tests.unit.incident.fakes import SOL, FakeIncidentStore, FakeLocator

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)
LIGHT = "alumbrado-farola-apagada"
ANA, BEA, CRIS = "c-ana", "c-bea", "c-cris"


@pytest.fixture
def ports(policy: EmbeddedPolicy) -> IncidentPorts:
    return IncidentPorts(FakeIncidentStore(), policy, FixedClock(NOW), FakeLocator(), "https://pic.test")


def store(ports: IncidentPorts) -> FakeIncidentStore:
    assert isinstance(ports.store, FakeIncidentStore)
    return ports.store


def done(ports: IncidentPorts, staged: Staged[Incident]) -> Incident:
    store(ports).commit(staged.unit)
    return staged.result


def light(lat: float = SOL[0], lon: float = SOL[1], **extra: object) -> Report:
    values = {"service_code": LIGHT, "lat": lat, "lon": lon, "description": "La farola no enciende",
              "attributes": {"tipo-averia": "apagada"}, **extra}  # fmt: skip
    return Report(**values)  # type: ignore[arg-type]


def reported(ports: IncidentPorts, report: Report | None = None, citizen: str | None = ANA) -> Incident:
    return done(ports, handlers.report(ReportCmd(report or light(), citizen, None, "app"), ports, None))


def test_a_citizens_report_opens_a_case_shows_in_the_position_and_is_acknowledged(ports: IncidentPorts) -> None:
    staged = handlers.report(ReportCmd(light(), ANA, None, "app"), ports, "00-trace")
    types = [t for t, _ in events_in(staged.unit)]
    assert types == ["es.madrid.pic.incident.reported.v1", "es.madrid.pic.case.requested.v1",
                     "es.madrid.pic.notification.requested.v1", "es.madrid.pic.position.item.upserted.v1"]  # fmt: skip
    data = dict(events_in(staged.unit))
    incident = staged.result
    case = data["es.madrid.pic.case.requested.v1"]
    assert (case["request_id"], case["area"], case["category"]) == (incident.id, "via-publica", "aviso-alumbrado")
    position = data["es.madrid.pic.position.item.upserted.v1"]
    assert (position["local_id"], position["section"], position["item_id"]) == (ANA, "cases", incident.id)
    assert data["es.madrid.pic.notification.requested.v1"]["template"] == "pic-incident-status"
    assert incident.expected_at == NOW + timedelta(days=5) and incident.stage == "received"
    assert data["es.madrid.pic.incident.reported.v1"]["district"] == "01"
    view = service.open311_request(done(ports, staged), "https://pic.test")
    assert view["status"] == "open" and view["expected_datetime"] == "2026-12-12T09:00:00Z"


def test_a_third_party_report_needs_a_registered_key_and_stays_in_the_domain(ports: IncidentPorts) -> None:
    with pytest.raises(service.ApiKeyError):
        handlers.report(ReportCmd(light(), None, None, "open311"), ports, None)
    with pytest.raises(service.ApiKeyError):
        handlers.report(ReportCmd(light(), None, "not-registered", "open311"), ports, None)
    store(ports).commit(handlers.register_client("fixmystreet-es", "k" * 40, ports))
    assert "k" * 40 not in str(store(ports).clients)  # only its hash is kept
    staged = handlers.report(ReportCmd(light(contact={"email": "x@example.org"}), None, "k" * 40, "open311"), ports,
                             None)  # fmt: skip
    assert [t for t, _ in events_in(staged.unit)] == ["es.madrid.pic.incident.reported.v1"]
    assert staged.result.client == "fixmystreet-es"
    assert "email" not in service.open311_request(staged.result, "https://pic.test")


def test_a_batch_service_gives_a_token_that_finds_the_request(ports: IncidentPorts) -> None:
    car = Report("vehiculo-abandonado", SOL[0], SOL[1], attributes={"matricula": "1234BCD"})
    incident = reported(ports, car)
    assert incident.token and handlers.token(incident.token, ports) == incident.id
    with pytest.raises(service.IncidentNotFoundError):
        handlers.token("nope", ports)


@pytest.mark.parametrize(
    ("report", "error"),
    [
        (light(lat=41.3874, lon=2.1686), service.OutsideCityError),  # Barcelona
        (light(lat=-3.70361, lon=40.41694), service.OutsideCityError),  # lat and long swapped
        (Report("no-such-service", *SOL), service.UnknownServiceError),
        (light(attributes={}), service.IncidentInvalidError),  # tipo-averia is required
        (light(attributes={"tipo-averia": "rota"}), service.IncidentInvalidError),  # not one of the list
        (light(attributes={"tipo-averia": "apagada", "color": "x"}), service.IncidentInvalidError),
        (light(description="<script>alert(1)</script>"), service.IncidentInvalidError),
        (light(lat=None), service.IncidentInvalidError),
        (light(description="x" * 4001), service.IncidentInvalidError),
    ],
)
def test_bad_reports_are_refused_by_name(ports: IncidentPorts, report: Report, error: type[Exception]) -> None:
    with pytest.raises(error):
        handlers.report(ReportCmd(report, ANA, None, "app"), ports, None)
    assert store(ports).incidents == {}


def test_duplicates_are_open_reports_of_the_same_service_within_the_radius(ports: IncidentPorts) -> None:
    near = reported(ports, light(lat=SOL[0] + 0.0002))  # ≈ 22 m north
    reported(ports, light(lat=SOL[0] + 0.0006))  # ≈ 67 m: beyond the service's 40 m
    reported(ports, Report("grafiti", *SOL))  # another service
    closed = reported(ports, light(lon=SOL[1] + 0.0001))
    done(ports, handlers.set_stage(StageCmd(closed.id, "resolved", "Cambiada", "agent:a1"), ports, None))
    found = handlers.suggest(LIGHT, *SOL, ports)
    assert [(i.id, round(d)) for i, d in found] == [(near.id, 22)]
    assert store(ports).near_reads <= 4


def test_the_cells_read_cover_every_point_of_the_radius() -> None:
    rng = random.Random(18)
    for _ in range(2000):
        lat, lon = 40.3 + rng.random() * 0.35, -3.9 + rng.random() * 0.4
        bearing, dist = rng.random() * 6.283, rng.random() * service.MAX_RADIUS_M
        other = (lat + dist * math.cos(bearing) / 111_320,
                 lon + dist * math.sin(bearing) / (111_320 * math.cos(math.radians(lat))))  # fmt: skip
        if service.distance_m(lat, lon, *other) <= service.MAX_RADIUS_M:
            assert service.cell_of(*other) in service.cells_near(lat, lon, service.MAX_RADIUS_M)
        assert len(service.cells_near(lat, lon, service.MAX_RADIUS_M)) <= 4


def test_me_too_counts_once_per_person_and_follows(ports: IncidentPorts) -> None:
    incident = reported(ports)
    after = done(ports, handlers.me_too(incident.id, BEA, ports, None))
    assert (after.reiterations, after.followers) == (1, frozenset({BEA}))
    assert (incident.id, BEA) in store(ports).followers
    for who in (BEA, ANA):  # again, or the reporter herself
        with pytest.raises(service.AlreadyReiteratedError):
            handlers.me_too(incident.id, who, ports, None)


def test_two_me_toos_at_once_both_count(ports: IncidentPorts) -> None:
    incident = reported(ports)
    first = handlers.me_too(incident.id, BEA, ports, None)
    second = handlers.me_too(incident.id, CRIS, ports, None)
    store(ports).commit(first.unit)
    with pytest.raises(LostRaceError):
        store(ports).commit(second.unit)

    def again() -> Incident:
        return done(ports, handlers.me_too(incident.id, CRIS, ports, None))

    assert retry_on_conflict(again, attempts=3, what="me too").reiterations == 2


def test_stages_tell_the_reporter_and_followers_and_resolution_closes(ports: IncidentPorts) -> None:
    incident = reported(ports)
    done(ports, handlers.me_too(incident.id, BEA, ports, None))
    staged = handlers.set_stage(StageCmd(incident.id, "resolved", "Lámpara cambiada", "agent:a1"), ports, None)
    notices = [
        d["recipient"]["citizen_id"] for t, d in events_in(staged.unit) if t.endswith("notification.requested.v1")
    ]
    assert sorted(notices) == sorted([ANA, BEA])
    resolved = done(ports, staged)
    view = service.open311_request(resolved, "https://pic.test")
    assert (view["status"], view["status_notes"], view["expected_datetime"]) == ("closed", "Lámpara cambiada", None)
    with pytest.raises(service.IncidentStateError):
        handlers.set_stage(StageCmd(incident.id, "in-progress", "", "agent:a1"), ports, None)
    with pytest.raises(service.IncidentStateError):
        handlers.me_too(incident.id, CRIS, ports, None)


def test_a_duplicate_names_an_existing_report(ports: IncidentPorts) -> None:
    first, second = reported(ports), reported(ports, citizen=BEA)
    with pytest.raises(service.IncidentInvalidError):
        handlers.set_stage(StageCmd(second.id, "duplicate", "", "agent:a1"), ports, None)
    with pytest.raises(service.IncidentNotFoundError):
        handlers.set_stage(StageCmd(second.id, "duplicate", "", "agent:a1", duplicate_of="AV-2026-00000000"), ports,
                           None)  # fmt: skip
    staged = handlers.set_stage(StageCmd(second.id, "duplicate", "", "agent:a1", duplicate_of=first.id), ports, None)
    position = [d for t, d in events_in(staged.unit) if t.endswith("position.item.upserted.v1")]
    after = done(ports, staged)
    assert after.status == "closed" and after.duplicate_of == first.id
    assert [p["removed"] for p in position] == [True]  # a duplicate leaves the reporter's position


def test_the_reporter_reopens_within_thirty_days_only(ports: IncidentPorts) -> None:
    incident = reported(ports)
    with pytest.raises(service.IncidentStateError):  # not resolved yet
        handlers.reopen(incident.id, "Sigue apagada", ports, None)
    done(ports, handlers.set_stage(StageCmd(incident.id, "resolved", "Hecho", "agent:a1"), ports, None))
    clock = ports.clock
    assert isinstance(clock, FixedClock)
    clock.advance(days=29)
    again = done(ports, handlers.reopen(incident.id, "Sigue apagada", ports, None))
    assert (again.stage, again.status, again.status_notes) == ("reopened", "open", "Sigue apagada")
    done(ports, handlers.set_stage(StageCmd(incident.id, "resolved", "Ahora sí", "agent:a1"), ports, None))
    clock.advance(days=31)
    with pytest.raises(service.IncidentStateError):
        handlers.reopen(incident.id, "Otra vez", ports, None)


def test_photos_at_most_five_while_open(ports: IncidentPorts) -> None:
    incident = reported(ports)
    photo = service.Photo("image/jpeg", b"\xff\xd8\xff", 1, 1, False)
    for _ in range(5):
        incident = done(ports, handlers.add_photo(incident.id, photo, ports, None))
    assert incident.photos == 5 and handlers.photo(incident.id, 5, ports) == photo
    with pytest.raises(service.IncidentStateError):
        handlers.add_photo(incident.id, photo, ports, None)


def test_the_open311_search_defaults_to_90_days_and_filters(ports: IncidentPorts) -> None:
    old = reported(ports)
    store(ports).incidents[old.id] = replace(old, requested_at=NOW - timedelta(days=91))
    recent = reported(ports)
    graffiti = reported(ports, Report("grafiti", *SOL))
    query = RequestsQuery([], [], None, None, [])
    assert {i.id for i in handlers.requests(query, ports)} == {recent.id, graffiti.id}
    assert [i.id for i in handlers.requests(replace(query, service_codes=["grafiti"]), ports)] == [graffiti.id]
    assert handlers.requests(replace(query, statuses=["closed"]), ports) == []
    assert [i.id for i in handlers.requests(replace(query, ids=[old.id, "junk"]), ports)] == [old.id]  # overrides
    with pytest.raises(service.IncidentInvalidError):
        handlers.requests(replace(query, start=NOW - timedelta(days=100), end=NOW), ports)
    with pytest.raises(service.IncidentInvalidError):
        handlers.requests(replace(query, start=NOW, end=NOW - timedelta(days=1)), ports)
    with pytest.raises(service.UnknownServiceError):
        handlers.requests(replace(query, service_codes=["nope"]), ports)


def test_rgpd_export_and_erasure_leave_the_report_anonymous(ports: IncidentPorts) -> None:
    mine = reported(ports)
    theirs = reported(ports, citizen=BEA)
    done(ports, handlers.me_too(theirs.id, ANA, ports, None))

    def opened(right: str) -> RgpdRequestOpened:
        return RgpdRequestOpened(request_id="r-1", citizen_id=ANA, right=right, opened_at=NOW, due_at=NOW)  # type: ignore[arg-type]

    uow = handlers.answer_rights(opened("access"), ports, None)
    answered = next(d for t, d in events_in(uow) if t.endswith("rgpd.domain.answered.v1"))
    assert {r["role"] for r in answered["export"]["reports"]} == {"reporter", "follower"}
    store(ports).commit(handlers.answer_rights(opened("erasure"), ports, None))
    assert store(ports).incidents[mine.id].citizen_id is None
    assert ANA not in store(ports).incidents[theirs.id].followers and store(ports).followers == set()
    assert handlers.of_citizen(ANA, ports) == []
