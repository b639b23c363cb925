"""C360's answer to data-subject requests, pure (the real retention policy, embedded): what an erasure erases
and keeps for a golden record with Padrón and other links, the golden record rebuilt from what remains, the
document claims released, the split into transactions, rectification of contact data and export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events.citizen import CitizenRecordUpserted
from events.rgpd import RgpdRequestOpened
from functions.citizen import rights, service
from functions.citizen.rights import Holding
from functions.citizen.service import DATA_SUBJECT, PADRON, Golden, Link, MergeRecord, Review
from functions.core import rights as core_rights
from functions.core.policy import EmbeddedPolicy
from tests.unit.rgpd_support import rgpd_request

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
CID = "cit-1"


def record(local_id: str, **fields: Any) -> CitizenRecordUpserted:
    base: dict[str, Any] = {
        "local_id": local_id,
        "given_name": "Inés",
        "first_surname": "García",
        "second_surname": "López",
        "birth_date": "1980-05-17",
    }
    return CitizenRecordUpserted.model_validate({**base, **fields})


def linked(source: str, rec: CitizenRecordUpserted, at: datetime, version: int = 1) -> Link:
    return Link(
        source=source,
        local_id=rec.local_id,
        citizen_id=CID,
        record=rec,
        document=service.document_of(rec),
        method="document",
        score=1.0,
        evidence=("test",),
        received_at=at,
        version=version,
    )


def a_person() -> Holding:
    """Padrón (name, address, DNI), Tributos (newer e-mail, same DNI), SER (newest phone, its own NIE)."""
    padron = linked(
        PADRON,
        record(
            "PAD1",
            document={"type": "DNI", "number": "48673243E"},
            address={"street": "Calle Mayor", "number": "1", "postal_code": "28013", "district": "01"},
        ),
        T0,
    )
    tributos = linked(
        "/legacy/tributos",
        record("TRI1", document={"type": "DNI", "number": "48673243E"}, email="ines@example.org"),
        T0 + timedelta(days=1),
    )
    ser = linked(
        "/legacy/ser",
        record("SER1", document={"type": "NIE", "number": "X1234567L"}, phone="+34 600 111 222"),
        T0 + timedelta(days=2),
    )
    links = [padron, tributos, ser]
    golden = service.survive(CID, links, None, T0 + timedelta(days=2))
    golden = Golden(**{**golden.__dict__, "version": 3})
    absorbed = Golden(citizen_id="cit-2", attributes={"phone": "+34600111222"}, provenance={})
    merge = MergeRecord(CID, absorbed, (ser.key,), golden, (padron.key, tributos.key), "auto", None, T0)
    review = Review("rev-1", CID, "cit-9", "/legacy/tributos", "TRI1", 0.8, 2.0, (), T0, version=1)
    return Holding(golden, links, [merge], [review])


def opened(right: str, **details: Any) -> RgpdRequestOpened:
    return rgpd_request(right, CID, NOW, **details)


def by_result(actions: list[Any], result: str) -> dict[str, Any]:
    return {a.what: a for a in actions if a.result == result}


# ---- erasure ------------------------------------------------------------------------------------------


def test_erasure_keeps_the_padron_link_and_erases_the_other_sources(policy: EmbeddedPolicy) -> None:
    plan = rights.plan_erasure(a_person(), policy, NOW)

    assert [lk.source for lk in plan.kept] == [PADRON]
    assert sorted(e.link.source for e in plan.erased) == ["/legacy/ser", "/legacy/tributos"]
    kept = by_result(plan.actions, "kept")
    padron = kept["Padrón entries linked to the golden record"]
    assert padron.count == 1
    assert "Ley 7/1985" in (padron.legal_basis or "") and "1690/1986" in (padron.legal_basis or "")
    erased = by_result(plan.actions, "erased")
    assert erased["C360 copies of other area systems' records (their links and match evidence)"].count == 2
    assert erased["clerical reviews of possible matches that involve the person"].count == 1
    assert erased["merge snapshots (golden records merged into this one)"].count == 1
    assert all(a.legal_basis is None for a in erased.values())


def test_the_golden_record_is_rebuilt_from_the_padron_only(policy: EmbeddedPolicy) -> None:
    holding = a_person()
    assert holding.golden is not None and {"email", "phone"} <= set(holding.golden.attributes)

    plan = rights.plan_erasure(holding, policy, NOW)

    assert plan.rebuilt is not None and plan.erase_golden is None
    assert plan.rebuilt.version == 3  # written under the version read: a concurrent change is retried
    assert set(plan.rebuilt.provenance.values()) == {f"{PADRON}#PAD1"}
    assert "email" not in plan.rebuilt.attributes and "phone" not in plan.rebuilt.attributes
    assert plan.rebuilt.attributes["first_surname"] == "García"
    assert plan.rebuilt.documents == (("DNI", "48673243E"),)
    erased = by_result(plan.actions, "erased")
    assert "golden-record attributes from the erased records (email, phone)" in erased


def test_document_claims_are_released_only_when_no_kept_record_holds_them(policy: EmbeddedPolicy) -> None:
    plan = rights.plan_erasure(a_person(), policy, NOW)

    released = {e.link.source: e.release for e in plan.erased}
    assert released["/legacy/tributos"] is None  # the Padrón entry holds the same DNI
    ser = released["/legacy/ser"]
    assert ser is not None and (ser.type, ser.number) == ("NIE", "X1234567L")
    # every erased record leaves the blocks it joined (e-mail, phone, names with birth date...)
    blocks = {e.link.source: e.blocks for e in plan.erased}
    assert "email:ines@example.org" in blocks["/legacy/tributos"]
    assert any(b.startswith("phone:") for b in blocks["/legacy/ser"])


def test_without_a_padron_entry_the_golden_record_is_erased(policy: EmbeddedPolicy) -> None:
    holding = a_person()
    others = Holding(holding.golden, holding.links[1:], [], [])

    plan = rights.plan_erasure(others, policy, NOW)

    assert plan.kept == [] and plan.rebuilt is None
    assert plan.erase_golden is holding.golden
    assert "golden record (no source record is kept)" in by_result(plan.actions, "erased")
    assert by_result(plan.actions, "kept") == {}


def test_an_erasure_of_a_padron_only_person_keeps_everything_and_rewrites_nothing(policy: EmbeddedPolicy) -> None:
    holding = a_person()
    padron_only = Holding(holding.golden, holding.links[:1], [], [])

    result = rights.answer(opened("erasure"), padron_only, policy, NOW)

    assert result.erasure is not None and result.erasure.rebuilt is None and result.erasure.erased == []
    assert [(a.result, a.category) for a in result.event.actions] == [
        ("kept", "padron-record"),
        ("kept", "outbox-events"),
        ("kept", "request-replays"),
    ]
    assert result.event.outcome == "done"


def split_steps(plan: rights.ErasurePlan) -> tuple[list[list[Any]], list[Any]]:
    """The split ``main.stage_erasure`` commits: earlier units, then the answer's own transaction."""
    return core_rights.split_deletions(
        plan.steps(), rights.ROOM_FOR_STEPS, rights.step_size, rights.MAX_ITEMS_IN_TRANSACTION
    )


