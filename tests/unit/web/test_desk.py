"""The agent desktop on fakes of its ports: no citizen is searched or opened without a purpose, the purpose
travels as ``Access-Purpose`` on every call, a panel the policy refuses shows the reason in its place, a
citizen's session opens no desk page, and bad input is a page with the error by its field (nothing sent)."""

from __future__ import annotations

from typing import Any

import pytest

from functions.web import service
from tests.unit.web.web_fakes import FakeHttp, FakeSessions, make_app, signed_session, visit, whole_360

AGENT = service.Person("agent-7", "agent", 1, "atencion-ciudadania")
CITIZEN_PATHS = ("", "/position", "/consents", "/consents/history", "/interactions", "/notifications",
                 "/rgpd-requests", "/debts", "/zbe/applications", "/bookings", "/agenda/zones",
                 "/agenda/saved", "/incidents")  # fmt: skip


@pytest.fixture
def agent() -> service.Session:
    return signed_session(AGENT, "/desk/")


def _citizen_answers(refuse: tuple[str, ...] = ()) -> dict[tuple[str, str], tuple[int, Any]]:
    bodies: dict[str, Any] = {
        "": {"citizen_id": "c-1", "attributes": {"given_name": "Lucía"}, "provenance": {"given_name": "/padron"},
             "documents": [], "links": []},
        "/position": {"sections": [{"section": "fines", "view": "summary", "summary": {"count": 1, "amount_eur":
                      "90.00", "next_date": None}, "items": [], "reasons": ["level 1 sees a summary"]}]},
        "/consents": {"citizen_id": "c-1", "mode": "a", "consents": []},
        "/consents/history": {"proofs": []},
        "/interactions": {"items": [], "next_cursor": None},
        "/notifications": {"items": [], "next_cursor": None},
        "/rgpd-requests": {"requests": []},
        "/debts": {"citizen_id": "c-1", "debts": [{"id": "fine-MUL-1", "kind": "fine", "status": "pending",
                   "reference": "MUL-1", "amount_cents": 20000, "due": {"payable": True, "amount_due_cents": 10000,
                   "until": "2026-12-20", "notice": "Pagar con la reducción termina el procedimiento."}}]},
        "/agenda/zones": {"citizen_id": "c-1", "revision": 1, "location_consent": False, "home_barrio": "016",
                          "zones": [{"kind": "home", "label": "Sol", "radius_m": 1500}], "shared": []},
        "/agenda/saved": {"citizen_id": "c-1", "events": []},
        "/zbe/applications": {"applications": [{"id": "zbe-0123456789abcdef0123", "zone": "distrito-centro",
                              "category": "residente", "state": "granted", "valid_until": "2027-12-06"}],
                              "view": "summary"},
    }  # fmt: skip
    answers = {("GET", f"/v1/citizens/c-1{p}"): (200, body) for p, body in bodies.items()}
    for path in refuse:
        answers[("GET", f"/v1/citizens/c-1{path}")] = (403, {"title": "Forbidden", "detail": f"no {path} for L1"})
    answers[("GET", "/v1/consent-terms")] = (200, {"purposes": [], "channels": []})
    return answers


def test_a_search_without_a_purpose_is_the_form_with_the_error_and_asks_nothing(agent: service.Session) -> None:
    http = FakeHttp({})
    form = {"csrf": agent.csrf, "kind": "document", "document_type": "DNI", "document_number": "12345678Z"}
    page = visit(make_app(FakeSessions({agent.id: agent}), http), "/desk/search", agent.id, "POST", form)
    assert page.status_code == 422 and http.asked == []
    assert 'aria-describedby="purpose-hint purpose-error"' in page.get_data(as_text=True)


