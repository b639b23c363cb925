"""An in-memory ``RgpdStore`` (``functions.rgpd.service``): the data-subject-rights handlers' unit tests run
on it. Its writes go through the shared ``Ledger`` (all or nothing, ``LostRaceError`` on a stale version),
with the conditions ``storage.DynamoRgpdStore`` puts on each item."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from functions.core.store import UnitOfWork
from functions.rgpd.export import chunks
from functions.rgpd.service import DomainAnswer, Flags, RgpdRequest
from tests.unit.fakes import Ledger

NEVER = -1  # a version no item has: a write staged against it loses (a condition that cannot hold)


@dataclass
class FakeRgpdStore:
    ledger: Ledger = field(default_factory=Ledger)
    requests: dict[str, RgpdRequest] = field(default_factory=dict)
    answers: dict[tuple[str, str], DomainAnswer] = field(default_factory=dict)
    exports: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    flags: dict[str, Flags] = field(default_factory=dict)
    answered: dict[str, set[str]] = field(default_factory=dict)  # request -> domains: a Query by key, not a scan

    def commit(self, uow: UnitOfWork) -> None:
        self.ledger.commit(uow)

    # ---- reads --------------------------------------------------------------------------------------
    def fetch_request(self, request_id: str) -> RgpdRequest | None:
        request = self.requests.get(request_id)
        return replace(request, version=self.ledger.version(f"req#{request_id}")) if request else None

    def fetch_requests_of(self, citizen_id: str, limit: int = 100) -> list[RgpdRequest]:
        mine = [r for r in self.requests.values() if r.citizen_id == citizen_id]
        newest_first = sorted(mine, key=lambda r: r.opened_at, reverse=True)[:limit]
        return [replace(r, version=self.ledger.version(f"req#{r.request_id}")) for r in newest_first]

    def fetch_answers(self, request_id: str) -> list[DomainAnswer]:
        return [self.answers[(request_id, domain)] for domain in sorted(self.answered.get(request_id, ()))]

    def fetch_export(self, request_id: str, domain: str) -> list[str]:
        return list(self.exports.get((request_id, domain), []))

    def fetch_flags(self, citizen_id: str) -> Flags:
        flags = self.flags.get(citizen_id, Flags(citizen_id=citizen_id))
        return replace(flags, version=self.ledger.version(f"flags#{citizen_id}"))

    # ---- writes, applied when the unit commits -------------------------------------------------------
    def stage_request(self, uow: UnitOfWork, request: RgpdRequest) -> None:
        """New: it must not exist; changed: at the version read."""
        stored = replace(request, version=None)
        apply = lambda: self.requests.__setitem__(request.request_id, stored)  # noqa: E731
        self.ledger.stage(uow, f"req#{request.request_id}", request.version, apply)

    def stage_answer(self, uow: UnitOfWork, request_id: str, answer: DomainAnswer, export_text: str | None) -> None:
        """Where no answer is, or over a failed one (as read now); a final answer stands."""
        key = f"answer#{request_id}#{answer.domain}"
        previous = self.answers.get((request_id, answer.domain))
        expected = NEVER if previous is not None and previous.outcome != "failed" else self.ledger.version(key)
        pieces = chunks(export_text) if export_text is not None else []
        stored = replace(answer, export_chunks=len(pieces))

        def apply() -> None:
            self.answers[(request_id, answer.domain)] = stored
            self.answered.setdefault(request_id, set()).add(answer.domain)

        self.ledger.stage(uow, key, expected, apply)
        if pieces:
            apply = lambda: self.exports.__setitem__((request_id, answer.domain), pieces)  # noqa: E731
            self.ledger.stage(uow, f"export#{request_id}#{answer.domain}", None, apply, any_version=True)

    def stage_flags(self, uow: UnitOfWork, flags: Flags) -> None:
        """At the version read (absent: must not exist)."""
        stored = replace(flags, version=None)
        apply = lambda: self.flags.__setitem__(flags.citizen_id, stored)  # noqa: E731
        self.ledger.stage(uow, f"flags#{flags.citizen_id}", flags.version, apply)