def test_a_large_erasure_is_split_into_whole_steps_under_the_transaction_limit(policy: EmbeddedPolicy) -> None:
    holding = a_person()
    many = [
        linked(f"/legacy/area{i:02d}", record(f"L{i}", email=f"p{i}@example.org", phone=f"+34 600 000 {i:03d}"), T0)
        for i in range(30)
    ]
    big = Holding(holding.golden, holding.links[:1] + many, [], [])

    plan = rights.plan_erasure(big, policy, NOW)
    before, final = split_steps(plan)

    assert before, "30 records with their blocks do not fit in one transaction"
    sizes = [sum(rights.step_size(s) for s in group) for group in before]
    assert all(size <= rights.MAX_ITEMS_IN_TRANSACTION for size in sizes)
    assert sum(rights.step_size(s) for s in final) + 3 <= rights.MAX_ITEMS_IN_TRANSACTION
    steps = [s for group in before for s in group] + final
    assert steps == plan.steps()  # every deletion exactly once, each link whole in one step


def test_a_small_erasure_is_one_transaction(policy: EmbeddedPolicy) -> None:
    plan = rights.plan_erasure(a_person(), policy, NOW)
    before, final = split_steps(plan)
    assert before == [] and final == plan.steps()


# ---- rectification ---------------------------------------------------------------------------------


