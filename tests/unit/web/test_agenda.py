"""The "events near me" micro-app's pages on fakes (``functions.web.agenda``): the events grouped by zone with the
filters passed on to the API, a bad date named at its field (nothing asked), the consent's refusal said in words with
the way to give it, and the chosen barrio sent as the API takes it."""

from __future__ import annotations

import pytest

from functions.web import service
from tests.unit.web.web_fakes import FakeHttp, FakeSessions, make_app, signed_session, visit

AGENDA = "/v1/citizens/c-1/agenda"
EVENT = {"id": "50433801", "title": "Concierto · Conde Duque", "category": "musica", "audience": ["familias"],
         "free": True, "price": "", "venue": "Centro Cultural Conde Duque", "district": "01", "barrio": "015",
         "lat": 40.4275, "lon": -3.7105, "all_day": False, "next_dates": ["2026-12-11T19:00:00+01:00"],
         "distance_m": 640, "next_start": "2026-12-11T19:00:00+01:00"}  # fmt: skip
GROUPS = {"citizen_id": "c-1", "groups": [
    {"zone": {"kind": "home", "label": "Sol", "lat": 40.41, "lon": -3.70, "radius_m": 1500, "district": "01",
              "barrio": "016"}, "events": [EVENT]}]}  # fmt: skip
ZONES = {"citizen_id": "c-1", "revision": 3, "location_consent": False, "home_barrio": "016", "shared": [],
         "zones": [{"kind": "home", "label": "Sol", "lat": 40.41, "lon": -3.70, "radius_m": 1500, "district": "01",
                    "barrio": "016"}]}  # fmt: skip


@pytest.fixture
def signed() -> service.Session:
    return signed_session()


def test_the_events_near_each_zone_with_the_filters_passed_on(signed: service.Session) -> None:
    http = FakeHttp({("GET", AGENDA): (200, GROUPS), ("GET", f"{AGENDA}/saved"): (200, {"events": []})})
    app = make_app(FakeSessions({signed.id: signed}), http)
    page = visit(app, "/app/agenda?category=musica&free=true&from=2026-12-08", signed.id)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="zone-home-title"' in text and "Concierto · Conde Duque" in text
    assert 'href="/app/agenda/events/50433801"' in text and "640 m" in text
    assert 'id="nav-agenda" aria-current="page"' in text
    assert "datos.madrid.es" in text  # the open data's attribution


def test_a_bad_date_is_named_at_its_field_and_the_api_is_not_asked(signed: service.Session) -> None:
    http = FakeHttp({("GET", f"{AGENDA}/saved"): (200, {"events": []})})
    page = visit(make_app(FakeSessions({signed.id: signed}), http), "/app/agenda?from=mañana", signed.id)
    text = page.get_data(as_text=True)
    assert page.status_code == 422 and 'id="from-error"' in text and 'aria-invalid="true"' in text
    assert ("GET", AGENDA) not in {(m, p) for m, p, _ in http.asked}


def test_choosing_a_place_without_the_consent_says_so_with_the_way_to_give_it(signed: service.Session) -> None:
    refusal = {"type": "/problems/location-consent-required", "title": "x", "status": 409, "detail": "x"}
    http = FakeHttp({("GET", f"{AGENDA}/zones"): (200, ZONES), ("PUT", f"{AGENDA}/zones"): (409, refusal)})
    app = make_app(FakeSessions({signed.id: signed}), http)
    form = {"csrf": signed.csrf, "revision": "3", "work_barrio": "023", "work_radius": "1000", "leisure_barrio": ""}
    page = visit(app, "/app/agenda/zones", signed.id, "POST", form)
    text = page.get_data(as_text=True)
    assert http.sent == [(f"{AGENDA}/zones", {"revision": 3, "zones": [{"kind": "work", "barrio": "023",
                                                                         "radius_m": 1000}]})]  # fmt: skip
    assert page.status_code == 409 and "consentimiento de ubicación" in text and 'id="to-consents"' in text
    assert '<option value="023" selected>' in text  # the choice is kept


def test_a_radius_not_offered_is_refused_at_its_field(signed: service.Session) -> None:
    http = FakeHttp({("GET", f"{AGENDA}/zones"): (200, ZONES)})
    form = {"csrf": signed.csrf, "revision": "3", "work_barrio": "023", "work_radius": "7"}
    page = visit(make_app(FakeSessions({signed.id: signed}), http), "/app/agenda/zones", signed.id, "POST", form)
    assert page.status_code == 422 and 'id="work_radius-error"' in page.get_data(as_text=True) and http.sent == []
