"""The page kernel on fakes (no network, no DynamoDB): refusals become pages in the person's language, a
micro-app that is off is a 404, and every answer carries the security headers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import flask
import pytest
import requests

from functions.core.settings import get_settings
from functions.web import main, service
from functions.web.api import Api
from functions.web.bootstrap import WebPorts
from functions.web.oidc import OidcClient
from functions.web.web import WebFunction

NOW = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)


@dataclass
class FakeSessions:
    rows: dict[str, service.Session] = field(default_factory=dict)
    barriers: list[service.BarrierReport] = field(default_factory=list)

    def fetch(self, session_id: str) -> service.Session | None:
        return self.rows.get(session_id)

    def save(self, session: service.Session) -> None:
        self.rows[session.id] = session

    def delete(self, session_id: str) -> None:
        self.rows.pop(session_id, None)

    def save_barrier(self, report: service.BarrierReport) -> None:
        self.barriers.append(report)


class FakeHttp(requests.Session):
    """The API host: answers by (method, path), records what was asked."""

    def __init__(self, answers: dict[tuple[str, str], tuple[int, Any]]) -> None:
        super().__init__()
        self.answers = answers
        self.asked: list[tuple[str, str, dict[str, str]]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        path = "/" + url.split("/", 3)[3]
        self.asked.append((method, path, dict(kwargs.get("headers") or {})))
        status, body = self.answers.get((method, path), (404, {"title": "No such resource"}))
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(body).encode()
        return response


@dataclass
class FixedClock:
    at: datetime

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def signed() -> service.Session:
    started = service.pending(NOW, "es", "/app/")
    return service.signed_in(started, "c-1", "citizen", "token-1", NOW + timedelta(hours=1), NOW, 8)


def _app(sessions: FakeSessions, http: FakeHttp, at: datetime = NOW) -> WebFunction:
    settings = get_settings()
    ports = WebPorts(sessions, Api("http://api.invalid", http), OidcClient(settings, http), FixedClock(at), settings)
    return WebFunction(main.PAGES, lambda: ports, main.session_cookie)


def _get(
    app: WebFunction, path: str, cookie: str | None = None, method: str = "GET", data: Any = None
) -> flask.Response:
    flask_app = flask.Flask("t")
    headers = {"Cookie": f"pic_session={cookie}"} if cookie else {}
    with flask_app.test_request_context(path, method=method, headers=headers, data=data):
        return app(flask.request)


def test_the_apis_refusal_is_a_page_in_the_persons_language_without_the_apis_detail(signed: service.Session) -> None:
    sessions = FakeSessions({signed.id: signed})
    http = FakeHttp({("GET", "/v1/rgpd-requests/r-9"): (403, {"title": "Forbidden", "detail": "not c-other's"})})
    page = _get(_app(sessions, http), "/app/my-data/requests/r-9", signed.id)
    assert page.status_code == 403
    text = page.get_data(as_text=True)
    assert "No tiene permiso" in text and "c-other" not in text
    # AND the API was asked with the person's token and a trace
    (_, path, headers), *_ = http.asked
    assert path == "/v1/rgpd-requests/r-9"
    assert headers["Authorization"] == "Bearer token-1" and headers["traceparent"].startswith("00-")


def test_an_ended_session_is_the_sign_in_page(signed: service.Session) -> None:
    app = _app(FakeSessions({signed.id: signed}), FakeHttp({}), at=NOW + timedelta(hours=2))
    page = _get(app, "/app/inbox", signed.id)
    assert page.status_code == 401 and 'id="signin"' in page.get_data(as_text=True)


def test_a_micro_app_that_is_off_is_a_404_and_leaves_the_navigation(
    signed: service.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("functions.web.apps.flags.enabled", lambda app, context: app in ("position", "consents"))
    http = FakeHttp({("GET", "/v1/citizens/c-1/inbox"): (200, {"unread": 0, "messages": []})})
    app = _app(FakeSessions({signed.id: signed}), http)
    assert _get(app, "/app/inbox", signed.id).status_code == 404
    assert http.asked == []  # nothing read for a page that is off


def test_a_csrf_refusal_writes_nothing(signed: service.Session) -> None:
    http = FakeHttp({})
    page = _get(_app(FakeSessions({signed.id: signed}), http), "/app/alerts", signed.id, "POST", {"topic": "t"})
    assert page.status_code == 403 and http.asked == []
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert page.headers["Cache-Control"] == "no-store"


def test_a_barrier_report_needs_its_forms_token_and_is_kept() -> None:
    sessions = FakeSessions()
    app = _app(sessions, FakeHttp({}))
    form = _get(app, "/app/accessibility/barrier")
    (anonymous,) = sessions.rows.values()
    assert anonymous.csrf in form.get_data(as_text=True) and not anonymous.signed_in
    data = {"csrf": anonymous.csrf, "description": "The map has no text alternative", "page": "/app/alerts"}
    sent = _get(app, "/app/accessibility/barrier", anonymous.id, "POST", data)
    assert sent.status_code == 303 and [b.description for b in sessions.barriers] == [data["description"]]
    short = _get(app, "/app/accessibility/barrier", anonymous.id, "POST", {**data, "description": "x"})
    assert short.status_code == 422 and 'aria-describedby="description-error"' in short.get_data(as_text=True)
