"""The global position's seed data: valid events, deterministic, and showcase people in every section."""

from __future__ import annotations

from datetime import UTC, datetime

from events.catalog import CATALOG
from seed.city import CityConfig
from seed.position import INTERACTION_RECORDED, ITEM_UPSERTED, RECORD_UPSERTED, plan

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AREA_SECTIONS = {"taxes", "fines", "cases", "appointments", "permits", "wallet", "notifications"}


def test_every_event_is_valid_for_its_type_and_the_plan_is_deterministic() -> None:
    first = plan(CityConfig(people=60, seed=3), showcase=2, now=NOW)
    for event in first.events:
        CATALOG[event.type].model.model_validate(event.data)
    again = plan(CityConfig(people=60, seed=3), showcase=2, now=NOW)
    assert [e.id for e in again.events] == [e.id for e in first.events]
    assert len({e.id for e in first.events}) == len(first.events)  # distinct facts, distinct event ids


def test_showcase_people_get_facts_in_every_area_section_and_every_kind_of_interaction() -> None:
    the_plan = plan(CityConfig(people=60, seed=3), showcase=1, now=NOW)
    ((source, local_id),) = the_plan.showcase
    extra = [e for e in the_plan.events if e.type == RECORD_UPSERTED]
    # the showcase person's records: the one named plus those the generator added, all with one document
    documents = {e.data["document"]["number"] for e in extra}
    assert len(documents) == 1
    mine = {(e.source, e.subject) for e in extra} | {(source, local_id)}
    facts = [e for e in the_plan.events if e.type == ITEM_UPSERTED and (e.source, e.data["local_id"]) in mine]
    assert {e.data["section"] for e in facts} == AREA_SECTIONS
    assert any(e.data.get("special_category") for e in facts)
    kinds = {
        e.data["channel"]["kind"]
        for e in the_plan.events
        if e.type == INTERACTION_RECORDED and (e.data["record"]["source"], e.data["record"]["local_id"]) in mine
    }
    assert kinds == {"office-visit", "call", "chat", "whatsapp", "email", "app"}
