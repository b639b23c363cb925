"""The routes annotation's prefix form (``/app/{path...}``): a channel's whole tree of pages goes to one
Service, as a Gateway API ``PathPrefix`` in the cluster and in ``make run``'s table alike."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from local.httproutes import HttpRouteTable


def _generator() -> Any:
    """``infra/k8s/generate_routes.py`` is a script, not a package: loaded from its file."""
    path = Path(__file__).resolve().parents[3] / "infra" / "k8s" / "generate_routes.py"
    spec = importlib.util.spec_from_file_location("generate_routes", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["generate_routes"] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


_gen = _generator()
Pattern, conflicts, http_route = _gen.Pattern, _gen.conflicts, _gen.http_route


def test_a_prefix_pattern_becomes_one_path_prefix_match() -> None:
    pattern = Pattern.of("/app/{path...}", "pic-web")
    route = http_route("pic-web", [pattern])
    assert route["spec"]["rules"][0]["matches"] == [{"path": {"type": "PathPrefix", "value": "/app"}}]


def test_make_run_routes_the_tree_and_reads_the_pattern_back_as_annotated() -> None:
    table = HttpRouteTable.from_resources([http_route("pic-web", [Pattern.of("/app/{path...}", "pic-web")])])
    assert table.match("/app") == table.match("/app/") == table.match("/app/consents/x") == "pic-web"
    assert table.match("/apps") is None  # whole segments only
    assert table.match("/v1/citizens/c-1") is None
    assert table.patterns() == [("/app/{path...}", "pic-web")]
    assert table.drift({"pic-web": ("/app/{path...}",)}) == []


@pytest.mark.parametrize(
    "text", ["/v1/{path...}", "/{path...}", "/app/{id}/{path...}", "/app/{path...}/more", "/app/{Path...}"]
)
def test_what_is_not_a_prefix_pattern_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="pattern"):
        Pattern.of(text, "pic-web")


def test_a_prefix_that_covers_another_services_path_is_a_conflict() -> None:
    services = {
        "pic-web": [Pattern.of("/app/{path...}", "pic-web")],
        "pic-desk": [Pattern.of("/desk/{path...}", "pic-desk")],
        "pic-consent": [Pattern.of("/v1/citizens/{citizen_id}/consents", "pic-consent")],
    }
    assert conflicts(services) == []
    services["pic-other"] = [Pattern.of("/app/inner/{path...}", "pic-other")]
    assert conflicts(services) == ["/app/{path...} (pic-web) and /app/inner/{path...} (pic-other)"]
