"""Surveys' use cases (``functions.survey.handlers``) on an in-memory store: a survey validated as a whole, its
conditional questions, one response per citizen or link under concurrency, anonymous answers apart from who
answered, NPS and CSAT by hand, invitations once per cause, the delayed ones released, and the RGPD answer."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events.case import CaseUpdated
from events.notification import NotificationAccepted, NotificationBatchRequested
from events.rgpd import RgpdRequestOpened
from events.survey import SurveyAnswered
from functions.core import signed_links
from functions.core.errors import LostRaceError
from functions.core.policy import EmbeddedPolicy
from functions.core.retry import retry_on_conflict
from functions.core.store import Staged
from functions.survey import handlers, results, service
from functions.survey.handlers import SurveyPorts
from functions.survey.service import SurveyInput
from tests.unit.fakes import FixedClock, event_models, events_in
from tests.unit.survey.fakes import FakeSurveyStore

NOW = datetime(2026, 12, 14, 9, tzinfo=UTC)


def text(es: str, en: str | None = None) -> dict[str, str]:
    return {"es": es, "en": en or es}


def csat_definition(mode: str = "identified", **extra: Any) -> dict[str, Any]:
    return {
        "title": text("¿Qué tal le atendimos?", "How did we do?"),
        "mode": mode,
        "questions": [
            {"id": "csat", "kind": "scale", "min": 1, "max": 5, "text": text("Satisfacción", "Satisfaction"),
             "min_label": text("Nada", "Not at all"), "max_label": text("Mucho", "Very")},
            {"id": "why", "kind": "text", "text": text("¿Qué falló?", "What went wrong?"), "max_length": 200,
             "show_if": {"question": "csat", "one_of": [1, 2]}},
            {"id": "nps", "kind": "nps", "text": text("¿Nos recomendaría?", "Would you recommend us?"),
             "required": False},
        ],
        **extra,
    }  # fmt: skip


@pytest.fixture
def ports(policy: EmbeddedPolicy) -> SurveyPorts:
    return SurveyPorts(store=FakeSurveyStore(), policy=policy, clock=FixedClock(NOW), api_url="https://pic.test")


def store(ports: SurveyPorts) -> FakeSurveyStore:
    assert isinstance(ports.store, FakeSurveyStore)
    return ports.store


def done(staged: Staged[Any], ports: SurveyPorts) -> Any:
    store(ports).commit(staged.unit)
    return staged.result


def open_survey(ports: SurveyPorts, survey_id: str = "csat-casos", **kw: Any) -> service.Survey:
    definition = SurveyInput.model_validate(csat_definition(**kw))
    survey = done(handlers.create(survey_id, definition, "agent:a1", ports), ports)
    return done(handlers.open_survey(survey_id, survey.revision, ports), ports)  # type: ignore[no-any-return]


def token(survey_id: str, citizen: str | None = "c-0001", nonce: str = "nonce-1", **claims: Any) -> str:
    return signed_links.sign("survey", {"s": survey_id, "c": citizen, "n": nonce, "d": None, "cmp": None, **claims})


def answer(ports: SurveyPorts, answers: dict[str, Any], tok: str | None = None, revision: int | None = None,
           signed_in: str | None = None, survey_id: str = "csat-casos") -> Staged[service.Answered]:  # fmt: skip
    cmd = handlers.Respond(survey_id, tok, signed_in, answers, revision, "email")
    return handlers.respond(cmd, ports, None)


# ---- the definition, validated as a whole -----------------------------------------------------------------------


def test_a_survey_with_several_errors_is_refused_naming_each() -> None:
    # GIVEN a survey with a repeated id, a scale upside down, a choice question without choices, a condition on a
    # later question, a condition on itself and one on an unknown question
    bad = {
        "title": text("Mala"),
        "questions": [
            {"id": "a", "kind": "scale", "min": 5, "max": 1, "text": text("A")},
            {"id": "b", "kind": "single", "text": text("B"), "choices": [{"id": "x", "label": text("X")}]},
            {"id": "c", "kind": "text", "text": text("C"), "show_if": {"question": "d", "equals": "x"}},
            {"id": "d", "kind": "single", "text": text("D"), "show_if": {"question": "d", "equals": "y"},
             "choices": [{"id": "x", "label": text("X")}, {"id": "y", "label": text("Y")}]},
            {"id": "e", "kind": "nps", "text": text("E"), "show_if": {"question": "zzz", "at_least": 3}},
            {"id": "a", "kind": "nps", "text": text("A2")},
            {"id": "f", "kind": "text", "text": text("F"), "show_if": {"question": "b", "equals": "nope"}},
        ],
    }  # fmt: skip
    # WHEN it is validated
    with pytest.raises(service.SurveyInvalidError) as raised:
        service.validate(SurveyInput.model_validate(bad))
    # THEN every error is named, where it is
    errors = {(e["field"], e["message"].split(":")[0]) for e in raised.value.errors or []}
    fields = {f for f, _ in errors}
    assert fields == {
        "questions[0].max", "questions[1].choices", "questions[2].show_if", "questions[3].show_if",
        "questions[4].show_if", "questions[5].id", "questions[6].show_if",
    }  # fmt: skip
    messages = " ".join(e["message"] for e in raised.value.errors or [])
    assert "min 5 must be below max 1" in messages and "cycle" in messages and "'zzz'" in messages
    assert "used twice" in messages and "'nope'" in messages


def test_a_draft_is_versioned_and_fixed_once_open(ports: SurveyPorts) -> None:
    # GIVEN a draft
    definition = SurveyInput.model_validate(csat_definition())
    survey = done(handlers.create("csat-casos", definition, "agent:a1", ports), ports)
    assert (survey.state, survey.version) == ("draft", 1)
    # WHEN it is edited twice, the second with a stale revision
    survey = done(handlers.edit("csat-casos", definition, survey.revision, ports), ports)
    assert survey.version == 2
    with pytest.raises(service.SurveyChangedError):
        handlers.edit("csat-casos", definition, survey.revision - 1, ports)
    # AND it is opened: its questions are fixed
    survey = done(handlers.open_survey("csat-casos", survey.revision, ports), ports)
    with pytest.raises(service.SurveyStateError):
        handlers.edit("csat-casos", definition, survey.revision, ports)
    # AND the same id again is refused
    with pytest.raises(service.SurveyExistsError):
        handlers.create("csat-casos", definition, "agent:a1", ports)


def test_two_editors_opening_at_once_one_wins(ports: SurveyPorts) -> None:
    definition = SurveyInput.model_validate(csat_definition())
    survey = done(handlers.create("csat-casos", definition, "agent:a1", ports), ports)
    first = handlers.edit("csat-casos", definition, survey.revision, ports)
    second = handlers.open_survey("csat-casos", survey.revision, ports)
    done(first, ports)
    with pytest.raises(LostRaceError):
        store(ports).commit(second.unit)


# ---- answering: conditions, one response, concurrency --------------------------------------------------------


def test_a_condition_shows_a_question_and_hidden_or_missing_answers_are_named(ports: SurveyPorts) -> None:
    survey = open_survey(ports)
    # GIVEN a low score: the "why" question is shown
    shown = [q.id for q in service.visible(survey.definition, {"csat": 2})]
    assert shown == ["csat", "why", "nps"]
    assert [q.id for q in service.visible(survey.definition, {"csat": 4})] == ["csat", "nps"]
    tok = token(survey.id)
    # WHEN a high score answers the hidden question, or the scale is missed, or a low score leaves "why" out
    for answers, field, words in (
        ({"csat": 5, "why": "nada"}, "answers.why", "not shown"),
        ({"csat": 6}, "answers.csat", "from 1 to 5"),
        ({"csat": 1}, "answers.why", "required"),
        ({"csat": 3, "nps": 11}, "answers.nps", "from 0 to 10"),
        ({"csat": 3, "extra": 1}, "answers.extra", "no question"),
    ):
        with pytest.raises(service.AnswerInvalidError) as raised:
            answer(ports, answers, tok)
        # THEN a 422 names the question
        (error,) = raised.value.errors or []
        assert error["field"] == field and words in error["message"]


def test_one_response_per_citizen_then_edits_until_close(ports: SurveyPorts) -> None:
    survey = open_survey(ports)
    tok = token(survey.id)
    # WHEN the citizen answers from the link
    staged = answer(ports, {"csat": 2, "why": "  la espera  "}, tok)
    (event,) = event_models(staged.unit)
    first = done(staged, ports)
    # THEN a new response, announced as the first
    assert first.first and first.response.answers == {"csat": 2, "why": "la espera"}
    assert isinstance(event, SurveyAnswered) and event.first and event.citizen_id == "c-0001"
    # AND a second *new* response is refused, signed in as the same person too
    with pytest.raises(service.ResponseExistsError):
        answer(ports, {"csat": 4}, tok)
    with pytest.raises(service.ResponseExistsError):
        answer(ports, {"csat": 4}, None, signed_in="c-0001")
    # AND an edit with the revision read is taken (first=False), a stale one refused
    edited = done(answer(ports, {"csat": 4}, tok, revision=1), ports)
    assert not edited.first and edited.response.revision == 2 and edited.response.answers == {"csat": 4}
    with pytest.raises(service.ResponseChangedError):
        answer(ports, {"csat": 5}, tok, revision=1)
    # AND after the close nothing is taken
    survey = store(ports).surveys[survey.id]
    done(handlers.close_survey(survey.id, survey.revision, None, ports), ports)
    with pytest.raises(service.SurveyClosedError):
        answer(ports, {"csat": 5}, tok, revision=2)


def test_two_new_answers_at_once_one_is_written_and_the_other_refused(ports: SurveyPorts) -> None:
    survey = open_survey(ports)
    tok = token(survey.id)
    # GIVEN two PUTs that both read "no response yet"
    a = answer(ports, {"csat": 5}, tok)
    b = answer(ports, {"csat": 1, "why": "todo"}, tok)
    # WHEN both commit
    done(a, ports)
    with pytest.raises(LostRaceError):
        store(ports).commit(b.unit)

    # THEN the loser, decided again (the kernel's retry), is refused as a second new response: never two
    def again() -> Any:
        return done(answer(ports, {"csat": 1, "why": "todo"}, tok), ports)

    with pytest.raises(service.ResponseExistsError):
        retry_on_conflict(again, what="answer")
    assert [r.answers for r in store(ports).responses.values()] == [{"csat": 5}]


def test_links_of_another_survey_or_changed_are_refused(ports: SurveyPorts) -> None:
    survey = open_survey(ports)
    with pytest.raises(service.NotInvitedError):
        answer(ports, {"csat": 3}, token("otra-encuesta"))
    with pytest.raises(signed_links.LinkInvalidError):
        answer(ports, {"csat": 3}, token(survey.id) + "x")
    with pytest.raises(service.NotInvitedError):  # identified: neither a link nor a signed-in citizen
        answer(ports, {"csat": 3})
    with pytest.raises(service.NotInvitedError):  # identified: someone else's link, signed in as another citizen
        answer(ports, {"csat": 3}, token(survey.id, "c-0001"), signed_in="c-0002")


def test_an_anonymous_answer_is_stored_without_the_citizen_and_apart_from_who_answered(ports: SurveyPorts) -> None:
    survey = open_survey(ports, mode="anonymous")
    # WHEN two people answer from their links, one edits
    done(answer(ports, {"csat": 2, "why": "la cola"}, token(survey.id, "c-0001", "n-aaa")), ports)
    staged = answer(ports, {"csat": 5}, token(survey.id, "c-0002", "n-bbb"))
    (event,) = event_models(staged.unit)
    done(staged, ports)
    done(answer(ports, {"csat": 3}, token(survey.id, "c-0001", "n-aaa"), revision=1), ports)
    # THEN no stored answer holds a citizen id, a time or anything derived from the person
    items = store(ports).items()
    answers = [i for i in items if i["id"].startswith("resp#")]
    assert len(answers) == 2
    dumped = json.dumps(answers, default=str)
    assert "c-0001" not in dumped and "c-0002" not in dumped
    assert all(i["citizen_id"] is None and i["answered_at"] is None for i in answers)
    # AND who answered is kept apart, with no key of the answer
    markers = [i for i in items if i["id"].startswith("mark#")]
    assert sorted(m["citizen_id"] for m in markers) == ["c-0001", "c-0002"]
    response_keys = {i["id"].rsplit("#", 1)[1] for i in answers}
    assert not any(key in m["id"] for m in markers for key in response_keys)
    # AND the event names no citizen; its response id is the nonce's hash
    assert isinstance(event, SurveyAnswered) and event.citizen_id is None and event.response_id.startswith("a-")
    # AND an anonymous survey is answered only from a link
    with pytest.raises(service.NotInvitedError):
        answer(ports, {"csat": 3}, None, signed_in="c-0003")


# ---- results ------------------------------------------------------------------------------------------------------


def test_nps_and_csat_by_hand() -> None:
    # 10 NPS answers: promoters 9, 10, 10, 9 (4); passives 7, 8 (2); detractors 0, 5, 6, 6 (4) -> 40 % - 40 % = 0
    assert results.nps([9, 10, 10, 9, 7, 8, 0, 5, 6, 6]) == 0.0
    # 3 promoters, 1 detractor of 5 -> 60 - 20 = 40
    assert results.nps([10, 9, 9, 8, 3]) == 40.0
    assert results.nps([]) is None
    # CSAT: 4 and 5 of a 1-5 scale: 3 of 4 -> 75 %
    assert results.csat([5, 4, 4, 2]) == 75.0


def test_results_count_rate_means_and_suppress_small_anonymous_groups(ports: SurveyPorts) -> None:
    survey = open_survey(ports, mode="anonymous")
    store(ports).invited[survey.id] = 8
    scores = [(5, 10, "01"), (4, 9, "01"), (4, 6, "01"), (5, 10, "01"), (2, 3, "01"), (5, 8, "02")]
    for i, (csat, nps, district) in enumerate(scores):
        answers: dict[str, Any] = {"csat": csat, "nps": nps, **({"why": f"texto {i}"} if csat <= 2 else {})}
        done(answer(ports, answers, token(survey.id, f"c-{i}", f"n-{i}", d=district)), ports)
    found = handlers.results(survey.id, "en", ports)
    assert (found["invited"], found["responded"], found["response_rate"]) == (8, 6, 75.0)
    csat_q, why_q, nps_q = found["questions"]
    # CSAT: 5 of 6 are 4-5 -> 83.3 %; mean 25/6
    assert csat_q["csat"] == 83.3 and csat_q["mean"] == 4.17 and csat_q["median"] == 4.5
    # NPS: promoters 10, 9, 10 (3), detractors 6, 3 (2) of 6 -> 16.7
    assert nps_q["nps"] == 16.7 and found["headline"] == {"measure": "nps", "question": "nps", "value": 16.7}
    assert why_q["answers"] == ["texto 4"]
    # district 02 has 1 respondent: not shown in an anonymous survey
    assert [r["district"] for r in found["by_district"]["rows"]] == ["01"]
    assert found["by_district"]["suppressed"] == 1 and "fewer than 5" in found["by_district"]["note"]
    assert results.as_csv(found).startswith("question,kind,value,count")
    assert results.plot(found, "png", "en")[:8] == b"\x89PNG\r\n\x1a\n"


# ---- invitations -------------------------------------------------------------------------------------------------


def case_closed(case_id: str = "case-" + "a" * 24, citizen: str = "c-0001", area: str = "hacienda") -> CaseUpdated:
    return CaseUpdated(case_id=case_id, reference="EXP-2026-7F3A9C", citizen_id=citizen, area=area,
                       category="ibi", level=1, state="closed", channel="web", subject="IBI", opened_at=NOW,
                       updated_at=NOW, version=5)  # fmt: skip


def triggered(ports: SurveyPorts, **trigger: Any) -> service.Survey:
    return open_survey(ports, triggers=[{"on": "case.closed", **trigger}])


def test_a_closed_case_invites_once_through_not_whatever_redelivers_it(ports: SurveyPorts) -> None:
    survey = triggered(ports, area="hacienda")
    # WHEN the case closes
    uow = handlers.on_cause(handlers.cause_of_case(case_closed()), ports, None)
    # THEN one batch of one recipient, the survey's template, a personal link and its tag
    ((kind, data),) = events_in(uow)
    assert kind == "es.madrid.pic.notification.batch.requested.v1"
    batch = NotificationBatchRequested.model_validate(data)
    assert batch.template == "pic-survey-invitation" and batch.campaign_id is None
    (recipient,) = batch.recipients
    assert recipient.citizen_id == "c-0001" and recipient.tags == {"survey": survey.id}
    url = recipient.personalisation["survey_url"]
    assert url.startswith(f"https://pic.test/app/surveys/{survey.id}?t=")
    claims = signed_links.verify("survey", url.split("?t=")[1], 60)
    assert claims["s"] == survey.id and claims["c"] == "c-0001" and len(claims["n"]) >= 16
    store(ports).commit(uow)
    assert store(ports).invited[survey.id] == 1
    # AND the same cause again (a redelivery, a re-announcement) invites nobody
    again = handlers.on_cause(handlers.cause_of_case(case_closed()), ports, None)
    assert events_in(again) == []
    # AND two deliveries decided at once: the second loses its race on the invitation's marker
    other = case_closed(case_id="case-" + "b" * 24, citizen="c-0002")
    a = handlers.on_cause(handlers.cause_of_case(other), ports, None)
    b = handlers.on_cause(handlers.cause_of_case(other), ports, None)
    store(ports).commit(a)
    with pytest.raises(LostRaceError):
        store(ports).commit(b)


def test_only_closed_cases_of_the_trigger_area_invite(ports: SurveyPorts) -> None:
    triggered(ports, area="hacienda")
    other_area = handlers.on_cause(handlers.cause_of_case(case_closed(area="movilidad")), ports, None)
    still_open = handlers.cause_of_case(case_closed().model_copy(update={"state": "open"}))
    assert events_in(other_area) == [] and still_open is None


def test_a_delayed_invitation_waits_then_is_released_once(ports: SurveyPorts) -> None:
    survey = triggered(ports, delay_minutes=60)
    uow = handlers.on_cause(handlers.cause_of_case(case_closed()), ports, None)
    assert events_in(uow) == []
    store(ports).commit(uow)
    assert handlers.release_due(ports) == []  # not yet
    clock = ports.clock
    assert isinstance(clock, FixedClock)
    clock.advance(minutes=61)
    (unit,) = handlers.release_due(ports)
    ((kind, _),) = events_in(unit)
    assert kind.endswith("batch.requested.v1")
    store(ports).commit(unit)
    assert handlers.release_due(ports) == [] and store(ports).invited[survey.id] == 1


def test_invitations_by_an_agent_in_pages_of_500_once_per_list(ports: SurveyPorts) -> None:
    survey = open_survey(ports)
    people = [f"c-{i:04d}" for i in range(1000)]
    staged = handlers.invite(survey.id, people + people[:3], ports, None)
    batches = [e for e in event_models(staged.unit) if isinstance(e, NotificationBatchRequested)]
    assert [len(b.recipients) for b in batches] == [500, 500]
    assert len({r.personalisation["survey_url"] for b in batches for r in b.recipients}) == 1000
    result = done(staged, ports)
    assert result.invited == 1000 and store(ports).invited[survey.id] == 1000
    assert events_in(handlers.invite(survey.id, list(reversed(people)), ports, None).unit) == []


def accepted(notification_id: str, survey_id: str, campaign_id: str | None = "cmp-0a1b:1") -> NotificationAccepted:
    return NotificationAccepted(
        notification_id=notification_id, status="accepted", template="pic-survey-invitation", template_version=1,
        purpose="surveys", channel="email", campaign_id=campaign_id, tags={"survey": survey_id}, changed_at=NOW,
    )  # fmt: skip


def test_a_campaigns_invitations_count_once_each_when_not_accepts_them(ports: SurveyPorts) -> None:
    survey = open_survey(ports)
    store(ports).commit(handlers.on_campaign_invitation(accepted("n-1", survey.id), ports))
    store(ports).commit(handlers.on_campaign_invitation(accepted("n-2", survey.id), ports))
    again = handlers.on_campaign_invitation(accepted("n-1", survey.id), ports)  # NOT's event redelivered
    assert not store(ports).ledger.staged(again)
    assert store(ports).invited[survey.id] == 2
    # the survey's own invitations (no campaign) were counted when sent; another survey's tag counts for nobody
    for other in (accepted("n-3", survey.id, campaign_id=None), accepted("n-4", "no-such-survey")):
        assert not store(ports).ledger.staged(handlers.on_campaign_invitation(other, ports))


# ---- RGPD ------------------------------------------------------------------------------------------------------


def rgpd(right: str) -> RgpdRequestOpened:
    return RgpdRequestOpened(request_id="rq-1", citizen_id="c-0001", right=right, opened_at=NOW,  # type: ignore[arg-type]
                             due_at=NOW + timedelta(days=30))  # fmt: skip


def test_rgpd_access_exports_identified_answers_and_erasure_leaves_anonymous_ones(ports: SurveyPorts) -> None:
    ident = open_survey(ports)
    anon = open_survey(ports, "anonima", mode="anonymous")
    done(answer(ports, {"csat": 4}, token(ident.id)), ports)
    done(answer(ports, {"csat": 5}, token(anon.id, nonce="n-x"), survey_id=anon.id), ports)
    # access: the identified answer, and which anonymous survey was answered (not the answer)
    (kind, data), *_ = events_in(handlers.answer_rights(rgpd("access"), ports, None))
    assert kind.endswith("rgpd.domain.answered.v1")
    export = data["export"]
    assert [r["survey_id"] for r in export["responses"]] == [ident.id]
    assert export["anonymous_surveys_answered"] == [anon.id]
    # erasure: the identified answer and the marker go; the anonymous answer stays, linked to nobody
    uow = handlers.answer_rights(rgpd("erasure"), ports, None)
    store(ports).commit(uow)
    assert [r.survey_id for r in store(ports).responses.values()] == [anon.id]
    assert store(ports).markers == {}