def test_rectified_email_becomes_the_persons_own_source_first_for_contact(policy: EmbeddedPolicy) -> None:
    fields = {"email": "Ines.Garcia@Example.org", "given_name": "Inés María", "address.street": "Calle Luna"}

    result = rights.answer(opened("rectification", fields=fields), a_person(), policy, NOW)

    fix = result.rectification
    assert fix is not None and fix.link is not None and fix.golden is not None and fix.event is not None
    assert fix.link.source == DATA_SUBJECT and fix.link.local_id == CID and fix.link.method == "data-subject"
    # the person's e-mail wins over the newer records of the area systems
    assert fix.golden.attributes["email"] == "Ines.Garcia@example.org"  # the domain is case-insensitive
    assert fix.golden.provenance["email"] == f"{DATA_SUBJECT}#{CID}"
    assert fix.golden.provenance["phone"] == "/legacy/ser#SER1"  # not rectified: unchanged
    assert fix.event.link.change == "added" and fix.event.match.method == "data-subject"
    # AND the announcement carries the rectified e-mail, so the notification domain writes there from now on
    assert fix.event.contact is not None and fix.event.contact.email == "Ines.Garcia@example.org"
    rectified = by_result(result.event.actions, "rectified")
    assert list(rectified) == ["email: the person's own, first for contact data in the golden record"]
    kept = by_result(result.event.actions, "kept")
    assert set(kept) == {"given_name: survives from the Padrón", "address.street: survives from the Padrón"}
    for action in kept.values():
        assert "Ley 7/1985" in (action.legal_basis or "") and "Padrón's own procedure" in (action.legal_basis or "")


def test_a_second_rectification_updates_the_same_own_record(policy: EmbeddedPolicy) -> None:
    holding = a_person()
    first = rights.answer(opened("rectification", fields={"email": "a@example.org"}), holding, policy, NOW)
    assert first.rectification is not None and first.rectification.link is not None
    mine = first.rectification.link
    later = Holding(first.rectification.golden, [*holding.links, mine], [], [])

    second = rights.answer(opened("rectification", fields={"phone": "+34 611 222 333"}), later, policy, NOW)

    fix = second.rectification
    assert fix is not None and fix.link is not None and fix.golden is not None and fix.event is not None
    assert fix.link.key == mine.key and fix.event.link.change == "changed"
    assert fix.golden.attributes["email"] == "a@example.org"
    assert fix.golden.attributes["phone"] == "+34611222333"


def test_a_field_from_another_area_system_is_corrected_there(policy: EmbeddedPolicy) -> None:
    holding = a_person()
    no_padron = Holding(service.survive(CID, holding.links[1:], None, NOW), holding.links[1:], [], [])

    result = rights.answer(opened("rectification", fields={"birth_date": "1980-05-18"}), no_padron, policy, NOW)

    (kept,) = result.event.actions
    assert kept.result == "kept" and kept.what.startswith("birth_date: survives from /legacy/")
    assert "corrected in that system" in (kept.legal_basis or "")


# ---- access, and what does not apply ---------------------------------------------------------------


def test_access_exports_the_golden_record_links_as_received_reviews_and_merges(policy: EmbeddedPolicy) -> None:
    result = rights.answer(opened("access"), a_person(), policy, NOW)

    export = result.event.export
    assert export is not None and result.event.outcome == "done"
    assert export["golden_record"]["provenance"]["email"] == "/legacy/tributos#TRI1"
    assert [lk["source"] for lk in export["source_links"]] == [PADRON, "/legacy/ser", "/legacy/tributos"]
    assert export["source_links"][2]["record"]["email"] == "ines@example.org"
    assert export["reviews"][0]["review_id"] == "rev-1"
    assert export["merge_history"][0]["merged_citizen_id"] == "cit-2"
    counts = {a.what: a.count for a in result.event.actions}
    assert counts["source links, each with the record as the area system sent it"] == 3


@pytest.mark.parametrize("right", ["access", "erasure", "rectification", "restriction", "objection"])
def test_nothing_held_is_not_applicable(policy: EmbeddedPolicy, right: str) -> None:
    result = rights.answer(opened(right), Holding(None), policy, NOW)
    assert result.event.outcome == "not-applicable" and result.event.actions == []


@pytest.mark.parametrize("right", ["restriction", "objection"])
def test_restriction_and_objection_do_not_apply_to_identity_data(policy: EmbeddedPolicy, right: str) -> None:
    result = rights.answer(opened(right), a_person(), policy, NOW)
    assert result.event.outcome == "not-applicable" and result.erasure is None


def test_an_export_too_big_for_one_event_fails_with_the_reason(
    policy: EmbeddedPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core_rights, "MAX_EXPORT_CHARS", 100)
    result = rights.answer(opened("access"), a_person(), policy, NOW)
    assert result.event.outcome == "failed" and "delivered by reference" in (result.event.reason or "")
