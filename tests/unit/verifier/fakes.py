"""An in-memory ``VerifierStore`` (``functions.verifier.service``): requests versioned as their DynamoDB items are
(an answer written under a stale revision loses the race at commit), reads appended."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from functions.core.store import UnitOfWork
from functions.verifier.service import VerificationRequest
from tests.unit.fakes import Ledger


@dataclass
class FakeVerifierStore:
    ledger: Ledger = field(default_factory=Ledger)
    requests: dict[str, VerificationRequest] = field(default_factory=dict)
    reads: list[dict[str, Any]] = field(default_factory=list)

    def commit(self, uow: UnitOfWork) -> None:
        self.ledger.commit(uow)

    def fetch_request(self, request_id: str) -> VerificationRequest | None:
        return self.requests.get(request_id)

    def stage_request(self, uow: UnitOfWork, request: VerificationRequest) -> None:
        read = request.revision - 1
        self.ledger.stage(uow, f"req#{request.id}", read or None,
                          lambda: self.requests.__setitem__(request.id, request))  # fmt: skip

    def stage_read(self, uow: UnitOfWork, request: VerificationRequest, reader: str, purpose: str | None,
                   at: datetime) -> None:  # fmt: skip
        entry = {"request_id": request.id, "reader": reader, "purpose": purpose, "at": at}
        self.ledger.stage(uow, f"read#{request.id}#{at.isoformat()}#{reader}", None,
                          lambda: self.reads.append(entry), any_version=True)  # fmt: skip
