"""An in-memory ``FlagStore`` (``functions.flags.service``): the flags handlers' unit tests run on it. A flag or
an arrangement is written at the version read: a unit that read an older version loses the race at commit, as
the DynamoDB condition makes it."""

from __future__ import annotations

from dataclasses import dataclass, field

from events.flags import FlagChanged
from functions.core.store import UnitOfWork
from functions.flags.service import Arrangement, Flag
from tests.unit.fakes import Ledger


@dataclass
class FakeFlagStore:
    ledger: Ledger = field(default_factory=Ledger)
    flags: dict[str, Flag] = field(default_factory=dict)
    history: dict[str, list[FlagChanged]] = field(default_factory=dict)
    homes: dict[str, Arrangement] = field(default_factory=dict)

    def commit(self, uow: UnitOfWork) -> None:
        self.ledger.commit(uow)

    def fetch_flags(self) -> dict[str, Flag]:
        return dict(self.flags)

    def fetch_flag(self, name: str) -> Flag | None:
        return self.flags.get(name)

    def fetch_history(self, name: str) -> list[FlagChanged]:
        return list(self.history.get(name, []))

    def stage_flag(self, uow: UnitOfWork, flag: Flag, replaces: int) -> None:
        assert flag.changed is not None
        changed = flag.changed

        def apply() -> None:
            self.flags[flag.name] = flag
            self.history.setdefault(flag.name, []).append(changed)

        self.ledger.stage(uow, f"flag#{flag.name}", replaces or None, apply)

    def fetch_arrangement(self, citizen_id: str) -> Arrangement:
        return self.homes.get(citizen_id, Arrangement(citizen_id))

    def stage_arrangement(self, uow: UnitOfWork, arrangement: Arrangement, replaces: int) -> None:
        apply = lambda: self.homes.__setitem__(arrangement.citizen_id, arrangement)  # noqa: E731
        self.ledger.stage(uow, f"apps#{arrangement.citizen_id}", replaces or None, apply)

    def stage_erase_arrangement(self, uow: UnitOfWork, arrangement: Arrangement) -> None:
        apply = lambda: self.homes.pop(arrangement.citizen_id, None)  # noqa: E731
        self.ledger.stage(uow, f"erase#{arrangement.citizen_id}", None, apply, any_version=True)
