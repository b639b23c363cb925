"""Data-subject rights (RGPD arts. 15 to 21) rules, pure: no Flask, no boto3, no pynamodb.

A request is validated per right, gets its art. 12.3 deadline, and fans out to every domain that holds
personal data (the consumers of ``rgpd.request.opened`` in the event catalog). Each domain answers once;
the request's status is a fold of its answers. Restriction (art. 18) and objection (art. 21) also change
the citizen's flags, which this domain owns and every contact policy honours. The use cases that read and
stage through the domain's port (``RgpdStore``) are in ``handlers``; the time they decide at is the clock's.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from events.catalog import CATALOG
from events.rgpd import (
    RgpdDomainAnswered,
    RgpdFlagsChanged,
    RgpdRequestCompleted,
    RgpdRequestExtended,
    RgpdRequestOpened,
    domain_of,
)
from functions.core import contact
from functions.core.errors import ConflictError, InvalidEventError, NotFoundError, ValidationError, pydantic_errors
from functions.rgpd import deadlines

if TYPE_CHECKING:  # the port names the kernel's unit of work; this module stays free of its adapters
    from functions.core.store import UnitOfWork
    from functions.core.terms import Terms

REQUEST_OPENED = "es.madrid.pic.rgpd.request.opened.v1"
EXPORT_RIGHTS = ("access", "portability")
Status = Literal["in-progress", "action-required", "completed"]


class RgpdRequestNotFoundError(NotFoundError):
    slug = "rgpd-request-not-found"
    title = "No such data-subject request"


class RgpdRequestInvalidError(ValidationError):
    slug = "rgpd-request-invalid"
    title = "The data-subject request is not valid for its right"


class ExtensionRefusedError(ValidationError):
    slug = "rgpd-extension-refused"
    title = "The deadline cannot be extended"


class ExportNotReadyError(ConflictError):
    slug = "rgpd-export-not-ready"
    title = "The export is not ready"


# ---- what each right asks for ----------------------------------------------------------------------


class RightDetails(BaseModel):
    """Fields every right accepts; each right adds its own. Unknown fields are errors, never dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: str | None = Field(None, max_length=1000, description="the person's own words, kept with the request")


class AccessDetails(RightDetails):
    """RGPD art. 15: a copy of everything held. Nothing else to say."""


class PortabilityDetails(RightDetails):
    """RGPD art. 20: the data in a structured, commonly used, machine-readable format (JSON and CSV)."""


RECTIFIABLE = (
    "given_name",
    "first_surname",
    "second_surname",
    "birth_date",
    "email",
    "phone",
    "address.street",
    "address.number",
    "address.postal_code",
    "address.district",
)


class RectificationDetails(RightDetails):
    """RGPD art. 16: the fields to correct and their correct values."""

    fields: dict[str, str] = Field(
        min_length=1, description=f"field -> correct value; fields: {', '.join(RECTIFIABLE)}"
    )


class ErasureDetails(RightDetails):
    """RGPD art. 17: the ground of art. 17.1 the person invokes, if they name one."""

    grounds: (
        Literal[
            "no-longer-necessary",
            "consent-withdrawn",
            "objection",
            "unlawful",
            "legal-obligation",
            "information-society",
        ]
        | None
    ) = None


class RestrictionDetails(RightDetails):
    """RGPD art. 18.1 (a)-(d): why processing is to be restricted; ``lift`` ends a restriction (art. 18.3)."""

    grounds: Literal["accuracy-contested", "unlawful-processing", "needed-for-claims", "objection-pending"]
    lift: bool = False


class ObjectionDetails(RightDetails):
    """RGPD art. 21: the purposes objected to; ``withdraw`` takes the objection back."""

    purposes: list[str] = Field(min_length=1, max_length=20)
    grounds: str | None = Field(None, max_length=1000, description="the person's particular situation (art. 21.1)")
    withdraw: bool = False


