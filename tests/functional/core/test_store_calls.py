"""The store calls of every route and event handler stay within their budgets: DynamoDB bills per call, so a
change that adds a read or a write to an operation fails here, naming the call it added, instead of showing
up in production's bill. The measurement is ``bench.store_calls`` (every function in process on the real
wiring against a DynamoDB Local of its own); a deliberate change rewrites the budgets with
``python -m bench.store_calls --update-budgets``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.store_calls import BUDGETS, ROOT, over_budget

pytestmark = pytest.mark.functional


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("store-calls") / "measured.json"
    subprocess.run(
        [sys.executable, "-m", "bench.store_calls", "--json", str(out)],
        cwd=ROOT,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=600,
    )
    return dict(json.loads(Path(out).read_text(encoding="utf-8")))


def test_every_route_and_trigger_is_measured(measured: dict[str, Any]) -> None:
    # the scenario reaches every route of every HTTP function and every Trigger's subscriber
    assert measured["uncovered"] == []


def test_no_operation_makes_more_store_calls_than_its_budget(measured: dict[str, Any]) -> None:
    budgets = json.loads(BUDGETS.read_text(encoding="utf-8"))
    assert over_budget(measured["counts"], budgets) == []


def test_the_budget_check_names_the_call_added() -> None:
    budgets = {"PUT /v1/x": {"GetItem": 1, "TransactWriteItems": 1}}
    grown = {"PUT /v1/x": {"GetItem": 2, "TransactWriteItems": 1}}
    (problem,) = over_budget(grown, budgets)
    assert "PUT /v1/x: 3 store calls, budget 2 (added: GetItem=1;" in problem
    assert over_budget(budgets, budgets) == []
    assert "no budget yet" in over_budget({"GET /v1/new": {"Query": 1}}, budgets)[0]
