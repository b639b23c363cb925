"""Interaction log (INTX), pure logic: identity of an interaction, replay or conflict, the logged event, and
the golden record an interaction recorded against an area system's record is attached to.

An interaction is identified by who recorded it and the recorder's own id, so two systems may reuse ids
without colliding, and a recorder that sends the same interaction twice (a retry, a redelivery) changes
nothing. The same id with other content is refused: a recorder must not rewrite history silently.

An interaction recorded against a record (``source`` + ``local_id``) is attached to the golden record C360
links that record to (``citizen.updated``, projected here as the kernel's ``RecordLinks``,
``functions.core.links``): stored with the link's ``citizen_id`` if the link is known, stamped with it when the
link arrives, stamped again when it moves (a merge or un-merge). The latest ``updated_at`` wins, whatever the
order of delivery.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from events.interaction import InteractionLogged, InteractionRecorded
from functions.core.errors import NotFoundError, PicError
from functions.core.links import RecordLinks
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
    citizen_id: str | None = None  # the golden record it is attached to: named, or through C360's link


def interaction_key(recorder: str, interaction_id: str) -> str:
    """PIC's id: stable for (recorder, the recorder's id); reveals neither."""
    digest = hashlib.sha256(f"{recorder}\n{interaction_id}".encode()).hexdigest()[:24]
    return f"intx-{digest}"


def content_hash(interaction: InteractionRecorded) -> str:
    return hashlib.sha256(interaction.model_dump_json().encode()).hexdigest()


def prepare(
    interaction: InteractionRecorded,
    recorder: str,
    existing: Stored | None,
    now: datetime,
    linked_citizen_id: str | None = None,
) -> tuple[Stored, InteractionLogged | None]:
    """What to store and announce; ``None`` as the event when it is a replay of the same content.
    ``linked_citizen_id``: the golden record C360 links the interaction's record to, if known."""
    key = interaction_key(recorder, interaction.interaction_id)
    digest = content_hash(interaction)
    if existing is not None:
        if existing.content_sha256 != digest:
            raise InteractionConflictError(
                f"interaction {interaction.interaction_id!r} from {recorder} was already recorded with other "
                "content; record a correction under a new interaction_id"
            )
        return existing, None
    stored = Stored(
        id=key,
        interaction=interaction,
        content_sha256=digest,
        recorded_by=recorder,
        recorded_at=now,
        citizen_id=interaction.citizen_id or linked_citizen_id,
    )
    return stored, InteractionLogged(id=key, interaction=interaction, recorded_by=recorder, recorded_at=now)


def subject_of(interaction: InteractionRecorded) -> str:
    """Who it is about, for the policy and the event subject: the golden record, or ``source#local_id``."""
    if interaction.citizen_id:
        return interaction.citizen_id
    assert interaction.record is not None  # the model requires one of the two
    return f"{interaction.record.source}#{interaction.record.local_id}"


# ---- C360's links, as this domain projects them (``functions.core.links``) -----------------------------


def record_of(interaction: InteractionRecorded) -> tuple[str, str] | None:
    """The area system's record an interaction was recorded against, if it names one instead of a citizen."""
    if interaction.citizen_id or interaction.record is None:
        return None
    return interaction.record.source, interaction.record.local_id


def to_stamp(members: list[Stored], citizen_id: str) -> list[Stored]:
    """The record's interactions not yet attached to ``citizen_id`` (erased ones are absent from ``members``)."""
    return [s for s in members if s.citizen_id != citizen_id]


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
    def fetch_by_citizen(self, citizen_id: str) -> list[Stored]:
        """Every interaction attached to this golden record (named, or stamped through a link), oldest first."""
        ...

    def fetch_many(self, interaction_ids: frozenset[str]) -> list[Stored]:
        """The interactions still stored among these ids (an erased one is absent); consistent reads."""
        ...

    def fetch_record(self, source: str, local_id: str) -> RecordLinks:
        """The record's link and interactions (a ``RecordLinks`` with ``version=None`` if nothing is held)."""
        ...

    def fetch_citizen_page(self, citizen_id: str, limit: int, after: Position | None) -> list[Stored]:
        """Up to ``limit`` of the interactions attached to this ``citizen_id``, newest first (``recorded_at``,
        then id), strictly after ``after``; one Query of the index, never a scan."""
        ...

    def fetch_records_of(self, citizen_id: str) -> list[RecordLinks]:
        """The records C360 links to this golden record (their keys), for the person's erasure; never a scan."""
        ...

    def stage(self, uow: UnitOfWork, stored: Stored) -> None: ...
    def stage_erase_record(self, uow: UnitOfWork, links: RecordLinks) -> None: ...
    def stage_record(self, uow: UnitOfWork, links: RecordLinks) -> None:
        """Write the record's link and members, if its version is still ``links.version`` (else the commit
        loses the race)."""
        ...

    def stage_stamp(self, uow: UnitOfWork, stored: Stored, citizen_id: str) -> None:
        """Attach a stored interaction to a golden record (the commit loses the race if it was erased)."""
        ...

    def stage_erase(self, uow: UnitOfWork, stored: Stored) -> None: ...