DETAILS: dict[str, type[RightDetails]] = {
    "access": AccessDetails,
    "portability": PortabilityDetails,
    "rectification": RectificationDetails,
    "erasure": ErasureDetails,
    "restriction": RestrictionDetails,
    "objection": ObjectionDetails,
}


@dataclass(frozen=True)
class PurposeTerms:
    """What this domain needs of the consent terms: the declared purposes and which are legal obligations."""

    purposes: frozenset[str]
    legal_obligations: frozenset[str]

    @classmethod
    def published(cls, terms: Terms) -> PurposeTerms:
        """The purposes of the published terms (``functions.core.terms``, the kernel's reading of them)."""
        return cls(
            purposes=frozenset(terms.purposes),
            legal_obligations=frozenset(p for p, v in terms.purposes.items() if v.legal_obligation),
        )


def validate_details(right: str, details: Mapping[str, Any], terms: PurposeTerms, today: date) -> dict[str, Any]:
    """The right's fields, checked (``today``: the date in Madrid when the request is received, for what may not
    be in the future); ``RgpdRequestInvalidError`` naming every invalid field otherwise."""
    model = DETAILS[right]
    try:
        parsed = model.model_validate(dict(details))
    except pydantic.ValidationError as exc:
        raise RgpdRequestInvalidError(
            f"the fields of a {right} request are not valid", errors=pydantic_errors(exc)
        ) from exc
    errors: list[dict[str, Any]] = []
    if isinstance(parsed, RectificationDetails):
        errors = _rectification_errors(parsed.fields, today)
    elif isinstance(parsed, ObjectionDetails):
        errors = _objection_errors(parsed.purposes, terms)
    if errors:
        raise RgpdRequestInvalidError(f"the fields of a {right} request are not valid", errors=errors)
    return parsed.model_dump(mode="json", exclude_none=True)


def _rectification_errors(fields: dict[str, str], today: date) -> list[dict[str, Any]]:
    errors = []
    for name, value in fields.items():
        where = f"fields.{name}"
        if name not in RECTIFIABLE:
            errors.append(_error(where, f"not a rectifiable field; one of {', '.join(RECTIFIABLE)}", "unknown_field"))
        elif not value.strip():
            errors.append(_error(where, "the correct value must not be empty", "empty"))
        elif problem := _value_problem(name, value.strip(), today):
            errors.append(_error(where, problem, "invalid_value"))
    return errors


def _value_problem(name: str, value: str, today: date) -> str | None:
    """Why ``value`` cannot be the correct value of ``name`` (contact points: ``functions.core.contact``)."""
    if name == "birth_date":
        try:
            born = date.fromisoformat(value)
        except ValueError:
            return "a date as YYYY-MM-DD"
        return "a birth date cannot be in the future" if born > today else None
    checks = {"email": contact.email, "phone": contact.phone}  # the platform's one rule (C360 matches by it)
    if name in checks:
        try:
            checks[name](value)
        except contact.ContactError as exc:
            return str(exc)
        return None
    if name == "address.postal_code" and not (len(value) == 5 and value.isdigit()):
        return "a Spanish postal code: five digits"
    if name == "address.district" and not (value.isdigit() and 1 <= int(value) <= 21 and len(value) == 2):
        return "an official district code of Madrid, 01 to 21"
    return None


def _objection_errors(purposes: list[str], terms: PurposeTerms) -> list[dict[str, Any]]:
    errors = []
    for i, purpose in enumerate(purposes):
        where = f"purposes.{i}"
        if purpose not in terms.purposes:
            errors.append(_error(where, f"unknown purpose {purpose!r}; one of {', '.join(sorted(terms.purposes))}"))
        elif purpose in terms.legal_obligations:
            errors.append(
                _error(
                    where,
                    f"{purpose!r} rests on a legal obligation (RGPD art. 6.1.c; Ley 39/2015 art. 41): the right to "
                    "object (art. 21.1) covers processing on art. 6.1.e or 6.1.f only",
                    "not_objectable",
                )
            )
    if len(set(purposes)) != len(purposes):
        errors.append(_error("purposes", "purposes must not repeat", "duplicate"))
    return errors


