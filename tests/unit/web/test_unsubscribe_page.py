"""The unsubscribe page of a campaign or survey link (issue 16) on fakes: opening it only reads what the link is
for (a mail scanner unsubscribes nobody) and asks no sign-in; its button (with the form's CSRF token) is the one
POST to NOT; a link NOT does not know, or an expired one, is said so."""

from __future__ import annotations

from tests.unit.web.web_fakes import FakeHttp, FakeSessions, make_app, visit

LINK = "/v1/unsubscribe/tok-1"
WHAT = {"purpose": "campaigns", "channel": "email", "unsubscribed": False}


def test_opening_the_link_reads_and_the_button_unsubscribes_without_signing_in() -> None:
    sessions = FakeSessions()
    http = FakeHttp({("GET", LINK): (200, WHAT), ("POST", LINK): (200, {**WHAT, "unsubscribed": True})})
    app = make_app(sessions, http)
    page = visit(app, "/app/unsubscribe/tok-1")
    (anonymous,) = sessions.rows.values()
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="unsubscribe-confirm"' in text and anonymous.csrf in text
    assert [(m, p) for m, p, _ in http.asked] == [("GET", LINK)]  # reading changed nothing
    assert "Authorization" not in http.asked[0][2]  # as nobody: the signed link is the authority
    done = visit(app, "/app/unsubscribe/tok-1", anonymous.id, "POST", {"csrf": anonymous.csrf})
    assert done.status_code == 200 and 'id="unsubscribe-done"' in done.get_data(as_text=True)
    assert [(m, p) for m, p, _ in http.asked][-1] == ("POST", LINK)


def test_the_button_without_the_forms_token_unsubscribes_nobody() -> None:
    sessions = FakeSessions()
    http = FakeHttp({("GET", LINK): (200, WHAT)})
    app = make_app(sessions, http)
    visit(app, "/app/unsubscribe/tok-1")
    (anonymous,) = sessions.rows.values()
    refused = visit(app, "/app/unsubscribe/tok-1", anonymous.id, "POST", {"csrf": "forged"})
    assert refused.status_code == 403 and all(m == "GET" for m, _, _ in http.asked)


def test_a_bad_or_expired_link_is_said_so() -> None:
    http = FakeHttp({("GET", "/v1/unsubscribe/old"): (410, {"title": "This link has expired"})})
    app = make_app(FakeSessions(), http)
    bad = visit(app, "/app/unsubscribe/nope")
    assert bad.status_code == 404 and 'id="unsubscribe-invalid"' in bad.get_data(as_text=True)
    old = visit(app, "/app/unsubscribe/old")
    assert old.status_code == 410 and 'id="unsubscribe-expired"' in old.get_data(as_text=True)
