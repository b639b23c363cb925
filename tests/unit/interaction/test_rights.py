"""The interaction log's answer to data-subject requests, over an in-memory store and the real Rego policies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events.interaction import InteractionRecorded
from events.rgpd import RgpdRequestOpened
from functions.core import rights as core_rights
from functions.core.links import RecordLinks
from functions.core.policy import EmbeddedPolicy
from functions.core.store import UnitOfWork
from functions.interaction import rights, service
from functions.interaction.service import Stored
from tests.unit.rgpd_support import assert_staged_beside_the_answer, rgpd_request

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CITIZEN = "c-lucia"


def stored(interaction_id: str, case_id: str | None = None) -> Stored:
    interaction = InteractionRecorded.model_validate(
        {
            "interaction_id": interaction_id,
            "citizen_id": CITIZEN,
            "channel": {"kind": "call", "direction": "inbound", "line": "010"},
            "area": "hacienda",
            "topic": "IBI",
            "started_at": (NOW - timedelta(days=2)).isoformat(),
            "case_id": case_id,
        }
    )
    stored, _ = service.prepare(interaction, "agent:a1", None, NOW - timedelta(days=2))
    return stored


@dataclass
class FakeStore:
    interactions: list[Stored] = field(default_factory=list)
    staged: list[Stored] = field(default_factory=list)
    units: list[UnitOfWork] = field(default_factory=list)  # the unit each deletion was staged in

    def fetch_by_citizen(self, citizen_id: str) -> list[Stored]:
        return list(self.interactions)

    def fetch_records_of(self, citizen_id: str) -> list[RecordLinks]:
        return []

    def stage_erase(self, uow: UnitOfWork, stored: Stored) -> None:
        self.staged.append(stored)
        self.units.append(uow)


def request(right: str, **details: Any) -> RgpdRequestOpened:
    return rgpd_request(right, CITIZEN, NOW, **details)


def test_the_export_lists_every_interaction_as_the_api_shows_it(policy: EmbeddedPolicy) -> None:
    store = FakeStore([stored("i-1"), stored("i-2", case_id="EXP-1")])
    result = rights.answer(request("portability"), store, policy, NOW)
    assert result.event.outcome == "done" and result.event.export is not None
    rows = result.event.export["interactions"]
    assert [r["interaction_id"] for r in rows] == ["i-1", "i-2"]
    assert rows[1]["case_id"] == "EXP-1" and rows[0]["channel"]["line"] == "010"
    (action,) = result.event.actions
    assert action.result == "exported" and action.count == 2


def test_an_erasure_erases_plain_interactions_and_keeps_those_of_a_file_with_the_legal_basis(
    policy: EmbeddedPolicy,
) -> None:
    plain, of_a_file = stored("i-1"), stored("i-2", case_id="EXP-1")
    store = FakeStore([plain, of_a_file])
    result = rights.answer(request("erasure"), store, policy, NOW)

    assert result.erasure is not None and result.erasure.erased == [plain]
    result.erasure.stage(UnitOfWork(), store.stage_erase)
    assert store.staged == [plain]
    erased, kept, *in_transit = result.event.actions
    assert (erased.result, erased.count) == ("erased", 1)
    assert (kept.result, kept.count, kept.category) == ("kept", 1, "case-interactions")
    assert [a.category for a in in_transit] == ["outbox-events", "request-replays"]
    assert kept.legal_basis and "Ley 39/2015" in kept.legal_basis and "RGPD art. 17.3.b" in kept.legal_basis
    assert rights.category_of(of_a_file) == "case-interactions" and rights.category_of(plain) == "interactions"


def test_an_erasure_beyond_one_transaction_deletes_the_rest_first(policy: EmbeddedPolicy) -> None:
    store = FakeStore([stored(f"i-{n}") for n in range(95)])
    result = rights.answer(request("erasure"), store, policy, NOW)
    assert result.erasure is not None
    answer_unit = UnitOfWork()
    result.erasure.stage(answer_unit, store.stage_erase)
    assert len(store.staged) == 95
    assert_staged_beside_the_answer(store.units, answer_unit, core_rights.MAX_ITEMS_IN_UNIT)


@pytest.mark.parametrize("right", ["erasure", "rectification", "restriction", "objection"])
def test_nothing_held_or_nothing_of_the_kind_is_not_applicable(right: str, policy: EmbeddedPolicy) -> None:
    store = FakeStore([] if right == "erasure" else [stored("i-1")])
    result = rights.answer(request(right), store, policy, NOW)
    assert result.event.outcome == "not-applicable" and result.event.actions == []
