"""An in-memory ``PositionStore`` (``functions.position.service``): the position handlers' unit tests run on it.

Writes are staged on the shared ``Ledger`` with the version of what they replace, as read when the handler
staged them: a unit decided on a state another unit changed meanwhile loses the race (``LostRaceError``) and
nothing of it is written — what DynamoDB's conditions do (a bundle's version, a fact's or link's order), only
stricter, which the kernel's retry resolves the same way. The rows an erasure deletes are tuples naming them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from functions.core.store import UnitOfWork
from functions.position.service import Flags, Held, Item, Link, Marker
from tests.unit.fakes import Ledger

Record = tuple[str, str]  # (source, local_id): an area system's record of the person


def slot(item: Item) -> str:
    return f"{item.section}#{item.key}"


@dataclass
class FakePositionStore:
    ledger: Ledger = field(default_factory=Ledger)
    links: dict[Record, Link] = field(default_factory=dict)
    members: dict[str, set[Record]] = field(default_factory=dict)
    bundles: dict[Record, dict[str, Item]] = field(default_factory=dict)
    own: dict[str, dict[str, Item]] = field(default_factory=dict)
    flags: dict[str, Flags] = field(default_factory=dict)
    markers: dict[str, Marker] = field(default_factory=dict)

    def commit(self, uow: UnitOfWork) -> None:
        self.ledger.commit(uow)

    def _stage(self, uow: UnitOfWork, key: str, apply: Callable[[], object], *, guarded: bool = True) -> None:
        """A write conditioned on ``key`` being as the handler read it (``guarded``), or unconditioned."""
        self.ledger.stage(uow, key, self.ledger.version(key), apply, any_version=not guarded)

    # ---- links and memberships ----------------------------------------------------------------------
    def fetch_link(self, source: str, local_id: str) -> Link | None:
        return self.links.get((source, local_id))

    def stage_link(self, uow: UnitOfWork, link: Link, previous: Link | None) -> None:
        record = (link.source, link.local_id)

        def apply() -> None:
            self.links[record] = link
            if previous is not None:
                self.members.get(previous.citizen_id, set()).discard(record)
            self.members.setdefault(link.citizen_id, set()).add(record)

        self._stage(uow, f"link#{link.source}#{link.local_id}", apply)

    # ---- the golden record's own facts ----------------------------------------------------------------
    def fetch_own_fact_order(self, citizen_id: str, item: Item) -> tuple[int, str] | None:
        held = self.own.get(citizen_id, {}).get(slot(item))
        return held.order if held else None

    def stage_own_fact(self, uow: UnitOfWork, citizen_id: str, item: Item) -> None:
        apply = lambda: self.own.setdefault(citizen_id, {}).__setitem__(slot(item), item)  # noqa: E731
        self._stage(uow, f"own#{citizen_id}#{slot(item)}", apply)

    def stage_own_fact_deleted(self, uow: UnitOfWork, citizen_id: str, item: Item) -> None:
        apply = lambda: self.own.get(citizen_id, {}).pop(slot(item), None)  # noqa: E731
        self._stage(uow, f"own#{citizen_id}#{slot(item)}", apply)

    # ---- a record's facts -----------------------------------------------------------------------------
    def fetch_bundle(self, source: str, local_id: str) -> tuple[dict[str, Item], int | None]:
        return dict(self.bundles.get((source, local_id), {})), self.ledger.version(f"bundle#{source}#{local_id}")

    def stage_bundle(
        self, uow: UnitOfWork, source: str, local_id: str, facts: dict[str, Item], version: int | None
    ) -> None:
        apply = lambda: self.bundles.__setitem__((source, local_id), dict(facts))  # noqa: E731
        self.ledger.stage(uow, f"bundle#{source}#{local_id}", version, apply)

    # ---- the read path, flags and erasure -------------------------------------------------------------
    def fetch_held(self, citizen_id: str) -> Held:
        return Held(
            own=list(self.own.get(citizen_id, {}).values()),
            records={r: list(self.bundles.get(r, {}).values()) for r in sorted(self.members.get(citizen_id, set()))},
            flags=self.fetch_flags(citizen_id),
            marker=self.markers.get(citizen_id),
        )

    def fetch_view(self, citizen_id: str) -> tuple[list[Item], Flags]:
        held = self.fetch_held(citizen_id)
        return [item for items in (held.own, *held.records.values()) for item in items], held.flags

    def fetch_flags(self, citizen_id: str) -> Flags:
        return self.flags.get(citizen_id, Flags())

    def stage_flags(self, uow: UnitOfWork, citizen_id: str, flags: Flags) -> None:
        self._stage(uow, f"flags#{citizen_id}", lambda: self.flags.__setitem__(citizen_id, flags))

    def fetch_marker(self, citizen_id: str) -> Marker | None:
        return self.markers.get(citizen_id)

    def stage_marker(self, uow: UnitOfWork, citizen_id: str, marker: Marker) -> None:
        self._stage(uow, f"marker#{citizen_id}", lambda: self.markers.__setitem__(citizen_id, marker))

    def stage_marker_sources(self, uow: UnitOfWork, citizen_id: str, marker: Marker) -> None:
        self.stage_marker(uow, citizen_id, marker)

    def erasure_rows(self, citizen_id: str, held: Held) -> list[Any]:
        rows: list[Any] = [("own", citizen_id, slot(item)) for item in held.own]
        for record in held.records:
            rows += [("member", citizen_id, record), ("link", record), ("bundle", record)]
        return rows

    def stage_erase(self, uow: UnitOfWork, row: Any) -> None:
        def apply() -> None:
            kind, *key = row
            if kind == "own":
                self.own.get(key[0], {}).pop(key[1], None)
            elif kind == "member":
                self.members.get(key[0], set()).discard(key[1])
            elif kind == "link":
                self.links.pop(key[0], None)
            else:
                self.bundles.pop(key[0], None)

        self._stage(uow, f"erase#{row!r}", apply, guarded=False)
