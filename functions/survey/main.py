"""Surveys (SURV) entry points: thin. Parse, map to a command, call the use case, answer.

``survey_http`` (Knative Service ``pic-survey``):

- editors (``survey.edit``, ``survey.read``): the list, create a draft, save the draft (versioned), open, close now
  or at a time, read; ``survey.results``: the results as JSON, CSV, PNG or SVG;
- agents and systems (``survey.invite``, with a purpose): invite up to 1,000 citizens through NOT;
- the person answering (``survey.answer``: from the invitation link ``?t=``, signed in or not): the form in their
  language with their current answers, and the answer (new, or an edit of the one read).

``survey_events`` (``pic-survey-events``): the cause events of the surveys' triggers (a case closed, a payment
charged, an office ticket served) and data-subject requests. ``python -m functions.survey.release`` sends the
invitations whose trigger's delay ended.
"""

from __future__ import annotations

from typing import Any, Literal

import functions_framework
from cloudevents.http import CloudEvent
from flask import Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from events.case import CaseUpdated
from events.contact import TicketServed
from events.notification import NotificationStatusChanged
from events.payment import PaymentSucceeded
from events.rgpd import RgpdRequestOpened
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.errors import ValidationError
from functions.core.http import HttpFunction, Reply, RequestContext, Route, parse_query
from functions.core.store import UnitOfWork
from functions.survey import handlers, results, service
from functions.survey.bootstrap import ports
from functions.survey.service import SURVEY_ID, Channel, Language, SurveyInput

NAME = "pic-survey"
SURVEY = "/v1/surveys/<survey_id>"
LINK_PATTERN = r"^[A-Za-z0-9._-]{20,600}$"
CITIZEN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
FORMATS = {"json": "application/json", "csv": "text/csv; charset=utf-8", "png": "image/png", "svg": "image/svg+xml"}


def _author(ctx: RequestContext) -> str:
    return f"{ctx.subject.role}:{ctx.subject.id}"


def _editor_reply(status: int = 200) -> Any:
    def reply(survey: service.Survey) -> Reply:
        body = service.view(survey, ports().clock.now())
        return Reply(status, body, {"Location": f"/v1/surveys/{survey.id}"})

    return reply


# ---- editors -----------------------------------------------------------------------------------------------------


class NewSurvey(SurveyInput):
    id: str = Field(pattern=SURVEY_ID, description="the survey's id for good, e.g. csat-cases-2026")


def get_surveys(ctx: RequestContext) -> Reply:
    return Reply(200, {"surveys": handlers.listing(ports())})


def post_survey(ctx: RequestContext, body: NewSurvey) -> Reply:
    """A new survey, a draft (validated as a whole: each error named)."""
    definition = SurveyInput.model_validate(body.model_dump(exclude={"id"}))
    return ctx.run(lambda: handlers.create(body.id, definition, _author(ctx), ports()), _editor_reply(201))


def get_survey(ctx: RequestContext, survey_id: str) -> Reply:
    return Reply(200, service.view(handlers.find(survey_id, ports()), ports().clock.now()))


class SurveyDraftBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    revision: int = Field(ge=1, description="the survey's revision the editor read")
    survey: SurveyInput


def put_draft(ctx: RequestContext, survey_id: str, body: SurveyDraftBody) -> Reply:
    """The draft's next version; refused once open (answers refer to its questions) or if changed since read."""
    return ctx.run(lambda: handlers.edit(survey_id, body.survey, body.revision, ports()), _editor_reply())


class SurveyRevisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    revision: int = Field(ge=1)


class SurveyCloseBody(SurveyRevisionBody):
    at: AwareDatetime | None = Field(None, description="a later instant; now when absent")


def post_open(ctx: RequestContext, survey_id: str, body: SurveyRevisionBody) -> Reply:
    return ctx.run(lambda: handlers.open_survey(survey_id, body.revision, ports()), _editor_reply())


def post_close(ctx: RequestContext, survey_id: str, body: SurveyCloseBody) -> Reply:
    return ctx.run(lambda: handlers.close_survey(survey_id, body.revision, body.at, ports()), _editor_reply())


class SurveyInvitationsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    citizen_ids: list[str] = Field(min_length=1, max_length=handlers.MAX_INVITATIONS)


def post_invitations(ctx: RequestContext, survey_id: str, body: SurveyInvitationsBody) -> Reply:
    """Invite citizens (NOT decides each by the ``surveys`` consent and quiet hours, and chooses the channel)."""
    import re

    bad = [{"field": f"citizen_ids[{i}]", "message": "not a citizen id"}
           for i, c in enumerate(body.citizen_ids) if not re.match(CITIZEN, c)]  # fmt: skip
    if bad:
        raise ValidationError("some citizen ids are not valid", errors=bad[:20])

    def reply(done: handlers.Invited) -> Reply:
        return Reply(202, {"survey_id": done.survey_id, "invited": done.invited, "batches": done.batches})

    return ctx.run(lambda: handlers.invite(survey_id, body.citizen_ids, ports(), ctx.traceparent), reply)


class SurveyResultsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["json", "csv", "png", "svg"] = "json"
    language: Language = "es"


def get_results(ctx: RequestContext, survey_id: str) -> Reply:
    """Invited, responded, rate; per question counts, mean and median, NPS, CSAT; by district and channel."""
    query = parse_query(ctx.request, SurveyResultsQuery)
    found = handlers.results(survey_id, query.language, ports())
    if query.format == "json":
        return Reply(200, found)
    if query.format == "csv":
        body = results.as_csv(found).encode()
    else:
        body = results.plot(found, query.format, query.language)
    disposition = "attachment" if query.format == "csv" else "inline"
    headers = {"Content-Type": FORMATS[query.format],
               "Content-Disposition": f'{disposition}; filename="survey-{survey_id}.{query.format}"'}  # fmt: skip
    return Reply(200, body, headers)


