"""Madrid's official districts and barrios by code."""

from __future__ import annotations

import pytest

from functions.core.madrid import Zone, find_zone, zones


def test_there_are_21_districts_and_131_barrios() -> None:
    kinds = [zone.kind for zone in zones().values()]
    assert kinds.count("district") == 21 and kinds.count("barrio") == 131


def test_01_is_the_district_of_centro_and_011_its_barrio_palacio() -> None:
    assert find_zone("01") == Zone(code="01", kind="district", name="Centro", district="01")
    assert find_zone("011") == Zone(code="011", kind="barrio", name="Palacio", district="01")


@pytest.mark.parametrize("code", ["99", "1", "00", "", "0111", "Centro"])
def test_an_unknown_code_is_no_zone(code: str) -> None:
    assert find_zone(code) is None


def test_every_barrio_code_starts_with_its_districts_code() -> None:
    for code, zone in zones().items():
        if zone.kind == "barrio":
            assert code.startswith(zone.district) and len(code) == 3
            assert zones()[zone.district].kind == "district"
        else:
            assert len(code) == 2 and zone.district == code
