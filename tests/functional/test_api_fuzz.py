"""Schemathesis over ``schemas/openapi.json`` against the running platform: whatever a channel sends
that the schema allows (or almost allows), PIC answers without a 5xx, and every error is problem+json."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.harness import ROOT, Platform, start_platform

pytestmark = pytest.mark.functional
SCHEMA = schemathesis.openapi.from_path(str(ROOT / "schemas/openapi.json"))
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
CITIZEN = "c-fuzz"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """A platform of its own: the hundreds of accepted requests fan out into events (audit records, data-subject
    requests, projections) that keep the broker busy for minutes; other modules must not wait behind them."""
    data_dir = tmp_path_factory.mktemp("pic-fuzz") / "data"
    data_dir.mkdir()
    running = start_platform(data_dir)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def auth(platform: Platform) -> dict[str, str]:
    return platform.as_(CITIZEN)


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_no_input_the_schema_describes_makes_a_server_error(
    platform: Platform, auth: dict[str, str], operation: Any
) -> None:
    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        case = data.draw(operation.as_strategy())
        if case.path_parameters and "citizen_id" in case.path_parameters and data.draw(st.booleans()):
            case.path_parameters["citizen_id"] = CITIZEN  # half the cases act on the caller's own record
        response = case.call(base_url=platform.base, headers=auth)
        # THEN never a server error, and every refusal is a problem document naming its status
        assert response.status_code < 500, (case.method, case.formatted_path, response.text)
        if response.status_code >= 400:
            content_type = response.headers.get("content-type") or [""]
            assert content_type[0].startswith("application/problem+json"), response.text
            assert response.json()["status"] == response.status_code

    check()
