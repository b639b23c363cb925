"""Contact routing (CCAAS) events: every state a call, chat or WhatsApp conversation passes through in the routing
engine (``functions/routing``), and the offices' queue manager's tickets, which feed the same interaction log and
statistics.

``pic-routing`` announces each state of a contact as ``es.madrid.pic.contact.<state>.v1``: ``offered`` (to one
agent, until ``expires_at``), ``accepted``, ``rejected``, ``timed-out`` (the offer expired: the agent is set away),
``abandoned`` (the caller hung up before being attended), ``ended`` (attended; the interaction is logged), and
``fell-back`` (every routing step expired: moved to another queue, a callback or a case). Telephony is the
connector's (a CCaaS or a PBX): PIC never carries voice.

The offices' queue manager (``gestor-colas``) sends ``es.madrid.pic.office.ticket.<state>.v1``: ``issued``,
``called``, ``served``, ``no-show``, ``cancelled``, ``transferred``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

from pydantic import AwareDatetime, Field, model_validator

from events.base import EventData
from events.citizen import SourceRecord
from events.consent import ID_PATTERN
from events.interaction import AREA_PATTERN

CONTACT_ID_PATTERN = r"^ctc-[0-9a-f]{24}$"
QUEUE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,47}$"
ContactChannel = Literal["call", "chat", "whatsapp"]
ContactState = Literal["waiting", "offered", "active", "ended", "abandoned", "fallen-back"]


class ContactFact(EventData):
    """What every contact event says: which contact, on which channel and queue, at which routing step, when.
    A citizen id only when the contact is known to be theirs (identified in the IVR, by the connector or by the
    agent)."""

    contact_id: str = Field(pattern=CONTACT_ID_PATTERN)
    channel: ContactChannel
    queue: str = Field(pattern=QUEUE_PATTERN)
    area: str = Field(pattern=AREA_PATTERN)
    level: int = Field(ge=1, le=3)
    priority: int = Field(ge=0, le=9)
    step: int = Field(ge=0, description="the routing step in force (0 is the first)")
    citizen_id: str | None = Field(None, pattern=ID_PATTERN)
    at: datetime


class ContactOffered(ContactFact):
    """``es.madrid.pic.contact.offered.v1``: offered to one agent until ``expires_at``."""

    agent_id: str
    expires_at: datetime


class ContactAccepted(ContactFact):
    """``es.madrid.pic.contact.accepted.v1``: the agent took it; the wait ends here."""

    agent_id: str
    wait_seconds: float = Field(ge=0)


class ContactRejected(ContactFact):
    """``es.madrid.pic.contact.rejected.v1``: the agent declined the offer; it goes to the next agent."""

    agent_id: str


class ContactTimedOut(ContactFact):
    """``es.madrid.pic.contact.timed-out.v1``: the offer expired unanswered; the agent is set away and the
    contact goes to the next agent."""

    agent_id: str


class ContactAbandoned(ContactFact):
    """``es.madrid.pic.contact.abandoned.v1``: the caller left before an agent accepted."""

    wait_seconds: float = Field(ge=0)


class ContactEnded(ContactFact):
    """``es.madrid.pic.contact.ended.v1``: attended and finished (its interaction is logged when the citizen is
    known)."""

    agent_id: str
    wait_seconds: float = Field(ge=0)
    handling_seconds: float = Field(ge=0)
    outcome: Literal["resolved", "redirected", "pending"]


class ContactFellBack(ContactFact):
    """``es.madrid.pic.contact.fell-back.v1``: every routing step expired: moved to ``to_queue``, or left for a
    callback or a case (an expert queue never falls back to "any agent")."""

    to: Literal["queue", "callback", "case"]
    to_queue: str | None = Field(None, pattern=QUEUE_PATTERN)


# ---- the offices' queue manager ------------------------------------------------------------------------------

TicketState = Literal["issued", "called", "served", "no-show", "cancelled", "transferred"]


class TicketFact(EventData):
    """A ticket of an office's queue manager (turno). ``ticket`` is the number shown on screen (``A042``),
    unique in its office on the day it was issued; who it is, when known (a DNI read at the kiosk, a Cita Previa
    appointment): a golden record (``citizen_id``) or an area system's record (``record``)."""

    office: str = Field(pattern=QUEUE_PATTERN, examples=["oac-arganzuela"])
    ticket: str = Field(pattern=r"^[A-Z0-9]{1,8}$", examples=["A042"])
    issued_at: AwareDatetime = Field(description="when the ticket was taken: with the office and number, its id")
    queue: str = Field(pattern=QUEUE_PATTERN, examples=["oac-arganzuela-padron"], description="the service's queue")
    service: str = Field(min_length=1, max_length=128, examples=["Empadronamiento"])
    area: str = Field(pattern=AREA_PATTERN, examples=["atencion-ciudadania"])
    at: AwareDatetime = Field(description="when this state was reached")
    citizen_id: str | None = Field(None, pattern=ID_PATTERN)
    record: SourceRecord | None = None

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        if self.at < self.issued_at:
            raise ValueError("at must not be before issued_at")
        if self.citizen_id is not None and self.record is not None:
            raise ValueError("name at most one of citizen_id or record")
        return self


class TicketIssued(TicketFact):
    """``es.madrid.pic.office.ticket.issued.v1``: a ticket was taken at the kiosk (offered to the queue)."""


class TicketCalled(TicketFact):
    """``es.madrid.pic.office.ticket.called.v1``: called to a desk (the wait ends)."""

    desk: str = Field(min_length=1, max_length=16)
    agent_id: str | None = Field(None, max_length=128)


class TicketServed(TicketFact):
    """``es.madrid.pic.office.ticket.served.v1``: attended at the desk and finished (an office visit is logged)."""

    desk: str = Field(min_length=1, max_length=16)
    agent_id: str | None = Field(None, max_length=128)
    outcome: Literal["resolved", "redirected", "pending"] = "resolved"


class TicketNoShow(TicketFact):
    """``es.madrid.pic.office.ticket.no-show.v1``: called, and nobody came to the desk."""

    desk: str | None = Field(None, max_length=16)


class TicketCancelled(TicketFact):
    """``es.madrid.pic.office.ticket.cancelled.v1``: the citizen left (or cancelled from the app) before being
    called."""


class TicketTransferred(TicketFact):
    """``es.madrid.pic.office.ticket.transferred.v1``: moved to another service's queue (it ends in this one)."""

    to_queue: str = Field(pattern=QUEUE_PATTERN)
