"""The audience row: what the campaign domain knows about one citizen for segmenting, pure.

One row per citizen, projected by this domain from other domains' events (``handlers``: C360's profile and
contact points, CON's consents, preferences and subscriptions, RGPD flags, the areas' relationships, the
interaction log). Segments filter these rows (``segments``); the columnar export writes them (``columnar``).
No names, no addresses: only what a filter or the channel decision needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

PURPOSES = ("campaigns", "surveys")  # the purposes a campaign or a survey invitation is sent for
# the sections of the global position a relationship is of (events/position.py Section, without notifications)
RELATION_SECTIONS = ("taxes", "fines", "cases", "appointments", "permits", "wallet")


@dataclass(frozen=True)
class AudienceRow:
    """One citizen as a segment sees them. ``reachable`` lists the channels with a contact point (``email``,
    ``sms``, ``push``; ``inapp`` for any citizen known to PIC); ``consents`` is CON's snapshot per purpose
    (``{"granted": bool, "channels": [...]}``), exactly the shape NOT's policy input takes; ``relations`` are
    ``"<section>:<area>"`` keys (``"taxes:hacienda"``, ``"fines:movilidad"``, ``"cases:urbanismo"``,
    ``"wallet:mayor"``) of what the person has with the council's areas: the union of ``holdings``, the keys
    each holder gives (``"cases"``: the person's cases; ``"rec:<source>|<local_id>"``: the items an area system
    holds against one of its records C360 linked to the person), so a record's link moving away or an item
    withdrawn takes away exactly what it gave."""

    citizen_id: str
    birth_date: date | None = None
    language: str = "es"
    district: str | None = None  # two digits, ../shared/data/madrid/districts
    barrio: str | None = None  # three digits (district + barrio), ../shared/data/madrid/barrios.json
    zones: tuple[str, ...] = ()  # zones of interest: district or barrio codes the person subscribed to
    relations: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()  # preferred channels, most preferred first (CON's preferences)
    quiet_hours: dict[str, str] | None = None  # {"start": "22:00", "end": "08:00"}
    consents: dict[str, dict[str, Any]] = field(default_factory=dict)
    restricted: bool = False  # RGPD art. 18
    objections: tuple[str, ...] = ()  # RGPD art. 21, the purposes objected to
    reachable: tuple[str, ...] = ()
    last_interaction: datetime | None = None
    holdings: dict[str, tuple[str, ...]] = field(default_factory=dict)
