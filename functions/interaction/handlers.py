"""Interaction log use cases: one function per command, question or event, over the domain's ports.

Recording reads the log through the ``InteractionStore`` port, decides with ``service`` (new, a replay of the
same content, or other content under the same id: refused) and stages the interaction with its
``interaction.logged`` event in one unit of work, which it returns (``Staged``): the entry point commits it
(with the request's idempotency record, or the event's dedupe record) and runs the handler again if the commit
lost a race — the same interaction recorded concurrently is then a replay. Nothing here knows HTTP,
CloudEvents or DynamoDB.

C360's links are projected here (``project_link``, from ``citizen.updated``): an interaction recorded against
an area system's record is stored with the golden record the record is linked to, or, if the link is not
known yet, stamped with it when the link arrives (and again when a merge or un-merge moves it). Both use cases
write the record's ``RecordLinks`` under its version, so whichever of the two commits second loses the race
and is decided again on what the first wrote. The unit tests run these handlers against in-memory fakes of the ports
(``tests/unit/interaction/test_handlers.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from events.citizen import CitizenUpdated
from events.interaction import InteractionRecorded
from events.rgpd import RgpdRequestOpened
from functions.core import links as links_
from functions.core import paging
from functions.core.clock import Clock
from functions.core.outbox import stage_event
from functions.core.policy import Policy
from functions.core.store import Staged, UnitOfWork
from functions.interaction import rights, service
from functions.interaction.service import InteractionStore, Stored


@dataclass(frozen=True)
class InteractionPorts:
    """Everything the use cases need from outside: built once per process by ``bootstrap``."""

    store: InteractionStore
    policy: Policy
    clock: Clock


# ---- commands -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordInteraction:
    """An interaction to record, and who records it: ``role:id`` of a channel's caller, or the source of a
    back-office's event. PIC's id is derived from both, so two recorders never collide."""

    interaction: InteractionRecorded
    recorder: str


@dataclass(frozen=True)
class Recorded:
    stored: Stored
    created: bool  # False: a replay of what the recorder sent before (nothing staged)


def record_interaction(cmd: RecordInteraction, ports: InteractionPorts, traceparent: str | None) -> Staged[Recorded]:
    """Store and announce one interaction; the same again stages nothing and answers the first record; the
    same id with other content is ``InteractionConflictError`` (422)."""
    key = service.interaction_key(cmd.recorder, cmd.interaction.interaction_id)
    existing = ports.store.fetch(key)
    uow = UnitOfWork()
    record = service.record_of(cmd.interaction) if existing is None else None
    links = ports.store.fetch_record(*record) if record else None
    linked = links.citizen_id if links else None
    stored, event = service.prepare(cmd.interaction, cmd.recorder, existing, ports.clock.now(), linked)
    if event is None:
        return Staged(uow, Recorded(stored, created=False))
    ports.store.stage(uow, stored)
    if links is not None:  # the record learns of it, so that a link arriving later stamps it
        ports.store.stage_record(uow, links_.with_member(links, stored.id))
    subject = service.subject_of(cmd.interaction)
    stage_event(uow, event, subject=subject, traceparent=traceparent, now=stored.recorded_at)
    return Staged(uow, Recorded(stored, created=True))


# ---- C360's links ------------------------------------------------------------------------------------


def project_link(data: CitizenUpdated, ports: InteractionPorts) -> UnitOfWork:
    """C360 (re)linked a source record (a new link, a merge or an un-merge moving it): the latest
    ``updated_at`` wins, and every interaction recorded against the record is stamped with its golden record.
    A redelivered or older link stages nothing."""
    links = ports.store.fetch_record(data.link.source, data.link.local_id)
    uow = UnitOfWork()
    moved = links_.relinked(links, data.citizen_id, data.updated_at)
    if moved is None:
        return uow
    ports.store.stage_record(uow, moved)
    for stored in service.to_stamp(ports.store.fetch_many(moved.members), data.citizen_id):
        ports.store.stage_stamp(uow, stored, data.citizen_id)
    return uow


# ---- questions ----------------------------------------------------------------------------------------


def find_interaction(interaction_id: str, ports: InteractionPorts) -> Stored:
    """One stored interaction by PIC's id, or ``InteractionNotFoundError``."""
    stored = ports.store.fetch(interaction_id)
    if stored is None:
        raise service.InteractionNotFoundError(f"no interaction {interaction_id!r}")
    return stored


def citizen_timeline(query: paging.ReadTimeline, ports: InteractionPorts) -> paging.TimelinePage:
    """When, where and how the citizen was attended, newest first; one more than the page is read to tell
    whether another page follows (``next_cursor`` is ``None`` on the last)."""
    found = ports.store.fetch_citizen_page(query.citizen_id, query.limit + 1, query.after)
    shown, cursor = paging.page(found, query.limit, service.position_of)
    return paging.TimelinePage([service.timeline_item(s) for s in shown], cursor)


# ---- data-subject rights (RGPD) ---------------------------------------------------------------------


def answer_rights(data: RgpdRequestOpened, ports: InteractionPorts, traceparent: str | None) -> UnitOfWork:
    """This domain's answer to a data-subject request (``rights.answer``), its erasures in the same unit."""
    result = rights.answer(data, ports.store, ports.policy, ports.clock.now())
    return result.unit(
        traceparent, lambda uow, plan: plan.stage(uow, lambda u, erased: rights.stage_erasure(u, erased, ports.store))
    )
