"""The data-subject request form shared by "My data" and the desk: each right's body, and each missing piece
named by its field before the API is asked."""

from __future__ import annotations

from typing import Any

import pytest

from functions.web import rights_form
from tests.unit.web.test_desk import AGENT, _citizen_answers
from tests.unit.web.web_fakes import FakeHttp, FakeSessions, make_app, signed_session, visit, whole_360

TERMS: dict[str, Any] = {
    "purposes": [
        {"purpose": name, "legal_obligation": obligation, "requires_consent": not obligation, "channel_scoped": True,
         "text_version": "2026-01"}
        for name, obligation in (("campaigns", False), ("service-notifications", True), ("surveys", False))
    ] + [{"purpose": "old-terms-without-the-flag", "requires_consent": True, "channel_scoped": False,
          "text_version": "2025-01"}],
    "channels": ["email"],
}  # fmt: skip
PURPOSES = rights_form.objectable(TERMS)


def t(key: str, **_: Any) -> str:
    return key


def test_only_purposes_that_rest_on_no_legal_obligation_may_be_objected_to() -> None:
    assert PURPOSES == ["campaigns", "surveys"]


@pytest.mark.parametrize(
    ("form", "objected", "body"),
    [
        ({"right": "access"}, [], {"right": "access"}),
        ({"right": "erasure", "note": "  me mudo "}, [], {"right": "erasure", "note": "me mudo"}),
        ({"right": "rectification", "field": "phone", "value": " 600123123 "}, [],
         {"right": "rectification", "fields": {"phone": "600123123"}}),
        ({"right": "restriction", "grounds": "accuracy-contested"}, [],
         {"right": "restriction", "grounds": "accuracy-contested"}),
        ({"right": "objection"}, ["campaigns", "surveys"],
         {"right": "objection", "purposes": ["campaigns", "surveys"]}),
    ],
)  # fmt: skip
def test_each_right_becomes_the_body_the_api_expects(form: dict[str, str], objected: list[str], body: Any) -> None:
    assert rights_form.request_body(form, t, PURPOSES, objected) == (body, {})


@pytest.mark.parametrize(
    ("form", "objected", "field"),
    [
        ({"right": "portability"}, [], "right"),
        ({}, [], "right"),
        ({"right": "rectification", "field": "phone"}, [], "value"),
        ({"right": "rectification", "field": "password", "value": "x"}, [], "value"),
        ({"right": "restriction"}, [], "grounds"),
        ({"right": "restriction", "grounds": "because"}, [], "grounds"),
        ({"right": "objection"}, [], "purposes"),
        ({"right": "objection"}, ["service-notifications"], "purposes"),
        ({"right": "objection"}, ["campaigns", "campaigns"], "purposes"),
    ],
)
def test_what_is_missing_is_named_by_its_field_and_nothing_is_built(
    form: dict[str, str], objected: list[str], field: str
) -> None:
    body, errors = rights_form.request_body(form, t, PURPOSES, objected)
    assert body is None and set(errors) == {field}


def test_the_desk_opens_an_objection_on_the_citizens_behalf_with_the_purpose_stated() -> None:
    agent = signed_session(AGENT, "/desk/")
    answers = _citizen_answers()
    answers[("GET", "/v1/consent-terms")] = (200, TERMS)
    answers[("POST", "/v1/citizens/c-1/rgpd-requests")] = (201, {"request_id": "r-1"})
    sessions, http = FakeSessions({agent.id: agent}), FakeHttp(answers)
    app = make_app(sessions, http)
    visit(app, "/desk/citizens/c-1/attend", agent.id, "POST", {"csrf": agent.csrf, "purpose": "CASE 9"})

    view = whole_360(app, "c-1", agent.id)
    assert 'id="object-campaigns"' in view and 'id="object-service-notifications"' not in view
    assert 'id="right-restriction"' in view and 'id="restriction-grounds"' in view

    none_ticked = visit(app, "/desk/citizens/c-1/rgpd-requests", agent.id, "POST",
                        {"csrf": agent.csrf, "right": "objection"})  # fmt: skip
    assert none_ticked.status_code == 422 and 'id="purposes-error"' in none_ticked.get_data(as_text=True)
    assert http.sent == []

    form = {"csrf": agent.csrf, "right": "objection", "purposes": ["campaigns"]}
    opened = visit(app, "/desk/citizens/c-1/rgpd-requests", agent.id, "POST", form)
    assert opened.status_code == 303 and opened.headers["Location"].endswith("#panel-rgpd")
    assert http.sent == [("/v1/citizens/c-1/rgpd-requests", {"right": "objection", "purposes": ["campaigns"]})]
    posted = [headers for method, path, headers in http.asked if method == "POST"]
    assert posted[-1]["Access-Purpose"] == "CASE 9"
