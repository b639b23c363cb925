"""In-memory ports of the intake: the ledger and reports in dicts, a broker that records what it was sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from functions.intake.job import IntakePorts
from functions.intake.service import IntakeBrokerUnavailableError, Outgoing, Report
from tests.unit.fakes import FixedClock


@dataclass
class FakeIntakeStore:
    ledger: dict[tuple[str, str], str] = field(default_factory=dict)
    reports: dict[str, Report] = field(default_factory=dict)
    calls: int = 0  # store calls, counted as the DynamoDB adapter makes them (batches of 100 reads, 25 writes)

    def fetch_hashes(self, system: str, keys: list[str]) -> dict[str, str]:
        self.calls += -(-len(keys) // 100)
        return {k: self.ledger[(system, k)] for k in keys if (system, k) in self.ledger}

    def put_hashes(self, system: str, hashes: dict[str, str], file_id: str) -> None:
        self.calls += -(-len(hashes) // 25)
        for key, digest in hashes.items():
            self.ledger[(system, key)] = digest

    def fetch_report(self, file_id: str) -> Report | None:
        self.calls += 1
        return self.reports.get(file_id)

    def put_report(self, report: Report) -> None:
        self.calls += 1
        self.reports[report.file_id] = Report.from_json(report.as_json())

    def fetch_reports(self, system: str | None, limit: int) -> list[Report]:
        found = [r for r in self.reports.values() if system in (None, r.system)]
        return sorted(found, key=lambda r: r.received_at, reverse=True)[:limit]


@dataclass
class FakeBroker:
    """Takes every event (ids in order); ``fail_after`` posts it answers unavailable (a crash mid-file);
    ``refuse`` maps an event type to a 4xx text."""

    posted: list[tuple[str, str, str, Outgoing]] = field(default_factory=list)
    fail_after: int | None = None
    refuse: dict[str, str] = field(default_factory=dict)

    def publish(self, sender: str, source: str, event_id: str, item: Outgoing) -> str | None:
        if self.fail_after is not None and len(self.posted) >= self.fail_after:
            raise IntakeBrokerUnavailableError("the broker went away")
        if item.type in self.refuse:
            return self.refuse[item.type]
        self.posted.append((sender, source, event_id, item))
        return None

    @property
    def ids(self) -> list[str]:
        return [p[2] for p in self.posted]


def make_ports(store: FakeIntakeStore | None = None, broker: FakeBroker | None = None) -> IntakePorts:
    return IntakePorts(
        store or FakeIntakeStore(), broker or FakeBroker(), FixedClock(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
    )
