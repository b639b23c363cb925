"""In-memory fakes of the kernel's ports, shared by every domain's handler tests: a clock that says what the
test wants, and a ledger of what a unit of work would commit.

A domain's fake store stages its writes as callables against its own dictionaries (``Ledger.stage``), each
with the version it read; ``Ledger.commit`` applies a unit all or nothing, and raises ``LostRaceError`` if
another unit committed a newer version first — the condition DynamoDB checks — so a handler's retry on a
lost race is tested without DynamoDB.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from events.base import EventData
from events.catalog import CATALOG
from functions.core.errors import LostRaceError
from functions.core.outbox import OutboxRecord
from functions.core.store import UnitOfWork


@dataclass
class FixedClock:
    """The instant a test fixes; ``advance`` moves it."""

    at: datetime

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@dataclass
class _Write:
    key: str
    expected: int | None  # the version read, or None: the key must be new (or is not versioned: see `any`)
    apply: Callable[[], object]
    any_version: bool = False
    deletes: bool = False  # the item goes: a later write finds no version, as after a DynamoDB DeleteItem


@dataclass
class Ledger:
    """Versions per key, and the writes each unit of work staged (by the unit's identity)."""

    versions: dict[str, int] = field(default_factory=dict)
    pending: dict[int, list[_Write]] = field(default_factory=dict)

    def version(self, key: str) -> int | None:
        return self.versions.get(key)

    def stage(
        self, uow: UnitOfWork, key: str, expected: int | None, apply: Callable[[], object], *,
        any_version: bool = False, deletes: bool = False,
    ) -> None:  # fmt: skip
        if id(uow) not in self.pending:  # a unit a handler discards takes its writes with it (ids are reused)
            weakref.finalize(uow, self.pending.pop, id(uow), None)
        self.pending.setdefault(id(uow), []).append(_Write(key, expected, apply, any_version, deletes))

    def commit(self, uow: UnitOfWork) -> None:
        """All or nothing: every write's version still the one it read, then every write applied."""
        writes = self.pending.pop(id(uow), [])
        for write in writes:
            if not write.any_version and self.versions.get(write.key) != write.expected:
                raise LostRaceError(f"{write.key} changed meanwhile")
        for write in writes:
            write.apply()
            if write.deletes:
                self.versions.pop(write.key, None)
            else:
                self.versions[write.key] = self.versions.get(write.key, 0) + 1

    def staged(self, uow: UnitOfWork) -> list[str]:
        return [w.key for w in self.pending.get(id(uow), [])]


def events_in(uow: UnitOfWork) -> list[tuple[str, dict[str, Any]]]:
    """The events a unit would publish (outbox rows): (type, data)."""
    import json

    return [(row.type, json.loads(row.data)) for row in outbox_rows(uow)]


def event_models(uow: UnitOfWork) -> list[EventData]:
    return [CATALOG[row.type].model.model_validate_json(row.data) for row in outbox_rows(uow)]


def outbox_rows(uow: UnitOfWork) -> list[OutboxRecord]:
    """The unit's outbox rows (``stage_event`` stages nothing but ``OutboxRecord`` under that tag)."""
    return cast(list[OutboxRecord], uow.staged("outbox"))
