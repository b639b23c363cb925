"""Surveys (SURV), pure rules: a survey's definition validated as a whole, which questions a set of answers shows,
an answer checked against them, one response per citizen or per link, the invitation a cause event makes, and the
store's port.

A survey is defined as data (``SurveyInput``): questions of five kinds (single and multiple choice, a scale with
labels at its ends, NPS 0–10, free text of bounded length), every text in Spanish and English, each question
optionally shown only if an *earlier* question's answer equals a value, is one of some values or is at least a
number (``show_if``). Conditions may only look back, so the questions are evaluated in order, once, and a cycle
cannot be written: a condition on the same or a later question is refused by name.

Two modes. ``identified``: one response per citizen (the invitation's ``c`` or the signed-in citizen), kept with
the citizen's id (the person may read it, and erase it: ``rights.py``). ``anonymous``: one response per invitation
link, keyed by a hash of the link's random nonce; whom it was sent to (``c``) is kept apart, in the respondents'
set, keyed by a hash of survey and citizen, with no reference from one to the other and no time on the answer.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from events.survey import SurveyAnswered
from functions.core.errors import ConflictError, NotFoundError, PicError, ValidationError

if TYPE_CHECKING:  # the port names the kernel's unit of work; this module stays free of its adapters
    from functions.core.store import UnitOfWork

SURVEY_ID = r"^[a-z0-9][a-z0-9-]{2,63}$"
QUESTION_ID = r"^[a-z0-9][a-z0-9_-]{0,31}$"
AREA = r"^[a-z][a-z0-9-]{1,47}$"
TEMPLATE_ID = r"^[a-z0-9][a-z0-9-]{0,63}$"
INVITATION_TEMPLATE = "pic-survey-invitation"
Language = Literal["es", "en"]
Kind = Literal["single", "multiple", "scale", "nps", "text"]
Mode = Literal["identified", "anonymous"]
State = Literal["draft", "open", "closed"]
CauseKind = Literal["case.closed", "payment.succeeded", "office.visit"]
Channel = Literal["email", "sms", "push", "inapp", "web", "unknown"]
Answer = str | int | list[str]
MAX_TEXT = 2000
LINK_MAX_AGE = 400 * 24 * 3600  # contracts §6: a link lives until its survey closes; never beyond 400 days


# ---- the domain's problems ---------------------------------------------------------------------------------


class SurveyNotFoundError(NotFoundError):
    slug, title = "not-found", "No such survey"


class SurveyInvalidError(ValidationError):
    slug, title = "survey-invalid", "The survey is not valid"


class AnswerInvalidError(ValidationError):
    slug, title = "answer-invalid", "The answer is not valid"


class SurveyStateError(PicError):
    status, slug, title = 409, "survey-state", "The survey is not in a state that allows this"


class SurveyExistsError(PicError):
    status, slug, title = 409, "survey-exists", "A survey with this id exists"


class SurveyChangedError(ConflictError):
    slug, title = "survey-changed", "The survey changed since it was read"


class ResponseExistsError(PicError):
    status, slug, title = 409, "response-exists", "This survey was already answered"


class ResponseChangedError(ConflictError):
    slug, title = "response-changed", "The answer changed since it was read"


class SurveyClosedError(PicError):
    status, slug, title = 410, "survey-closed", "This survey is closed"


class NotInvitedError(PicError):
    status, slug, title = 403, "survey-not-invited", "This survey is answered from its invitation link"


# ---- the definition --------------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Text(_Strict):
    """A text in both languages (the citizen reads it in theirs)."""

    es: str = Field(min_length=1, max_length=500)
    en: str = Field(min_length=1, max_length=500)


class Choice(_Strict):
    id: str = Field(pattern=QUESTION_ID)
    label: Text


class ShowIf(_Strict):
    """Show the question only if ``question``'s answer equals ``equals``, is one of ``one_of`` or is at least
    ``at_least`` (exactly one of the three). On a multiple choice, "equals" and "one of" hold if any chosen
    option matches."""

    question: str = Field(pattern=QUESTION_ID)
    equals: str | int | None = None
    one_of: list[str | int] | None = Field(None, min_length=1, max_length=20)
    at_least: int | None = None


class Question(_Strict):
    id: str = Field(pattern=QUESTION_ID)
    kind: Kind
    text: Text
    required: bool = True
    choices: list[Choice] = Field(default_factory=list, max_length=20)
    min: int | None = Field(None, ge=-100, le=100)  # scale
    max: int | None = Field(None, ge=-100, le=100)  # scale
    min_label: Text | None = None
    max_label: Text | None = None
    max_length: int = Field(1000, ge=1, le=MAX_TEXT)  # free text
    show_if: ShowIf | None = None


class Trigger(_Strict):
    """Invite after a cause event: a case closed, a payment charged, an office visit attended (``area``: only
    that area's cases or offices), ``delay_minutes`` after it."""

    on: CauseKind
    area: str | None = Field(None, pattern=AREA)
    delay_minutes: int = Field(0, ge=0, le=30 * 24 * 60)


class SurveyInput(_Strict):
    title: Text
    description: Text | None = None
    mode: Mode = "identified"
    questions: list[Question] = Field(min_length=1, max_length=50)
    triggers: list[Trigger] = Field(default_factory=list, max_length=5)
    closes_at: AwareDatetime | None = None
    invitation_template: str = Field(INVITATION_TEMPLATE, pattern=TEMPLATE_ID)


def _error(where: str, message: str) -> dict[str, str]:
    return {"field": where, "message": message}


def _question_errors(i: int, q: Question) -> list[dict[str, str]]:
    where, errors = f"questions[{i}]", []
    choice_ids = [c.id for c in q.choices]
    if q.kind in ("single", "multiple"):
        if len(q.choices) < 2:
            errors.append(_error(f"{where}.choices", f"question {q.id!r}: a choice question needs at least 2 choices"))
        if len(set(choice_ids)) != len(choice_ids):
            errors.append(_error(f"{where}.choices", f"question {q.id!r}: choice ids must be unique"))
    elif q.choices:
        errors.append(_error(f"{where}.choices", f"question {q.id!r}: only choice questions have choices"))
    if q.kind == "scale":
        if q.min is None or q.max is None:
            errors.append(_error(f"{where}.max", f"question {q.id!r}: a scale needs min and max"))
        elif q.min >= q.max:
            errors.append(
                _error(f"{where}.max", f"question {q.id!r}: the scale's min {q.min} must be below max {q.max}")
            )
        elif q.max - q.min > 20:
            errors.append(_error(f"{where}.max", f"question {q.id!r}: a scale has at most 21 points"))
    elif q.min is not None or q.max is not None:
        errors.append(_error(f"{where}.min", f"question {q.id!r}: only a scale has min and max"))
    return errors


def _condition_errors(i: int, q: Question, earlier: dict[str, Question]) -> list[dict[str, str]]:
    cond, where = q.show_if, f"questions[{i}].show_if"
    if cond is None:
        return []
    given = [x for x in (cond.equals, cond.one_of, cond.at_least) if x is not None]
    if len(given) != 1:
        return [_error(where, f"question {q.id!r}: give exactly one of equals, one_of or at_least")]
    if cond.question == q.id:
        return [_error(where, f"question {q.id!r}: a condition on itself is a cycle")]
    target = earlier.get(cond.question)
    if target is None:
        message = (
            f"question {q.id!r}: the condition names {cond.question!r}, which is not an earlier question "
            "(conditions look back only: a later or unknown question, or a cycle)"
        )
        return [_error(where, message)]
    if target.kind == "text":
        return [_error(where, f"question {q.id!r}: a condition cannot look at free text ({target.id!r})")]
    if cond.at_least is not None and target.kind not in ("scale", "nps"):
        return [_error(where, f"question {q.id!r}: at_least needs a scale or NPS question, {target.id!r} is not")]
    values = [cond.equals] if cond.equals is not None else list(cond.one_of or [])
    bad = [v for v in values if not _answer_in_range(target, v)]
    if bad:
        return [_error(where, f"question {q.id!r}: {bad!r} can never be an answer to {target.id!r}")]
    return []


def _answer_in_range(q: Question, value: Any) -> bool:
    """Whether ``value`` is one possible (single) answer of ``q``."""
    if q.kind in ("single", "multiple"):
        return isinstance(value, str) and value in {c.id for c in q.choices}
    low, high = bounds(q)
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def bounds(q: Question) -> tuple[int, int]:
    """A scale's or NPS's range."""
    if q.kind == "nps":
        return 0, 10
    assert q.min is not None and q.max is not None
    return q.min, q.max


def validate(survey: SurveyInput) -> SurveyInput:
    """The survey as a whole, or ``SurveyInvalidError`` naming each error (question ids unique, choices where they
    belong, a scale's min below its max, each condition on an earlier question with a possible value)."""
    errors: list[dict[str, str]] = []
    earlier: dict[str, Question] = {}
    for i, q in enumerate(survey.questions):
        if q.id in earlier:
            errors.append(_error(f"questions[{i}].id", f"question id {q.id!r} is used twice"))
        errors.extend(_question_errors(i, q))
        errors.extend(_condition_errors(i, q, earlier))
        earlier.setdefault(q.id, q)
    for i, t in enumerate(survey.triggers):
        if t.on == "payment.succeeded" and t.area:
            errors.append(_error(f"triggers[{i}].area", "a payment names no area: drop area for payment.succeeded"))
    if len({t.on for t in survey.triggers}) != len(survey.triggers):
        errors.append(_error("triggers", "one trigger per cause"))
    if errors:
        raise SurveyInvalidError(f"{len(errors)} error(s) in the survey", errors=errors)
    return survey


# ---- a survey as stored ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Survey:
    id: str
    definition: SurveyInput
    state: State
    version: int  # the definition's version: each saved draft is one more
    revision: int  # the item's: every write is one more, under the one read
    created_by: str
    created_at: datetime
    opened_at: datetime | None = None
    closed_at: datetime | None = None  # when closed (or when it closes, if scheduled: ``definition.closes_at``)

    def closes_at(self) -> datetime | None:
        return self.closed_at or self.definition.closes_at

    def is_open(self, now: datetime) -> bool:
        """Answerable now: opened and not yet closed (a scheduled close counts from its instant)."""
        close = self.closes_at()
        return self.state == "open" and (close is None or now < close)

    def state_at(self, now: datetime) -> State:
        return "closed" if self.state == "open" and not self.is_open(now) else self.state


def new_survey(survey_id: str, definition: SurveyInput, author: str, now: datetime) -> Survey:
    return Survey(survey_id, validate(definition), "draft", 1, 1, author, now)


def edited(survey: Survey, definition: SurveyInput, read_revision: int) -> Survey:
    """A new version of the draft; an open or closed survey's questions are fixed (answers refer to them)."""
    _check_revision(survey, read_revision)
    if survey.state != "draft":
        raise SurveyStateError(f"survey {survey.id!r} is {survey.state}: only a draft is edited")
    return replace(survey, definition=validate(definition), version=survey.version + 1, revision=survey.revision + 1)


def opened(survey: Survey, read_revision: int, now: datetime) -> Survey:
    _check_revision(survey, read_revision)
    if survey.state != "draft":
        raise SurveyStateError(f"survey {survey.id!r} is {survey.state}: only a draft opens")
    close = survey.definition.closes_at
    if close is not None and close <= now:
        raise SurveyStateError(f"survey {survey.id!r} would close at {close.isoformat()}, before it opens")
    return replace(survey, state="open", opened_at=now, revision=survey.revision + 1)


def closed(survey: Survey, read_revision: int, at: datetime | None, now: datetime) -> Survey:
    """Closed now, or at ``at`` (a later instant); answers and edits stop from that instant."""
    _check_revision(survey, read_revision)
    if survey.state_at(now) != "open":
        raise SurveyStateError(f"survey {survey.id!r} is {survey.state_at(now)}: only an open survey closes")
    when = now if at is None or at <= now else at
    return replace(survey, closed_at=when, revision=survey.revision + 1)


def _check_revision(survey: Survey, read_revision: int) -> None:
    if survey.revision != read_revision:
        raise SurveyChangedError(
            f"survey {survey.id!r} is at revision {survey.revision}, not {read_revision}: read it again"
        )


def view(survey: Survey, now: datetime) -> dict[str, Any]:
    """The survey for its editors: the definition, its state now and its versions."""
    close = survey.closes_at()
    return {
        "id": survey.id,
        "state": survey.state_at(now),
        "version": survey.version,
        "revision": survey.revision,
        "created_by": survey.created_by,
        "created_at": survey.created_at.isoformat(),
        "opened_at": survey.opened_at.isoformat() if survey.opened_at else None,
        "closes_at": close.isoformat() if close else None,
        **survey.definition.model_dump(mode="json", exclude={"closes_at"}),
    }


# ---- answering ---------------------------------------------------------------------------------------------


def _matches(cond: ShowIf, answer: Answer | None) -> bool:
    if answer is None:
        return False
    given = answer if isinstance(answer, list) else [answer]
    if cond.equals is not None:
        return cond.equals in given
    if cond.one_of is not None:
        return any(v in cond.one_of for v in given)
    return isinstance(answer, int) and cond.at_least is not None and answer >= cond.at_least


def visible(definition: SurveyInput, answers: dict[str, Answer]) -> list[Question]:
    """The questions these answers show, in order: a question is shown if it has no condition, or if the question
    it looks at is shown and answered so that the condition holds (conditions look back only: one pass)."""
    shown: list[Question] = []
    shown_ids: set[str] = set()
    for q in definition.questions:
        cond = q.show_if
        if cond is None or (cond.question in shown_ids and _matches(cond, answers.get(cond.question))):
            shown.append(q)
            shown_ids.add(q.id)
    return shown


def _answer_error(q: Question, value: Any) -> str | None:
    """Why ``value`` is not an answer to ``q`` (None: it is)."""
    if q.kind == "single":
        return None if _answer_in_range(q, value) else f"one of {[c.id for c in q.choices]}"
    if q.kind == "multiple":
        ok = isinstance(value, list) and value and len(set(value)) == len(value)
        return None if ok and all(_answer_in_range(q, v) for v in value) else (
            f"a non-empty list of distinct choices among {[c.id for c in q.choices]}")  # fmt: skip
    if q.kind == "text":
        ok = isinstance(value, str) and 0 < len(value.strip()) <= q.max_length
        return None if ok else f"a text of 1 to {q.max_length} characters"
    low, high = bounds(q)
    return None if _answer_in_range(q, value) else f"a whole number from {low} to {high}"


def checked_answers(definition: SurveyInput, answers: dict[str, Any]) -> dict[str, Answer]:
    """The answers kept (text stripped), or ``AnswerInvalidError`` naming each question: an unknown question, a
    hidden one answered, a required visible one missing, a value outside its scale or choices."""
    known = {q.id: q for q in definition.questions}
    errors = [_error(f"answers.{k}", f"no question {k!r} in this survey") for k in answers if k not in known]
    shown = visible(definition, {k: v for k, v in answers.items() if k in known})
    shown_ids = {q.id for q in shown}
    for k in answers:
        if k in known and k not in shown_ids:
            errors.append(_error(f"answers.{k}", f"question {k!r} is not shown with these answers: leave it out"))
    kept: dict[str, Answer] = {}
    for q in shown:
        value = answers.get(q.id)
        if value is None or value == "" or value == []:
            if q.required:
                errors.append(_error(f"answers.{q.id}", f"question {q.id!r} is required"))
            continue
        problem = _answer_error(q, value)
        if problem:
            errors.append(_error(f"answers.{q.id}", f"question {q.id!r} takes {problem}"))
            continue
        kept[q.id] = value.strip() if isinstance(value, str) and q.kind == "text" else value
    if errors:
        raise AnswerInvalidError(f"{len(errors)} answer(s) not valid", errors=errors)
    return kept


def form(survey: Survey, language: Language, answers: dict[str, Answer], now: datetime) -> dict[str, Any]:
    """The survey as the person answers it, in their language: each question with its choices or range, whether
    the current answers show it, and the current answer if any."""
    shown = {q.id for q in visible(survey.definition, answers)}
    d = survey.definition

    def text(t: Text | None) -> str | None:
        return None if t is None else (t.es if language == "es" else t.en)

    questions = []
    for q in d.questions:
        item: dict[str, Any] = {"id": q.id, "kind": q.kind, "text": text(q.text), "required": q.required,
                                "shown": q.id in shown, "answer": answers.get(q.id)}  # fmt: skip
        if q.choices:
            item["choices"] = [{"id": c.id, "label": text(c.label)} for c in q.choices]
        if q.kind in ("scale", "nps"):
            low, high = bounds(q)
            item |= {"min": low, "max": high, "min_label": text(q.min_label), "max_label": text(q.max_label)}
        if q.kind == "text":
            item["max_length"] = q.max_length
        if q.show_if:
            item["show_if"] = q.show_if.model_dump(exclude_none=True)
        questions.append(item)
    close = survey.closes_at()
    return {"id": survey.id, "language": language, "title": text(d.title), "description": text(d.description),
            "mode": d.mode, "open": survey.is_open(now), "closes_at": close.isoformat() if close else None,
            "questions": questions}  # fmt: skip


# ---- who answers: the link, or the signed-in citizen --------------------------------------------------------


@dataclass(frozen=True)
class Invitation:
    """A verified invitation link's claims (contracts §6): ``c`` the citizen it was sent to, ``n`` its nonce."""

    survey_id: str
    citizen_id: str | None
    nonce: str
    district: str | None = None
    campaign_id: str | None = None

    @classmethod
    def of_claims(cls, claims: dict[str, Any]) -> Invitation:
        def opt(key: str) -> str | None:
            value = claims.get(key)
            return str(value) if value is not None else None

        return cls(str(claims.get("s", "")), opt("c"), str(claims.get("n", "")), opt("d"), opt("cmp"))


@dataclass(frozen=True)
class Respondent:
    """Who is answering, as far as this survey is allowed to know: the response's key, and for an identified survey
    the citizen."""

    response_key: str
    citizen_id: str | None
    district: str | None
    campaign_id: str | None
    respondent_key: str | None  # anonymous: the respondents' set marker (kept apart from the answer)
    invited: str | None = None  # anonymous: the citizen the link was sent to (only in the marker)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def respondent_of(survey: Survey, invitation: Invitation | None, signed_in: str | None) -> Respondent:
    """The response this person (or link) writes: identified, one per citizen (the link's ``c``, else the
    signed-in citizen); anonymous, one per link (a hash of its nonce; the link is required), the citizen only in
    the respondents' marker."""
    if invitation is not None and invitation.survey_id != survey.id:
        raise NotInvitedError("this link is for another survey")
    if survey.definition.mode == "anonymous":
        if invitation is None or not invitation.nonce:
            raise NotInvitedError("an anonymous survey is answered from its invitation link (one answer per link)")
        marker = _digest("respondent", survey.id, invitation.citizen_id) if invitation.citizen_id else None
        key = "a-" + _digest("nonce", survey.id, invitation.nonce)
        return Respondent(key, None, invitation.district, invitation.campaign_id, marker, invitation.citizen_id)
    if invitation and invitation.citizen_id and signed_in and invitation.citizen_id != signed_in:
        raise NotInvitedError("this link was sent to someone else: open your own invitation, or answer signed in")
    citizen = (invitation.citizen_id if invitation else None) or signed_in
    if not citizen:
        raise NotInvitedError("sign in, or answer from the invitation link")
    key = "i-" + _digest("citizen", survey.id, citizen)
    district = invitation.district if invitation else None
    return Respondent(key, citizen, district, invitation.campaign_id if invitation else None, None)


@dataclass(frozen=True)
class Response:
    """One response. Anonymous: no citizen, no time (``answered_at`` is None), nothing from the person."""

    survey_id: str
    key: str
    answers: dict[str, Answer]
    revision: int
    citizen_id: str | None = None
    district: str | None = None
    channel: Channel = "unknown"
    campaign_id: str | None = None
    answered_at: datetime | None = None


@dataclass(frozen=True)
class Answered:
    response: Response
    first: bool
    respondent_key: str | None
    event: SurveyAnswered


def answer(
    survey: Survey,
    who: Respondent,
    existing: Response | None,
    answers: dict[str, Any],
    revision: int | None,
    channel: Channel,
    now: datetime,
) -> Answered:
    """A new response (``revision`` absent; refused if one exists: one per citizen or link) or an edit of the one
    read (``revision`` = its revision), until the survey closes."""
    if not survey.is_open(now):
        raise SurveyClosedError(f"survey {survey.id!r} is {survey.state_at(now)}: answers are not taken")
    kept = checked_answers(survey.definition, answers)
    if existing is not None and revision is None:
        raise ResponseExistsError(
            f"survey {survey.id!r} takes one response per {'link' if who.citizen_id is None else 'citizen'}: "
            "edit it (send its revision) instead"
        )
    if existing is None and revision is not None:
        raise ResponseChangedError(f"there is no response at revision {revision} to edit: send it without one")
    if existing is not None and existing.revision != revision:
        raise ResponseChangedError(f"the response is at revision {existing.revision}, not {revision}: read it again")
    anonymous = survey.definition.mode == "anonymous"
    response = Response(
        survey.id, who.response_key, kept, (existing.revision if existing else 0) + 1,
        citizen_id=who.citizen_id, district=who.district, channel=channel, campaign_id=who.campaign_id,
        answered_at=None if anonymous else now,
    )  # fmt: skip
    event = SurveyAnswered(survey_id=survey.id, response_id=who.response_key, citizen_id=who.citizen_id,
                           campaign_id=who.campaign_id, first=existing is None, answered_at=now)  # fmt: skip
    return Answered(response, existing is None, who.respondent_key if existing is None else None, event)


# ---- invitations ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cause:
    """A cause event that may invite: which trigger, the citizen, the area, and a key unique to the cause."""

    on: str
    citizen_id: str
    area: str | None
    key: str  # e.g. case:<case_id>: a cause re-announced or redelivered invites once
    at: datetime


def applies(trigger: Trigger, cause: Cause) -> bool:
    return trigger.on == cause.on and (trigger.area is None or trigger.area == cause.area)


def invitation_key(survey: Survey, citizen_id: str, cause_key: str) -> str:
    """An invitation's dedupe key: identified surveys invite a citizen once (one response per citizen); anonymous
    ones once per cause (a link each)."""
    if survey.definition.mode == "identified":
        return _digest("invite", survey.id, citizen_id)
    return _digest("invite", survey.id, cause_key)


def batch_id(survey_id: str, key: str) -> str:
    return f"survey-{survey_id}-{key}"[:128]


@dataclass(frozen=True)
class Pending:
    """An invitation due at ``due_at`` (a trigger's delay), sent by the release pass."""

    survey_id: str
    citizen_id: str
    key: str
    due_at: datetime
    district: str | None = None


# ---- the registry of triggers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Registry:
    """The open surveys with triggers (one item: what a cause event reads first), versioned."""

    surveys: frozenset[str] = frozenset()
    revision: int = 0


# ---- the port ----------------------------------------------------------------------------------------------


class SurveyStore(Protocol):
    """What surveys read and stage (``storage.DynamoSurveyStore``; an in-memory fake in the unit tests)."""

    def fetch_survey(self, survey_id: str) -> Survey | None: ...
    def fetch_surveys(self, survey_ids: frozenset[str]) -> list[Survey]: ...
    def fetch_all(self) -> list[Survey]:
        """Every survey (the editors' list; a few hundred at most)."""
        ...

    def fetch_response(self, survey_id: str, key: str) -> Response | None: ...
    def fetch_responses(self, survey_id: str) -> list[Response]:
        """Every response of a survey (results), one Query of its partition."""
        ...

    def fetch_citizen_responses(self, citizen_id: str) -> list[Response]:
        """An identified citizen's responses (RGPD), by index: never a scan."""
        ...

    def fetch_respondent_markers(self, citizen_id: str) -> list[tuple[str, str]]:
        """(survey_id, marker key) of the anonymous surveys the citizen answered (RGPD erasure)."""
        ...

    def fetch_invited(self, survey_id: str) -> int: ...
    def fetch_invitation(self, survey_id: str, key: str) -> bool: ...
    def fetch_registry(self) -> Registry: ...
    def fetch_due(self, now: datetime, limit: int) -> list[Pending]: ...
    def stage_survey(self, uow: UnitOfWork, survey: Survey, read_revision: int | None) -> None: ...
    def stage_registry(self, uow: UnitOfWork, registry: Registry) -> None: ...
    def stage_response(self, uow: UnitOfWork, response: Response) -> None:
        """Write the response: new (must be absent) or at its revision - 1 (else the commit loses the race)."""
        ...

    def stage_respondent(self, uow: UnitOfWork, survey_id: str, marker: str, citizen_id: str) -> None: ...
    def stage_invitation(self, uow: UnitOfWork, survey_id: str, key: str | None, citizen_id: str, count: int) -> None:
        """The invitation's marker ``key`` (must be absent: a second invitation for the same key loses; None: no
        marker) and ``count`` more invited on the survey's counter (an atomic add)."""
        ...

    def stage_pending(self, uow: UnitOfWork, pending: Pending) -> None: ...
    def stage_release(self, uow: UnitOfWork, pending: Pending) -> None:
        """The pending invitation leaves the due list (must still be there: two release passes, one wins)."""
        ...

    def stage_erase_response(self, uow: UnitOfWork, response: Response) -> None: ...
    def stage_erase_respondent(self, uow: UnitOfWork, survey_id: str, marker: str) -> None: ...


def survey_url(api_url: str, survey_id: str, token: str) -> str:
    return f"{api_url.rstrip('/')}/app/surveys/{survey_id}?t={token}"


DISTRICT = re.compile(r"^[0-9]{2}$")