def _error(field_name: str, message: str, code: str = "invalid") -> dict[str, Any]:
    return {"field": field_name, "message": message, "code": code}


# ---- requests, answers and their fold ---------------------------------------------------------------


@dataclass(frozen=True)
class Requester:
    """Who asked: the citizen themselves, or an agent on their behalf (Ley 39/2015 art. 12)."""

    kind: Literal["citizen", "agent"]
    id: str
    level: int = 0
    access_purpose: str | None = None


@dataclass(frozen=True)
class OpenRequest:
    """A person exercises a right: whose data, which right, that right's fields as sent, and who asks."""

    citizen_id: str
    right: str
    details: Mapping[str, Any]
    requester: Requester


@dataclass(frozen=True)
class ExtendDeadline:
    """An agent extends a request's deadline (art. 12.3), with the reason the person is told."""

    request_id: str
    reason: str
    by: str


@dataclass(frozen=True)
class Extension:
    """The art. 12.3 extension: why, who decided it, when, and the deadlines before and after."""

    reason: str
    by: str
    at: datetime
    due_at_before: datetime
    due_at: datetime


@dataclass(frozen=True)
class RgpdRequest:
    request_id: str
    citizen_id: str
    right: str
    details: dict[str, Any]
    opened_at: datetime
    due_at: datetime
    domains: tuple[str, ...]
    requested_by: Requester
    extension: Extension | None = None
    status: Status = "in-progress"
    completed_at: datetime | None = None
    version: int | None = None


@dataclass(frozen=True)
class DomainAnswer:
    """A domain's answer as received: the proof of what it did (who, when, what)."""

    domain: str
    outcome: str
    actions: list[dict[str, Any]]
    answered_at: datetime
    received_at: datetime
    event_source: str
    event_id: str
    reason: str | None = None
    export_chunks: int = 0
    export_sha256: str | None = None


def expected_domains() -> tuple[str, ...]:
    """Every domain that must answer: the consumers of ``rgpd.request.opened`` in the catalog.

    A new domain joins by adding its Trigger and naming its consumer there; requests opened before that
    keep the set they were opened with.
    """
    return tuple(sorted({domain_of(c) for c in CATALOG[REQUEST_OPENED].consumers}))


def open_request(
    citizen_id: str, right: str, details: dict[str, Any], requester: Requester, now: datetime
) -> tuple[RgpdRequest, RgpdRequestOpened]:
    """A new request and the event that fans it out; ``details`` already validated."""
    request = RgpdRequest(
        request_id=f"rgpd-{uuid.uuid4().hex}",
        citizen_id=citizen_id,
        right=right,
        details=details,
        opened_at=now,
        due_at=deadlines.due_at(now),
        domains=expected_domains(),
        requested_by=requester,
    )
    if not request.domains:
        request = replace(request, status="completed", completed_at=now)
    event = RgpdRequestOpened(
        request_id=request.request_id,
        citizen_id=citizen_id,
        right=right,  # type: ignore[arg-type]  # validated against RIGHTS by the caller
        details=details,
        opened_at=now,
        due_at=request.due_at,
    )
    return request, event


def extend(request: RgpdRequest, reason: str, by: str, now: datetime) -> RgpdRequest:
    """Extend the deadline by two further months (art. 12.3): once, within the first month, with a reason."""
    if request.extension is not None:
        raise ExtensionRefusedError(
            f"request {request.request_id} was already extended on {request.extension.at.isoformat()}: "
            "art. 12.3 allows one extension of two further months"
        )
    if request.status == "completed":
        raise ExtensionRefusedError(f"request {request.request_id} is already completed")
    if now > request.due_at:
        raise ExtensionRefusedError(
            f"the first month ended at {request.due_at.isoformat()}: art. 12.3 requires the person to be told of "
            "an extension, with its reasons, within one month of receipt"
        )
    new_due = deadlines.extended_due_at(request.opened_at)
    extension = Extension(reason=reason, by=by, at=now, due_at_before=request.due_at, due_at=new_due)
    return replace(request, extension=extension, due_at=new_due)


