"""The desk's contacts screen (CCAAS) on fakes: the routing profile parsed and refused by its fields (nothing sent),
offers with their waits and what is left, a lost accept told in words on the page, the polled fragment silent
while nothing changed, a queue's day, and never a citizen's id."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from functions.web import contacts, service
from tests.unit.web.web_fakes import NOW, FakeHttp, FakeSessions, make_app, signed_session, visit

AGENT = service.Person("agent-7", "agent", 1, "atencion-ciudadania")
OFFERED = "ctc-" + "a" * 24
ACTIVE = "ctc-" + "b" * 24


@pytest.fixture
def agent() -> service.Session:
    return signed_session(AGENT, "/desk/")


def _contact(cid: str, state: str, **more: Any) -> dict[str, Any]:
    return {"id": cid, "channel": "chat", "queue": "padron-l1", "priority": 0, "state": state, "topic": "",
            "citizen_known": True, "queued_at": (NOW - timedelta(seconds=75)).isoformat(),
            "created_at": (NOW - timedelta(seconds=80)).isoformat(), **more}  # fmt: skip


def _answers(**more: tuple[int, Any]) -> dict[tuple[str, str], tuple[int, Any]]:
    mine = [
        _contact(OFFERED, "offered", offer_expires_at=(NOW + timedelta(seconds=50)).isoformat(), citizen_id="c-9"),
        _contact(ACTIVE, "active", channel="call", accepted_at=(NOW - timedelta(seconds=125)).isoformat()),
    ]
    profile = {"id": "agent-7", "level": 1, "area": "atencion-ciudadania", "presence": "online", "load": {},
               "skills": {"padron": 3}, "capacity": {"call": 1, "chat": 3}, "queues": ["padron-l1"]}  # fmt: skip
    answers = {
        ("GET", "/v1/routing/agents/me"): (200, profile),
        ("GET", "/v1/routing/agents/me/contacts"): (200, {"agent_id": "agent-7", "contacts": mine}),
    }
    answers.update({("POST", path): answer for path, answer in more.items()})
    return answers


def test_skills_are_skill_proficiency_pairs_from_1_to_5() -> None:
    assert contacts.parse_skills("padron:3, tributos:5") == ({"padron": 3, "tributos": 5}, False)
    assert contacts.parse_skills("") == ({}, False)
    for bad in ("padron:9", "padron", "Padrón:3", "padron:0", "a:1 b"):
        assert contacts.parse_skills(bad)[1], bad
    assert contacts.skills_text({"b": 2, "a": 5}) == "a:5 b:2"


def test_a_profile_form_becomes_the_apis_body_or_its_fields_errors() -> None:
    form = {"presence": "online", "capacity_call": "1", "capacity_chat": "4", "capacity_whatsapp": "0",
            "skills": "padron:3", "queues": "padron-l1, padron-l1 tributos-l2"}  # fmt: skip
    body, errors = contacts.parse_profile(form)
    assert errors == {}
    assert body == {"presence": "online", "capacity": {"call": 1, "chat": 4, "whatsapp": 0},
                    "skills": {"padron": 3}, "queues": ["padron-l1", "tributos-l2"]}  # fmt: skip
    _, errors = contacts.parse_profile({**form, "presence": "asleep", "capacity_chat": "99", "skills": "x:9",
                                        "queues": "no vale!"})  # fmt: skip
    assert set(errors) == {"presence", "capacity_chat", "skills", "queues"}


def test_offers_show_how_long_they_waited_and_what_is_left_oldest_first() -> None:
    rows = [_contact(OFFERED, "offered", offer_expires_at=(NOW + timedelta(seconds=50)).isoformat()),
            _contact(ACTIVE, "active", accepted_at=(NOW - timedelta(seconds=30)).isoformat()),
            _contact("ctc-" + "c" * 24, "ended")]  # fmt: skip
    offered, active = contacts.split_contacts(rows, NOW)
    assert [(c["id"], c["waited"], c["left"], c["until"]) for c in offered] == [(OFFERED, 75, 50, "16:00:50")]
    assert [(c["id"], c["handling"]) for c in active] == [(ACTIVE, 30)]
    assert contacts.minutes_seconds(125.4) == (2, 5) and contacts.minutes_seconds(None) is None
    assert contacts.seconds_until((NOW - timedelta(seconds=5)).isoformat(), NOW) == 0


def test_the_desk_page_lists_offers_and_attended_contacts_without_the_citizens_id(agent: service.Session) -> None:
    app = make_app(FakeSessions({agent.id: agent}), FakeHttp(_answers()))
    page = visit(app, "/desk/contacts", agent.id)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'id="accept-{OFFERED}"' in text and f'id="end-{ACTIVE}"' in text and "c-9" not in text
    assert 'aria-live="polite"' in text and f"seen={OFFERED}" in text
    assert 'value="padron:3"' in text and 'id="nav-contacts"' in text


def test_the_polled_offers_are_silent_while_unchanged_and_tell_a_new_one(agent: service.Session) -> None:
    app = make_app(FakeSessions({agent.id: agent}), FakeHttp(_answers()))
    hx = {"HX-Request": "true"}
    assert visit(app, f"/desk/contacts/offers?seen={OFFERED}", agent.id, headers=hx).status_code == 204
    fresh = visit(app, "/desk/contacts/offers?seen=", agent.id, headers=hx)
    text = fresh.get_data(as_text=True)
    assert fresh.status_code == 200 and 'hx-swap-oob="innerHTML"' in text and "Nuevo contacto ofrecido" in text
    assert visit(app, "/desk/contacts/offers", agent.id).status_code == 303  # without htmx: the page itself


def test_a_lost_accept_is_told_in_words_on_the_page(agent: service.Session) -> None:
    taken = (409, {"type": "/problems/contact-taken", "title": "Another agent has this contact"})
    http = FakeHttp(_answers(**{f"/v1/contacts/{OFFERED}/accept": taken}))
    app = make_app(FakeSessions({agent.id: agent}), http)
    page = visit(app, f"/desk/contacts/{OFFERED}/accept", agent.id, "POST", {"csrf": agent.csrf})
    assert page.status_code == 409
    assert 'id="refusal"' in page.get_data(as_text=True) and "Otra persona ya atiende" in page.get_data(as_text=True)


def test_an_invalid_profile_is_refused_at_its_field_and_nothing_is_sent(agent: service.Session) -> None:
    http = FakeHttp(_answers())
    app = make_app(FakeSessions({agent.id: agent}), http)
    form = {"csrf": agent.csrf, "presence": "online", "capacity_call": "1", "capacity_chat": "3",
            "capacity_whatsapp": "0", "skills": "padron:9", "queues": "padron-l1"}  # fmt: skip
    page = visit(app, "/desk/contacts/profile", agent.id, "POST", form)
    assert page.status_code == 422 and 'id="skills-error"' in page.get_data(as_text=True)
    assert 'value="padron:9"' in page.get_data(as_text=True)  # what they wrote, to correct it
    assert not any(method == "PUT" for method, _, _ in http.asked)


def test_ending_needs_a_topic(agent: service.Session) -> None:
    http = FakeHttp(_answers(**{f"/v1/contacts/{ACTIVE}/end": (200, {})}))
    app = make_app(FakeSessions({agent.id: agent}), http)
    page = visit(app, f"/desk/contacts/{ACTIVE}/end", agent.id, "POST", {"csrf": agent.csrf, "topic": " "})
    assert page.status_code == 422 and f'id="topic-{ACTIVE}-error"' in page.get_data(as_text=True)
    done = visit(app, f"/desk/contacts/{ACTIVE}/end", agent.id, "POST", {"csrf": agent.csrf, "topic": "Padrón"})
    assert done.status_code == 303 and done.headers["Location"] == "/desk/contacts?done=ended"
    assert http.sent[-1] == (f"/v1/contacts/{ACTIVE}/end", {"outcome": "resolved", "topic": "Padrón"})


def test_a_queues_day_is_a_table_and_a_bad_day_is_refused_at_its_field(agent: service.Session) -> None:
    day = {"queue": "padron-l1", "date": "2026-12-04", "offered": 3, "answered": 2, "abandoned": 1, "timed_out": 1,
           "wait_p50_seconds": 12.0, "wait_p90_seconds": 65.0, "mean_handling_seconds": 200.5,
           "service_level_seconds": 20, "service_level": 0.6667}  # fmt: skip
    http = FakeHttp({("GET", "/v1/routing/stats"): (200, day)})
    app = make_app(FakeSessions({agent.id: agent}), http)
    text = visit(app, "/desk/contacts/stats?queue=padron-l1&date=2026-12-04", agent.id).get_data(as_text=True)
    assert 'id="stats-table"' in text and "1 min 5 s" in text and "66.7 %" in text
    assert "stats.csv?queue=padron-l1" in text
    bad = visit(app, "/desk/contacts/stats?queue=padron-l1&date=2026-02-30", agent.id)
    assert bad.status_code == 422 and 'id="date-error"' in bad.get_data(as_text=True)


def test_an_offer_that_ended_unanswered_is_told_when_the_agent_was_set_away(agent: service.Session) -> None:
    answers = _answers()
    answers[("GET", "/v1/routing/agents/me")] = (
        200,
        {**answers[("GET", "/v1/routing/agents/me")][1], "presence": "away"},
    )
    answers[("GET", "/v1/routing/agents/me/contacts")] = (200, {"agent_id": "agent-7", "contacts": []})
    app = make_app(FakeSessions({agent.id: agent}), FakeHttp(answers))
    gone = visit(app, f"/desk/contacts/offers?seen={OFFERED}", agent.id, headers={"HX-Request": "true"})
    text = gone.get_data(as_text=True)
    assert gone.status_code == 200 and 'id="no-offers"' in text and "su presencia pasó a Ausente" in text
