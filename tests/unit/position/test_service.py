"""Global position, pure logic: folding facts and links (any order, any redelivery) and shaping views."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.case import CaseUpdated
from events.consent import ConsentChanged
from events.interaction import InteractionLogged
from events.position import PositionItemUpserted
from functions.position import service
from functions.position.service import Item, Link, Part

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)


def upsert(**overrides: Any) -> PositionItemUpserted:
    data: dict[str, Any] = {
        "local_id": "TRB1",
        "section": "taxes",
        "item_id": "IBI-1",
        "status": "pending",
        "title": "IBI 2026",
        "area": "hacienda",
        "as_of": T0.isoformat(),
        "amount_eur": "312.45",
        "due_date": "2026-06-30",
        "attributes": {"cadastral_reference": "9872023VK"},
    }
    data.update(overrides)
    return PositionItemUpserted.model_validate(data)


def fold(events: list[Item]) -> dict[str, Item]:
    """What a record's bundle ends with, by item key, each fact folded as the event function folds it."""
    state: dict[str, Item] = {}
    for item in events:
        service.fold(state, item)
    return {item.key: item for item in state.values()}


# ---- folding ----------------------------------------------------------------------------------------


def test_a_later_fact_replaces_an_earlier_one_and_not_the_other_way_round() -> None:
    # GIVEN a pending receipt and, later, the same receipt paid
    pending = service.area_item("/legacy/tributos", upsert())
    paid = service.area_item("/legacy/tributos", upsert(status="paid", as_of=(T0 + timedelta(hours=1)).isoformat()))

    # WHEN they arrive in either order THEN the paid one stays
    assert fold([pending, paid])[pending.key].body["status"] == "paid"
    assert fold([paid, pending])[pending.key].body["status"] == "paid"


def test_a_redelivered_fact_changes_nothing() -> None:
    item = service.area_item("/legacy/tributos", upsert())
    facts: dict[str, Item] = {}
    assert service.fold(facts, item)
    assert not service.fold(facts, item)


def test_a_fact_survives_its_round_trip_through_the_bundle_json() -> None:
    item = service.area_item("/legacy/tributos", upsert())
    assert service.item_from_json(json.loads(json.dumps(service.item_to_json(item)))) == item


def test_two_different_facts_with_the_same_as_of_converge_on_the_same_one() -> None:
    # GIVEN two versions that claim the same as_of
    a = service.area_item("/legacy/tributos", upsert(status="paid"))
    b = service.area_item("/legacy/tributos", upsert(status="refunded"))

    # THEN both orders end with the same version (the higher digest)
    assert fold([a, b])[a.key] == fold([b, a])[a.key]


@settings(max_examples=60, deadline=None)
@given(st.permutations(range(5)), st.lists(st.integers(0, 4), max_size=4))
def test_any_order_with_any_redeliveries_converges(order: list[int], repeats: list[int]) -> None:
    # GIVEN five versions of one fact, the last one a removal, delivered in any order, some twice
    versions = [
        service.area_item(
            "/legacy/multas",
            upsert(section="fines", item_id="M-1", as_of=(T0 + timedelta(minutes=i)).isoformat(), removed=i == 4),
        )
        for i in range(5)
    ]
    delivered = [versions[i] for i in order] + [versions[i] for i in repeats]

    # THEN the table ends with the removal (the latest), whatever happened
    final = fold(delivered)[versions[0].key]
    assert final.removed and final.as_of == T0 + timedelta(minutes=4)


@settings(max_examples=40, deadline=None)
@given(st.permutations(range(4)))
def test_links_converge_on_the_latest_updated_at(order: list[int]) -> None:
    # GIVEN a record linked to A, merged into B, un-merged back to A, merged into C (C360's story)
    owners = ["A", "B", "A", "C"]
    links = [Link("/legacy/cultura", "CUL1", owners[i], T0 + timedelta(seconds=i)) for i in range(4)]

    # WHEN the links arrive in any order, with the membership moved as the storage moves it
    current: Link | None = None
    members: dict[str, set[str]] = {}
    for i in order:
        link = links[i]
        if service.newer(link.order, current.order if current else None):
            if current is not None and current.citizen_id != link.citizen_id:
                members[current.citizen_id].discard("CUL1")
            members.setdefault(link.citizen_id, set()).add("CUL1")
            current = link

    # THEN the record belongs to C alone
    assert current is not None and current.citizen_id == "C"
    assert {owner for owner, records in members.items() if records} == {"C"}


