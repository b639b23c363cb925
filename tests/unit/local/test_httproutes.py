"""local.httproutes: the local gateway matches paths as a Gateway API implementation would, from HTTPRoutes."""

from __future__ import annotations

from typing import Any

import pytest

from local.httproutes import HttpRouteTable, UnsupportedRouteError


def _route(name: str, *rules: tuple[str, list[tuple[str, str]]]) -> dict[str, Any]:
    """An HTTPRoute: per rule, its Service and its (type, value) path matches."""
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": name},
        "spec": {
            "rules": [
                {
                    "matches": [{"path": {"type": kind, "value": value}} for kind, value in matches],
                    "filters": [{"type": "URLRewrite", "urlRewrite": {"hostname": f"{service}.pic.svc.cluster.local"}}],
                    "backendRefs": [{"group": "", "kind": "Service", "name": service, "port": 80}],
                }
                for service, matches in rules
            ]
        },
    }


def test_an_exact_match_wins_over_a_prefix_and_the_longest_prefix_over_a_shorter_one() -> None:
    table = HttpRouteTable.from_resources(
        [
            _route("a", ("short", [("PathPrefix", "/v1")])),
            _route("b", ("long", [("PathPrefix", "/v1/things/")])),
            _route("c", ("exact", [("Exact", "/v1/things/export")])),
        ]
    )
    assert table.match("/v1/things/export") == "exact"
    assert table.match("/v1/things/t-1") == "long"
    assert table.match("/v1/things") == "long"
    assert table.match("/v1/thingsx") == "short"  # a prefix matches whole segments
    assert table.match("/v2") is None


def test_a_regular_expression_matches_the_whole_path() -> None:
    table = HttpRouteTable.from_resources(
        [_route("a", ("svc", [("RegularExpression", "^/v1/citizens/(?P<citizen_id>[^/]+)/consents/?$")]))]
    )
    assert table.match("/v1/citizens/c-1/consents") == "svc"
    assert table.match("/v1/citizens/c-1/consents/") == "svc"
    assert table.match("/v1/citizens/c-1/consents/x") is None
    assert table.match("/v1/citizens/c-1") is None


def test_patterns_read_as_people_write_them() -> None:
    table = HttpRouteTable.from_resources(
        [
            _route(
                "a",
                ("svc", [("RegularExpression", r"^/v1/a\.b/(?P<item_id>[^/]+)/?$"), ("Exact", "/v1/x")]),
            )
        ]
    )
    assert table.patterns() == [("/v1/a.b/{item_id}", "svc"), ("/v1/x", "svc")]
    assert table.services() == {"svc"}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r["spec"]["rules"][0]["matches"][0].update(method="GET"), "matches paths only"),
        (lambda r: r["spec"]["rules"][0]["backendRefs"].append({"name": "other"}), "exactly one Service"),
        (lambda r: r["spec"]["rules"][0]["filters"].append({"type": "RequestHeaderModifier"}), "no filter"),
        (lambda r: r["spec"]["rules"][0]["matches"][0]["path"].update(type="Regex"), "unknown path match type"),
    ],
)
def test_a_route_the_local_gateway_cannot_follow_is_refused(mutate: Any, message: str) -> None:
    # GIVEN an HTTPRoute asking for what make run would not do as the cluster does
    route = _route("a", ("svc", [("Exact", "/v1/x")]))
    mutate(route)

    # THEN reading it fails, instead of routing differently from the cluster
    with pytest.raises(UnsupportedRouteError, match=message):
        HttpRouteTable.from_resources([route])


def test_routes_that_drifted_from_the_annotations_are_named() -> None:
    # GIVEN HTTPRoutes generated before an annotation changed
    table = HttpRouteTable.from_resources(
        [_route("svc", ("svc", [("RegularExpression", "^/v1/things/(?P<thing_id>[^/]+)/?$")]))]
    )

    # THEN the difference is named; none when they agree
    assert table.drift({"svc": ("/v1/things/{thing_id}",)}) == []
    assert table.drift({"svc": ("/v1/things/{thing_id}", "/v1/things")}) == ["svc: annotated ['/v1/things'], routed []"]
    assert table.drift({}) == ["svc: routed but not annotated"]
