"""Cases (CASE) events: a citizen's request that needs the council's attention, on one of four levels.

Channels and back-offices (the assistant's hand-over, the 010 line, an office, an area system) send
``es.madrid.pic.case.requested.v1`` (or ``POST /v1/cases``); ``pic-case`` opens the case in the area's queue
and announces every change of it as ``es.madrid.pic.case.updated.v1`` (what the citizen may see: state,
level, links; the global position projects it). The SLA sweep raises ``es.madrid.pic.case.sla.warning.v1``
and ``es.madrid.pic.case.sla.breached.v1`` once per clock and cycle.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field

from events.base import EventData
from events.consent import ID_PATTERN
from events.interaction import AREA_PATTERN, INTERACTION_ID_PATTERN

CATEGORY_PATTERN = r"^[a-z][a-z0-9-]{1,47}$"
CASE_ID_PATTERN = r"^case-[0-9a-f]{24}$"
ARTICLE_PATTERN = r"^[a-z0-9][a-z0-9-]{1,95}$"
Channel = Literal["office-visit", "call", "chat", "whatsapp", "email", "app", "web", "assistant", "letter"]
State = Literal["new", "open", "waiting-on-citizen", "waiting-on-area", "resolved", "closed", "merged"]
Measure = Literal["first-response", "next-response", "resolution"]


class TranscriptLine(EventData):
    """One message of the conversation that led to the case (an assistant's hand-over, a chat)."""

    at: AwareDatetime
    speaker: Literal["citizen", "assistant", "agent"]
    text: str = Field(min_length=1, max_length=2000)


class CaseRequested(EventData):
    """A channel or a back-office asks the council to attend a citizen's request as a case.

    ``request_id`` is the requester's own id: the same request sent again opens nothing new (over HTTP the
    ``Idempotency-Key`` does the same). The area's configuration says which level and queue take the
    ``category`` and which SLA clocks run.
    """

    request_id: str | None = Field(None, pattern=INTERACTION_ID_PATTERN, description="the requester's own id")
    citizen_id: str = Field(pattern=ID_PATTERN, description="the golden record (C360) the case is about")
    area: str = Field(pattern=AREA_PATTERN, examples=["hacienda"])
    category: str = Field(pattern=CATEGORY_PATTERN, examples=["ibi-recibo"])
    channel: Channel
    subject: str = Field(min_length=3, max_length=200, examples=["No me ha llegado el recibo del IBI"])
    description: str = Field("", max_length=4000)
    priority: int = Field(0, ge=0, le=3, description="0 normal … 3 urgent; higher is served first")
    transcript: list[TranscriptLine] = Field(default_factory=list, max_length=200)
    interaction_ids: list[str] = Field(default_factory=list, max_length=20, description="PIC's interaction ids")
    kb_articles: list[str] = Field(default_factory=list, max_length=20, description="knowledge-base articles used")


class CaseUpdated(EventData):
    """``pic-case`` opened or changed a case: what the citizen may see of it (no messages, no notes)."""

    case_id: str = Field(pattern=CASE_ID_PATTERN)
    reference: str = Field(description="the public reference the citizen quotes, e.g. EXP-2026-7F3A9C")
    citizen_id: str = Field(pattern=ID_PATTERN)
    area: str = Field(pattern=AREA_PATTERN)
    category: str = Field(pattern=CATEGORY_PATTERN)
    level: int = Field(ge=1, le=3)
    state: State
    channel: Channel
    subject: str
    opened_at: datetime
    updated_at: datetime
    version: int = Field(ge=1, description="the case's version: the latest wins wherever it is projected")
    parent_id: str | None = None
    children: list[str] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list)
    merged_into: str | None = None


class CaseSlaRaised(EventData):
    """An SLA clock of a case passed its warning share or its target, computed from the case's history on the
    area's business calendar; raised once per clock and cycle (a next response's cycle is a citizen message)."""

    case_id: str = Field(pattern=CASE_ID_PATTERN)
    area: str = Field(pattern=AREA_PATTERN)
    category: str = Field(pattern=CATEGORY_PATTERN)
    level: int = Field(ge=1, le=3)
    queue: str
    assignee: str | None = None
    measure: Measure
    status: Literal["warning", "breached"]
    elapsed_seconds: float = Field(ge=0, description="business seconds the clock ran")
    target_seconds: float = Field(gt=0)
    due_at: datetime | None = Field(None, description="when it breaches if nothing changes (warnings)")
    breached_at: datetime | None = None
    raised_at: datetime


class CaseSlaWarning(CaseSlaRaised):
    """``es.madrid.pic.case.sla.warning.v1``: a clock passed its warning share."""


class CaseSlaBreached(CaseSlaRaised):
    """``es.madrid.pic.case.sla.breached.v1``: a clock passed its target."""
