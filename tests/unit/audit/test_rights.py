"""The access log's answer to data-subject requests, over an in-memory store and the real Rego policies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events.rgpd import RgpdRequestOpened
from functions.audit import rights
from functions.core.audit import AccessRecord, Reader
from functions.core.policy import EmbeddedPolicy
from functions.core.store import UnitOfWork
from tests.unit.rgpd_support import rgpd_request

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CITIZEN = "c-lucia"


def read(at: datetime, access_id: str = "a-1") -> AccessRecord:
    return AccessRecord(
        access_id=access_id,
        citizen_id=CITIZEN,
        reader=Reader(id="agente-1", role="agent", level=2, area="hacienda"),
        purpose="EXP-1",
        function="pic-position",
        resource="position",
        sections=["taxes:detail"],
        decision="allowed",
        reasons=["ok"],
        at=at,
    )


@dataclass
class FakeStore:
    records: list[AccessRecord] = field(default_factory=list)
    staged: list[AccessRecord] = field(default_factory=list)

    def fetch_all(self, citizen_id: str) -> list[AccessRecord]:
        return list(self.records)

    def stage_erase(self, uow: UnitOfWork, record: AccessRecord) -> None:
        self.staged.append(record)


def request(right: str, **details: Any) -> RgpdRequestOpened:
    return rgpd_request(right, CITIZEN, NOW, **details)


def test_the_export_is_the_whole_access_log(policy: EmbeddedPolicy) -> None:
    result = rights.answer(request("access"), FakeStore([read(NOW - timedelta(days=1))]), policy, NOW)
    assert result.event.export is not None
    (entry,) = result.event.export["access_log"]
    assert entry["reader"]["id"] == "agente-1" and entry["purpose"] == "EXP-1" and "citizen_id" not in entry
    assert [(a.result, a.count) for a in result.event.actions] == [("exported", 1)]


def test_an_erasure_keeps_the_log_with_its_legal_basis_and_erases_only_entries_past_three_years(
    policy: EmbeddedPolicy,
) -> None:
    old, recent = read(NOW - timedelta(days=3 * 366), "a-old"), read(NOW - timedelta(days=10), "a-new")
    store = FakeStore([old, recent])
    result = rights.answer(request("erasure"), store, policy, NOW)

    assert result.erasure is not None
    result.erasure.stage(UnitOfWork(), store.stage_erase)
    assert store.staged == [old]
    erased, kept, *in_transit = result.event.actions
    assert (erased.result, erased.count) == ("erased", 1)
    assert (kept.result, kept.count, kept.category) == ("kept", 1, "access-log")
    assert kept.legal_basis and "RGPD art. 5.2" in kept.legal_basis and "LOPDGDD arts. 72-74" in kept.legal_basis
    assert (NOW - timedelta(days=10)).replace(year=2029).date().isoformat() in kept.what
    # AND what the domain keeps outside its table until the store removes it
    assert [(a.category, a.count) for a in in_transit] == [("outbox-events", None), ("request-replays", None)]


@pytest.mark.parametrize("right", ["rectification", "restriction", "objection"])
def test_other_rights_are_not_applicable(right: str, policy: EmbeddedPolicy) -> None:
    result = rights.answer(request(right), FakeStore([read(NOW)]), policy, NOW)
    assert result.event.outcome == "not-applicable"