def test_a_search_sends_the_purpose_and_lists_the_matches(agent: service.Session) -> None:
    found = {"matches": [{"citizen_id": "c-1", "name": "Lucía Pérez", "birth_date": "1980-05-17",
                          "district": "01", "matched_on": "document"}], "count": 1, "truncated": False}  # fmt: skip
    http = FakeHttp({("POST", "/v1/citizen-search"): (200, found)})
    form = {"csrf": agent.csrf, "purpose": "CITA-2026-0042", "kind": "document", "document_type": "DNI",
            "document_number": "12345678-z"}  # fmt: skip
    page = visit(make_app(FakeSessions({agent.id: agent}), http), "/desk/search", agent.id, "POST", form)
    assert page.status_code == 200 and 'id="attend-c-1"' in page.get_data(as_text=True)
    ((method, path, headers),) = http.asked
    assert (method, path, headers["Access-Purpose"]) == ("POST", "/v1/citizen-search", "CITA-2026-0042")


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"kind": "name", "name": "Lucía", "birth_date": "17/05/1980"}, "birth_date"),
        ({"kind": "document", "document_type": "CARNET", "document_number": "12345678Z"}, "document_type"),
        ({"kind": "email", "email": ""}, "email"),
        ({"kind": "telepathy"}, "kind"),
    ],
)
def test_malformed_search_input_is_shown_by_its_field(agent: service.Session, form: dict[str, str], field: str) -> None:
    http = FakeHttp({})
    data = {"csrf": agent.csrf, "purpose": "CITA-1", **form}
    page = visit(make_app(FakeSessions({agent.id: agent}), http), "/desk/search", agent.id, "POST", data)
    assert page.status_code == 422 and http.asked == []
    assert f'id="{field}-error"' in page.get_data(as_text=True)


def test_opening_a_citizen_without_a_purpose_asks_for_it_and_reads_nothing(agent: service.Session) -> None:
    http = FakeHttp(_citizen_answers())
    page = visit(make_app(FakeSessions({agent.id: agent}), http), "/desk/citizens/c-1", agent.id)
    assert page.status_code == 428 and 'id="purpose-form"' in page.get_data(as_text=True)
    assert http.asked == []


def test_the_purpose_stated_opens_the_360_view_and_goes_with_every_read(agent: service.Session) -> None:
    sessions, http = FakeSessions({agent.id: agent}), FakeHttp(_citizen_answers(refuse=("/notifications",)))
    app = make_app(sessions, http)
    bad = visit(app, "/desk/citizens/c-1/attend", agent.id, "POST", {"csrf": agent.csrf, "purpose": "<script>"})
    assert bad.status_code == 422 and sessions.rows[agent.id].purpose == ""
    stated = visit(app, "/desk/citizens/c-1/attend", agent.id, "POST", {"csrf": agent.csrf, "purpose": "CASE 9"})
    assert stated.status_code == 303 and stated.headers["Location"] == "/desk/citizens/c-1"
    text = whole_360(app, "c-1", agent.id)
    assert "Lucía" in text and "level 1 sees a summary" in text
    assert 'id="refused-notifications"' in text and "no /notifications for L1" in text
    reads = [
        (path, headers.get("Access-Purpose")) for _, path, headers in http.asked if path.startswith("/v1/citizens")
    ]
    assert {path for path, _ in reads} == {f"/v1/citizens/c-1{p}" for p in CITIZEN_PATHS}
    assert {purpose for _, purpose in reads} == {"CASE 9"}


SUMMARIES = {  # what a level 1 agent gets (the API's summary views), shapes taken from the running platform
    "": {"citizen_id": "c-1", "sources": {"/legacy/padron": 1}, "view": "summary"},
    "/consents": {"citizen_id": "c-1", "mode": "b", "granted": ["personalisation"], "view": "summary"},
    "/consents/history": {"citizen_id": "c-1", "proofs": 2, "latest": None, "view": "summary"},
    "/interactions": {"items": [{"id": "i-1", "channel": "phone", "area": "010", "outcome": "resolved",
                                 "started_at": "2026-12-01T10:00:00+00:00", "ended_at": None,
                                 "recorded_at": "2026-12-01T10:05:00+00:00"}], "next_cursor": None, "view": "summary"},
    "/notifications": {"items": [{"id": "n-1", "channel": None, "status": "not-allowed",
                                  "created_at": "2026-12-01T10:00:00+00:00", "updated_at": None}],
                       "next_cursor": None, "view": "summary"},
    "/debts": {"citizen_id": "c-1", "count": 1, "amount_due_cents": 10000, "next_date": "2026-12-20",
               "view": "summary"},
}  # fmt: skip


def test_a_level_1_agent_sees_the_summary_views_as_summaries(agent: service.Session) -> None:
    answers = _citizen_answers()
    answers.update({("GET", f"/v1/citizens/c-1{p}"): (200, body) for p, body in SUMMARIES.items()})
    answers[("GET", "/v1/consent-terms")] = (200, {"purposes": [{"purpose": "personalisation", "requires_consent":
                                                   True, "channel_scoped": False, "text_version": "2026-01"}],
                                                   "channels": ["email"]})  # fmt: skip
    sessions, http = FakeSessions({agent.id: agent}), FakeHttp(answers)
    app = make_app(sessions, http)
    visit(app, "/desk/citizens/c-1/attend", agent.id, "POST", {"csrf": agent.csrf, "purpose": "CASE 9"})
    text = whole_360(app, "c-1", agent.id)
    assert 'id="record-summary"' in text and "/legacy/padron: 1" in text
    assert 'id="consent-history-summary"' in text and 'id="paper-personalisation-state"' in text
    assert 'id="debts-summary"' in text and 'id="phone-pay-form"' not in text  # a summary: nothing to pay from


