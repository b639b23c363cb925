"""The local gateway's routing table, read from the cluster's own HTTPRoutes (``infra/k8s/base/routes``).

``make run`` does not turn the ``pic.madrid.es/routes`` annotations into routes itself: it reads the
Gateway API ``HTTPRoute``s that ``infra/k8s/generate_routes.py`` writes from them, and matches a path as a
Gateway would (docs/decisions/0015), so the cluster and the laptop cannot route one path to two Services.

What it understands is what the generator writes: path matches (``Exact``, ``PathPrefix``,
``RegularExpression``) sending to one Service. A route that needs more (header, method or query matches,
weighted or several backends) is refused rather than routed differently from the cluster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.manifests import read_resources

HTTP_ROUTE = ("gateway.networking.k8s.io/v1", "HTTPRoute")
PATH_TYPES = ("Exact", "PathPrefix", "RegularExpression")
_NAMED_GROUP = re.compile(r"\(\?P<([a-z_][a-z0-9_]*)>\[\^/\]\+\)")


class UnsupportedRouteError(ValueError):
    """An HTTPRoute the local gateway cannot route as the cluster would."""


@dataclass(frozen=True)
class PathMatch:
    """One path match of an HTTPRoute rule and the Service its rule sends to."""

    kind: str  # Exact, PathPrefix or RegularExpression
    value: str
    service: str
    route: str

    def matches(self, path: str) -> bool:
        if self.kind == "Exact":
            return path == self.value
        if self.kind == "PathPrefix":  # by whole segments: /v1/a matches /v1/a and /v1/a/b, not /v1/ab
            prefix = self.value.rstrip("/")
            return path == prefix or path.startswith(prefix + "/") or not prefix
        return re.fullmatch(self.value, path) is not None  # Envoy matches the whole path, as here

    def pattern(self) -> str:
        """The path as people write it: ``^/v1/citizens/(?P<citizen_id>[^/]+)/?$`` -> ``/v1/citizens/{citizen_id}``,
        a ``PathPrefix`` ``/app`` -> ``/app/{path...}`` (the annotation's prefix form)."""
        if self.kind == "PathPrefix":
            return self.value.rstrip("/") + "/{path...}"
        if self.kind != "RegularExpression":
            return self.value
        text = _NAMED_GROUP.sub(r"{\1}", self.value).removeprefix("^").removesuffix("$").removesuffix("/?")
        return text.replace("\\.", ".")


def _backend(route: str, rule: dict[str, Any]) -> str:
    backends = rule.get("backendRefs") or []
    if len(backends) != 1 or backends[0].get("kind", "Service") != "Service" or backends[0].get("group", ""):
        raise UnsupportedRouteError(f"HTTPRoute {route}: the local gateway routes a rule to exactly one Service")
    return str(backends[0]["name"])


def _path_match(route: str, match: dict[str, Any], service: str) -> PathMatch:
    if set(match) - {"path"}:
        raise UnsupportedRouteError(f"HTTPRoute {route}: the local gateway matches paths only, not {sorted(match)}")
    path = match.get("path", {"type": "PathPrefix", "value": "/"})
    kind = path.get("type", "PathPrefix")
    if kind not in PATH_TYPES:
        raise UnsupportedRouteError(f"HTTPRoute {route}: unknown path match type {kind!r}")
    value = str(path.get("value", "/"))
    if kind == "RegularExpression":
        re.compile(value)  # a pattern Python cannot read fails here, when the gateway starts
    return PathMatch(kind, value, service, route)


class HttpRouteTable:
    """Path matches in Gateway API precedence: an ``Exact`` match first, then the longest ``PathPrefix``, then
    regular expressions (their order is the implementation's; the generator makes those of different
    Services disjoint, and here the first in route name, rule and match order wins)."""

    def __init__(self, matches: list[PathMatch]) -> None:
        self._exact = {m.value: m for m in reversed(matches) if m.kind == "Exact"}
        self._prefixes = sorted((m for m in matches if m.kind == "PathPrefix"), key=lambda m: -len(m.value))
        self._regexes = [m for m in matches if m.kind == "RegularExpression"]
        self._all = matches

    @classmethod
    def from_resources(cls, resources: list[dict[str, Any]]) -> HttpRouteTable:
        routes = sorted(
            (r for r in resources if (r.get("apiVersion"), r.get("kind")) == HTTP_ROUTE),
            key=lambda r: str(r["metadata"]["name"]),
        )
        matches: list[PathMatch] = []
        for route in routes:
            name = str(route["metadata"]["name"])
            for rule in route.get("spec", {}).get("rules", []):
                service = _backend(name, rule)
                if rule.get("filters") and any(f.get("type") != "URLRewrite" for f in rule["filters"]):
                    raise UnsupportedRouteError(f"HTTPRoute {name}: the local gateway applies no filter but the host")
                matches += [_path_match(name, m, service) for m in rule.get("matches") or [{}]]
        return cls(matches)

    def match(self, path: str) -> str | None:
        """The Service a request path goes to, or None (no route: the gateway's own endpoints, else 404)."""
        if path in self._exact:
            return self._exact[path].service
        for candidate in (*self._prefixes, *self._regexes):
            if candidate.matches(path):
                return candidate.service
        return None

    def patterns(self) -> list[tuple[str, str]]:
        """(path pattern, Service) of every match, for people (``GET /dev/routes``, ``make run``'s table)."""
        return [(m.pattern(), m.service) for m in self._all]

    def services(self) -> set[str]:
        return {m.service for m in self._all}

    def drift(self, annotated: dict[str, tuple[str, ...]]) -> list[str]:
        """Where these routes and the Services' ``pic.madrid.es/routes`` annotations disagree (empty: none),
        e.g. an annotation changed without ``make manifests``."""
        routed: dict[str, set[str]] = {}
        for pattern, service in self.patterns():
            routed.setdefault(service, set()).add(pattern)
        return [
            f"{service}: annotated {sorted(set(patterns) - routed.get(service, set()))}, "
            f"routed {sorted(routed.get(service, set()) - set(patterns))}"
            for service, patterns in sorted(annotated.items())
            if set(patterns) != routed.get(service, set())
        ] + [f"{service}: routed but not annotated" for service in sorted(routed.keys() - annotated.keys())]


def load(kustomization_dir: Path) -> HttpRouteTable:
    """The HTTPRoutes a kustomization lists (following ``resources:``, as ``local.manifests`` does)."""
    return HttpRouteTable.from_resources(read_resources(kustomization_dir))
