"""The kernel's micro-app gate (``Route(app=...)`` in ``functions/core/http.py``): a citizen's call of a route
whose micro-app is off for them answers 404 ``micro-app-off`` before the body is read; an app that is on, and
the other channels (agents), go through. Flags are the catalogue's defaults (``pay`` off, ``inbox`` on)."""

from __future__ import annotations

import json
from typing import Any

import flask
import pytest
from pydantic import BaseModel

from functions.core import http
from functions.core.auth import Subject
from functions.core.http import HttpFunction, Reply, RequestContext, Route
from functions.core.policy import Decision

CITIZEN = Subject("c-gate", "citizen")
AGENT = Subject("ag-gate", "agent", 1, "atencion-ciudadania")


class Body(BaseModel):
    text: str


class AllowAll:
    def decide(self, package: str, input_: dict[str, Any]) -> Decision:
        return Decision(True, ["allowed in this test"])


class Fixed:
    def __init__(self, subject: Subject) -> None:
        self.subject = subject

    def verify(self, authorization: str | None) -> Subject:
        return self.subject


def handler(ctx: RequestContext, body: Body, citizen_id: str) -> Reply:
    return Reply(200, {"seen": body.text})


def call(monkeypatch: pytest.MonkeyPatch, subject: Subject, app: str, data: bytes) -> flask.Response:
    monkeypatch.setattr(http, "get_authenticator", lambda: Fixed(subject))
    route = Route(
        "/v1/citizens/<citizen_id>/things", "POST", handler, "a thing", request_model=Body, action="x", app=app
    )
    function = HttpFunction("pic-test", [route], policy=lambda: AllowAll())
    app_ = flask.Flask("gate")
    headers = {"Content-Type": "application/json", "Access-Purpose": "CITA-1"}
    with app_.test_request_context("/v1/citizens/c-gate/things", method="POST", data=data, headers=headers):
        return function(flask.request)


def test_a_citizen_calling_a_switched_off_app_gets_micro_app_off_before_the_body_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN cases, off by default, and a body that is not even JSON
    answer = call(monkeypatch, CITIZEN, "services", b"{not json")
    # THEN the problem names the app (not a 400 about the body: it was never read)
    problem = json.loads(answer.get_data())
    assert answer.status_code == 404 and problem["type"] == "/problems/micro-app-off" and problem["app"] == "services"


def test_an_app_that_is_on_goes_through(monkeypatch: pytest.MonkeyPatch) -> None:
    answer = call(monkeypatch, CITIZEN, "inbox", b'{"text": "hola"}')
    assert answer.status_code == 200 and json.loads(answer.get_data()) == {"seen": "hola"}


def test_an_agent_is_another_channel_and_not_switched(monkeypatch: pytest.MonkeyPatch) -> None:
    answer = call(monkeypatch, AGENT, "services", b'{"text": "desk"}')
    assert answer.status_code == 200