def test_the_purpose_of_one_citizen_does_not_open_another(agent: service.Session) -> None:
    sessions, http = FakeSessions({agent.id: agent}), FakeHttp(_citizen_answers())
    app = make_app(sessions, http)
    visit(app, "/desk/citizens/c-1/attend", agent.id, "POST", {"csrf": agent.csrf, "purpose": "CASE 9"})
    assert visit(app, "/desk/citizens/c-2", agent.id).status_code == 428
    ended = visit(app, "/desk/attention/end", agent.id, "POST", {"csrf": agent.csrf})
    assert ended.status_code == 303 and sessions.rows[agent.id].purpose == ""
    assert visit(app, "/desk/citizens/c-1", agent.id).status_code == 428
    assert [path for _, path, _ in http.asked] == []


def test_a_paper_consent_is_recorded_on_behalf_with_the_purpose(agent: service.Session) -> None:
    answers = _citizen_answers()
    answers[("PUT", "/v1/citizens/c-1/consents/personalisation")] = (200, {})
    sessions, http = FakeSessions({agent.id: agent}), FakeHttp(answers)
    app = make_app(sessions, http)
    visit(app, "/desk/citizens/c-1/attend", agent.id, "POST", {"csrf": agent.csrf, "purpose": "REG-2026-77"})
    form = {"csrf": agent.csrf, "action": "give", "text_version": "3", "language": "es"}
    done = visit(app, "/desk/citizens/c-1/consents/personalisation", agent.id, "POST", form)
    assert done.status_code == 303
    ((_, _, headers),) = [a for a in http.asked if a[0] == "PUT"]
    assert headers["Access-Purpose"] == "REG-2026-77"


def test_a_citizens_session_opens_no_desk_page_and_the_desk_home_says_so() -> None:
    citizen = signed_session()
    http = FakeHttp({})
    app = make_app(FakeSessions({citizen.id: citizen}), http)
    assert visit(app, "/desk/reviews", citizen.id).status_code == 403
    home = visit(app, "/desk/", citizen.id)
    assert home.status_code == 200 and 'id="wrong-role"' in home.get_data(as_text=True)
    assert http.asked == []


def test_an_agent_on_the_citizen_app_goes_to_the_desk(agent: service.Session) -> None:
    page = visit(make_app(FakeSessions({agent.id: agent}), FakeHttp({})), "/app/", agent.id)
    assert page.status_code == 303 and page.headers["Location"] == "/desk/"


FLAGS = {"revision": "r1", "flags": {"alerts": {"enabled": True, "districts": [], "percentage": 100, "version": 3,
                                                "title": {"es": "Alertas", "en": "Alerts"}}}}  # fmt: skip


@pytest.fixture
def admin() -> service.Session:
    return signed_session(service.Person("admin-1", "admin"), "/desk/")


def test_an_administrator_switches_a_micro_app_off_with_a_reason_and_the_version(admin: service.Session) -> None:
    http = FakeHttp({("GET", "/v1/flags"): (200, FLAGS), ("PUT", "/v1/flags/alerts"): (200, {})})
    app = make_app(FakeSessions({admin.id: admin}), http)
    assert visit(app, "/desk/", admin.id).headers["Location"] == "/desk/apps"
    listed = visit(app, "/desk/apps", admin.id)
    assert listed.status_code == 200 and 'id="app-form-alerts"' in listed.get_data(as_text=True)
    form = {"csrf": admin.csrf, "version": "3", "percentage": "100", "reason": "maintenance of the alerts service"}
    saved = visit(app, "/desk/apps/alerts", admin.id, "POST", form)  # "enabled" unticked: off
    assert saved.status_code == 303
    (put,) = [kwargs for method, path, kwargs in http.asked if method == "PUT"]
    assert put.get("Authorization") == "Bearer token-1"


