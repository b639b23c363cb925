"""Contract: every route of the route table reaches the same Knative Service in the cluster and in ``make run``.

The cluster routes by the HTTPRoutes each overlay builds (``kubectl kustomize``: base/routes plus the host
patch); ``make run``'s gateway by the same HTTPRoutes read from the files (``local.httproutes``). Both must
send every path of every function's ``ROUTES`` to the Knative Service that runs that function, and agree
with what the ``pic.madrid.es/routes`` annotations say (the most literal pattern wins, as ``make run``
always routed), including for paths no route serves.
"""

from __future__ import annotations

import importlib
import re

import pytest

from events.generate import discover_routes
from local.httproutes import HttpRouteTable
from local.httproutes import load as load_routes
from local.manifests import load as load_manifests
from tests.contract.test_manifests import K8S_DIR, KUSTOMIZATIONS, _build

WERKZEUG_PARAMETER = re.compile(r"<[^<>]+>")
ANNOTATION_PARAMETER = re.compile(r"\{[^/{}.]+\}")
REST_PARAMETER = re.compile(r"/\{[^/{}.]+\.\.\.\}$")  # `/app/{path...}`: the prefix and anything under it
LOCAL = K8S_DIR / "overlays" / "local"
MANIFESTS = load_manifests(LOCAL)
MAKE_RUN = load_routes(LOCAL)  # what the gateway of `make run` builds (local.gateway.build)
HTTP_SERVICES = {s.source: s.name for s in MANIFESTS.services.values() if s.signature == "http"}
ROUTES = sorted(
    {(capability, route.rule) for capability, routes in discover_routes().items() for route in routes},
)


def _concrete(rule: str) -> str:
    """A request path for a rule: every parameter a sample value (``/v1/citizens/<citizen_id>`` -> ``.../c-1``)."""
    return ANNOTATION_PARAMETER.sub("c-1", WERKZEUG_PARAMETER.sub("c-1", REST_PARAMETER.sub("/a/b", rule)))


def _by_annotation(path: str) -> str | None:
    """The reference: the annotations read as ``make run`` always did (the most literal matching pattern)."""
    found = []
    for service in MANIFESTS.services.values():
        for pattern in service.routes:
            regex = "^" + ANNOTATION_PARAMETER.sub("[^/]+", REST_PARAMETER.sub("(/.*)?", pattern.rstrip("/"))) + "/?$"
            if re.match(regex, path):
                literals = sum(1 for seg in pattern.split("/") if seg and not seg.startswith("{"))
                found.append((literals, service.name))
    return max(found)[1] if found else None


@pytest.fixture(scope="module", params=KUSTOMIZATIONS)
def cluster(request: pytest.FixtureRequest) -> HttpRouteTable:
    """The HTTPRoutes a cluster receives from that build."""
    return HttpRouteTable.from_resources(list(_build(request.param)))


@pytest.mark.parametrize(("capability", "rule"), ROUTES, ids=[f"{c}:{r}" for c, r in ROUTES])
def test_every_route_reaches_its_function_in_the_cluster_and_in_make_run(
    cluster: HttpRouteTable, capability: str, rule: str
) -> None:
    # GIVEN a route a function declares, and the Knative Service that runs that function
    path = _concrete(rule)
    service = HTTP_SERVICES[f"functions/{capability}/main.py"]

    # WHEN the cluster's HTTPRoutes and make run's table route a request for it
    in_cluster, in_make_run = cluster.match(path), MAKE_RUN.match(path)

    # THEN both send it to that Service, as the annotations say
    assert in_cluster == in_make_run == _by_annotation(path) == service, (path, in_cluster, in_make_run)


PAGES = sorted({page.rule for page in importlib.import_module("functions.web.main").PAGES})


@pytest.mark.parametrize("rule", PAGES)
def test_every_page_of_the_citizen_app_reaches_pic_web_in_the_cluster_and_in_make_run(
    cluster: HttpRouteTable, rule: str
) -> None:
    path = _concrete(rule)
    assert cluster.match(path) == MAKE_RUN.match(path) == _by_annotation(path) == "pic-web", path


UNROUTED = [
    "/v1/citizens/c-1/nothing",
    "/v1/citizens/c-1/consents/a/b",
    "/v1/unknown",
    "/v1",
    "/v1/citizensx",
    "/apps",
    "/application/x",
]


@pytest.mark.parametrize("path", UNROUTED)
def test_a_path_no_route_serves_goes_nowhere_in_both(cluster: HttpRouteTable, path: str) -> None:
    assert cluster.match(path) is None
    assert MAKE_RUN.match(path) is None
    assert _by_annotation(path) is None


def test_every_annotated_pattern_routes_alike() -> None:
    # GIVEN every pattern of every annotation, as a request path (with and without a trailing slash)
    for service in MANIFESTS.services.values():
        for pattern in service.routes:
            for path in (_concrete(pattern), _concrete(pattern) + "/"):
                # THEN make run's table sends it where the annotations do
                assert MAKE_RUN.match(path) == _by_annotation(path) == service.name, path