def extended_event(request: RgpdRequest) -> RgpdRequestExtended:
    """What the notifications domain needs to tell the person of the extension and its reason (art. 12.3)."""
    assert request.extension is not None
    return RgpdRequestExtended(
        request_id=request.request_id,
        citizen_id=request.citizen_id,
        right=request.right,  # type: ignore[arg-type]  # validated on opening
        reason=request.extension.reason,
        due_at_before=request.extension.due_at_before,
        due_at=request.extension.due_at,
        extended_at=request.extension.at,
    )


def completed_event(
    request: RgpdRequest, state: Fold, answers: Iterable[DomainAnswer] = ()
) -> RgpdRequestCompleted | None:
    """The completion, once: only when this fold completes a request that was not completed before; with when
    each domain answered (for an erasure, when it erased)."""
    if state.status != "completed" or request.status == "completed" or state.completed_at is None:
        return None
    return RgpdRequestCompleted(
        request_id=request.request_id,
        citizen_id=request.citizen_id,
        right=request.right,  # type: ignore[arg-type]  # validated on opening
        completed_at=state.completed_at,
        due_at=request.due_at,
        overdue=state.overdue,
        export=f"/v1/rgpd-requests/{request.request_id}/export" if request.right in EXPORT_RIGHTS else None,
        answered={a.domain: a.answered_at for a in answers if a.domain in request.domains},
    )


@dataclass(frozen=True)
class Fold:
    """The status of a request, folded from its expected domains and their answers."""

    status: Status
    pending: list[str]
    failed: list[str]
    completed_at: datetime | None
    overdue: bool


def fold(request: RgpdRequest, answers: Iterable[DomainAnswer], now: datetime) -> Fold:
    """Completed when every expected domain answered ``done`` or ``not-applicable``; a ``failed`` answer
    makes the request need action (visible, never silent) until the domain answers again."""
    by_domain = {a.domain: a for a in answers}
    pending = [d for d in request.domains if d not in by_domain]
    failed = [d for d in request.domains if d in by_domain and by_domain[d].outcome == "failed"]
    status: Status
    completed_at = None
    if pending:
        status = "in-progress"
    elif failed:
        status = "action-required"
    else:
        status = "completed"
        completed_at = max((by_domain[d].received_at for d in request.domains), default=request.opened_at)
    return Fold(status, pending, failed, completed_at, deadlines.is_overdue(request.due_at, now, completed_at))


def accept_answer(
    request: RgpdRequest,
    answers: Mapping[str, DomainAnswer],
    data: RgpdDomainAnswered,
    source: str,
    source_base: str,
) -> bool:
    """Whether to record a domain's answer; ``InvalidEventError`` (dead-lettered with the reason) if it is
    not an answer to this request by a domain that must answer it.

    A ``failed`` answer may be replaced by a later one (the domain retried); a final answer stands.
    """
    if data.citizen_id != request.citizen_id:
        raise InvalidEventError(f"request {request.request_id} is about another citizen than {data.citizen_id}")
    if data.domain not in request.domains:
        raise InvalidEventError(
            f"domain {data.domain!r} is not among the domains that must answer {request.request_id}: "
            f"{', '.join(request.domains)}"
        )
    expected_source = f"{source_base}/{data.domain}"
    if source != expected_source:
        raise InvalidEventError(f"domain {data.domain!r} answers from {expected_source}, not {source}")
    if data.export is not None and request.right not in EXPORT_RIGHTS:
        raise InvalidEventError(f"an export answers access or portability, not {request.right}")
    if data.outcome == "failed" and not data.reason:
        raise InvalidEventError("a failed answer must say why (reason)")
    previous = answers.get(data.domain)
    return previous is None or previous.outcome == "failed"


