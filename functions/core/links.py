"""C360's links as a domain projects them: which golden record an area system's record belongs to.

Area systems often name a person by their own record (``source`` + ``local_id``: the Padrón's, Multas'...), not by
PIC's golden record. C360 links each record to a golden record and announces every link it makes or moves
(``citizen.updated``; merges and un-merges move links too). A domain that takes facts named by a record keeps a
``RecordLinks`` per record: the golden record it was last linked to, as of when, and the domain's own items
recorded against it (``members``). A fact arriving before its link waits in ``members`` and is attached when the
link arrives; a link that moves re-attaches every member. The latest link wins, whatever the order of delivery.

Each domain stores its own copy (its own table); every write is conditioned on ``version``, so a fact and a link
arriving at the same moment cannot miss each other: one commit loses the race and is decided again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime


@dataclass(frozen=True)
class RecordLinks:
    """An area system's record as a domain knows it: the golden record C360 last linked it to (``None``: no link
    yet), as of when, and the domain's ids of what was recorded against it. ``version`` is the stored item's
    (``None``: nothing stored yet)."""

    source: str
    local_id: str
    citizen_id: str | None = None
    linked_at: datetime | None = None
    members: frozenset[str] = frozenset()
    version: int | None = None


def with_member(links: RecordLinks, member_id: str) -> RecordLinks:
    """The record with one more item recorded against it."""
    return replace(links, members=links.members | {member_id})


def relinked(links: RecordLinks, citizen_id: str, at: datetime) -> RecordLinks | None:
    """The record linked to ``citizen_id`` as of ``at``, or ``None`` if that changes nothing: a link as old as
    or older than the one held (a redelivery, a stale event; ties broken by the citizen id, so both orders of
    two links of one instant end alike)."""
    held = links.linked_at, links.citizen_id
    if held[0] is not None and held[1] is not None and (at, citizen_id) <= (held[0], held[1]):
        return None
    return replace(links, citizen_id=citizen_id, linked_at=at)
