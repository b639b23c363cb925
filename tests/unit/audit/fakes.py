"""An in-memory ``AccessLogStore`` (``functions.audit.service``): the access-log handlers' unit tests run on it.
Entries are kept per citizen in the table's order (``<at>#<access_id>``); a page's cursor is opaque, and one
this store did not give for that citizen's log is a ``ValueError``, as the DynamoDB adapter's contract says."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from functions.core.audit import AccessRecord, entry_key
from functions.core.store import UnitOfWork
from tests.unit.fakes import Ledger


@dataclass
class FakeAccessLog:
    ledger: Ledger = field(default_factory=Ledger)
    log: dict[str, dict[str, AccessRecord]] = field(default_factory=dict)  # citizen -> entry key -> record
    cursors: dict[str, tuple[str, str]] = field(default_factory=dict)  # cursor -> (citizen, last entry key)
    _numbers: itertools.count[int] = field(default_factory=itertools.count)

    def commit(self, uow: UnitOfWork) -> None:
        self.ledger.commit(uow)

    def append(self, *records: AccessRecord) -> None:
        """What the HTTP kernel does on every read (``functions.core.audit.append``)."""
        for record in records:
            self.log.setdefault(record.citizen_id, {})[entry_key(record)] = record

    def fetch_page(self, citizen_id: str, limit: int, cursor: str | None) -> tuple[list[AccessRecord], str | None]:
        newest_first = sorted(self.log.get(citizen_id, {}).items(), reverse=True)
        if cursor is not None:
            whose, after = self.cursors.get(cursor, ("", ""))
            if whose != citizen_id:
                raise ValueError("not a cursor of this log")
            newest_first = [(key, record) for key, record in newest_first if key < after]
        page = newest_first[:limit]
        if len(page) < limit:  # a full page has a cursor even when nothing follows, as DynamoDB's last key
            return [record for _, record in page], None
        given = f"cursor-{next(self._numbers)}"
        self.cursors[given] = (citizen_id, page[-1][0])
        return [record for _, record in page], given

    def fetch_all(self, citizen_id: str) -> list[AccessRecord]:
        return [record for _, record in sorted(self.log.get(citizen_id, {}).items())]

    def stage_erase(self, uow: UnitOfWork, record: AccessRecord) -> None:
        apply = lambda: self.log.get(record.citizen_id, {}).pop(entry_key(record), None)  # noqa: E731
        self.ledger.stage(uow, f"erase#{entry_key(record)}", None, apply, any_version=True)