# ---- restriction and objection flags --------------------------------------------------------------


@dataclass(frozen=True)
class Flags:
    citizen_id: str
    restricted: bool = False
    objections: tuple[str, ...] = ()
    changed_at: datetime | None = None
    version: int | None = None


def flags_after(flags: Flags, right: str, details: dict[str, Any], now: datetime) -> Flags | None:
    """The flags once a restriction or objection request is received; ``None`` when nothing changes.

    The flags change on receipt: restriction protects the person while the request is dealt with
    (art. 18.1.a: "for a period enabling the controller to verify the accuracy").
    """
    if right == "restriction":
        new = replace(flags, restricted=not details.get("lift", False))
    elif right == "objection":
        purposes = set(details.get("purposes", []))
        current = set(flags.objections)
        objections = current - purposes if details.get("withdraw") else current | purposes
        new = replace(flags, objections=tuple(sorted(objections)))
    else:
        return None
    if (new.restricted, new.objections) == (flags.restricted, flags.objections):
        return None
    return replace(new, changed_at=now)


def flags_event(flags: Flags) -> RgpdFlagsChanged:
    assert flags.changed_at is not None
    return RgpdFlagsChanged(
        citizen_id=flags.citizen_id,
        restricted=flags.restricted,
        objections=list(flags.objections),
        changed_at=flags.changed_at,
    )


# ---- the access/portability export ---------------------------------------------------------------


def ready_for_export(request: RgpdRequest, answers: Iterable[DomainAnswer], now: datetime) -> Fold:
    """The request's fold, if its export can be built: an access or portability request every domain has
    answered; ``ExportNotReadyError`` (409) saying what it waits for otherwise."""
    if request.right not in EXPORT_RIGHTS:
        raise ExportNotReadyError(f"request {request.request_id} is a {request.right} request: it has no export")
    state = fold(request, answers, now)
    if state.status != "completed":
        raise ExportNotReadyError(
            f"request {request.request_id} is {state.status}; pending: {', '.join(state.pending) or 'none'}, "
            f"failed: {', '.join(state.failed) or 'none'}"
        )
    return state


def own_data(requests: Iterable[RgpdRequest], flags: Flags, now: datetime) -> dict[str, Any]:
    """What this domain holds about the person, as JSON values: their requests (kept as evidence, RGPD
    art. 5.2) and their flags."""
    held = {
        "requests": [summary_view(r, now) for r in requests],
        "flags": {"restricted": flags.restricted, "objections": list(flags.objections), "changed_at": flags.changed_at},
    }
    return dict(json.loads(json.dumps(held, default=str)))


OWN_DOMAIN = "rgpd"  # this domain's own data in the export, beside the domains that answered


