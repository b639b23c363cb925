"""The global position's answer to data-subject requests, over an in-memory store and the real Rego policies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events.rgpd import RgpdFlagsChanged, RgpdRequestOpened
from functions.core import rights as core_rights
from functions.core.errors import ConflictError
from functions.core.policy import EmbeddedPolicy
from functions.core.store import UnitOfWork
from functions.position import rights, service
from functions.position.service import Flags, Held, Item, Marker
from tests.unit.rgpd_support import assert_staged_beside_the_answer, rgpd_request

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CITIZEN = "c-lucia"


def item(section: str, key: str, source: str = "/legacy/tributos", removed: bool = False) -> Item:
    body = {"item_id": key, "status": "pending", "title": key, "amount_eur": "10.00", "attributes": {"ref": key}}
    return Item(section, f"{source}#{key}", source, "hacienda", False, NOW - timedelta(days=1), removed, body, key)


@dataclass
class FakeStore:
    held: Held = field(default_factory=Held)
    flags: Flags = field(default_factory=Flags)
    staged: list[tuple[str, Any]] = field(default_factory=list)
    units: list[UnitOfWork] = field(default_factory=list)  # the unit each deletion was staged in

    def fetch_held(self, citizen_id: str) -> Held:
        return self.held

    def fetch_flags(self, citizen_id: str) -> Flags:
        return self.flags

    def stage_flags(self, uow: UnitOfWork, citizen_id: str, flags: Flags) -> None:
        self.staged.append(("flags", flags))

    def erasure_rows(self, citizen_id: str, held: Held) -> list[Any]:
        rows: list[Any] = [("item", i.key) for i in held.own]
        for record in held.records:
            rows += [("member", record), ("link", record), ("bundle", record)]
        return rows

    def stage_erase(self, uow: UnitOfWork, row: Any) -> None:
        self.staged.append(("erase", row))
        self.units.append(uow)

    def stage_marker(self, uow: UnitOfWork, citizen_id: str, marker: Marker) -> None:
        self.staged.append(("marker", marker))
        self.units.append(uow)


def request(right: str, opened_at: datetime = NOW, **details: Any) -> RgpdRequestOpened:
    return rgpd_request(right, CITIZEN, opened_at, **details)


def a_person() -> FakeStore:
    """A golden record with a consent of its own and a Tributos record with a receipt and a withdrawn one."""
    held = Held(
        own=[item("consents", "campaigns", source="/pic/consent")],
        records={("/legacy/tributos", "TRB1"): [item("taxes", "IBI-1"), item("taxes", "IBI-0", removed=True)]},
        flags=Flags(restricted=False, changed_at=NOW - timedelta(days=3)),
    )
    return FakeStore(held=held, flags=held.flags)


# ---- access and portability ---------------------------------------------------------------------------


@pytest.mark.parametrize("right", ["access", "portability"])
def test_the_export_lists_every_item_in_full_with_its_source_and_freshness(right: str, policy: EmbeddedPolicy) -> None:
    result = rights.answer(request(right), a_person(), policy, NOW)

    assert result.event.outcome == "done" and result.erasure is None
    export = result.event.export
    assert export is not None
    receipt = next(r for r in export["items"] if r["item_id"] == "IBI-1")
    assert receipt["source"] == "/legacy/tributos" and receipt["as_of"] == (NOW - timedelta(days=1)).isoformat()
    assert receipt["attributes"] == {"ref": "IBI-1"}  # everything: it is the person's own data
    taxes = next(s for s in export["sections"] if s["section"] == "taxes")
    assert taxes["sources"] == [{"source": "/legacy/tributos", "as_of": (NOW - timedelta(days=1)).isoformat()}]
    assert [w["key"] for w in export["withdrawn_items"]] == ["/legacy/tributos#IBI-0"]
    assert export["records"] == [{"source": "/legacy/tributos", "local_id": "TRB1"}]
    counts = {a.what.split(":")[0]: a.count for a in result.event.actions}
    assert counts["position section taxes"] == 1 and counts["position section consents"] == 1
    assert {a.result for a in result.event.actions} == {"exported"}


def test_an_export_too_large_for_one_event_is_a_failed_answer_with_the_reason(
    policy: EmbeddedPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core_rights, "MAX_EXPORT_CHARS", 100)
    result = rights.answer(request("access"), a_person(), policy, NOW)
    assert result.event.outcome == "failed" and result.event.export is None
    assert result.event.reason and "delivered by reference" in result.event.reason


# ---- erasure ------------------------------------------------------------------------------------------


def test_an_erasure_deletes_the_projections_and_keeps_the_restriction_flag(policy: EmbeddedPolicy) -> None:
    store = a_person()
    result = rights.answer(request("erasure"), store, policy, NOW)

    assert result.event.outcome == "done" and result.erasure is not None
    answer_unit = UnitOfWork()
    rights.stage_erasure(answer_unit, CITIZEN, result.erasure, store)
    erased_rows = [row for kind, row in store.staged if kind == "erase"]
    assert ("item", "/pic/consent#campaigns") in erased_rows
    assert {("member", ("/legacy/tributos", "TRB1")), ("link", ("/legacy/tributos", "TRB1"))} <= set(erased_rows)
    erased = {a.what.split(":")[0]: a.count for a in result.event.actions if a.result == "erased"}
    assert erased["position section taxes"] == 2 and erased["position section consents"] == 1
    assert erased["links of area-system records to the person (C360 announces them again)"] == 1
    kept = {a.category: a for a in result.event.actions if a.result == "kept"}
    assert list(kept) == ["flags", "erasure-marker", "outbox-events", "request-replays"]
    flag = kept["flags"]
    assert flag.what == "restriction of processing flag" and flag.legal_basis and "RGPD art. 18" in flag.legal_basis
    # AND the erasure's marker is written in the answer's own unit, named by the request, as of the answer
    assert ("marker", Marker("rgpd-1", NOW)) in store.staged
    assert store.units[store.staged.index(("marker", Marker("rgpd-1", NOW)))] is answer_unit
    assert kept["erasure-marker"].legal_basis and "17.1 and 19" in kept["erasure-marker"].legal_basis


def test_an_erasure_beyond_one_transaction_deletes_the_rest_first(policy: EmbeddedPolicy) -> None:
    store = FakeStore(held=Held(own=[item("consents", f"p{i}", source="/pic/consent") for i in range(100)]))
    result = rights.answer(request("erasure"), store, policy, NOW)
    assert result.erasure is not None
    answer_unit = UnitOfWork()
    result.erasure.stage(answer_unit, store.stage_erase)
    assert len(store.staged) == 100
    assert_staged_beside_the_answer(store.units, answer_unit, core_rights.MAX_ITEMS_IN_UNIT)


def test_an_erasure_of_nothing_held_still_leaves_its_marker(policy: EmbeddedPolicy) -> None:
    # GIVEN a person the position holds nothing about (yet: an event about them may be on its way)
    store = FakeStore()

    # WHEN the position answers their erasure
    result = rights.answer(request("erasure"), store, policy, NOW)
    assert result.erasure is not None
    rights.stage_erasure(UnitOfWork(), CITIZEN, result.erasure, store)

    # THEN it erased nothing, and marks the erasure so that such an event does not bring data back
    assert store.staged == [("marker", Marker("rgpd-1", NOW))]
    assert result.event.outcome == "done"
    assert [a.result for a in result.event.actions] == ["kept", "kept", "kept"]
    assert result.event.actions[0].category == "erasure-marker"


# ---- restriction and the flag ---------------------------------------------------------------------------


def test_a_restriction_is_answered_once_the_flag_is_projected(policy: EmbeddedPolicy) -> None:
    store = FakeStore()
    with pytest.raises(ConflictError):
        rights.answer(request("restriction"), store, policy, NOW)
    store.flags = Flags(restricted=True, changed_at=NOW)
    (action,) = rights.answer(request("restriction"), store, policy, NOW).event.actions
    assert action.result == "restricted" and action.legal_basis == "RGPD art. 18"
    with pytest.raises(ConflictError):  # lifting waits for the lifted flag
        rights.answer(request("restriction", opened_at=NOW + timedelta(minutes=1), lift=True), store, policy, NOW)


def test_the_latest_flag_wins_whatever_the_order(policy: EmbeddedPolicy) -> None:
    store = FakeStore(flags=Flags(restricted=True, changed_at=NOW))
    older = RgpdFlagsChanged(citizen_id=CITIZEN, restricted=False, changed_at=NOW - timedelta(seconds=1))
    assert len(rights.project_flags(older, store)) == 0
    same = RgpdFlagsChanged(citizen_id=CITIZEN, restricted=False, changed_at=NOW)
    assert len(rights.project_flags(same, store)) == 0
    later = RgpdFlagsChanged(citizen_id=CITIZEN, restricted=False, changed_at=NOW + timedelta(seconds=1))
    rights.project_flags(later, store)
    assert store.staged == [("flags", Flags(restricted=False, changed_at=later.changed_at))]
    assert service.newer_flags(NOW, Flags())


@pytest.mark.parametrize("right", ["rectification", "objection"])
def test_rectification_and_objection_are_not_applicable(right: str, policy: EmbeddedPolicy) -> None:
    result = rights.answer(request(right), a_person(), policy, NOW)
    assert result.event.outcome == "not-applicable" and result.erasure is None
