"""An area's case configuration as data (``functions.case.config``): validated whole with every error named and
where, versioned (an invalid proposal leaves the version in force), and turned into the SLA clocks and the
business calendar a case of a category runs on."""

from __future__ import annotations

from copy import deepcopy
from datetime import datetime
from typing import Any

import pytest

from functions.case.config import AreaConfig, errors_of, next_version
from functions.case.sla import Happened, clock
from functions.core.clock import MADRID

HACIENDA: dict[str, Any] = {
    "area": "hacienda",
    "version": 1,
    "office_hours": {day: ["09:00-14:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    "sla_policies": {
        "ibi": {"first_response_minutes": 240, "resolution_minutes": 2400},
        "urgente": {"first_response_minutes": 60, "next_response_minutes": 120, "resolution_minutes": 480},
    },
    "categories": {
        "recibo-ibi": {"title": {"es": "Recibo del IBI", "en": "IBI bill"}, "level": 2,
                       "sla": "ibi"},
        "embargo": {"title": {"es": "Embargo", "en": "Seizure"}, "level": 3, "sla": "urgente"},
    },
}  # fmt: skip


def test_a_valid_configuration_gives_the_clocks_of_a_category_on_its_calendar() -> None:
    config = AreaConfig.model_validate(HACIENDA)
    first, resolution = config.targets("recibo-ibi")
    assert (first.measure, first.seconds, resolution.seconds) == ("first-response", 4 * 3600, 40 * 3600)
    opened = datetime(2026, 3, 9, 13, tzinfo=MADRID)  # Monday 13:00, offices close at 14:00
    state = clock(first, [Happened(opened, "state", "new")], config.calendar(), opened)
    assert state.due_at == datetime(2026, 3, 10, 12, tzinfo=MADRID)


def test_every_error_is_named_with_where_it_is() -> None:
    bad = deepcopy(HACIENDA)
    bad["categories"]["embargo"]["sla"] = "rapido"
    bad["categories"]["recibo-ibi"]["level"] = 4
    bad["sla_policies"]["vacio"] = {}
    bad["office_hours"]["mon"] = ["14:00-09:00"]
    bad["pausing_states"] = ["resolved"]
    found = errors_of(bad)
    fields = {e["field"] for e in found}
    assert "categories.recibo-ibi.level" in fields and "sla_policies.vacio" in fields
    assert errors_of(HACIENDA) == []


def test_a_cross_reference_and_the_hours_are_checked_together() -> None:
    bad = deepcopy(HACIENDA)
    bad["categories"]["embargo"]["sla"] = "rapido"
    bad["office_hours"]["mon"] = ["14:00-09:00"]
    bad["pausing_states"] = ["resolved"]
    messages = [e["message"] for e in errors_of(bad)]
    assert any("categories.embargo.sla: no SLA policy 'rapido'" in m for m in messages)
    assert any("office_hours: mon" in m for m in messages) and any("'resolved' cannot pause" in m for m in messages)


def test_versions_go_up_and_an_invalid_proposal_leaves_the_one_in_force() -> None:
    first = next_version(None, {k: v for k, v in HACIENDA.items() if k != "version"})
    assert first.version == 1
    second = next_version(first, {**HACIENDA, "sla_policies": {**HACIENDA["sla_policies"]}})
    assert second.version == 2
    with pytest.raises(ValueError, match="no SLA policy"):
        next_version(second, {**HACIENDA, "categories": {"x-y": {**HACIENDA["categories"]["embargo"], "sla": "nope"}}})