@pytest.mark.parametrize(
    ("form", "field"), [({"reason": ""}, "reason"), ({"percentage": "150"}, "percentage"), ({"districts": "99"},
                                                                                            "districts")]
)  # fmt: skip
def test_a_malformed_flag_change_is_shown_by_its_field_and_sends_nothing(
    admin: service.Session, form: dict[str, str], field: str
) -> None:
    http = FakeHttp({("GET", "/v1/flags"): (200, FLAGS)})
    data = {"csrf": admin.csrf, "version": "3", "percentage": "100", "reason": "a reason", **form}
    page = visit(make_app(FakeSessions({admin.id: admin}), http), "/desk/apps/alerts", admin.id, "POST", data)
    assert page.status_code == 422 and f'id="{field}-alerts-error"' in page.get_data(as_text=True)
    assert [m for m, _, _ in http.asked] == ["GET"]


def test_a_change_made_meanwhile_is_a_conflict_on_the_form(admin: service.Session) -> None:
    answers = {("GET", "/v1/flags"): (200, FLAGS), ("PUT", "/v1/flags/alerts"): (409, {"title": "Conflict"})}
    data = {"csrf": admin.csrf, "version": "2", "percentage": "100", "reason": "switch off", "enabled": "on"}
    page = visit(make_app(FakeSessions({admin.id: admin}), FakeHttp(answers)), "/desk/apps/alerts", admin.id, "POST",
                 data)  # fmt: skip
    assert page.status_code == 409 and 'id="alerts-form-error"' in page.get_data(as_text=True)


def test_an_agent_opens_no_administrator_page(agent: service.Session) -> None:
    http = FakeHttp({})
    assert visit(make_app(FakeSessions({agent.id: agent}), http), "/desk/apps", agent.id).status_code == 403
    assert http.asked == []


def test_an_agent_who_sees_the_debts_pays_them_for_the_person_by_phone_with_the_purpose(
    agent: service.Session,
) -> None:
    # GIVEN the person's fine, shown in full to the agent attending them
    answers = _citizen_answers()
    payment = {"id": "pay-" + "b" * 32, "amount_cents": 10000, "method": "card",
               "redirect": {"url": "http://127.0.0.1:8080/dev/redsys/realizarPago",
                            "fields": {"Ds_SignatureVersion": "HMAC_SHA256_V1", "Ds_MerchantParameters": "e30=",
                                       "Ds_Signature": "c2ln"}}}  # fmt: skip
    answers[("POST", "/v1/payments")] = (201, payment)
    sessions, http = FakeSessions({agent.id: agent}), FakeHttp(answers)
    app = make_app(sessions, http)
    visit(app, "/desk/citizens/c-1/attend", agent.id, "POST", {"csrf": agent.csrf, "purpose": "CALL 31"})
    view = whole_360(app, "c-1", agent.id)
    assert 'id="phone-pay-fine-MUL-1"' in view and "termina el procedimiento" in view

    # WHEN the agent pays it by card
    form = {"csrf": agent.csrf, "debt": "fine-MUL-1", "method": "card", "key": "k-1"}
    sent = visit(app, "/desk/citizens/c-1/payments", agent.id, "POST", form)

    # THEN the API is asked with the purpose and the form's key, and the page goes on to the gateway's form
    (headers,) = [headers for method, path, headers in http.asked if path == "/v1/payments"]
    assert http.sent[-1] == ("/v1/payments", {"debt_ids": ["fine-MUL-1"], "method": "card"})
    assert headers["Access-Purpose"] == "CALL 31" and headers["Idempotency-Key"] == "k-1"
    page = sent.get_data(as_text=True)
    assert sent.status_code == 200 and 'id="gateway-form"' in page and "realizarPago" in page

    # AND nothing chosen is the panel again, saying what to do
    empty = visit(app, "/desk/citizens/c-1/payments", agent.id, "POST", {"csrf": agent.csrf, "method": "card"})
    assert empty.status_code == 422


def test_the_360_page_reads_the_record_and_the_position_and_asks_for_the_rest(agent: service.Session) -> None:
    sessions, http = FakeSessions({agent.id: agent}), FakeHttp(_citizen_answers())
    app = make_app(sessions, http)
    visit(app, "/desk/citizens/c-1/attend", agent.id, "POST", {"csrf": agent.csrf, "purpose": "CASE 9"})
    page = visit(app, "/desk/citizens/c-1", agent.id).get_data(as_text=True)
    assert {path for _, path, _ in http.asked} == {"/v1/citizens/c-1", "/v1/citizens/c-1/position"}
    assert page.count('hx-trigger="load"') == 9 and 'id="open-debts"' in page  # a link without JavaScript
    assert visit(app, "/desk/citizens/c-1/panels/../secrets", agent.id).status_code == 404
    fragment = visit(app, "/desk/citizens/c-1/panels/debts", agent.id, headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True)