def export_document(
    request: RgpdRequest, state: Fold, answers: Iterable[DomainAnswer], exports: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """The export's JSON document: the request, and per domain when it answered, what it did and what it holds
    (``exports``: domain -> data, this domain's own under ``OWN_DOMAIN``)."""
    return {
        "request_id": request.request_id,
        "citizen_id": request.citizen_id,
        "right": request.right,
        "opened_at": request.opened_at,
        "completed_at": state.completed_at,
        "generated_at": now,
        "format": "RGPD art. 15.3 and art. 20.1: JSON of everything held, and one CSV per domain and table",
        "domains": {
            **{
                a.domain: {"answered_at": a.answered_at, "actions": a.actions, "data": exports.get(a.domain)}
                for a in sorted(answers, key=lambda a: a.domain)
            },
            OWN_DOMAIN: {"answered_at": now, "actions": [], "data": exports.get(OWN_DOMAIN)},
        },
    }


# ---- views ----------------------------------------------------------------------------------------


def request_view(request: RgpdRequest, answers: list[DomainAnswer], now: datetime) -> dict[str, Any]:
    """What the person (or the agent) sees: status, deadline, and per domain what was done and why."""
    state = fold(request, answers, now)
    by_domain = {a.domain: a for a in answers}
    return {
        "request_id": request.request_id,
        "citizen_id": request.citizen_id,
        "right": request.right,
        "details": request.details,
        "status": state.status,
        "opened_at": request.opened_at,
        "due_at": request.due_at,
        "overdue": state.overdue,
        "completed_at": state.completed_at,
        "legal_deadline": "RGPD art. 12.3: one month from receipt, extendable by two further months",
        "extension": _extension_view(request.extension),
        "requested_by": _requester_view(request.requested_by),
        "pending_domains": state.pending,
        "failed_domains": state.failed,
        "domains": [_answer_view(d, by_domain.get(d), request) for d in request.domains],
        "export": (
            f"/v1/rgpd-requests/{request.request_id}/export"
            if request.right in EXPORT_RIGHTS and state.status == "completed"
            else None
        ),
    }


def _requester_view(requester: Requester) -> dict[str, Any]:
    view: dict[str, Any] = {"kind": requester.kind, "id": requester.id}
    if requester.kind == "agent":
        view["level"] = requester.level
        if requester.access_purpose:
            view["access_purpose"] = requester.access_purpose
    return view


def _extension_view(extension: Extension | None) -> dict[str, Any] | None:
    if extension is None:
        return None
    return {
        "reason": extension.reason,
        "by": extension.by,
        "at": extension.at,
        "due_at_before": extension.due_at_before,
        "due_at": extension.due_at,
    }


def _answer_view(domain: str, answer: DomainAnswer | None, request: RgpdRequest) -> dict[str, Any]:
    if answer is None:
        return {"domain": domain, "outcome": "pending"}
    return {
        "domain": domain,
        "outcome": answer.outcome,
        "reason": answer.reason,
        "actions": answer.actions,
        "answered_at": answer.answered_at,
        "received_at": answer.received_at,
        "proof": {"event_source": answer.event_source, "event_id": answer.event_id},
        "export_sha256": answer.export_sha256 if request.right in EXPORT_RIGHTS else None,
    }


def summary_view(request: RgpdRequest, now: datetime) -> dict[str, Any]:
    """One line of the citizen's list of requests (the stored status; details are in the request itself)."""
    return {
        "request_id": request.request_id,
        "right": request.right,
        "status": request.status,
        "opened_at": request.opened_at,
        "due_at": request.due_at,
        "overdue": deadlines.is_overdue(request.due_at, now, request.completed_at),
        "completed_at": request.completed_at,
    }


# ---- the domain's port ------------------------------------------------------------------------------


class RgpdStore(Protocol):
    """What the data-subject-rights domain reads and stages (``storage.DynamoRgpdStore`` in production; an
    in-memory fake in the handlers' unit tests). A request and the flags are versioned: staged at the version
    read, a unit loses the race if another committed first."""

    def fetch_request(self, request_id: str) -> RgpdRequest | None: ...
    def fetch_requests_of(self, citizen_id: str, limit: int = 100) -> list[RgpdRequest]: ...
    def fetch_answers(self, request_id: str) -> list[DomainAnswer]: ...
    def fetch_export(self, request_id: str, domain: str) -> list[str]: ...
    def fetch_flags(self, citizen_id: str) -> Flags: ...
    def stage_request(self, uow: UnitOfWork, request: RgpdRequest) -> None: ...
    def stage_answer(self, uow: UnitOfWork, request_id: str, answer: DomainAnswer, export_text: str | None) -> None: ...
    def stage_flags(self, uow: UnitOfWork, flags: Flags) -> None: ...
