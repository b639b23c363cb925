"""Interaction log (INTX), pure logic: identity of an interaction, replay or conflict, the logged event.

An interaction is identified by who recorded it and the recorder's own id, so two systems may reuse ids
without colliding, and a recorder that sends the same interaction twice (a retry, a redelivery) changes
nothing. The same id with other content is refused: a recorder must not rewrite history silently.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from events.interaction import InteractionLogged, InteractionRecorded
from functions.core.errors import NotFoundError, PicError
from functions.core.paging import Position

if TYPE_CHECKING:  # the port names the kernel's unit of work; this module stays free of its adapters
    from functions.core.store import UnitOfWork


class InteractionConflictError(PicError):
    status, slug, title = 422, "interaction-conflict", "This interaction was recorded with other content"


class InteractionNotFoundError(NotFoundError):
    slug, title = "not-found", "No such interaction"


@dataclass(frozen=True)
class Stored:
    """An interaction as stored: PIC's id for it, its content and who recorded it when."""

    id: str
    interaction: InteractionRecorded
    content_sha256: str
    recorded_by: str
    recorded_at: datetime


def interaction_key(recorder: str, interaction_id: str) -> str:
    """PIC's id: stable for (recorder, the recorder's id); reveals neither."""
    digest = hashlib.sha256(f"{recorder}\n{interaction_id}".encode()).hexdigest()[:24]
    return f"intx-{digest}"


def content_hash(interaction: InteractionRecorded) -> str:
    return hashlib.sha256(interaction.model_dump_json().encode()).hexdigest()


def prepare(
    interaction: InteractionRecorded, recorder: str, existing: Stored | None, now: datetime
) -> tuple[Stored, InteractionLogged | None]:
    """What to store and announce; ``None`` as the event when it is a replay of the same content."""
    key = interaction_key(recorder, interaction.interaction_id)
    digest = content_hash(interaction)
    if existing is not None:
        if existing.content_sha256 != digest:
            raise InteractionConflictError(
                f"interaction {interaction.interaction_id!r} from {recorder} was already recorded with other "
                "content; record a correction under a new interaction_id"
            )
        return existing, None
    stored = Stored(id=key, interaction=interaction, content_sha256=digest, recorded_by=recorder, recorded_at=now)
    return stored, InteractionLogged(id=key, interaction=interaction, recorded_by=recorder, recorded_at=now)


def subject_of(interaction: InteractionRecorded) -> str:
    """Who it is about, for the policy and the event subject: the golden record, or ``source#local_id``."""
    if interaction.citizen_id:
        return interaction.citizen_id
    assert interaction.record is not None  # the model requires one of the two
    return f"{interaction.record.source}#{interaction.record.local_id}"


def view(stored: Stored) -> dict[str, object]:
    """The API's representation of a stored interaction."""
    return {
        "id": stored.id,
        **stored.interaction.model_dump(mode="json"),
        "recorded_by": stored.recorded_by,
        "recorded_at": stored.recorded_at.isoformat(),
    }


def timeline_item(stored: Stored) -> dict[str, object]:
    """One interaction in a citizen's timeline: when, where and how, not what was talked about (the fields as
    ``view`` writes them)."""
    shown = stored.interaction.model_dump(mode="json", include={"channel", "area", "outcome", "started_at", "ended_at"})
    return {
        "id": stored.id,
        "channel": shown["channel"]["kind"],
        "area": shown["area"],
        "outcome": shown["outcome"],
        "started_at": shown["started_at"],
        "ended_at": shown["ended_at"],
        "recorded_at": stored.recorded_at.isoformat(),
    }


def position_of(stored: Stored) -> Position:
    """Where an interaction sits in its citizen's timeline (index ``by-citizen``'s order, then PIC's id)."""
    return Position(stored.recorded_at, stored.id)


# ---- the domain's port ------------------------------------------------------------------------------


class InteractionStore(Protocol):
    """What the interaction log reads and stages (``storage.DynamoInteractionStore`` in production; an
    in-memory fake in the handlers' unit tests). The log is append-only: ``stage`` fails the commit if the id
    was stored meanwhile (a lost race), and an RGPD erasure is its only deletion."""

    def fetch(self, interaction_id: str) -> Stored | None: ...
    def fetch_by_citizen(self, citizen_id: str) -> list[Stored]: ...
    def fetch_citizen_page(self, citizen_id: str, limit: int, after: Position | None) -> list[Stored]:
        """Up to ``limit`` of the interactions recorded with this ``citizen_id``, newest first (``recorded_at``,
        then id), strictly after ``after``; one Query of the index, never a scan."""
        ...

    def stage(self, uow: UnitOfWork, stored: Stored) -> None: ...
    def stage_erase(self, uow: UnitOfWork, stored: Stored) -> None: ...
