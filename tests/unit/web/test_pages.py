"""The page kernel on fakes (no network, no DynamoDB): refusals become pages in the person's language, a
micro-app that is off is a 404, and every answer carries the security headers."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from functions.web import service
from tests.unit.web.web_fakes import NOW, FakeHttp, FakeSessions, make_app, signed_session, visit


@pytest.fixture
def signed() -> service.Session:
    return signed_session()


def test_the_apis_refusal_is_a_page_in_the_persons_language_without_the_apis_detail(signed: service.Session) -> None:
    sessions = FakeSessions({signed.id: signed})
    http = FakeHttp({("GET", "/v1/rgpd-requests/r-9"): (403, {"title": "Forbidden", "detail": "not c-other's"})})
    page = visit(make_app(sessions, http), "/app/my-data/requests/r-9", signed.id)
    assert page.status_code == 403
    text = page.get_data(as_text=True)
    assert "No tiene permiso" in text and "c-other" not in text
    # AND the API was asked with the person's token and a trace
    (_, path, headers), *_ = http.asked
    assert path == "/v1/rgpd-requests/r-9"
    assert headers["Authorization"] == "Bearer token-1" and headers["traceparent"].startswith("00-")


def test_an_ended_session_is_the_sign_in_page(signed: service.Session) -> None:
    app = make_app(FakeSessions({signed.id: signed}), FakeHttp({}), at=NOW + timedelta(hours=2))
    page = visit(app, "/app/inbox", signed.id)
    assert page.status_code == 401 and 'id="signin"' in page.get_data(as_text=True)


def test_a_micro_app_that_is_off_is_a_404_and_leaves_the_navigation(
    signed: service.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("functions.web.apps.flags.enabled", lambda app, context: app in ("position", "consents"))
    http = FakeHttp({("GET", "/v1/citizens/c-1/inbox"): (200, {"unread": 0, "messages": []})})
    app = make_app(FakeSessions({signed.id: signed}), http)
    assert visit(app, "/app/inbox", signed.id).status_code == 404
    assert http.asked == []  # nothing read for a page that is off


def test_a_csrf_refusal_writes_nothing(signed: service.Session) -> None:
    http = FakeHttp({})
    page = visit(make_app(FakeSessions({signed.id: signed}), http), "/app/alerts", signed.id, "POST", {"topic": "t"})
    assert page.status_code == 403 and http.asked == []
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert page.headers["Cache-Control"] == "no-store"


def test_a_barrier_report_needs_its_forms_token_and_is_kept() -> None:
    sessions = FakeSessions()
    app = make_app(sessions, FakeHttp({}))
    form = visit(app, "/app/accessibility/barrier")
    (anonymous,) = sessions.rows.values()
    assert anonymous.csrf in form.get_data(as_text=True) and not anonymous.signed_in
    data = {"csrf": anonymous.csrf, "description": "The map has no text alternative", "page": "/app/alerts"}
    sent = visit(app, "/app/accessibility/barrier", anonymous.id, "POST", data)
    assert sent.status_code == 303 and [b.description for b in sessions.barriers] == [data["description"]]
    short = visit(app, "/app/accessibility/barrier", anonymous.id, "POST", {**data, "description": "x"})
    assert short.status_code == 422 and 'aria-describedby="description-error"' in short.get_data(as_text=True)


def test_a_district_rule_is_applied_with_the_district_the_session_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str | None] = []

    def alerts_in_retiro(app: str, context: object) -> bool:
        district = getattr(context, "district", None)
        seen.append(district)
        return app != "alerts" or district in (None, "03")

    monkeypatch.setattr("functions.web.apps.flags.enabled", alerts_in_retiro)
    http = FakeHttp({("GET", "/v1/citizens/c-1/subscriptions"): (200, {"subscriptions": []}),
                     ("GET", "/v1/consent-terms"): (200, {"topics": [], "purposes": [], "channels": []})})  # fmt: skip
    for district, shown in (("03", True), ("01", False), ("", True)):
        session = replace(signed_session(), district=district)
        app = make_app(FakeSessions({session.id: session}), http)
        assert ('id="nav-alerts"' in visit(app, "/app/accessibility", session.id).get_data(as_text=True)) is shown
        assert (visit(app, "/app/alerts", session.id).status_code != 404) is shown
    assert {"03", "01", None} <= set(seen)
