"""Fakes of the web function's ports (sessions, the API host, the clock) and a request driver: the page
kernel, the citizen app and the desk run on them without a network or DynamoDB."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import flask
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
        self.sent: list[tuple[str, Any]] = []  # (path, JSON body) of every call that sent one

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        path = "/" + url.split("/", 3)[3]
        self.asked.append((method, path, dict(kwargs.get("headers") or {})))
        if kwargs.get("json") is not None:
            self.sent.append((path, kwargs["json"]))
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


def signed_session(person: service.Person | None = None, return_to: str = "/app/") -> service.Session:
    started = service.pending(NOW, "es", return_to)
    return service.signed_in(
        started, person or service.Person("c-1", "citizen"), "token-1", NOW + timedelta(hours=1), NOW, 8
    )


def make_app(sessions: FakeSessions, http: FakeHttp, at: datetime = NOW) -> WebFunction:
    settings = get_settings()
    ports = WebPorts(sessions, Api("http://api.invalid", http), OidcClient(settings, http), FixedClock(at), settings)
    return WebFunction(main.PAGES, lambda: ports, main.session_cookie)


def visit(
    app: WebFunction,
    path: str,
    cookie: str | None = None,
    method: str = "GET",
    data: Any = None,
    headers: dict[str, str] | None = None,
) -> flask.Response:
    flask_app = flask.Flask("t")
    headers = {**(headers or {}), **({"Cookie": f"pic_session={cookie}"} if cookie else {})}
    with flask_app.test_request_context(path, method=method, headers=headers, data=data):
        return app(flask.request)


def whole_360(app: WebFunction, citizen_id: str, cookie: str) -> str:
    """The desk's 360 view as the browser ends up showing it: the page, then each later panel's fragment."""
    from functions.web.desk import LATER

    parts = [visit(app, f"/desk/citizens/{citizen_id}", cookie)]
    parts += [visit(app, f"/desk/citizens/{citizen_id}/panels/{name}", cookie) for name in LATER]
    assert all(part.status_code == 200 for part in parts), [part.status_code for part in parts]
    return "\n".join(part.get_data(as_text=True) for part in parts)