def test_a_fact_from_a_source_that_is_not_a_system_uri_is_refused() -> None:
    with pytest.raises(service.InvalidSourceError):
        service.area_item("tributos", upsert())
    with pytest.raises(service.InvalidSourceError):
        service.area_item("/legacy/tri#butos", upsert())


@pytest.mark.parametrize(
    "overrides",
    [
        {"section": "horoscope"},
        {"as_of": "2026-03-02T09:00:00"},
        {"amount_eur": "-1"},
        {"amount_eur": "1.234"},
        {"attributes": {f"k{i}": "v" for i in range(21)}},
        {"local_id": "has#hash"},
        {"area": "Hacienda"},
    ],
)
def test_a_malformed_fact_is_refused_by_its_model(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # pydantic's ValidationError is a ValueError
        upsert(**overrides)


# ---- other feeds --------------------------------------------------------------------------------------


def test_a_consent_change_becomes_an_item_of_the_consents_section() -> None:
    changed = ConsentChanged.model_validate(
        {
            "citizen_id": "c-1",
            "purpose": "campaigns",
            "before": {"granted": False},
            "after": {"granted": True, "channels": ["email"], "text_version": "2026-01"},
            "mode": "b",
            "proof_id": "proof-1",
            "actor": {"kind": "citizen", "id": "c-1"},
            "capture_channel": "app",
            "language": "es",
            "text_sha256": None,
            "changed_at": T0.isoformat(),
        }
    )
    item = service.consent_item(changed)
    assert (item.section, item.key, item.source) == ("consents", "campaigns", "/pic/consent")
    assert item.body["status"] == "granted" and item.body["channels"] == ["email"]


def test_an_interaction_keeps_its_typed_channel_detail_for_the_expert() -> None:
    logged = InteractionLogged.model_validate(
        {
            "id": "intx-1",
            "interaction": {
                "interaction_id": "GC-1",
                "record": {"source": "/legacy/padron", "local_id": "PAD1"},
                "channel": {"kind": "office-visit", "office": "OAC Centro", "service": "Padrón", "ticket": "A1",
                            "issued_at": T0.isoformat()},
                "area": "atencion-ciudadania",
                "topic": "Alta en el padrón",
                "started_at": T0.isoformat(),
            },
            "recorded_by": "/legacy/gestor-colas",
            "recorded_at": T0.isoformat(),
        }
    )  # fmt: skip
    item = service.interaction_item(logged)
    assert item.key == "intx-1" and item.source == "/pic/interaction"
    assert item.body["kind"] == "office-visit"
    assert item.body["attributes"]["office"] == "OAC Centro"
    assert item.body["attributes"]["recorded_by"] == "/legacy/gestor-colas"


# ---- view shaping -------------------------------------------------------------------------------------


def items() -> list[Item]:
    tax = service.area_item("/legacy/tributos", upsert())
    fine = service.area_item(
        "/legacy/multas", upsert(local_id="M1", section="fines", item_id="F-1", area="movilidad", amount_eur="90.00",
                                 due_date="2026-03-10", as_of=(T0 + timedelta(hours=2)).isoformat())
    )  # fmt: skip
    case = service.area_item(
        "/legacy/servicios-sociales",
        upsert(local_id="S1", section="cases", item_id="C-1", area="servicios-sociales", special_category=True),
    )
    gone = service.area_item("/legacy/multas", upsert(local_id="M1", section="fines", item_id="F-0", removed=True))
    return [tax, fine, case, gone]


def decided(**views: str) -> dict[Part, tuple[str, str]]:
    parts = {
        "taxes": Part("taxes", "hacienda", False),
        "fines": Part("fines", "movilidad", False),
        "cases": Part("cases", "servicios-sociales", True),
    }
    return {parts[name]: (view, f"{name} is {view}") for name, view in views.items()}


def by_section(view: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["section"]: s for s in view}


def test_parts_are_distinct_stable_and_skip_removed_items() -> None:
    assert service.parts_of(items()) == [
        Part("cases", "servicios-sociales", True),
        Part("fines", "movilidad", False),
        Part("taxes", "hacienda", False),
    ]


def test_every_section_is_answered_in_order_even_when_empty() -> None:
    view = service.build_view([], {}, TODAY)
    assert [s["section"] for s in view] == list(service.SECTIONS)
    assert all(s["summary"]["count"] == 0 and s["as_of"] is None for s in view)


def test_full_detail_summary_and_hidden_views() -> None:
    view = by_section(service.build_view(items(), decided(taxes="full", fines="summary", cases="hidden"), TODAY))
    # full: everything, with the expert's attributes
    (tax,) = view["taxes"]["items"]
    assert tax["attributes"] == {"cadastral_reference": "9872023VK"} and tax["source"] == "/legacy/tributos"
    # summary: counted and totalled, no item; the removed fine is not counted
    assert view["fines"]["items"] == []
    assert view["fines"]["summary"] == {"count": 1, "amount_eur": "90.00", "next_date": "2026-03-10"}
    # hidden: not even counted, no source, no freshness
    assert view["cases"]["summary"]["count"] == 0 and view["cases"]["sources"] == []
    assert view["cases"]["as_of"] is None and view["cases"]["view"] == "hidden"
    assert view["cases"]["reasons"] == ["cases is hidden"]


def test_detail_drops_the_experts_attributes_only() -> None:
    view = by_section(service.build_view(items(), decided(taxes="detail"), TODAY))
    (tax,) = view["taxes"]["items"]
    assert "attributes" not in tax
    assert tax["amount_eur"] == "312.45" and tax["due_date"] == "2026-06-30"


def test_a_part_the_policy_did_not_decide_is_hidden() -> None:
    view = by_section(service.build_view(items(), decided(taxes="full"), TODAY))
    assert view["fines"]["summary"]["count"] == 0


def test_freshness_is_the_latest_as_of_per_section_and_per_source() -> None:
    view = by_section(service.build_view(items(), decided(fines="detail"), TODAY))
    assert view["fines"]["as_of"] == (T0 + timedelta(hours=2)).isoformat()
    assert view["fines"]["sources"] == [{"source": "/legacy/multas", "as_of": (T0 + timedelta(hours=2)).isoformat()}]


def test_shown_sections_name_what_was_disclosed_and_how() -> None:
    view = service.build_view(items(), decided(taxes="detail", fines="summary", cases="hidden"), TODAY)
    assert service.shown_sections(view) == ["taxes:detail", "fines:summary"]


def test_the_export_holds_every_item_in_full_special_categories_included() -> None:
    view = by_section(service.export_sections(items(), TODAY))
    assert view["cases"]["items"][0]["attributes"] == {"cadastral_reference": "9872023VK"}
    assert view["taxes"]["view"] == view["fines"]["view"] == view["cases"]["view"] == "full"
    assert all(s["reasons"] in ([], [service.EXPORT_REASON]) for s in view.values())


def test_a_case_is_shown_in_the_cases_section_with_the_links_the_citizen_sees() -> None:
    at = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)
    case = CaseUpdated(case_id="case-" + "a" * 24, reference="EXP-2026-AAAAAA", citizen_id="c-1",
                       area="servicios-sociales", category="ayuda-emergencia", level=2, state="merged",
                       channel="web", subject="Ayuda",
                       opened_at=at, updated_at=at, version=3, merged_into="case-" + "b" * 24)  # fmt: skip
    item = service.case_item(case)
    assert (item.section, item.area, item.body["status"], item.body["reference"]) == (
        "cases", "servicios-sociales", "merged", "EXP-2026-AAAAAA")  # fmt: skip
    assert item.body["attributes"]["merged_into"] == "case-" + "b" * 24 and "parent_id" not in item.body["attributes"]
    assert item.special_category  # social services: the person and the area only (RGPD art. 9)
