"""Interaction log (INTX) events: every contact a person has with the council, whatever the channel.

Channels, agents' desktops and the offices' queue manager send ``es.madrid.pic.interaction.recorded.v1``
(or ``POST /v1/interactions``); ``pic-interaction`` stores it and announces
``es.madrid.pic.interaction.logged.v1``, which the global position projects.

Who an interaction is about is either a golden record (``citizen_id``) or an area system's record
(``record``: source + local_id), which the position attaches to its golden record through the links C360
announces (contracts.md §1).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, Field, model_validator

from events.base import EventData
from events.citizen import SourceRecord
from events.consent import ID_PATTERN

INTERACTION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
AREA_PATTERN = r"^[a-z][a-z0-9-]{1,47}$"
Kind = Literal["office-visit", "call", "chat", "whatsapp", "email", "app"]
KINDS: tuple[str, ...] = ("office-visit", "call", "chat", "whatsapp", "email", "app")


class OfficeVisit(EventData):
    """A visit to a citizen-attention office (OAC), as the queue manager records it."""

    kind: Literal["office-visit"]
    office: str = Field(min_length=1, max_length=64, examples=["OAC Arganzuela"])
    service: str = Field(min_length=1, max_length=128, examples=["Empadronamiento"])
    ticket: str = Field(min_length=1, max_length=16, examples=["A042"])
    issued_at: AwareDatetime = Field(description="when the ticket was taken")
    called_at: AwareDatetime | None = Field(None, description="when the ticket was called to a desk")
    desk: str | None = Field(None, max_length=16)
    wait_seconds: float | None = Field(None, ge=0, description="how long the person waited to be attended")
    handling_seconds: float | None = Field(None, ge=0, description="how long the attention took")

    @model_validator(mode="after")
    def _called_after_issued(self) -> Self:
        if self.called_at is not None and self.called_at < self.issued_at:
            raise ValueError("called_at must not be before issued_at")
        return self


class Call(EventData):
    """A phone call (010 Línea Madrid or an area's line)."""

    kind: Literal["call"]
    direction: Literal["inbound", "outbound"]
    line: str = Field(min_length=1, max_length=32, examples=["010"])
    queue: str | None = Field(None, max_length=64)
    wait_seconds: float | None = Field(None, ge=0, description="how long the person waited to be attended")
    handling_seconds: float | None = Field(None, ge=0, description="how long the attention took")


class Chat(EventData):
    kind: Literal["chat"]
    conversation_id: str = Field(min_length=1, max_length=128)
    bot_only: bool = Field(False, description="answered by the assistant alone, no agent joined")
    queue: str | None = Field(None, max_length=64)
    wait_seconds: float | None = Field(None, ge=0, description="how long the person waited to be attended")
    handling_seconds: float | None = Field(None, ge=0, description="how long the attention took")


class WhatsApp(EventData):
    kind: Literal["whatsapp"]
    conversation_id: str = Field(min_length=1, max_length=128)
    direction: Literal["inbound", "outbound"]
    queue: str | None = Field(None, max_length=64)
    wait_seconds: float | None = Field(None, ge=0, description="how long the person waited to be attended")
    handling_seconds: float | None = Field(None, ge=0, description="how long the attention took")


class Email(EventData):
    kind: Literal["email"]
    direction: Literal["inbound", "outbound"]
    mailbox: str = Field(min_length=1, max_length=128, examples=["atencion@madrid.es"])
    message_id: str | None = Field(None, max_length=256)


class AppSession(EventData):
    kind: Literal["app"]
    app: Literal["madrid-movil", "sede-electronica", "web"] = "madrid-movil"
    action: str = Field(min_length=1, max_length=128, examples=["pago de recibo IBI"])


Channel = Annotated[OfficeVisit | Call | Chat | WhatsApp | Email | AppSession, Field(discriminator="kind")]


class InteractionRecorded(EventData):
    """A channel, agent desktop or the queue manager records one interaction with a person.

    Exactly one of ``citizen_id`` (a golden record) or ``record`` (an area system's record) names who it
    was with. ``channel.kind`` selects the typed detail of each kind. Sending the same ``interaction_id``
    again with the same content changes nothing; with another content it is refused.
    """

    interaction_id: str = Field(pattern=INTERACTION_ID_PATTERN, description="the recording system's own id")
    citizen_id: str | None = Field(None, pattern=ID_PATTERN)
    record: SourceRecord | None = None
    channel: Channel
    area: str = Field(pattern=AREA_PATTERN, examples=["hacienda"], description="the council area attended")
    topic: str = Field(min_length=1, max_length=200, examples=["Duda sobre el recibo del IBI"])
    outcome: Literal["resolved", "redirected", "pending", "abandoned"] = "resolved"
    started_at: AwareDatetime
    ended_at: AwareDatetime | None = None
    agent_id: str | None = Field(None, max_length=128, description="the agent who attended, if any")
    case_id: str | None = Field(None, max_length=64, description="the case (expediente) it concerns, if any")

    @model_validator(mode="after")
    def _one_subject_and_times_in_order(self) -> Self:
        if (self.citizen_id is None) == (self.record is None):
            raise ValueError("name exactly one of citizen_id or record (source, local_id)")
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise ValueError("ended_at must not be before started_at")
        return self


class InteractionLogged(EventData):
    """``pic-interaction`` stored an interaction: what the global position projects."""

    id: str = Field(description="PIC's id of the stored interaction (GET /v1/interactions/{id})")
    interaction: InteractionRecorded
    recorded_by: str = Field(description="the system (event source) or principal that recorded it")
    recorded_at: datetime
