"""Data-subject rights (RGPD) events (contracts.md §3): a request fans out to every domain that holds personal
data, each domain answers what it did, and the restriction/objection flags every policy honours.

A domain is the Knative Service that consumes ``request.opened`` named without ``pic-`` and ``-events``
(``pic-consent-events`` answers as ``consent``): ``domain_of`` is the one mapping.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from events.base import EventData
from events.consent import ID_PATTERN

Right = Literal["access", "portability", "rectification", "erasure", "restriction", "objection"]
RIGHTS: tuple[str, ...] = ("access", "portability", "rectification", "erasure", "restriction", "objection")
ActionResult = Literal["exported", "erased", "kept", "rectified", "restricted", "objected"]
Outcome = Literal["done", "not-applicable", "failed"]


def domain_of(consumer: str) -> str:
    """The domain name a consumer (Knative Service) answers under: ``pic-consent-events`` -> ``consent``."""
    return consumer.removeprefix("pic-").removesuffix("-events")


class RgpdRequestOpened(EventData):
    """A data-subject request was received: every domain holding personal data must answer it.

    ``details`` are the right's own fields as validated by the rgpd function (e.g. ``fields`` for a
    rectification, ``purposes`` for an objection); ``due_at`` is the RGPD art. 12.3 deadline.
    """

    request_id: str = Field(pattern=ID_PATTERN)
    citizen_id: str = Field(pattern=ID_PATTERN)
    right: Right
    details: dict[str, Any] = Field(default_factory=dict)
    opened_at: datetime
    due_at: datetime


class DomainAction(EventData):
    """One thing a domain did for a request, and on what legal basis (``null`` when none is needed).

    ``category`` (optional, additive to contracts.md §3) names the ``policies/rgpd/retention`` category the
    action is about (``consent-proofs``, ``outbox-events``...): what a compliance officer or an audit maps the
    data found in the stores to. ``count`` is ``null`` for data the domain keeps but cannot count per person
    (copies in tables not indexed by person, removed by their TTL)."""

    what: str = Field(min_length=1, max_length=300, examples=["consent proofs"])
    count: int | None = Field(ge=0, description="null: not counted (not indexed by person)")
    result: ActionResult
    legal_basis: str | None = Field(None, max_length=500)
    category: str | None = Field(
        None, max_length=64, examples=["consent-proofs"], description="the retention category (policies/rgpd/retention)"
    )


class RgpdDomainAnswered(EventData):
    """A domain's answer to a request: what it exported, erased, kept (with the legal basis), rectified...

    ``export`` is everything the domain holds about the citizen, for access and portability only.
    ``reason`` (optional, additive to contracts.md §3) says why an answer is ``failed``.
    """

    request_id: str = Field(pattern=ID_PATTERN)
    citizen_id: str = Field(pattern=ID_PATTERN)
    domain: str = Field(pattern=r"^[a-z][a-z0-9-]{0,39}$")
    outcome: Outcome
    actions: list[DomainAction] = Field(default_factory=list)
    export: dict[str, Any] | None = None
    answered_at: datetime
    reason: str | None = Field(None, max_length=1000, description="why the answer is failed")


class RgpdFlagsChanged(EventData):
    """The restriction (RGPD art. 18) and objection (art. 21) flags of a citizen, as they now stand."""

    citizen_id: str = Field(pattern=ID_PATTERN)
    restricted: bool
    objections: list[str] = Field(default_factory=list, description="purposes the citizen objected to")
    changed_at: datetime


class RgpdRequestExtended(EventData):
    """The deadline of a request was extended by two further months (art. 12.3): the person must be told, with
    the reason, within the first month — the notifications domain consumes this to tell them."""

    request_id: str = Field(pattern=ID_PATTERN)
    citizen_id: str = Field(pattern=ID_PATTERN)
    right: Right
    reason: str = Field(min_length=1, max_length=1000)
    due_at_before: datetime
    due_at: datetime
    extended_at: datetime


class RgpdRequestCompleted(EventData):
    """Every domain answered a request: the person can be told, and for access/portability, that the export
    is ready at ``export``.

    ``answered`` (optional, additive) says when each domain answered: for an erasure, as of when it erased, so
    that a projection can drop the copies it made of a domain's data between its own erasure and that
    domain's (ADR 0012)."""

    request_id: str = Field(pattern=ID_PATTERN)
    citizen_id: str = Field(pattern=ID_PATTERN)
    right: Right
    completed_at: datetime
    due_at: datetime
    overdue: bool
    export: str | None = Field(None, description="path of the export, for access and portability")
    answered: dict[str, datetime] = Field(default_factory=dict, description="domain -> when it answered")