# ---- the person answering ---------------------------------------------------------------------------------------


def _signed_in(ctx: RequestContext) -> str | None:
    return ctx.subject.id if ctx.subject.role == "citizen" else None


class SurveyFormQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    t: str | None = Field(None, pattern=LINK_PATTERN, description="the invitation link's token")
    language: Language = "es"


def get_form(ctx: RequestContext, survey_id: str) -> Reply:
    """The survey in the person's language, which questions the current answers show, and those answers."""
    query = parse_query(ctx.request, SurveyFormQuery)
    return Reply(200, handlers.read_form(survey_id, query.t, _signed_in(ctx), query.language, ports()))


class SurveyTokenQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    t: str | None = Field(None, pattern=LINK_PATTERN)


class SurveyResponseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: dict[str, str | int | list[str]] = Field(max_length=50)
    revision: int | None = Field(None, ge=1, description="the response's revision, to edit it; absent: a new one")
    channel: Channel = Field("unknown", description="how the invitation reached the person (the link says)")


def put_response(ctx: RequestContext, survey_id: str, body: SurveyResponseBody) -> Reply:
    """A new response (201) or an edit of the one read (200); a second new one is refused (409)."""
    query = parse_query(ctx.request, SurveyTokenQuery)
    cmd = handlers.Respond(survey_id, query.t, _signed_in(ctx), dict(body.answers), body.revision, body.channel)

    def reply(done: service.Answered) -> Reply:
        r = done.response
        return Reply(201 if done.first else 200, {"survey_id": r.survey_id, "response_id": r.key,
                     "revision": r.revision, "answers": r.answers})  # fmt: skip

    return ctx.run(lambda: handlers.respond(cmd, ports(), ctx.traceparent), reply)


ROUTES = [
    Route("/v1/surveys", "GET", get_surveys, "Every survey: state, mode, version", action="survey.read"),
    Route("/v1/surveys", "POST", post_survey, "A new survey, a draft (validated as a whole)", request_model=NewSurvey,
          status=201, idempotent_writes=True, action="survey.edit", links={"survey_id": "/id"}, max_body_bytes=131072),
    Route(SURVEY, "GET", get_survey, "A survey: its definition, state and versions", action="survey.read"),
    Route(f"{SURVEY}/draft", "PUT", put_draft, "Save the draft's next version", request_model=SurveyDraftBody,
          idempotent_writes=True, action="survey.edit", max_body_bytes=131072),
    Route(f"{SURVEY}/open", "POST", post_open, "Open the survey for answers", request_model=SurveyRevisionBody,
          idempotent_writes=True, action="survey.edit"),
    Route(f"{SURVEY}/close", "POST", post_close, "Close the survey now or at a time", request_model=SurveyCloseBody,
          idempotent_writes=True, action="survey.edit"),
    Route(f"{SURVEY}/invitations", "POST", post_invitations, "Invite up to 1,000 citizens through NOT",
          request_model=SurveyInvitationsBody, status=202, idempotent_writes=True, action="survey.invite",
          max_body_bytes=131072),
    Route(f"{SURVEY}/results", "GET", get_results, "Results: rate, NPS, CSAT, breakdowns (json, csv, png, svg)",
          action="survey.results"),
    Route(f"{SURVEY}/form", "GET", get_form, "The survey to answer, in the person's language, with their answers",
          action="survey.answer", anonymous=True),
    Route(f"{SURVEY}/responses", "PUT", put_response, "Answer the survey (new, or an edit until it closes)",
          request_model=SurveyResponseBody, status=201, idempotent_writes=True, action="survey.answer", anonymous=True,
          max_body_bytes=65536),
]  # fmt: skip

http_api = HttpFunction(NAME, ROUTES)


@functions_framework.http
def survey_http(request: Request) -> Response:
    return http_api(request)


# ---- events --------------------------------------------------------------------------------------------------------


def on_case_updated(ctx: EventContext, data: Any) -> UnitOfWork:
    """A case closed: the surveys triggered by ``case.closed`` (of its area, if they say) invite its citizen."""
    assert isinstance(data, CaseUpdated)
    return handlers.on_cause(handlers.cause_of_case(data), ports(), ctx.traceparent)


def on_payment_succeeded(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, PaymentSucceeded)
    return handlers.on_cause(handlers.cause_of_payment(data), ports(), ctx.traceparent)


def on_ticket_served(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, TicketServed)
    return handlers.on_cause(handlers.cause_of_visit(data), ports(), ctx.traceparent)


def on_rgpd_request_opened(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, RgpdRequestOpened)
    return handlers.answer_rights(data, ports(), ctx.traceparent)


def on_notification_accepted(ctx: EventContext, data: Any) -> UnitOfWork:
    """NOT accepted a notification: a campaign's survey invitation counts as invited."""
    assert isinstance(data, NotificationStatusChanged)
    return handlers.on_campaign_invitation(data, ports())


event_api = EventFunction(
    "pic-survey-events",
    {
        "es.madrid.pic.notification.accepted.v1": on_notification_accepted,
        "es.madrid.pic.case.updated.v1": on_case_updated,
        "es.madrid.pic.payment.succeeded.v1": on_payment_succeeded,
        "es.madrid.pic.office.ticket.served.v1": on_ticket_served,
        "es.madrid.pic.rgpd.request.opened.v1": on_rgpd_request_opened,
    },
)


@functions_framework.cloud_event
def survey_events(event: CloudEvent) -> None:
    event_api(event)
